package connectors

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/ankaflow/ankaflow/connectors/objstore"
	"github.com/ankaflow/ankaflow/engine"
)

// Describing an object-store tap (planning: plan, EXPLAIN, DESCRIBE, show_schema, and the
// bind of every tap('Name') call) must not download the data. DuckDB describes local
// stand-ins instead (objstore.Sample): for Parquet a sparse file holding only the object's
// footer, fetched with ranged reads (the last 64 KiB, and the rest of a larger footer); for
// CSV and JSON the first schemaSampleBytes of the object, cut at a line end, which covers
// DuckDB's own sniffing sample (20,480 rows) for rows of up to 200 bytes. The stand-ins are the
// objects of the tap's first run (all of them when they fit the spill budget), under their keys
// as paths, so union_by_name and hive_partitioning describe them as the tap reads them.
const schemaSampleBytes = 4 << 20

// schemaSamplers bounds the objects sampled at once.
const schemaSamplers = 8

// objectSchemaCall samples the tap's objects and returns the reader call over the samples and
// a func removing them.
func (c *FileConnection) objectSchemaCall(ctx context.Context, u objstore.URL) (string, func(), error) {
	st, objs, err := c.listObjects(ctx, u)
	if err != nil {
		return "", nil, err
	}
	first := objstore.Chunks(objs, envInt("ANKAFLOW_SPILL_BYTES", defaultSpillBytes))[0]
	objs = objs[first[0]:first[1]]
	parent := objstore.SpillDir()
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return "", nil, c.objectErr("tap", fmt.Errorf("spill directory %s: %w", parent, err))
	}
	dir, err := os.MkdirTemp(parent, "ankaflow-schema-")
	if err != nil {
		return "", nil, c.objectErr("tap", fmt.Errorf("spill directory %s: %w", parent, err))
	}
	cleanup := func() { os.RemoveAll(dir) }
	kind := objstore.SampleText
	if c.format.reader == "read_parquet" {
		kind = objstore.SampleParquet
	}
	paths := make([]any, len(objs))
	errs := make([]error, len(objs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, schemaSamplers)
	for i, o := range objs {
		p := objstore.LocalPath(dir, o.Key, i)
		paths[i] = p
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if errs[i] = os.MkdirAll(filepath.Dir(p), 0o700); errs[i] == nil {
				errs[i] = objstore.Sample(ctx, st, o, p, kind, c.compressed(o.Key), schemaSampleBytes)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			cleanup()
			return "", nil, c.objectErr("tap", err)
		}
	}
	list, err := SQLLiteral(paths)
	if err == nil {
		var call string
		if call, err = c.readerCall(list); err == nil {
			return call, cleanup, nil
		}
	}
	cleanup()
	return "", nil, err
}

// compressed reports whether the reader will decompress key (from its extension or a
// compression param), so a cut prefix of it would not be readable.
func (c *FileConnection) compressed(key string) bool {
	for _, m := range []map[string]any{c.format.defaults, c.params} {
		for k, v := range m {
			if strings.EqualFold(k, "compression") {
				s, _ := v.(string)
				if s = strings.ToLower(s); s != "" && s != "none" && s != "auto" && s != "auto_detect" {
					return true
				}
			}
		}
	}
	_, ok := compressions[strings.TrimPrefix(strings.ToLower(path.Ext(key)), ".")]
	return ok
}

// sampled runs fn with the connection's session and the reader call over samples of the
// tap's objects, which are removed afterwards.
func (c *FileConnection) sampled(ctx context.Context, u objstore.URL, fn func(s *engine.Session, call string) error) error {
	call, cleanup, err := c.objectSchemaCall(ctx, u)
	if err != nil {
		return err
	}
	defer cleanup()
	s, err := c.DuckDB(ctx)
	if err != nil {
		return err
	}
	return fn(s, call)
}

// objectTapSchema is the columns of the tap (narrowed by query), described from samples.
func (c *FileConnection) objectTapSchema(ctx context.Context, u objstore.URL, query string) (schema *arrow.Schema, err error) {
	err = c.sampled(ctx, u, func(s *engine.Session, call string) error {
		q := "SELECT * FROM " + call
		if strings.TrimSpace(query) != "" {
			if q, err = NarrowQuery(ctx, s, query, call); err != nil {
				return err
			}
		}
		p, err := s.Prepare(ctx, q)
		if err != nil {
			return c.objectErr("tap", fmt.Errorf("reading %s: %w", c.Locator(), err))
		}
		defer p.Close()
		schema, err = p.ArrowSchema()
		return err
	})
	return schema, err
}

// objectShowSchema describes an object-store tap from samples of its objects.
func (c *FileConnection) objectShowSchema(ctx context.Context) (fields []Field, err error) {
	u, _, err := c.objectURL(true)
	if err != nil {
		return nil, err
	}
	err = c.sampled(ctx, u, func(s *engine.Session, call string) error {
		fields, err = Describe(ctx, s, "SELECT * FROM "+call)
		return err
	})
	return fields, err
}
