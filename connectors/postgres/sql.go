package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/ankaflow/ankaflow/connectors"
)

// SQL runs one or several statements on PostgreSQL. A single statement with a result (SELECT,
// SHOW, … RETURNING) returns its rows, typed as a tap's; several statements run in one simple
// query (one implicit transaction) and return the rows of the last one that has any, as text.
// Statements without rows return one row: rows_affected.
func (c *Postgres) SQL(ctx context.Context, statement string) (array.RecordReader, error) {
	if strings.TrimSpace(statement) == "" {
		return nil, fmt.Errorf("%s: empty statement", c.where())
	}
	pc, err := c.acquire(ctx)
	if err != nil {
		return nil, err
	}
	r, err := c.sql(ctx, pc, statement)
	if err != nil {
		c.release(ctx, pc, isServerError(err))
		return nil, c.wrap(err)
	}
	return r, nil
}

func (c *Postgres) sql(ctx context.Context, pc *pgconn.PgConn, statement string) (array.RecordReader, error) {
	sd, err := pc.Prepare(ctx, "", statement, nil)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "42601" && strings.Contains(pe.Message, "multiple commands") {
		return c.multi(ctx, pc, statement)
	}
	if err != nil {
		return nil, err
	}
	if len(sd.Fields) == 0 {
		res := pc.ExecStatement(ctx, sd, nil, nil, nil).Read()
		if res.Err != nil {
			return nil, res.Err
		}
		c.release(ctx, pc, true)
		return affectedRows(res.CommandTag.RowsAffected()), nil
	}
	oids := make([]uint32, len(sd.Fields))
	for i, f := range sd.Fields {
		oids[i] = f.DataTypeOID
	}
	info, err := resolveTypes(ctx, pc, oids)
	if err != nil {
		return nil, err
	}
	types := make([]*pgType, len(sd.Fields))
	formats := make([]int16, len(sd.Fields))
	for i, f := range sd.Fields {
		t := newPgType(f.DataTypeOID, f.TypeModifier, info, false)
		if t.castText != "" {
			// No cast possible on an arbitrary statement: ask for the text form instead.
			t = &pgType{arrow: arrow.BinaryTypes.String}
		} else {
			formats[i] = 1
		}
		types[i] = t
	}
	// Run it by its text: the catalog query above replaced the unnamed prepared statement.
	rr := pc.ExecParams(ctx, statement, nil, nil, nil, formats)
	return newResultReader(ctx, c, pc, rr, schemaOf(sd.Fields, types), types), nil
}

// multi runs several statements with the simple protocol.
func (c *Postgres) multi(ctx context.Context, pc *pgconn.PgConn, statement string) (array.RecordReader, error) {
	results, err := pc.Exec(ctx, statement).ReadAll()
	if err != nil {
		return nil, err
	}
	c.release(ctx, pc, true)
	var affected int64
	for i := len(results) - 1; i >= 0; i-- {
		res := results[i]
		if len(res.FieldDescriptions) > 0 {
			fields := make([]arrow.Field, len(res.FieldDescriptions))
			for j, f := range res.FieldDescriptions {
				fields[j] = arrow.Field{Name: f.Name, Type: arrow.BinaryTypes.String, Nullable: true}
			}
			schema := arrow.NewSchema(fields, nil)
			b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
			defer b.Release()
			for _, row := range res.Rows {
				for j, v := range row {
					sb := b.Field(j).(*array.StringBuilder)
					if v == nil {
						sb.AppendNull()
					} else {
						sb.BinaryBuilder.Append(v)
					}
				}
			}
			rec := b.NewRecordBatch()
			defer rec.Release()
			return array.NewRecordReader(schema, []arrow.RecordBatch{rec})
		}
		affected += res.CommandTag.RowsAffected()
	}
	return affectedRows(affected), nil
}

var affectedSchema = arrow.NewSchema([]arrow.Field{{Name: "rows_affected", Type: arrow.PrimitiveTypes.Int64}}, nil)

func affectedRows(n int64) array.RecordReader {
	b := array.NewInt64Builder(memory.DefaultAllocator)
	defer b.Release()
	b.Append(n)
	col := b.NewArray()
	defer col.Release()
	rec := array.NewRecordBatch(affectedSchema, []arrow.Array{col}, 1)
	defer rec.Release()
	r, _ := array.NewRecordReader(affectedSchema, []arrow.RecordBatch{rec})
	return r
}

// resultReader streams the rows of an extended-protocol result as Arrow batches.
type resultReader struct {
	refs   atomic.Int64
	ctx    context.Context
	c      *Postgres
	pc     *pgconn.PgConn
	rr     *pgconn.ResultReader
	schema *arrow.Schema
	bld    *array.RecordBuilder
	dec    []decoder
	cur    arrow.RecordBatch
	err    error
	done   bool
	closed bool
}

