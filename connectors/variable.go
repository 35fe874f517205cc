package connectors

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/ankaflow/ankaflow/engine"
)

func init() {
	Register("Variable", Spec{
		Summary:         "a pipeline variable: tap reads variables[locator] as rows, sink stores rows into it",
		Ops:             OpTap | OpSink,
		LocatorRequired: true,
	}, func(p map[string]any) Connection { return &VariableConnection{} })
}

// VariableConnection taps from and sinks into a pipeline variable named by its locator (not a
// path: the locator is never resolved against a bucket).
//
// Tap: a list of records becomes one row each, a mapping one row, a scalar one row in a `json`
// column; the rows are read by DuckDB's JSON reader, so types are inferred the same way as for
// JSON files. Sink: the rows become a list of records; timestamps and dates keep their ISO text
// form (AnkaFlow turned them into epoch milliseconds) and decimals keep their exact digits.
type VariableConnection struct {
	Base
}

// Tap implements Connection.
func (c *VariableConnection) Tap(ctx context.Context, query string) (array.RecordReader, error) {
	v, ok := c.Variables()[c.Locator()]
	if !ok {
		v = nil
	}
	v = Plain(v)
	var data []any
	switch x := v.(type) {
	case []any:
		data = x
	case map[string]any:
		data = []any{x}
	default:
		data = []any{map[string]any{"json": x}}
	}
	if len(data) == 0 {
		data = []any{}
	}
	s, err := c.DuckDB(ctx)
	if err != nil {
		return nil, err
	}
	if len(data) == 0 {
		// DuckDB cannot infer columns from an empty array: an empty table with one json column.
		return s.QueryArrow(ctx, "SELECT NULL::JSON AS json WHERE false")
	}
	buf, err := json.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("variable %q cannot be read as rows: %w", c.Locator(), err)
	}
	dir, err := os.MkdirTemp("", "ankaflow-var-")
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "rows.json")
	if err := os.WriteFile(path, buf, 0o600); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	rows, err := s.QueryArrow(ctx, "SELECT * FROM read_json("+engine.QuoteLiteral(path)+", format = 'array')")
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("variable %q: %w", c.Locator(), err)
	}
	return &cleanupReader{RecordReader: rows, cleanup: func() { os.RemoveAll(dir) }}, nil
}

// Sink implements Connection: the variable is replaced only when every row was read.
func (c *VariableConnection) Sink(ctx context.Context, rows array.RecordReader) (int64, error) {
	out := []any{}
	for rows.Next() {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		js, err := rows.RecordBatch().MarshalJSON()
		if err != nil {
			return 0, err
		}
		dec := json.NewDecoder(bytes.NewReader(js))
		dec.UseNumber()
		var batch []any
		if err := dec.Decode(&batch); err != nil {
			return 0, err
		}
		for _, r := range batch {
			out = append(out, numbersToGo(r))
		}
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	c.Variables()[c.Locator()] = out
	return int64(len(out)), nil
}

// numbersToGo turns json.Number into int64 when integral, float64 otherwise.
func numbersToGo(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = numbersToGo(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = numbersToGo(e)
		}
		return x
	}
	return v
}

type cleanupReader struct {
	array.RecordReader
	cleanup func()
	done    bool
}

func (r *cleanupReader) Release() {
	r.RecordReader.Release()
	if !r.done {
		r.done = true
		r.cleanup()
	}
}
