// Package testconn registers custom connections (module "ankaflow.testing") that exercise the
// SQL functions in tests and benchmarks: they are real connections built with the public
// Connection API, with observable state.
package testconn

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/ankaflow/ankaflow/connectors"
)

// Module is the custom-connection module of the test connections.
const Module = "ankaflow.testing"

func init() {
	connectors.RegisterCustom(Module, "Numbers", connectors.Spec{
		Summary: "numbers 0..rows-1 (tap), a staging sink, a fake SQL system",
		Ops:     connectors.OpTap | connectors.OpSink | connectors.OpSQL | connectors.OpShowSchema,
	}, func(p NumbersParams) connectors.Connection { return &Numbers{p: p} })
	connectors.RegisterCustom(Module, "Echo", connectors.Spec{
		Summary: "keeps the batches it sinks and taps them back",
		Ops:     connectors.OpTap | connectors.OpSink,
	}, func(p map[string]any) connectors.Connection { return &Echo{} })
	connectors.RegisterCustom(Module, "Gen", connectors.Spec{
		Summary: "generates rows (a BIGINT, b DOUBLE, c VARCHAR) fast",
		Ops:     connectors.OpTap,
	}, func(p GenParams) connectors.Connection { return &Gen{p: p} })
	connectors.RegisterCustom(Module, "Count", connectors.Spec{
		Summary: "a sink that counts rows and sums the first BIGINT column",
		Ops:     connectors.OpSink,
	}, func(p map[string]any) connectors.Connection { return &Count{} })
}

// NumbersParams are the params of Numbers.
type NumbersParams struct {
	Rows      int    `param:"rows" default:"10"`
	Password  string `param:"password,secret"`
	FailAfter int    `param:"fail_after" default:"-1" doc:"the sink fails after this many rows"`
	Forever   bool   `param:"forever" doc:"the tap never ends"`
	Label     string `param:"label"`
}

// Numbers taps rows (n BIGINT, q VARCHAR, label VARCHAR): n counts from 0, q is the query it
// was given, label the label param. Its sink stages rows and commits them only at a clean end.
// Its SQL records statements; a statement starting with SELECT returns one row (answer 42).
type Numbers struct {
	connectors.Base
	p NumbersParams

	mu         sync.Mutex
	committed  []arrow.RecordBatch
	statements []string
	// Taps counts taps; Released counts released tap readers; Sinks counts sinks.
	Taps, Released, Sinks atomic.Int64
}

// TapSchema implements connectors.TapSchemaer: the columns are fixed.
func (c *Numbers) TapSchema(ctx context.Context, query string) (*arrow.Schema, error) {
	return numbersSchema, nil
}

var numbersSchema = arrow.NewSchema([]arrow.Field{
	{Name: "n", Type: arrow.PrimitiveTypes.Int64},
	{Name: "q", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "label", Type: arrow.BinaryTypes.String, Nullable: true},
}, nil)

// Tap implements connectors.Connection.
func (c *Numbers) Tap(ctx context.Context, query string) (array.RecordReader, error) {
	if c.p.Rows < 0 {
		return nil, errors.New("rows must not be negative")
	}
	c.Taps.Add(1)
	total := int64(c.p.Rows)
	if c.p.Forever {
		total = -1
	}
	pos := int64(0)
	return newFuncReader(numbersSchema, func() (arrow.RecordBatch, error) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if total >= 0 && pos >= total {
			return nil, nil
		}
		m := int64(1000)
		if total >= 0 {
			m = min(m, total-pos)
		}
		b := array.NewRecordBuilder(memory.DefaultAllocator, numbersSchema)
		defer b.Release()
		for i := int64(0); i < m; i++ {
			b.Field(0).(*array.Int64Builder).Append(pos + i)
			b.Field(1).(*array.StringBuilder).Append(query)
			b.Field(2).(*array.StringBuilder).Append(c.p.Label)
		}
		pos += m
		return b.NewRecordBatch(), nil
	}, func() { c.Released.Add(1) }), nil
}

// Sink implements connectors.Connection: rows are staged and committed only at a clean end.
func (c *Numbers) Sink(ctx context.Context, rows array.RecordReader) (int64, error) {
	c.Sinks.Add(1)
	var staged []arrow.RecordBatch
	drop := func() {
		for _, r := range staged {
			r.Release()
		}
	}
	var n int64
	for rows.Next() {
		rec := rows.RecordBatch()
		rec.Retain()
		staged = append(staged, rec)
		n += rec.NumRows()
		if c.p.FailAfter >= 0 && n > int64(c.p.FailAfter) {
			drop()
			return n, fmt.Errorf("disk full after %d rows", c.p.FailAfter)
		}
	}
	if err := rows.Err(); err != nil {
		drop()
		return n, err
	}
	c.mu.Lock()
	for _, r := range c.committed {
		r.Release()
	}
	c.committed = staged
	c.mu.Unlock()
	return n, nil
}