func newResultReader(ctx context.Context, c *Postgres, pc *pgconn.PgConn, rr *pgconn.ResultReader, schema *arrow.Schema, types []*pgType) *resultReader {
	r := &resultReader{ctx: ctx, c: c, pc: pc, rr: rr, schema: schema}
	r.bld = array.NewRecordBuilder(memory.DefaultAllocator, schema)
	for i, t := range types {
		r.dec = append(r.dec, newDecoder(t, r.bld.Field(i)))
	}
	r.refs.Store(1)
	return r
}

func (r *resultReader) Schema() *arrow.Schema          { return r.schema }
func (r *resultReader) RecordBatch() arrow.RecordBatch { return r.cur }
func (r *resultReader) Record() arrow.RecordBatch      { return r.cur }
func (r *resultReader) Err() error                     { return r.err }
func (r *resultReader) Retain()                        { r.refs.Add(1) }

func (r *resultReader) Next() bool {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	if r.done || r.closed {
		return false
	}
	n := 0
	for n < batchRows {
		if !r.rr.NextRow() {
			r.done = true
			_, err := r.rr.Close()
			if err != nil {
				r.err = r.c.wrap(err)
				r.c.release(r.ctx, r.pc, isServerError(err))
			} else {
				r.c.release(r.ctx, r.pc, true)
			}
			r.pc = nil
			break
		}
		for i, v := range r.rr.Values() {
			if err := r.dec[i](v); err != nil {
				r.err = r.c.wrap(fmt.Errorf("column %q: %w", r.schema.Field(i).Name, err))
				r.done = true
				r.rr.Close()
				r.c.release(r.ctx, r.pc, false)
				r.pc = nil
				return false
			}
		}
		n++
	}
	if r.err != nil || n == 0 {
		return false
	}
	r.cur = r.bld.NewRecordBatch()
	return true
}

func (r *resultReader) Release() {
	if r.refs.Add(-1) > 0 || r.closed {
		return
	}
	r.closed = true
	if r.cur != nil {
		r.cur.Release()
	}
	if r.pc != nil {
		r.rr.Close()
		r.c.release(r.ctx, r.pc, false)
		r.pc = nil
	}
	r.bld.Release()
}

// TapSchema is the Arrow schema Tap(ctx, query) produces, learnt from PostgreSQL without
// running the query (it is prepared, not executed).
func (c *Postgres) TapSchema(ctx context.Context, q string) (*arrow.Schema, error) {
	pc, err := c.acquire(ctx)
	if err != nil {
		return nil, err
	}
	q, err = c.tapQuery(ctx, pc, q)
	if err == nil {
		var fields []pgconn.FieldDescription
		var types []*pgType
		fields, types, err = describe(ctx, pc, q)
		if err == nil {
			c.release(ctx, pc, true)
			return schemaOf(fields, types), nil
		}
	}
	c.release(ctx, pc, isServerError(err))
	return nil, c.wrap(err)
}

// ShowSchema lists the columns Tap produces, with PostgreSQL's type names and nullability, from
// the catalog: the stage's query is prepared, never run; without a query, the table's columns.
func (c *Postgres) ShowSchema(ctx context.Context) ([]connectors.Field, error) {
	pc, err := c.acquire(ctx)
	if err != nil {
		return nil, err
	}
	out, err := c.showSchema(ctx, pc)
	c.release(ctx, pc, err == nil || isServerError(err))
	if err != nil {
		return nil, c.wrap(err)
	}
	return out, nil
}

func (c *Postgres) showSchema(ctx context.Context, pc *pgconn.PgConn) ([]connectors.Field, error) {
	q, err := c.tapQuery(ctx, pc, c.Query())
	if err != nil {
		return nil, err
	}
	sd, err := pc.Prepare(ctx, "", q, nil)
	if err != nil {
		return nil, err
	}
	// One catalog query for every column: its type name and, for columns that come straight
	// from a table, the column's NOT NULL.
	var oids, mods, rels, atts []string
	for _, f := range sd.Fields {
		oids = append(oids, strconv.FormatUint(uint64(f.DataTypeOID), 10))
		mods = append(mods, strconv.FormatInt(int64(f.TypeModifier), 10))
		rels = append(rels, strconv.FormatUint(uint64(f.TableOID), 10))
		atts = append(atts, strconv.FormatUint(uint64(f.TableAttributeNumber), 10))
	}
	arr := func(s []string) string { return "{" + strings.Join(s, ",") + "}" }
	rows, err := query(ctx, pc, `SELECT format_type(f.typ, f.mod),
			CASE WHEN f.rel = 0 THEN '' WHEN a.attnotnull THEN 'f' ELSE 't' END
		FROM unnest($1::oid[], $2::int4[], $3::oid[], $4::int2[]) WITH ORDINALITY AS f(typ, mod, rel, att, n)
		LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = f.rel AND a.attnum = f.att
		ORDER BY f.n`, arr(oids), arr(mods), arr(rels), arr(atts))
	if err != nil {
		return nil, err
	}
	out := make([]connectors.Field, len(sd.Fields))
	for i, f := range sd.Fields {
		out[i] = connectors.Field{Name: f.Name, Type: rows[i][0]}
		if rows[i][1] != "" {
			n := rows[i][1] == "t"
			out[i].Nullable = &n
		}
	}
	return out, nil
}
