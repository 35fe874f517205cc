package postgres_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/internal/testenv"
	"github.com/ankaflow/ankaflow/internal/testpg"
)

// Benchmarks of `make bench`, each against a reference measured in the same run on the same
// throwaway PostgreSQL: psql moving the same rows with binary COPY. The table has the four
// columns of the wire-server benchmark: (id bigint, x float8, s text, ts timestamp).
const (
	benchRows   = 10_000_000
	upsertRows  = 1_000_000
	pgBenchSQL  = `CREATE TABLE %s AS SELECT i::bigint AS id, i * 0.5::float8 AS x, 'row ' || i AS s, TIMESTAMP '2024-01-01' + i * INTERVAL '1 second' AS ts FROM generate_series(0, %d - 1) AS g(i)`
	duckBenchSQ = `CREATE OR REPLACE TABLE %s AS SELECT range AS id, (range * 0.5)::DOUBLE AS x, 'row ' || range AS s, TIMESTAMP '2024-01-01' + to_seconds(range) AS ts FROM range(%d, %d)`
)

// psql runs psql on the fixture's database (password from the environment, like users do).
func (f *fixture) psql(b testing.TB, args ...string) {
	b.Helper()
	bin := testpg.NeedBinary(b, "psql")
	cmd := exec.Command(bin, append([]string{"-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", f.srv.Host, "-p", strconv.Itoa(f.srv.Port), "-U", f.srv.User, "-d", f.db}, args...)...)
	cmd.Env = append(os.Environ(), "PGPASSWORD="+password)
	var stderr strings.Builder
	cmd.Stderr = &stderr // stdout: /dev/null
	require.NoError(b, cmd.Run(), stderr.String())
}

// peakRSS samples this process's RSS until stop is called and returns the peak growth.
func peakRSS() (stop func() uint64) {
	base := testenv.RSS(0)
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			if v := testenv.RSS(0); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	return func() uint64 {
		close(done)
		wg.Wait()
		if peak.Load() < base {
			return 0
		}
		return peak.Load() - base
	}
}

// cpuSeconds is the CPU time (user + system) used so far by this process, or by its children
// that have been waited for (psql).
func cpuSeconds(who int) float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// minorFaults is the number of page faults this process took so far that needed no I/O.
func minorFaults() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Minflt
}

// reportClientCPU reports the CPU the client side used per op (the server's is the same COPY
// on both sides): less noisy than the time on a busy machine, where it decides the time.
func reportClientCPU(b *testing.B, seconds float64) {
	b.ReportMetric(seconds/float64(b.N), "client-cpu-s/op")
}

func reportRows(b *testing.B, rows int) {
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkPostgresTap: a 10M-row table tapped into a DuckDB table, against psql receiving
// the same table with binary COPY into /dev/null. Streaming: the same tap consumed by an
// aggregate (no table kept), with the peak RSS growth of the process while it runs.
func BenchmarkPostgresTap(b *testing.B) {
	f := newFixture(b)
	f.exec(fmt.Sprintf(pgBenchSQL, "t", benchRows), "VACUUM ANALYZE t", "CHECKPOINT")
	f.conn("pg_t", "t", f.params(nil))
	b.Run("ours", func(b *testing.B) {
		cpu := cpuSeconds(syscall.RUSAGE_SELF)
		faults := minorFaults()
		for i := 0; i < b.N; i++ {
			require.NoError(b, f.duckExec("CREATE OR REPLACE TABLE d AS SELECT * FROM tap('pg_t')"))
		}
		b.StopTimer()
		// Page faults while DuckDB fills the table, one per fresh page: about 3k a tap on huge
		// pages (engine/hugepages_linux.go), 85k-110k on 4 KiB pages, where they were a third of
		// the tap's CPU on a virtual machine (docs/pipelines.md, Postgres).
		b.ReportMetric(float64(minorFaults()-faults)/float64(b.N), "minflt/op")
		reportClientCPU(b, cpuSeconds(syscall.RUSAGE_SELF)-cpu)
		require.Equal(b, [][]string{{strconv.Itoa(benchRows)}}, f.duckRows("SELECT count(*) FROM d"))
		require.NoError(b, f.duckExec("DROP TABLE d"))
		reportRows(b, benchRows)
	})
	b.Run("reference", func(b *testing.B) {
		cpu := cpuSeconds(syscall.RUSAGE_CHILDREN)
		for i := 0; i < b.N; i++ {
			f.psql(b, "-c", "COPY t TO STDOUT (FORMAT binary)")
		}
		reportClientCPU(b, cpuSeconds(syscall.RUSAGE_CHILDREN)-cpu)
		reportRows(b, benchRows)
	})
	b.Run("Streaming/ours", func(b *testing.B) {
		var growth uint64
		for i := 0; i < b.N; i++ {
			stop := peakRSS()
			rows := f.duckRows("SELECT count(*), sum(id) FROM tap('pg_t')")
			growth = max(growth, stop())
			require.Equal(b, strconv.Itoa(benchRows), rows[0][0])
		}
		reportRows(b, benchRows)
		b.ReportMetric(float64(growth)/(1<<20), "peak-growth-MB")
	})
	b.Run("Streaming/reference", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			f.psql(b, "-c", "COPY t TO STDOUT (FORMAT binary)")
		}
		reportRows(b, benchRows)
	})
}

