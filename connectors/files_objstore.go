package connectors

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/ankaflow/ankaflow/connectors/objstore"
	"github.com/ankaflow/ankaflow/engine"
)

// File connections on s3://, gs:// and az:// locators. DuckDB cannot reach object storage here
// (its httpfs extension is not available), so the file kinds hand these locators to
// connectors/objstore: a tap lists the objects (prefix listing for globs), downloads them into a
// bounded spill directory several at a time, and streams DuckDB's reader over the local copies;
// a sink writes a local file with DuckDB's COPY and uploads it atomically. In a plan, such taps
// and sinks go through tap('Name') and COPY … TO 'Name' (FORMAT ankaflow), which call back here.

// Tunables of object-store taps (environment, so they need no per-connection param, which for
// the file kinds are reader arguments).
const (
	defaultSpillBytes = 2 << 30 // ANKAFLOW_SPILL_BYTES: at most this much downloaded at once
	defaultFetchers   = 4       // ANKAFLOW_OBJECT_READERS: objects downloaded concurrently
)

func envInt(name string, def int64) int64 {
	if v, err := strconv.ParseInt(os.Getenv(name), 10, 64); err == nil && v > 0 {
		return v
	}
	return def
}

// objectURL reports whether the resolved locator is in object storage, and parses it.
func (c *FileConnection) objectURL(useWildcard bool) (objstore.URL, bool, error) {
	p, err := c.Locate(useWildcard)
	if err != nil || !objstore.IsURL(p) {
		return objstore.URL{}, false, nil // the local path reports its own errors
	}
	u, err := objstore.Parse(p)
	return u, true, err
}

// ObjectStoreOptions maps the connection config's s3:, gs: or az: section to the store's options.
func ObjectStoreOptions(cfg Config, scheme string) objstore.Options {
	b := cfg.S3
	switch scheme {
	case "gs":
		b = cfg.GS
	case "az":
		b = cfg.AZ
	}
	return objstore.Options{Region: b.Region, EndpointURL: b.EndpointURL, URLStyle: b.URLStyle,
		AccessKeyID: b.AccessKeyID, SecretAccessKey: b.SecretAccessKey,
		HMACKey: b.HMACKey, HMACSecret: b.HMACSecret, CredentialFile: b.CredentialFile,
		ConnectionString: b.ConnectionString, AccountName: b.AccountName, AccountKey: b.AccountKey}
}

func (c *FileConnection) openStore(op string, u objstore.URL) (objstore.Store, error) {
	st, _, err := objstore.Open(u, ObjectStoreOptions(c.Config(), u.Scheme))
	if err != nil {
		return nil, c.objectErr(op, err)
	}
	return st, nil
}

func (c *FileConnection) objectErr(op string, err error) error {
	return fmt.Errorf("%s of %s stage '%s': %w", op, c.format.kind, c.Name(), err)
}

// objectTapSQL is the plan's statement for an object-store tap: the rows come from Tap.
func (c *FileConnection) objectTapSQL(query string) string {
	s := "SELECT * FROM tap(" + engine.QuoteLiteral(c.Name())
	if strings.TrimSpace(query) != "" {
		s += ", " + engine.QuoteLiteral(query)
	}
	return s + ")"
}

// objectSinkSQL is the plan's statement for an object-store sink: the rows go to Sink.
func (c *FileConnection) objectSinkSQL(from string) string {
	return "COPY (" + from + ") TO " + engine.QuoteLiteral(c.Name()) + " (FORMAT ankaflow, USE_TMP_FILE FALSE)"
}