// Committed returns the rows committed by the last successful sink.
func (c *Numbers) Committed() []arrow.RecordBatch {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]arrow.RecordBatch(nil), c.committed...)
}

// CommittedRows counts the committed rows.
func (c *Numbers) CommittedRows() int64 {
	var n int64
	for _, r := range c.Committed() {
		n += r.NumRows()
	}
	return n
}

// Statements are the statements run through SQL.
func (c *Numbers) Statements() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.statements...)
}

// SQL implements connectors.Connection.
func (c *Numbers) SQL(ctx context.Context, statement string) (array.RecordReader, error) {
	if strings.Contains(statement, "fail") {
		return nil, errors.New("syntax error near 'fail'")
	}
	c.mu.Lock()
	c.statements = append(c.statements, statement)
	c.mu.Unlock()
	if !strings.HasPrefix(strings.ToUpper(strings.TrimSpace(statement)), "SELECT") {
		return nil, nil
	}
	schema := arrow.NewSchema([]arrow.Field{{Name: "answer", Type: arrow.PrimitiveTypes.Int64}}, nil)
	b := array.NewInt64Builder(memory.DefaultAllocator)
	defer b.Release()
	b.Append(42)
	col := b.NewArray()
	defer col.Release()
	rec := array.NewRecordBatch(schema, []arrow.Array{col}, 1)
	defer rec.Release()
	return array.NewRecordReader(schema, []arrow.RecordBatch{rec})
}

// ShowSchema implements connectors.Connection.
func (c *Numbers) ShowSchema(ctx context.Context) ([]connectors.Field, error) {
	no := false
	return []connectors.Field{
		{Name: "n", Type: "BIGINT", Nullable: &no},
		{Name: "q", Type: "VARCHAR"},
		{Name: "label", Type: "VARCHAR"},
	}, nil
}

// Echo keeps the batches it sinks and taps them back.
type Echo struct {
	connectors.Base
	mu     sync.Mutex
	schema *arrow.Schema
	kept   []arrow.RecordBatch
}