// BenchmarkPostgresSink: 10M rows of a DuckDB table sunk into a new PostgreSQL table, against
// psql's \copy of the same rows from a binary COPY file into an empty table.
func BenchmarkPostgresSink(b *testing.B) {
	f := newFixture(b)
	require.NoError(b, f.duckExec(fmt.Sprintf(duckBenchSQ, "src", 0, benchRows)))
	f.conn("pg_out", "out", f.params(nil))
	file := filepath.Join(b.TempDir(), "rows.bin")
	f.exec(fmt.Sprintf(pgBenchSQL, "gen", benchRows))
	f.psql(b, "-c", `\copy gen TO '`+file+`' (FORMAT binary)`)
	f.exec("DROP TABLE gen", "CHECKPOINT")
	b.Run("ours", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			f.exec("DROP TABLE IF EXISTS out", "CHECKPOINT")
			b.StartTimer()
			require.NoError(b, f.duckExec("COPY (SELECT * FROM src) TO 'pg_out' (FORMAT ankaflow)"))
		}
		b.StopTimer()
		require.Equal(b, strconv.Itoa(benchRows), f.scalar("SELECT count(*) FROM out"))
		reportRows(b, benchRows)
	})
	b.Run("reference", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			f.exec("DROP TABLE IF EXISTS out2", "CREATE TABLE out2 (id bigint, x float8, s text, ts timestamp)", "CHECKPOINT")
			b.StartTimer()
			f.psql(b, "-c", `\copy out2 FROM '`+file+`' (FORMAT binary)`)
		}
		b.StopTimer()
		require.Equal(b, strconv.Itoa(benchRows), f.scalar("SELECT count(*) FROM out2"))
		reportRows(b, benchRows)
	})
}

// BenchmarkPostgresUpsert: 1M rows (half new keys, half existing) upserted into a 10M-row table
// with a primary key, against the same staging table + INSERT … ON CONFLICT done by hand in
// psql from a binary COPY file. Each side has its own identical table and goes through the
// same sequence of loads.
func BenchmarkPostgresUpsert(b *testing.B) {
	f := newFixture(b)
	for _, t := range []string{"up_ours", "up_ref"} {
		f.exec(fmt.Sprintf(pgBenchSQL, t, benchRows), "ALTER TABLE "+t+" ADD PRIMARY KEY (id)")
	}
	f.exec("VACUUM ANALYZE", "CHECKPOINT")
	lo, hi := benchRows-upsertRows/2, benchRows+upsertRows/2
	require.NoError(b, f.duckExec(fmt.Sprintf(duckBenchSQ, "upd", lo, hi)))
	f.conn("pg_up", "up_ours", f.params(map[string]any{"mode": "upsert", "key": []any{"id"}}))
	file := filepath.Join(b.TempDir(), "upd.bin")
	f.exec(fmt.Sprintf(`CREATE TABLE gen AS SELECT i::bigint AS id, i * 0.5::float8 AS x, 'row ' || i AS s, TIMESTAMP '2024-01-01' + i * INTERVAL '1 second' AS ts FROM generate_series(%d, %d - 1) AS g(i)`, lo, hi))
	f.psql(b, "-c", `\copy gen TO '`+file+`' (FORMAT binary)`)
	f.exec("DROP TABLE gen")
	script := filepath.Join(b.TempDir(), "upsert.sql")
	require.NoError(b, os.WriteFile(script, []byte(`CREATE TEMP TABLE stage (id bigint, x float8, s text, ts timestamp) ON COMMIT DROP;
\copy stage FROM '`+file+`' (FORMAT binary)
INSERT INTO up_ref SELECT * FROM stage ON CONFLICT (id) DO UPDATE SET x = EXCLUDED.x, s = EXCLUDED.s, ts = EXCLUDED.ts;
`), 0o600))
	b.Run("ours", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			require.NoError(b, f.duckExec("COPY (SELECT * FROM upd) TO 'pg_up' (FORMAT ankaflow)"))
		}
		b.StopTimer()
		require.Equal(b, strconv.Itoa(hi), f.scalar("SELECT count(*) FROM up_ours"))
		reportRows(b, upsertRows)
	})
	b.Run("reference", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			f.psql(b, "-1", "-f", script)
		}
		b.StopTimer()
		require.Equal(b, strconv.Itoa(hi), f.scalar("SELECT count(*) FROM up_ref"))
		reportRows(b, upsertRows)
	})
}
