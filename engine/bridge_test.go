package engine

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"
)

// genReader produces rows (i BIGINT, s VARCHAR) in batches of batchSize, optionally failing
// after failAfter rows, and counts its releases.
type genReader struct {
	schema    *arrow.Schema
	n, pos    int64
	batchSize int64
	failAfter int64
	cur       arrow.RecordBatch
	err       error
	ctx       context.Context
	refs      atomic.Int64
	released  *atomic.Bool
}

var genSchema = arrow.NewSchema([]arrow.Field{
	{Name: "i", Type: arrow.PrimitiveTypes.Int64},
	{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
}, nil)

func newGen(ctx context.Context, n, batch int64) *genReader {
	g := &genReader{schema: genSchema, n: n, batchSize: batch, failAfter: -1, ctx: ctx, released: &atomic.Bool{}}
	g.refs.Store(1)
	return g
}

func (g *genReader) Schema() *arrow.Schema { return g.schema }
func (g *genReader) Next() bool {
	if g.cur != nil {
		g.cur.Release()
		g.cur = nil
	}
	if g.err != nil || (g.n >= 0 && g.pos >= g.n) {
		return false
	}
	if err := g.ctx.Err(); err != nil {
		g.err = err
		return false
	}
	if g.failAfter >= 0 && g.pos >= g.failAfter {
		g.err = errors.New("generator broke")
		return false
	}
	m := g.batchSize
	if g.n >= 0 {
		m = min(m, g.n-g.pos)
	}
	ib := array.NewInt64Builder(memory.DefaultAllocator)
	sb := array.NewStringBuilder(memory.DefaultAllocator)
	for k := int64(0); k < m; k++ {
		v := g.pos + k
		ib.Append(v)
		if v%10 == 3 {
			sb.AppendNull()
		} else {
			sb.Append(fmt.Sprintf("row number %d", v))
		}
	}
	ia, sa := ib.NewArray(), sb.NewArray()
	ib.Release()
	sb.Release()
	g.cur = array.NewRecordBatch(g.schema, []arrow.Array{ia, sa}, m)
	ia.Release()
	sa.Release()
	g.pos += m
	return true
}
func (g *genReader) RecordBatch() arrow.RecordBatch { return g.cur }
func (g *genReader) Record() arrow.RecordBatch      { return g.cur }
func (g *genReader) Err() error                     { return g.err }
func (g *genReader) Retain()                        { g.refs.Add(1) }
func (g *genReader) Release() {
	if g.refs.Add(-1) == 0 {
		if g.cur != nil {
			g.cur.Release()
			g.cur = nil
		}
		g.released.Store(true)
	}
}

type bridgeFixture struct {
	db  *DB
	s   *Session
	ctx context.Context

	mu      sync.Mutex
	readers []*genReader
	sunk    []arrow.RecordBatch
	options map[string]any
	target  string
	caller  *Session
}

func newBridgeFixture(t *testing.T) *bridgeFixture {
	f := &bridgeFixture{db: openTest(t), ctx: context.Background()}
	s, err := f.db.NewSession(f.ctx)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	f.s = s
	require.NoError(t, s.RegisterTableFunction(TableFunction{
		Name:     "gen",
		Args:     []ArgType{ArgBigInt, ArgBigInt},
		Optional: 1,
		Named:    map[string]ArgType{"fail_after": ArgBigInt},
		Parallel: true,
		Bind: func(ctx context.Context, caller *Session, args []any, named map[string]any) (array.RecordReader, error) {
			n := args[0].(int64)
			if n == -42 {
				return nil, errors.New("gen refuses -42")
			}
			batch := int64(5000)
			if len(args) > 1 && args[1] != nil {
				batch = args[1].(int64)
			}
			g := newGen(ctx, n, batch)
			if v, ok := named["fail_after"]; ok {
				g.failAfter = v.(int64)
			}
			f.mu.Lock()
			f.readers = append(f.readers, g)
			f.caller = caller
			f.mu.Unlock()
			return g, nil
		},
	}))
	require.NoError(t, s.RegisterCopyTarget(CopyTarget{
		Format:  "collect",
		Options: []string{"fail_after"},
		Sink: func(ctx context.Context, caller *Session, target string, options map[string]any, rows array.RecordReader) (int64, error) {
			var kept []arrow.RecordBatch
			var n int64
			failAfter := int64(-1)
			if v, ok := options["fail_after"]; ok {
				failAfter = v.(int64)
			}
			for rows.Next() {
				rec := rows.RecordBatch()
				rec.Retain()
				kept = append(kept, rec)
				n += rec.NumRows()
				if failAfter >= 0 && n > failAfter {
					for _, r := range kept {
						r.Release()
					}
					return n, errors.New("collector is full")
				}
			}
			if err := rows.Err(); err != nil {
				for _, r := range kept {
					r.Release()
				}
				return n, err
			}
			f.mu.Lock()
			f.sunk, f.options, f.target, f.caller = kept, options, target, caller
			f.mu.Unlock()
			return n, nil
		},
	}))
	return f
}

func TestTableFunctionStreams(t *testing.T) {
	f := newBridgeFixture(t)
	var n, sum, nulls int64
	var last string
	require.NoError(t, f.s.QueryRowContext(f.ctx,
		"SELECT count(*), sum(i), count(*) - count(s), max(s) FILTER (WHERE i = 99999) FROM gen(100000)").Scan(&n, &sum, &nulls, &last))
	require.Equal(t, int64(100000), n)
	require.Equal(t, int64(100000*99999/2), sum)
	require.Equal(t, int64(10000), nulls)
	require.Equal(t, "row number 99999", last)
	require.Same(t, f.s, f.caller, "Bind learns the calling session")
	require.Eventually(t, func() bool { return f.readers[0].released.Load() }, 5*time.Second, 10*time.Millisecond)

	// Batches smaller and larger than a vector, and order kept by an order-preserving sink.
	for _, batch := range []int64{1, 100, 2048, 2049, 70000} {
		_, err := f.s.Exec(f.ctx, fmt.Sprintf("CREATE OR REPLACE TABLE t AS SELECT * FROM gen(10000, %d)", batch))
		require.NoError(t, err)
		var bad int64
		require.NoError(t, f.s.QueryRowContext(f.ctx, "SELECT count(*) FROM (SELECT i, row_number() OVER () - 1 AS rn FROM t) WHERE i <> rn").Scan(&bad))
		require.Zero(t, bad, "batch size %d: insertion order is the reader's order", batch)
	}

	// Describe-only binds release their reader too.
	rows, err := f.s.QueryContext(f.ctx, "DESCRIBE SELECT * FROM gen(10)")
	require.NoError(t, err)
	rows.Close()
	for _, r := range f.readers {
		require.Eventually(t, func() bool { return r.released.Load() }, 5*time.Second, 10*time.Millisecond)
	}
}

func TestTableFunctionErrors(t *testing.T) {
	f := newBridgeFixture(t)
	_, err := f.s.Exec(f.ctx, "SELECT * FROM gen(-42)")
	require.ErrorContains(t, err, "gen refuses -42")
	_, err = f.s.Exec(f.ctx, "CREATE TABLE broken AS SELECT * FROM gen(100000, fail_after := 30000)")
	require.ErrorContains(t, err, "generator broke")
	var exists bool
	require.NoError(t, f.s.QueryRowContext(f.ctx, "SELECT count(*) > 0 FROM duckdb_tables() WHERE table_name = 'broken'").Scan(&exists))
	require.False(t, exists)
	for _, r := range f.readers {
		require.Eventually(t, func() bool { return r.released.Load() }, 5*time.Second, 10*time.Millisecond)
	}
	// The session still works.
	var one int
	require.NoError(t, f.s.QueryRowContext(f.ctx, "SELECT 1").Scan(&one))
}

func TestTableFunctionCancel(t *testing.T) {
	f := newBridgeFixture(t)
	ctx, cancel := context.WithTimeout(f.ctx, 300*time.Millisecond)
	defer cancel()
	rows, err := f.s.QueryArrow(ctx, "SELECT count(*) FROM gen(-1)")
	if err == nil {
		for rows.Next() {
		}
		err = rows.Err()
		rows.Close()
	}
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Eventually(t, func() bool { return f.readers[0].released.Load() }, 5*time.Second, 10*time.Millisecond)

	// LIMIT over an endless reader stops it.
	var n int64
	require.NoError(t, f.s.QueryRowContext(f.ctx, "SELECT count(*) FROM (SELECT * FROM gen(-1) LIMIT 10)").Scan(&n))
	require.Equal(t, int64(10), n)
	require.Eventually(t, func() bool { return f.readers[1].released.Load() }, 5*time.Second, 10*time.Millisecond)
}

func TestTableFunctionPreparedTwice(t *testing.T) {
	f := newBridgeFixture(t)
	p, err := f.s.Prepare(f.ctx, "SELECT count(*) AS n FROM gen(1000)")
	require.NoError(t, err)
	defer p.Close()
	for i := 0; i < 2; i++ {
		rows, err := p.Query(f.ctx)
		require.NoError(t, err)
		require.True(t, rows.Next())
		require.Equal(t, int64(1000), rows.RecordBatch().Column(0).(*array.Int64).Value(0), "execution %d", i)
		for rows.Next() {
		}
		require.NoError(t, rows.Close())
	}
}

func TestCopyTarget(t *testing.T) {
	f := newBridgeFixture(t)
	n, err := f.s.Exec(f.ctx, "COPY (SELECT range AS id, 'v' || range AS \"Weird Name\" FROM range(10000) ORDER BY id DESC) TO 'Some Target' (FORMAT collect, FAIL_AFTER 1000000)")
	require.NoError(t, err)
	require.Equal(t, int64(10000), n)
	require.Equal(t, "Some Target", f.target)
	require.Equal(t, map[string]any{"fail_after": int64(1000000)}, f.options)
	require.Same(t, f.s, f.caller)
	require.Equal(t, []string{"id", "Weird Name"}, fieldNames(f.sunk[0].Schema()))
	want := int64(9999)
	for _, rec := range f.sunk {
		ids := rec.Column(0).(*array.Int64)
		for i := 0; i < ids.Len(); i++ {
			require.Equal(t, want, ids.Value(i), "ORDER BY is kept")
			want--
		}
	}
	require.Equal(t, int64(-1), want)

	_, err = f.s.Exec(f.ctx, "CREATE TABLE src AS SELECT range::INTEGER AS a, range::DOUBLE / 2 AS b FROM range(5000)")
	require.NoError(t, err)
	_, err = f.s.Exec(f.ctx, "COPY src TO 'x' (FORMAT collect)")
	require.NoError(t, err)
	require.Equal(t, []string{"a", "b"}, fieldNames(f.sunk[0].Schema()))
	require.Equal(t, arrow.PrimitiveTypes.Int32, f.sunk[0].Schema().Field(0).Type)

	_, err = f.s.Exec(f.ctx, "COPY src TO 'x' (FORMAT collect, COMPRESSION 'zstd')")
	require.ErrorContains(t, err, "unknown option COMPRESSION; accepted options: FAIL_AFTER")

	_, err = f.s.Exec(f.ctx, "COPY (SELECT * FROM range(100000)) TO 'x' (FORMAT collect, FAIL_AFTER 5000)")
	require.ErrorContains(t, err, "collector is full")

	// A COPY whose query fails midway ends the rows with an error: the sink commits nothing.
	f.sunk = nil
	_, err = f.s.Exec(f.ctx, "COPY (SELECT CASE WHEN range = 50000 THEN error('boom') ELSE range END AS x FROM range(100000)) TO 'x' (FORMAT collect)")
	require.ErrorContains(t, err, "boom")
	require.Nil(t, f.sunk)

	var one int
	require.NoError(t, f.s.QueryRowContext(f.ctx, "SELECT 1").Scan(&one))
}

func TestCopyColumnNames(t *testing.T) {
	require.True(t, copyNamesLayout, "column names of COPY are read from DuckDB's bind info on this DuckDB version: re-verify the layout after upgrading DuckDB")
	f := newBridgeFixture(t)
	_, err := f.s.Exec(f.ctx, `COPY (SELECT 1 AS a, 2 AS "a much longer column name than sixteen bytes", 3 AS "ü") TO 'x' (FORMAT collect)`)
	require.NoError(t, err)
	require.Equal(t, []string{"a", "a much longer column name than sixteen bytes", "ü"}, fieldNames(f.sunk[0].Schema()))
}

func TestScanArrow(t *testing.T) {
	f := newBridgeFixture(t)
	g := newGen(f.ctx, 12345, 1000)
	from, release := f.s.ScanArrow(g)
	path := filepath.Join(t.TempDir(), "out.parquet")
	_, err := f.s.Exec(f.ctx, "COPY (SELECT * FROM "+from+") TO "+QuoteLiteral(path)+" (FORMAT PARQUET)")
	require.NoError(t, err)
	release()
	require.False(t, g.released.Load(), "the caller keeps its reference")
	g.Release()
	require.True(t, g.released.Load())
	var n, sum int64
	require.NoError(t, f.s.QueryRowContext(f.ctx, "SELECT count(*), sum(i) FROM read_parquet(?)", path).Scan(&n, &sum))
	require.Equal(t, int64(12345), n)
	require.Equal(t, int64(12345*12344/2), sum)

	_, err = f.s.Exec(f.ctx, "SELECT * FROM "+from)
	require.ErrorContains(t, err, "no such scan")

	other, err := f.db.NewSession(f.ctx)
	require.NoError(t, err)
	defer other.Close()
	from2, release2 := f.s.ScanArrow(newGen(f.ctx, 1, 1))
	defer release2()
	_, err = other.Exec(f.ctx, "SELECT * FROM "+from2)
	require.ErrorContains(t, err, "no such scan in this session")
}

func fieldNames(s *arrow.Schema) []string {
	var out []string
	for _, f := range s.Fields() {
		out = append(out, f.Name)
	}
	return out
}

func TestCopyTargetCancel(t *testing.T) {
	f := newBridgeFixture(t)
	sinkCtxErr := make(chan error, 1)
	require.NoError(t, f.s.RegisterCopyTarget(CopyTarget{
		Format: "blocker",
		Sink: func(ctx context.Context, caller *Session, target string, options map[string]any, rows array.RecordReader) (int64, error) {
			rows.Next() // take one batch, then stall like a slow remote system
			<-ctx.Done()
			sinkCtxErr <- ctx.Err()
			return 0, ctx.Err()
		},
	}))
	ctx, cancel := context.WithTimeout(f.ctx, 300*time.Millisecond)
	defer cancel()
	_, err := f.s.Exec(ctx, "COPY (SELECT * FROM range(10000000)) TO 'x' (FORMAT blocker)")
	require.Error(t, err)
	select {
	case err := <-sinkCtxErr:
		require.ErrorIs(t, err, context.DeadlineExceeded, "the sink's context is the statement's")
	case <-time.After(5 * time.Second):
		t.Fatal("the sink's context was not cancelled")
	}
	var one int
	require.NoError(t, f.s.QueryRowContext(f.ctx, "SELECT 1").Scan(&one))
}

func TestRegisterTwice(t *testing.T) {
	f := newBridgeFixture(t)
	err := f.s.RegisterTableFunction(TableFunction{Name: "gen", Bind: func(context.Context, *Session, []any, map[string]any) (array.RecordReader, error) {
		return nil, nil
	}})
	require.ErrorContains(t, err, "a table function gen already exists")
}

func TestArgValues(t *testing.T) {
	f := newBridgeFixture(t)
	var got []any
	var gotNamed map[string]any
	require.NoError(t, f.s.RegisterTableFunction(TableFunction{
		Name:  "args_probe",
		Args:  []ArgType{ArgVarchar, ArgAny, ArgDouble, ArgBoolean},
		Named: map[string]ArgType{"opt": ArgAny},
		Bind: func(ctx context.Context, caller *Session, args []any, named map[string]any) (array.RecordReader, error) {
			got, gotNamed = args, named
			return newGen(ctx, 1, 1), nil
		},
	}))
	_, err := f.s.Exec(f.ctx, "SELECT * FROM args_probe('s', [1, 2], 1.5, NULL, opt := {'a': 1, 'b': MAP {'k': 'v'}})")
	require.NoError(t, err)
	require.Equal(t, []any{"s", []any{int64(1), int64(2)}, 1.5, nil}, got)
	require.Equal(t, map[string]any{"opt": map[string]any{"a": int64(1), "b": map[string]any{"k": "v"}}}, gotNamed)
}