// objectTap lists the objects, starts their bounded download and streams DuckDB's reader over
// them, run by run (see objstore.Chunks). A query is applied by DuckDB: over the reader call
// itself when all objects are read at once (projection and filters reach the reader), over
// the stream of runs otherwise (so aggregates still see every row once).
func (c *FileConnection) objectTap(ctx context.Context, u objstore.URL, query string) (array.RecordReader, error) {
	st, objs, err := c.listObjects(ctx, u)
	if err != nil {
		return nil, err
	}
	budget := envInt("ANKAFLOW_SPILL_BYTES", defaultSpillBytes)
	f, err := objstore.NewFetcher(ctx, st, objs, objstore.SpillDir(), budget, int(envInt("ANKAFLOW_OBJECT_READERS", defaultFetchers)))
	if err != nil {
		return nil, c.objectErr("tap", err)
	}
	db := c.DB()
	if db == nil {
		f.Close()
		return nil, Unsupported(c, "DuckDB access (no database in this environment)")
	}
	s, err := db.NewSession(ctx)
	if err != nil {
		f.Close()
		return nil, err
	}
	r := &objectReader{c: c, ctx: ctx, s: s, f: f, objs: objs, chunks: objstore.Chunks(objs, budget)}
	r.refs.Store(1)
	if len(r.chunks) == 1 {
		r.query = query
	}
	if err := r.open(0); err != nil {
		r.Release()
		return nil, err
	}
	r.schema = r.cur.Schema()
	if len(r.chunks) > 1 {
		ps, err := c.DuckDB(ctx)
		if err == nil {
			r.cols, err = Describe(ctx, ps, "SELECT * FROM "+r.call)
		}
		if err != nil {
			r.Release()
			return nil, err
		}
	}
	if len(r.chunks) == 1 || strings.TrimSpace(query) == "" {
		return r, nil
	}
	// Several runs and a query: DuckDB runs the query over the concatenated runs.
	ps, err := c.DuckDB(ctx)
	if err != nil {
		r.Release()
		return nil, err
	}
	from, release := ps.ScanArrow(r)
	r.Release() // ScanArrow holds its own reference
	sql, err := NarrowQuery(ctx, ps, query, from)
	if err != nil {
		release()
		return nil, err
	}
	rows, err := ps.QueryArrow(ctx, sql)
	if err != nil {
		release()
		return nil, err
	}
	return &releasing{RecordReader: rows, release: release}, nil
}

// listObjects opens the store and lists the tap's objects (at least one).
func (c *FileConnection) listObjects(ctx context.Context, u objstore.URL) (objstore.Store, []objstore.Object, error) {
	st, err := c.openStore("tap", u)
	if err != nil {
		return nil, nil, err
	}
	objs, err := st.List(ctx, u)
	if err != nil {
		return nil, nil, c.objectErr("tap", err)
	}
	if len(objs) == 0 {
		return nil, nil, c.objectErr("tap", fmt.Errorf("no object matches %s (listed prefix %q): check the glob, data_prefix and locator_wildcard", u, u.ListPrefix()))
	}
	return st, objs, nil
}

// StagedTapper is a tap that the pipeline runner lets create the stage's table itself: the
// connection prepares a SELECT that DuckDB runs in the runner's session (for object storage:
// DuckDB's reader over the downloaded objects, read with all threads, without the Arrow round
// trip of tap('Name')).
type StagedTapper interface {
	// TapStaged calls create with the SELECT of the tap's rows (narrowed by query) and returns
	// its count; handled is false when the connection cannot stage this tap (then the plan's
	// tap('Name') statement runs instead).
	TapStaged(ctx context.Context, s *engine.Session, query string, create func(sel string) (int64, error)) (n int64, handled bool, err error)
}

// TapStaged implements StagedTapper for object-store taps whose objects fit the spill budget
// at once (read in runs, they go through tap('Name')).
func (c *FileConnection) TapStaged(ctx context.Context, s *engine.Session, query string, create func(sel string) (int64, error)) (int64, bool, error) {
	u, remote, err := c.objectURL(true)
	if !remote || err != nil {
		return 0, err != nil, err
	}
	st, objs, err := c.listObjects(ctx, u)
	if err != nil {
		return 0, true, err
	}
	budget := envInt("ANKAFLOW_SPILL_BYTES", defaultSpillBytes)
	if len(objstore.Chunks(objs, budget)) > 1 {
		return 0, false, nil
	}
	f, err := objstore.NewFetcher(ctx, st, objs, objstore.SpillDir(), budget, int(envInt("ANKAFLOW_OBJECT_READERS", defaultFetchers)))
	if err != nil {
		return 0, true, c.objectErr("tap", err)
	}
	defer f.Close()
	paths := make([]any, len(objs))
	for i := range objs {
		if err := f.Wait(ctx, i); err != nil {
			return 0, true, c.objectErr("tap", err)
		}
		paths[i] = f.Path(i)
	}
	list, err := SQLLiteral(paths)
	if err != nil {
		return 0, true, err
	}
	call, err := c.readerCall(list)
	if err != nil {
		return 0, true, err
	}
	sel := "SELECT * FROM " + call
	if strings.TrimSpace(query) != "" {
		if sel, err = NarrowQuery(ctx, s, query, call); err != nil {
			return 0, true, err
		}
	}
	n, err := create(sel)
	if err != nil {
		return 0, true, c.objectErr("tap", fmt.Errorf("reading %s: %w", c.Locator(), err))
	}
	return n, true, nil
}

