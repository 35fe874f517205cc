package rest

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// tapReader streams a tap as one Arrow batch per page (CSV and Parquet pages: DuckDB's
// batches of the page). It pulls the next page only when asked for the next batch.
type tapReader struct {
	t    *tapRun
	ctx  context.Context
	refs atomic.Int64
	cur  arrow.RecordBatch
	duck array.RecordReader // the CSV/Parquet page being read
	dn   int                // its rows so far
	dp   *page
	err  error
	end  bool
}

func newTapReader(ctx context.Context, t *tapRun) *tapReader {
	t.rb = newRecordBuilder(t.schema, func(k string) {
		t.r.Logger().Warn(fmt.Sprintf("records carry key %q, which is not a column of this tap (columns come from `fields`, or from the first page): ignored", k))
	})
	r := &tapReader{t: t, ctx: ctx}
	r.refs.Store(1)
	return r
}

func (r *tapReader) Schema() *arrow.Schema          { return r.t.schema }
func (r *tapReader) RecordBatch() arrow.RecordBatch { return r.cur }
func (r *tapReader) Record() arrow.RecordBatch      { return r.cur }
func (r *tapReader) Err() error                     { return r.err }
func (r *tapReader) Retain()                        { r.refs.Add(1) }

func (r *tapReader) Release() {
	if r.refs.Add(-1) != 0 {
		return
	}
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	r.closeDuck()
	r.t.close()
}

func (r *tapReader) closeDuck() {
	if r.duck != nil {
		r.duck.Release()
		r.duck = nil
	}
}

func (r *tapReader) fail(err error) bool {
	r.err = err
	r.end = true
	r.closeDuck()
	return false
}

// Next reads the next page (or the next batch of a CSV/Parquet page).
func (r *tapReader) Next() bool {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	t := r.t
	for !r.end {
		if err := r.ctx.Err(); err != nil {
			return r.fail(err)
		}
		if r.duck != nil {
			if r.duck.Next() {
				rec := r.duck.RecordBatch()
				if !sameColumns(rec.Schema(), t.schema) {
					return r.fail(fmt.Errorf("%s: page %d has other columns than the first page (%s vs %s); declare `fields`", t.r.cl.label, t.npages, rec.Schema(), t.schema))
				}
				r.dn += int(rec.NumRows())
				if t.mark != nil {
					t.mark.observeBatch(rec)
				}
				rec.Retain()
				r.cur = rec
				return true
			}
			if err := r.duck.Err(); err != nil {
				return r.fail(t.stageErr(r.dp, err))
			}
			r.closeDuck()
			t.got += int64(r.dn)
			if err := t.advance(r.dp, r.dn); err != nil {
				return r.fail(err)
			}
			continue
		}
		p := t.first
		t.first = nil
		if p == nil {
			var err error
			if p, err = t.next(r.ctx); err != nil {
				return r.fail(err)
			}
		}
		if p == nil {
			r.end = true
			if t.mark != nil {
				if err := t.r.saveWatermark(t.mark); err != nil {
					return r.fail(err)
				}
			}
			return false
		}
		if p.kind == "csv" || p.kind == "parquet" {
			rd, err := t.duckPage(r.ctx, p)
			if err != nil {
				return r.fail(err)
			}
			r.duck, r.dp, r.dn = rd, p, 0
			continue
		}
		rec, n, err := t.decode(p)
		if err != nil {
			return r.fail(err)
		}
		t.got += int64(n)
		if err := t.advance(p, n); err != nil {
			if rec != nil {
				rec.Release()
			}
			return r.fail(err)
		}
		if rec != nil {
			r.cur = rec
			return true
		}
	}
	return false
}

// sameColumns compares names and types (not metadata such as the JSON extension).
func sameColumns(a, b *arrow.Schema) bool {
	if a.NumFields() != b.NumFields() {
		return false
	}
	for i := range a.Fields() {
		fa, fb := a.Field(i), b.Field(i)
		if fa.Name != fb.Name || !arrow.TypeEqual(fa.Type, fb.Type) {
			return false
		}
	}
	return true
}

// decode turns a JSON page into a batch (nil when it has no records).
func (t *tapRun) decode(p *page) (arrow.RecordBatch, int, error) {
	markCol := -1
	if t.mark != nil {
		if idx := t.schema.FieldIndices(t.mark.cfg.Field); len(idx) > 0 {
			markCol = idx[0]
		}
	}
	if err := t.eachRecord(p, t.rb.scanRecord, t.rb.addRecord); err != nil {
		t.rb.release()
		t.rb = newRecordBuilder(t.schema, t.rb.onExtra)
		return nil, 0, t.stageErr(p, err)
	}
	n := t.rb.rows()
	if n == 0 {
		return nil, 0, nil
	}
	rec := t.rb.batch()
	if markCol >= 0 {
		t.mark.observe(rec.Column(markCol))
	}
	return rec, n, nil
}
