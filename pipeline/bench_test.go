package pipeline_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/ankaflow/ankaflow/connectors"
	"github.com/ankaflow/ankaflow/engine"
	"github.com/ankaflow/ankaflow/engine/sqlast"
	"github.com/ankaflow/ankaflow/pipeline"
	_ "github.com/ankaflow/ankaflow/sqlfuncs"
)

var benchData struct {
	once sync.Once
	dir  string
	err  error
}

// benchParquet writes the 10-million-row, 4-column input once per benchmark process.
func benchParquet(b *testing.B) string {
	benchData.once.Do(func() {
		benchData.dir, benchData.err = os.MkdirTemp("", "ankaflow-bench-")
		if benchData.err != nil {
			return
		}
		db, err := sql.Open("duckdb", "")
		if err != nil {
			benchData.err = err
			return
		}
		defer db.Close()
		_, benchData.err = db.Exec(fmt.Sprintf(`COPY (
			SELECT range AS id, range %% 1000 AS customer, (range * 7919 %% 100000) / 100.0 AS amount,
			       TIMESTAMP '2024-01-01' + to_seconds(range %% 31536000) AS ts
			FROM range(10000000)) TO '%s' (FORMAT PARQUET)`, filepath.Join(benchData.dir, "orders.parquet")))
	})
	if benchData.err != nil {
		b.Fatal(benchData.err)
	}
	return benchData.dir
}

const benchPipeline = `
- name: Orders
  kind: tap
  connection:
    kind: Parquet
    locator: orders.parquet
- name: Big customers
  kind: transform
  query: >
    SELECT customer, count(*) AS orders, sum(amount) AS total, max(ts) AS last_order
    FROM "Orders" WHERE amount > 10 GROUP BY customer
- name: Report
  kind: sink
  connection:
    kind: Parquet
    locator: out/report.parquet
`

// BenchmarkPipeline10M compares `ankaflow run` of tap → transform (filter + aggregate) →
// Parquet sink over a 10M-row Parquet file with the same SQL statements run directly through
// duckdb-go. The ratio is the orchestration's cost.
func BenchmarkPipeline10M(b *testing.B) {
	dir := benchParquet(b)
	ctx := context.Background()
	p, probs := pipeline.Parse("bench.yaml", []byte(benchPipeline))
	if probs.HasErrors() {
		b.Fatal(probs)
	}
	cfg := connectors.Config{Local: connectors.BucketConfig{Bucket: dir}}

	// The reference runs exactly the statements the plan contains.
	var plan strings.Builder
	{
		db, err := engine.Open(ctx, engine.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if err := pipeline.Plan(ctx, p, pipeline.Options{DB: db, Config: cfg}, &plan); err != nil {
			b.Fatal(err)
		}
		db.Close()
	}
	var stmts []string
	for _, s := range sqlast.Pieces(plan.String()) {
		stmts = append(stmts, s.Text)
	}
	if len(stmts) != 3 {
		b.Fatalf("expected 3 statements in the plan, got %d:\n%s", len(stmts), plan.String())
	}
	os.MkdirAll(filepath.Join(dir, "out"), 0o755)

	b.Run("ours", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			db, err := engine.Open(ctx, engine.Options{})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := pipeline.Run(ctx, p, pipeline.Options{DB: db, Config: cfg}); err != nil {
				b.Fatal(err)
			}
			db.Close()
		}
		b.ReportMetric(10e6*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
	b.Run("reference", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			db, err := sql.Open("duckdb", "")
			if err != nil {
				b.Fatal(err)
			}
			conn, err := db.Conn(ctx)
			if err != nil {
				b.Fatal(err)
			}
			for _, s := range stmts {
				if _, err := conn.ExecContext(ctx, s); err != nil {
					b.Fatal(err)
				}
			}
			conn.Close()
			db.Close()
		}
		b.ReportMetric(10e6*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
}

// TestMain removes the benchmarks' 300 MB input when the test binary ends.
func TestMain(m *testing.M) {
	code := m.Run()
	if benchData.dir != "" {
		os.RemoveAll(benchData.dir)
	}
	os.Exit(code)
}
