package value

import (
	"runtime"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Rows is a result kept exactly as DuckDB gave it: its Arrow batches, from which every DuckDB
// type reads back as itself (see engine.CopyTarget.Exact), and, made on first use, the same
// rows as ordered records for templates. A Variable sink stores one.
type Rows struct {
	Schema  *arrow.Schema
	Batches []arrow.RecordBatch

	once    sync.Once
	records []any
}

// NewRows keeps the batches (retaining them).
func NewRows(schema *arrow.Schema, batches []arrow.RecordBatch) *Rows {
	for _, b := range batches {
		b.Retain()
	}
	r := &Rows{Schema: schema, Batches: batches}
	// The batches may hold memory DuckDB allocated: give it back when the rows are dropped
	// (readers made by Reader hold their own references).
	runtime.SetFinalizer(r, func(r *Rows) {
		for _, b := range r.Batches {
			b.Release()
		}
	})
	return r
}

// Reader streams the batches again (each reader retains them while it lives).
func (r *Rows) Reader() (array.RecordReader, error) {
	return array.NewRecordReader(r.Schema, r.Batches)
}

// Len is the number of rows.
func (r *Rows) Len() int {
	n := 0
	for _, b := range r.Batches {
		n += int(b.NumRows())
	}
	return n
}

// Records returns the rows as ordered records (*Map), columns in order.
func (r *Rows) Records() []any {
	r.once.Do(func() {
		r.records = make([]any, 0, r.Len())
		for _, b := range r.Batches {
			for i := 0; i < int(b.NumRows()); i++ {
				r.records = append(r.records, Record(b, i))
			}
		}
	})
	return r.records
}