// Sink implements connectors.Connection.
func (c *Echo) Sink(ctx context.Context, rows array.RecordReader) (int64, error) {
	var kept []arrow.RecordBatch
	var n int64
	for rows.Next() {
		rec := rows.RecordBatch()
		rec.Retain()
		kept = append(kept, rec)
		n += rec.NumRows()
	}
	if err := rows.Err(); err != nil {
		for _, r := range kept {
			r.Release()
		}
		return n, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range c.kept {
		r.Release()
	}
	c.schema, c.kept = rows.Schema(), kept
	return n, nil
}

// Tap implements connectors.Connection.
func (c *Echo) Tap(ctx context.Context, query string) (array.RecordReader, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.schema == nil {
		return nil, errors.New("nothing was sunk yet")
	}
	return array.NewRecordReader(c.schema, c.kept)
}

// Schema is the schema of the sunk rows.
func (c *Echo) Schema() *arrow.Schema {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.schema
}

// GenParams are the params of Gen.
type GenParams struct {
	Rows  int `param:"rows" default:"1000"`
	Batch int `param:"batch" default:"65536"`
}

// Gen taps rows (a BIGINT = i, b DOUBLE = i * 1.5, c VARCHAR = 'str' || i), built directly in
// Arrow buffers.
type Gen struct {
	connectors.Base
	p GenParams
	// Peak is the largest number of bytes its batches held at once.
	Peak atomic.Int64
	mem  *memory.CheckedAllocator
}

var genSchema = arrow.NewSchema([]arrow.Field{
	{Name: "a", Type: arrow.PrimitiveTypes.Int64},
	{Name: "b", Type: arrow.PrimitiveTypes.Float64},
	{Name: "c", Type: arrow.BinaryTypes.String},
}, nil)

// Allocated is the memory its batches hold now.
func (c *Gen) Allocated() int64 {
	if c.mem == nil {
		return 0
	}
	return int64(c.mem.CurrentAlloc())
}

// Tap implements connectors.Connection.
func (c *Gen) Tap(ctx context.Context, query string) (array.RecordReader, error) {
	if c.mem == nil {
		c.mem = memory.NewCheckedAllocator(memory.DefaultAllocator)
	}
	mem := c.mem
	total, batch := int64(c.p.Rows), int64(c.p.Batch)
	pos := int64(0)
	return newFuncReader(genSchema, func() (arrow.RecordBatch, error) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if pos >= total {
			return nil, nil
		}
		m := min(batch, total-pos)
		ab := memory.NewResizableBuffer(mem)
		ab.Resize(int(m) * 8)
		bb := memory.NewResizableBuffer(mem)
		bb.Resize(int(m) * 8)
		ob := memory.NewResizableBuffer(mem)
		ob.Resize(int(m+1) * 4)
		db := memory.NewResizableBuffer(mem)
		db.Resize(int(m) * 23) // "str" + at most 20 digits: appends below never reallocate
		as := arrow.Int64Traits.CastFromBytes(ab.Bytes())
		bs := arrow.Float64Traits.CastFromBytes(bb.Bytes())
		os := arrow.Int32Traits.CastFromBytes(ob.Bytes())
		data := db.Bytes()[:0]
		for i := int64(0); i < m; i++ {
			v := pos + i
			as[i] = v
			bs[i] = float64(v) * 1.5
			os[i] = int32(len(data))
			data = append(data, "str"...)
			data = strconv.AppendInt(data, v, 10)
		}
		os[m] = int32(len(data))
		db.ResizeNoShrink(len(data))
		ad := array.NewData(arrow.PrimitiveTypes.Int64, int(m), []*memory.Buffer{nil, ab}, nil, 0, 0)
		bd := array.NewData(arrow.PrimitiveTypes.Float64, int(m), []*memory.Buffer{nil, bb}, nil, 0, 0)
		cd := array.NewData(arrow.BinaryTypes.String, int(m), []*memory.Buffer{nil, ob, db}, nil, 0, 0)
		cols := []arrow.Array{array.NewInt64Data(ad), array.NewFloat64Data(bd), array.NewStringData(cd)}
		ad.Release()
		bd.Release()
		cd.Release()
		ab.Release()
		bb.Release()
		ob.Release()
		db.Release()
		rec := array.NewRecordBatch(genSchema, cols, m)
		for _, col := range cols {
			col.Release()
		}
		pos += m
		if a := int64(mem.CurrentAlloc()); a > c.Peak.Load() {
			c.Peak.Store(a)
		}
		return rec, nil
	}, nil), nil
}

// Count is a sink that counts rows and sums the first column (BIGINT).
type Count struct {
	connectors.Base
	// Rows and Sum of the last sink.
	Rows, Sum atomic.Int64
}

// Sink implements connectors.Connection.
func (c *Count) Sink(ctx context.Context, rows array.RecordReader) (int64, error) {
	var n, sum int64
	for rows.Next() {
		rec := rows.RecordBatch()
		n += rec.NumRows()
		if col, ok := rec.Column(0).(*array.Int64); ok {
			for _, v := range col.Int64Values() {
				sum += v
			}
		}
	}
	if err := rows.Err(); err != nil {
		return n, err
	}
	c.Rows.Store(n)
	c.Sum.Store(sum)
	return n, nil
}

// funcReader is an array.RecordReader over a function returning batches (nil at the end).
type funcReader struct {
	schema  *arrow.Schema
	next    func() (arrow.RecordBatch, error)
	release func()
	cur     arrow.RecordBatch
	err     error
	refs    atomic.Int64
}

func newFuncReader(schema *arrow.Schema, next func() (arrow.RecordBatch, error), release func()) *funcReader {
	r := &funcReader{schema: schema, next: next, release: release}
	r.refs.Store(1)
	return r
}

func (r *funcReader) Schema() *arrow.Schema { return r.schema }
func (r *funcReader) Next() bool {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	if r.err != nil {
		return false
	}
	rec, err := r.next()
	if err != nil {
		r.err = err
		return false
	}
	if rec == nil {
		return false
	}
	r.cur = rec
	return true
}
func (r *funcReader) RecordBatch() arrow.RecordBatch { return r.cur }
func (r *funcReader) Record() arrow.RecordBatch      { return r.cur }
func (r *funcReader) Err() error                     { return r.err }
func (r *funcReader) Retain()                        { r.refs.Add(1) }
func (r *funcReader) Release() {
	if r.refs.Add(-1) == 0 {
		if r.cur != nil {
			r.cur.Release()
			r.cur = nil
		}
		if r.release != nil {
			r.release()
		}
	}
}
