package testconn

import (
	"context"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/ankaflow/ankaflow/connectors"
)

// DescribedTaps counts the taps of every Described connection (a command builds its own).
var DescribedTaps atomic.Int64

func init() {
	connectors.RegisterCustom(Module, "Described", connectors.Spec{
		Summary: "taps (n INTEGER, label VARCHAR) and describes them with show_schema, without TapSchema",
		Ops:     connectors.OpTap | connectors.OpShowSchema,
	}, func(p DescribedParams) connectors.Connection { return &Described{p: p} })
}

// DescribedParams are the params of Described.
type DescribedParams struct {
	Rows int `param:"rows" default:"3"`
	// NType is the type show_schema reports for n (the tap gives INTEGER whatever it says).
	NType string `param:"n_type" default:"INTEGER"`
}

// Described is a connection written to the Python-era contract (tap and show_schema, no
// TapSchema). Its tap gives n as int32 and label as a large string, which DuckDB reads as the
// INTEGER and VARCHAR its show_schema reports.
type Described struct {
	connectors.Base
	p DescribedParams
	// Taps counts taps; Describes counts show_schema calls.
	Taps, Describes atomic.Int64
}

// ShowSchema implements connectors.Connection.
func (c *Described) ShowSchema(ctx context.Context) ([]connectors.Field, error) {
	c.Describes.Add(1)
	return []connectors.Field{{Name: "n", Type: c.p.NType}, {Name: "label", Type: "VARCHAR"}}, nil
}

// Tap implements connectors.Connection.
func (c *Described) Tap(ctx context.Context, query string) (array.RecordReader, error) {
	c.Taps.Add(1)
	DescribedTaps.Add(1)
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "n", Type: arrow.PrimitiveTypes.Int32},
		{Name: "label", Type: arrow.BinaryTypes.LargeString, Nullable: true},
	}, nil)
	nb := array.NewInt32Builder(memory.DefaultAllocator)
	defer nb.Release()
	lb := array.NewLargeStringBuilder(memory.DefaultAllocator)
	defer lb.Release()
	for i := 0; i < c.p.Rows; i++ {
		nb.Append(int32(i))
		lb.Append(query)
	}
	cols := []arrow.Array{nb.NewArray(), lb.NewArray()}
	rec := array.NewRecordBatch(schema, cols, int64(c.p.Rows))
	for _, a := range cols {
		a.Release()
	}
	defer rec.Release()
	return array.NewRecordReader(schema, []arrow.RecordBatch{rec})
}