// releasing calls release after the wrapped reader's last Release.
type releasing struct {
	array.RecordReader
	release func()
}

func (r *releasing) Release() {
	r.RecordReader.Release()
	r.release()
}

// objectReader streams the runs of an object-store tap one after another.
type objectReader struct {
	c      *FileConnection
	ctx    context.Context
	s      *engine.Session
	f      *objstore.Fetcher
	objs   []objstore.Object
	chunks [][2]int
	query  string
	call   string  // the reader call of the current run
	cols   []Field // the first run's columns, when there are several runs
	k      int
	cur    *engine.Rows
	schema *arrow.Schema
	err    error
	refs   atomic.Int64
}

func (r *objectReader) open(k int) error {
	ch := r.chunks[k]
	paths := make([]any, 0, ch[1]-ch[0])
	for i := ch[0]; i < ch[1]; i++ {
		if err := r.f.Wait(r.ctx, i); err != nil {
			return r.c.objectErr("tap", err)
		}
		paths = append(paths, r.f.Path(i))
	}
	list, err := SQLLiteral(paths)
	if err != nil {
		return err
	}
	call, err := r.c.readerCall(list)
	if err != nil {
		return err
	}
	r.call = call
	q := "SELECT * FROM " + call
	if k > 0 {
		// Each run's reader infers its own types (a CSV column of 01…09 vs 10…12); later runs
		// take the first run's columns and types, as one reader call over all objects would.
		cols := make([]string, len(r.cols))
		for i, f := range r.cols {
			cols[i] = "CAST(" + engine.QuoteIdent(f.Name) + " AS " + f.Type + ") AS " + engine.QuoteIdent(f.Name)
		}
		q = "SELECT " + strings.Join(cols, ", ") + " FROM " + call
	}
	if strings.TrimSpace(r.query) != "" {
		if q, err = NarrowQuery(r.ctx, r.s, r.query, call); err != nil {
			return err
		}
	}
	rows, err := r.s.QueryArrow(r.ctx, q)
	if err != nil {
		if k > 0 {
			return r.c.objectErr("tap", r.runColumnsErr(ch, err))
		}
		return r.c.objectErr("tap", fmt.Errorf("reading %s: %w", r.c.Locator(), err))
	}
	if r.schema != nil && !r.schema.Equal(rows.Schema()) {
		rows.Close()
		return r.c.objectErr("tap", r.runColumnsErr(ch, nil))
	}
	r.k, r.cur = k, rows
	return nil
}

func (r *objectReader) Schema() *arrow.Schema { return r.schema }

func (r *objectReader) Next() bool {
	for r.err == nil && r.cur != nil {
		if r.cur.Next() {
			return true
		}
		if err := r.cur.Err(); err != nil {
			r.err = err
			return false
		}
		r.closeRun()
		if r.k+1 >= len(r.chunks) {
			return false
		}
		if err := r.open(r.k + 1); err != nil {
			r.err = err
		}
	}
	return false
}

// closeRun closes the current run and deletes its files.
func (r *objectReader) closeRun() {
	if r.cur == nil {
		return
	}
	r.cur.Close()
	r.cur = nil
	for i := r.chunks[r.k][0]; i < r.chunks[r.k][1]; i++ {
		r.f.Release(i)
	}
}

func (r *objectReader) RecordBatch() arrow.RecordBatch { return r.cur.RecordBatch() }
func (r *objectReader) Record() arrow.RecordBatch      { return r.cur.RecordBatch() }
func (r *objectReader) Err() error {
	if r.err == nil && r.ctx.Err() != nil {
		return r.ctx.Err()
	}
	return r.err
}
func (r *objectReader) Retain() { r.refs.Add(1) }
func (r *objectReader) Release() {
	if r.refs.Add(-1) > 0 {
		return
	}
	if r.cur != nil {
		r.cur.Close()
		r.cur = nil
	}
	r.f.Close()
	r.s.Close()
}

