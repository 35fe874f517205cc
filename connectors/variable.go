package connectors

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/ankaflow/ankaflow/engine"
	"github.com/ankaflow/ankaflow/engine/value"
)

func init() {
	Register("Variable", Spec{
		Summary:         "a pipeline variable: tap reads variables[locator] as rows, sink stores rows into it",
		Ops:             OpTap | OpSink,
		LocatorRequired: true,
		ExactRows:       true,
	}, func(p map[string]any) Connection { return &VariableConnection{} })
}

// VariableConnection taps from and sinks into a pipeline variable named by its locator (not a
// path: the locator is never resolved against a bucket).
//
// Sink keeps the rows exactly as DuckDB gave them (a *value.Rows: its Arrow batches, in
// DuckDB's lossless Arrow form), so a tap of the same variable gives back the same columns in
// the same order with the same types and values: DECIMAL, INTERVAL, MAP, TIMESTAMPTZ, UUID…
// Templates see the rows as a list of ordered records.
//
// A variable set otherwise (context, API.setvariable, a loop row) is read as JSON: a list of
// records becomes one row each, a mapping one row, a scalar one row in a `json` column; keys
// keep their order, numbers their digits, and DuckDB's JSON reader infers the types.
type VariableConnection struct {
	Base
}

// Tap implements Connection.
func (c *VariableConnection) Tap(ctx context.Context, query string) (array.RecordReader, error) {
	v := c.Variables()[c.Locator()]
	if rows, ok := v.(*value.Rows); ok {
		return rows.Reader()
	}
	var data []any
	switch x := v.(type) {
	case []any:
		data = x
	case *value.Map, map[string]any:
		data = []any{x}
	default:
		data = []any{value.MapOf("json", x)}
	}
	s, err := c.DuckDB(ctx)
	if err != nil {
		return nil, err
	}
	if len(data) == 0 {
		// DuckDB cannot infer columns from an empty array: an empty table with one json column.
		return s.QueryArrow(ctx, "SELECT NULL::JSON AS json WHERE false")
	}
	dir, err := os.MkdirTemp("", "ankaflow-var-")
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "rows.json")
	if err := os.WriteFile(path, value.JSON(data), 0o600); err != nil {
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

// TapSchema implements TapSchemaer for rows a sink stored (other values are read as JSON,
// whose columns only DuckDB's reader knows).
func (c *VariableConnection) TapSchema(ctx context.Context, query string) (*arrow.Schema, error) {
	if rows, ok := c.Variables()[c.Locator()].(*value.Rows); ok {
		return rows.Schema, nil
	}
	return nil, nil
}

// Sink implements Connection: the variable is replaced only when every row was read.
func (c *VariableConnection) Sink(ctx context.Context, rows array.RecordReader) (int64, error) {
	var batches []arrow.RecordBatch
	release := func() {
		for _, b := range batches {
			b.Release()
		}
	}
	for rows.Next() {
		if err := ctx.Err(); err != nil {
			release()
			return 0, err
		}
		b := rows.RecordBatch()
		b.Retain()
		batches = append(batches, b)
	}
	if err := rows.Err(); err != nil {
		release()
		return 0, err
	}
	kept := value.NewRows(rows.Schema(), batches)
	release() // NewRows holds its own references
	c.Variables()[c.Locator()] = kept
	return int64(kept.Len()), nil
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
