package sqlfuncs_test

import (
	"context"
	"testing"

	"github.com/ankaflow/ankaflow/connectors"
	"github.com/ankaflow/ankaflow/engine"
	"github.com/ankaflow/ankaflow/internal/testconn"
	"github.com/ankaflow/ankaflow/sqlfuncs"
)

const benchRows = 10_000_000

func benchSession(b *testing.B) (*engine.DB, *engine.Session) {
	ctx := context.Background()
	db, err := engine.Open(ctx, engine.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	s, err := db.NewSession(ctx)
	if err != nil {
		b.Fatal(err)
	}
	return db, s
}

func benchConn(b *testing.B, db *engine.DB, s *engine.Session, stage, class string, params map[string]any) connectors.Connection {
	c, err := connectors.New(context.Background(), connectors.Definition{
		Stage: stage, Kind: connectors.CustomKind, Module: testconn.Module, Classname: class, Params: params,
	}, &connectors.Env{DB: db})
	if err != nil {
		b.Fatal(err)
	}
	sqlfuncs.Register(s, c)
	return c
}

func benchExec(b *testing.B, s *engine.Session, q string) int64 {
	n, err := s.Exec(context.Background(), q)
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// BenchmarkTap10M: a connection producing 10M rows (BIGINT, DOUBLE, VARCHAR) as Arrow batches,
// materialised with CREATE TABLE … AS SELECT * FROM tap('Gen'), against DuckDB creating the same
// table from range().
func BenchmarkTap10M(b *testing.B) {
	run := func(b *testing.B, query string) {
		db, s := benchSession(b)
		benchConn(b, db, s, "Gen", "Gen", map[string]any{"rows": benchRows, "batch": 65536})
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			benchExec(b, s, "DROP TABLE IF EXISTS t")
			b.StartTimer()
			benchExec(b, s, query)
		}
		b.ReportMetric(float64(benchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		b.StopTimer()
		var n int64
		if err := s.QueryRowContext(context.Background(), "SELECT count(*) FROM t").Scan(&n); err != nil || n != benchRows {
			b.Fatalf("created %d rows (%v)", n, err)
		}
	}
	b.Run("ours", func(b *testing.B) {
		run(b, "CREATE TABLE t AS SELECT * FROM tap('Gen')")
	})
	b.Run("reference", func(b *testing.B) {
		run(b, "CREATE TABLE t AS SELECT range AS a, range * 1.5 AS b, 'str' || range AS c FROM range(10000000)")
	})
}

// BenchmarkSink10M: COPY of a 10M-row table into a Go sink that counts rows and sums a column
// (the COPY-target bridge), against the same sink reading the same rows out of DuckDB through
// its Arrow query interface. Both move every row into Go and do the same counting, so the ratio
// is what the COPY bridge costs over the plain Arrow result stream.
func BenchmarkSink10M(b *testing.B) {
	run := func(b *testing.B, once func(s *engine.Session, count *testconn.Count) int64) {
		db, s := benchSession(b)
		count := benchConn(b, db, s, "Count", "Count", nil).(*testconn.Count)
		benchExec(b, s, "CREATE TABLE t AS SELECT range AS a, range * 1.5 AS b, 'str' || range AS c FROM range(10000000)")
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if n := once(s, count); n != benchRows {
				b.Fatalf("moved %d rows", n)
			}
		}
		b.ReportMetric(float64(benchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		if c := count.Rows.Load(); c != benchRows || count.Sum.Load() != benchRows*(benchRows-1)/2 {
			b.Fatalf("sink saw %d rows, sum %d", c, count.Sum.Load())
		}
	}
	b.Run("ours", func(b *testing.B) {
		run(b, func(s *engine.Session, _ *testconn.Count) int64 {
			return benchExec(b, s, "COPY t TO 'Count' (FORMAT ankaflow)")
		})
	})
	b.Run("reference", func(b *testing.B) {
		run(b, func(s *engine.Session, count *testconn.Count) int64 {
			ctx := context.Background()
			rows, err := s.QueryArrow(ctx, "SELECT * FROM t")
			if err != nil {
				b.Fatal(err)
			}
			defer rows.Release()
			n, err := count.Sink(ctx, rows)
			if err != nil {
				b.Fatal(err)
			}
			return n
		})
	})
}
