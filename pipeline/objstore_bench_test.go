package pipeline_test

import (
	"context"
	"fmt"
	"github.com/ankaflow/ankaflow/internal/testenv"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ankaflow/ankaflow/connectors"
	"github.com/ankaflow/ankaflow/engine"
	"github.com/ankaflow/ankaflow/internal/tests3"
	"github.com/ankaflow/ankaflow/pipeline"
)

// The object-storage benchmarks compare a tap or sink on s3:// (the test S3 server as its own
// process on 127.0.0.1) with the same pipeline on local disk. peak-MB is the benchmark
// process's largest resident-set growth during one run (the tapped table itself included),
// kept-MB the growth left when the run has ended (for a tap: its table, about 400 MB for
// 10M rows of 4 eight-byte columns in DuckDB's uncompressed in-memory storage).

const s3TapPipeline = `
- name: Orders
  kind: tap
  connection: {kind: Parquet, locator: "%s"}
`

const s3SinkPipeline = `
- name: Out
  kind: sink
  query: SELECT * FROM orders_src
  connection: {kind: Parquet, locator: out/orders.parquet}
`

// benchS3 starts the server and uploads the 10M-row file as one object and as 50 objects.
func benchS3(b *testing.B) (*tests3.Server, connectors.Config, string) {
	dir := benchParquet(b)
	split := filepath.Join(dir, "split")
	if _, err := os.Stat(filepath.Join(split, "part-49.parquet")); err != nil {
		ctx := context.Background()
		db, err := engine.Open(ctx, engine.Options{})
		if err != nil {
			b.Fatal(err)
		}
		s, _ := db.NewSession(ctx)
		os.MkdirAll(split, 0o755)
		for i := range 50 {
			if _, err := s.Exec(ctx, fmt.Sprintf("COPY (SELECT * FROM read_parquet(%s) WHERE id >= %d AND id < %d) TO %s (FORMAT PARQUET)",
				engine.QuoteLiteral(filepath.Join(dir, "orders.parquet")), i*200000, (i+1)*200000,
				engine.QuoteLiteral(filepath.Join(split, fmt.Sprintf("part-%02d.parquet", i))))); err != nil {
				b.Fatal(err)
			}
		}
		s.Close()
		db.Close()
	}
	srv := tests3.Start(b, tests3.Options{Buckets: []string{"bench"}, Keys: []string{"AKBENCH:bench"}})
	put := func(local, key string) {
		data, err := os.ReadFile(local)
		if err != nil {
			b.Fatal(err)
		}
		srv.Put(b, "bench", key, data)
	}
	put(filepath.Join(dir, "orders.parquet"), "orders.parquet")
	for i := range 50 {
		name := fmt.Sprintf("part-%02d.parquet", i)
		put(filepath.Join(split, name), "split/"+name)
	}
	cfg := connectors.Config{S3: connectors.BucketConfig{Bucket: "s3://bench", EndpointURL: srv.Endpoint, URLStyle: "path",
		Region: "us-east-1", AccessKeyID: "AKBENCH", SecretAccessKey: "bench"}}
	return srv, cfg, dir
}

func runBench(b *testing.B, yaml string, cfg connectors.Config, setup string, settings map[string]string, measure bool) {
	ctx := context.Background()
	p, probs := pipeline.Parse("bench.yaml", []byte(yaml))
	if probs.HasErrors() {
		b.Fatal(probs)
	}
	// peak is the largest resident-set growth over the start of a run (after its setup),
	// sampled only while the run itself goes on (not during the next iteration's setup, which
	// for the sink builds the 10M-row source table); kept is the growth still there when the
	// run has ended, before the database is closed (for taps: the tapped table itself).
	var peak, base, kept atomic.Int64
	var running atomic.Bool
	var stop chan struct{}
	var wg sync.WaitGroup
	if measure {
		stop = make(chan struct{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				if running.Load() {
					if g := int64(testenv.RSS(0)) - base.Load(); g > peak.Load() {
						peak.Store(g)
					}
				}
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
				}
			}
		}()
	}
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		db, err := engine.Open(ctx, engine.Options{Settings: settings})
		if err != nil {
			b.Fatal(err)
		}
		if setup != "" {
			s, _ := db.NewSession(ctx)
			if _, err := s.Exec(ctx, setup); err != nil {
				b.Fatal(err)
			}
			s.Close()
		}
		base.Store(int64(testenv.RSS(0)))
		running.Store(true)
		b.StartTimer()
		if _, err := pipeline.Run(ctx, p, pipeline.Options{DB: db, Config: cfg}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		running.Store(false)
		if g := int64(testenv.RSS(0)) - base.Load(); g > kept.Load() {
			kept.Store(g)
		}
		db.Close()
		b.StartTimer()
	}
	b.ReportMetric(10e6*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	if measure {
		close(stop)
		wg.Wait()
		b.ReportMetric(float64(peak.Load())/(1<<20), "peak-MB")
		b.ReportMetric(float64(kept.Load())/(1<<20), "kept-MB")
	}
}

// tapSettings run the taps as `ankaflow run --memory-limit 256MB` would: the tapped table
// (about 400 MB) is larger than the limit, so DuckDB keeps what exceeds it in its temp
// directory, and peak-MB shows what the tap itself holds (its reads, buffers and DuckDB's
// share) rather than the size of the table. Without a limit the whole table stays in memory,
// from the S3 server as from local disk.
func tapSettings(b *testing.B) map[string]string {
	return map[string]string{"memory_limit": "256MB", "temp_directory": b.TempDir()}
}

// BenchmarkS3TapParquet10M: tap of one 10M-row, 4-column Parquet object into a DuckDB table,
// from the S3 server against from local disk.
func BenchmarkS3TapParquet10M(b *testing.B) {
	_, cfg, dir := benchS3(b)
	yaml := fmt.Sprintf(s3TapPipeline, "orders.parquet")
	b.Run("ours", func(b *testing.B) { runBench(b, yaml, cfg, "", tapSettings(b), true) })
	b.Run("reference", func(b *testing.B) {
		runBench(b, yaml, connectors.Config{Local: connectors.BucketConfig{Bucket: dir}}, "", tapSettings(b), true)
	})
}

// BenchmarkS3TapParquet10Mx50: the same rows as 50 objects (a glob).
func BenchmarkS3TapParquet10Mx50(b *testing.B) {
	_, cfg, dir := benchS3(b)
	yaml := fmt.Sprintf(s3TapPipeline, "split/part-*.parquet")
	b.Run("ours", func(b *testing.B) { runBench(b, yaml, cfg, "", tapSettings(b), true) })
	b.Run("reference", func(b *testing.B) {
		runBench(b, yaml, connectors.Config{Local: connectors.BucketConfig{Bucket: dir}}, "", tapSettings(b), true)
	})
}

// BenchmarkS3SinkParquet10M: Parquet sink of 10M rows (a table already in DuckDB) to the S3
// server against to local disk.
func BenchmarkS3SinkParquet10M(b *testing.B) {
	_, cfg, dir := benchS3(b)
	setup := "CREATE TABLE orders_src AS SELECT * FROM read_parquet(" + engine.QuoteLiteral(filepath.Join(dir, "orders.parquet")) + ")"
	out := b.TempDir()
	b.Run("ours", func(b *testing.B) { runBench(b, s3SinkPipeline, cfg, setup, nil, true) })
	b.Run("reference", func(b *testing.B) {
		runBench(b, s3SinkPipeline, connectors.Config{Local: connectors.BucketConfig{Bucket: out}}, setup, nil, true)
	})
}