// objectSink writes the rows to a local file with DuckDB's COPY (the format's options apply
// as for local files), then uploads it: the object appears only when the upload completed.
func (c *FileConnection) objectSink(ctx context.Context, u objstore.URL, rows array.RecordReader) (int64, error) {
	return c.objectUpload(ctx, u, func(local string) (int64, error) {
		s, src, release, err := c.sinkRows(ctx, rows)
		if err != nil {
			return 0, err
		}
		defer release()
		q, err := c.copySQL(src, local, false)
		if err != nil {
			return 0, err
		}
		return s.Exec(ctx, q)
	})
}

// objectUpload runs write, which writes the sink's private local file, while the file is
// uploaded to u: parts go up while DuckDB is still writing, and the object appears only when
// write succeeded and the upload completed.
func (c *FileConnection) objectUpload(ctx context.Context, u objstore.URL, write func(local string) (int64, error)) (int64, error) {
	if u.IsGlob() {
		return 0, c.objectErr("sink", fmt.Errorf("%s: a sink writes one object; its key cannot be a glob", u))
	}
	if u.Key == "" || strings.HasSuffix(u.Key, "/") {
		return 0, c.objectErr("sink", fmt.Errorf("%s names no object: add the object's key", u))
	}
	st, err := c.openStore("sink", u)
	if err != nil {
		return 0, err
	}
	// Uploads of this key left open by earlier runs that were killed (see objstore/stale.go).
	// Best effort: a store that does not let us list uploads still gets the sink.
	if a, ok := st.(objstore.StaleAborter); ok {
		if ids, err := a.AbortStale(ctx, u.Key); err != nil {
			c.Logger().Warn("could not clean up abandoned multipart uploads", "error", err)
		} else if len(ids) > 0 {
			c.Logger().Info("aborted multipart uploads left by a killed earlier run", "url", u.String(), "uploads", len(ids))
		}
	}
	dir := objstore.SpillDir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return 0, err
	}
	tmpDir, err := os.MkdirTemp(dir, "ankaflow-sink-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(tmpDir)
	// The key's own name keeps its extensions, from which COPY infers compression (.csv.gz).
	// The file is written in place (it is private), so the upload can follow it.
	local := filepath.Join(tmpDir, path.Base(u.Key))
	up := st.Follow(ctx, u.Key, local)
	n, err := write(local)
	if ferr := up.Finish(err); ferr != nil && err == nil {
		return 0, c.objectErr("sink", ferr)
	}
	if err != nil {
		return 0, err
	}
	return n, nil
}

// StagedSinker is a sink that the pipeline runner hands the query of its rows instead of an
// Arrow stream: it writes them with a plain COPY on the runner's own session, so DuckDB reads
// the source with all its threads and writes the file directly (no Arrow round trip through
// COPY … (FORMAT ankaflow), whose rows come back into DuckDB through one reader).
type StagedSinker interface {
	// SinkStaged writes the rows of the SELECT from (valid in s) to the connection's target.
	SinkStaged(ctx context.Context, s *engine.Session, from string) (int64, error)
}

// SinkStaged implements StagedSinker for object-store targets: DuckDB's COPY writes the
// private local file in the runner's session while it is uploaded.
func (c *FileConnection) SinkStaged(ctx context.Context, s *engine.Session, from string) (int64, error) {
	u, remote, err := c.objectURL(false)
	if err != nil {
		return 0, err
	}
	if !remote {
		return 0, fmt.Errorf("sink '%s': a staged sink writes object storage only", c.Name())
	}
	return c.objectUpload(ctx, u, func(local string) (int64, error) {
		q, err := c.copySQL(from, local, false)
		if err != nil {
			return 0, err
		}
		return s.Exec(ctx, q)
	})
}

func (r *objectReader) runColumnsErr(ch [2]int, err error) error {
	msg := fmt.Sprintf("the objects from %s on do not have the first ones' columns, and the set is larger than the spill budget so it is read in runs: raise ANKAFLOW_SPILL_BYTES to read all objects together (union_by_name), or tap them separately", r.objs[ch[0]].Key)
	if err != nil {
		return fmt.Errorf("%s: %w", msg, err)
	}
	return errors.New(msg)
}
