package pgwire

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/internal/testenv"
	"github.com/ankaflow/ankaflow/internal/testpg"
)

// Benchmarks compare this server ("ours", in-process, on DuckDB) with a real PostgreSQL 15
// ("reference", a throwaway cluster) holding the same data: bench_1m and bench_10m with
// (id bigint, x double, s text, ts timestamp). Run with `go test -run '^$' -bench . ./pgwire/`.

type benchTarget struct {
	name string
	url  string
	// pid is the process serving connection c (ours: the server; reference: its backend).
	pid func(c *pgx.Conn) int
}

const (
	duckTableSQL = `CREATE TABLE %s AS SELECT range AS id, (range * 0.5)::DOUBLE AS x, 'row ' || range AS s,
		TIMESTAMP '2024-01-01' + to_seconds(range) AS ts FROM range(%d)`
	pgTableSQL = `CREATE TABLE %s AS SELECT i::bigint AS id, i * 0.5::float8 AS x, 'row ' || i AS s,
		TIMESTAMP '2024-01-01' + i * INTERVAL '1 second' AS ts FROM generate_series(0, %d - 1) AS g(i)`
)

// benchTargets starts both servers with the given tables (name → rows). Ours runs as its own
// process, `ankaflow serve` built from this checkout, exactly as users run it and as the
// reference PostgreSQL runs: the pgx clients of the benchmark then share no Go runtime (heap,
// garbage collector, scheduler) with the server they measure.
func benchTargets(b *testing.B, tables map[string]int, index bool) []benchTarget {
	b.Helper()
	ctx := context.Background()
	ours := startServeProcess(b)
	pg := testpg.Start(b, testpg.Options{Settings: map[string]string{"shared_buffers": "256MB", "autovacuum": "off"}})
	for _, target := range []struct {
		url, tmpl string
	}{{ours.url, duckTableSQL}, {pg.URL(""), pgTableSQL}} {
		c, err := pgx.Connect(ctx, target.url)
		require.NoError(b, err)
		for name, n := range tables {
			_, err := c.Exec(ctx, fmt.Sprintf(target.tmpl, name, n))
			require.NoError(b, err)
			if index {
				_, err := c.Exec(ctx, fmt.Sprintf("CREATE INDEX %s_id ON %s(id)", name, name))
				require.NoError(b, err)
			}
		}
		if target.tmpl == pgTableSQL {
			// Settle the reference before measuring: no background work competing for CPU.
			_, err = c.Exec(ctx, "VACUUM ANALYZE")
			require.NoError(b, err)
			_, err = c.Exec(ctx, "CHECKPOINT")
			require.NoError(b, err)
		}
		c.Close(ctx)
	}
	return []benchTarget{
		{name: "ours", url: ours.url, pid: func(*pgx.Conn) int { return ours.pid }},
		{name: "reference", url: pg.URL(""), pid: func(c *pgx.Conn) int {
			var pid int
			if err := c.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
				b.Fatal(err)
			}
			return pid
		}},
	}
}

type serveProcess struct {
	url string
	pid int
}

// startServeProcess builds cmd/ankaflow and runs `ankaflow serve` on a free loopback port
// (trust authentication, in-memory database) until the benchmark ends.
func startServeProcess(b *testing.B) serveProcess {
	b.Helper()
	dir := b.TempDir()
	bin := dir + "/ankaflow"
	build := exec.Command("go", "build", "-o", bin, "github.com/ankaflow/ankaflow/cmd/ankaflow")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("building ankaflow: %v\n%s", err, out)
	}
	port, err := testenv.FreePort()
	require.NoError(b, err)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	var logs syncBuffer
	cmd := exec.Command(bin, "serve", "--listen", addr, "--auth", "trust")
	cmd.Stdout, cmd.Stderr = &logs, &logs
	require.NoError(b, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	b.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if b.Failed() {
			b.Logf("ankaflow serve log:\n%s", logs.String())
		}
	})
	url := fmt.Sprintf("postgres://bench@%s/ankaflow?sslmode=disable", addr)
	for deadline := time.Now().Add(60 * time.Second); ; {
		c, err := pgx.Connect(context.Background(), url)
		if err == nil {
			c.Close(context.Background())
			break
		}
		select {
		case err := <-exited:
			b.Fatalf("ankaflow serve exited: %v\n%s", err, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			b.Fatalf("ankaflow serve did not accept connections: %v\n%s", err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return serveProcess{url: url, pid: cmd.Process.Pid}
}

// procCPU is the CPU time (user + system) pid has used so far.
func procCPU(pid int) time.Duration {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// Fields after the command name (which may contain spaces) start at state, field 3.
	rest := string(data)
	if i := strings.LastIndexByte(rest, ')'); i >= 0 {
		rest = rest[i+1:]
	}
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	const ticksPerSecond = 100 // USER_HZ, fixed at 100 on Linux
	return time.Duration(utime+stime) * time.Second / ticksPerSecond
}

// readAll reads every row of q in pgx's default mode (binary results), decoding each column.
func readAll(b testing.TB, c *pgx.Conn, q string) int64 {
	var (
		id int64
		x  float64
		s  string
		ts time.Time
		n  int64
	)
	rows, err := c.Query(context.Background(), q)
	require.NoError(b, err)
	for rows.Next() {
		if err := rows.Scan(&id, &x, &s, &ts); err != nil {
			b.Fatal(err)
		}
		n++
	}
	require.NoError(b, rows.Err())
	return n
}

func BenchmarkSelectRows(b *testing.B) {
	targets := benchTargets(b, map[string]int{"bench_1m": 1_000_000, "bench_10m": 10_000_000}, false)
	for _, size := range []struct {
		name  string
		table string
		rows  int64
	}{{"1M", "bench_1m", 1_000_000}, {"10M", "bench_10m", 10_000_000}} {
		b.Run(size.name+"-pgx-binary", func(b *testing.B) {
			for _, target := range targets {
				b.Run(target.name, func(b *testing.B) {
					ctx := context.Background()
					c, err := pgx.Connect(ctx, target.url)
					require.NoError(b, err)
					defer c.Close(ctx)
					pid := target.pid(c)
					rss := func() uint64 { return testenv.RSS(pid) }
					base := rss()
					var peak atomic.Uint64
					stop := make(chan struct{})
					var wg sync.WaitGroup
					wg.Add(1)
					go func() {
						defer wg.Done()
						for {
							if v := rss(); v > peak.Load() {
								peak.Store(v)
							}
							select {
							case <-stop:
								return
							case <-time.After(10 * time.Millisecond):
							}
						}
					}()
					b.ResetTimer()
					cpu0 := procCPU(pid)
					for i := 0; i < b.N; i++ {
						if n := readAll(b, c, "SELECT id, x, s, ts FROM "+size.table); n != size.rows {
							b.Fatalf("read %d rows, want %d", n, size.rows)
						}
					}
					cpu := procCPU(pid) - cpu0
					b.StopTimer()
					// CPU the serving process spent per row: the server's own cost, free of the
					// client's and of wall-clock noise.
					b.ReportMetric(float64(cpu.Nanoseconds())/float64(size.rows*int64(b.N)), "server-cpu-ns/row")
					close(stop)
					wg.Wait()
					b.ReportMetric(float64(size.rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
					if size.rows >= 10_000_000 {
						// Memory of the serving process during the read: the `ankaflow serve`
						// process for ours, the PostgreSQL backend for the reference.
						b.ReportMetric(float64(peak.Load())/(1<<20), "peak-MB")
						b.ReportMetric(float64(int64(peak.Load())-int64(base))/(1<<20), "peak-growth-MB")
					}
				})
			}
		})
	}
	b.Run("1M-psql-text", func(b *testing.B) {
		psql := testpg.NeedBinary(b, "psql")
		for _, target := range targets {
			b.Run(target.name, func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					cmd := exec.Command(psql, "-X", "-At", "-d", target.url, "-c", "SELECT id, x, s, ts FROM bench_1m")
					out, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
					require.NoError(b, err)
					cmd.Stdout = out
					cmd.Env = cleanPGEnv()
					var stderr strings.Builder
					cmd.Stderr = &stderr
					if err := cmd.Run(); err != nil {
						b.Fatalf("%v: %s", err, stderr.String())
					}
					out.Close()
				}
				b.ReportMetric(1e6*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			})
		}
	})
}

// BenchmarkPointQuery8Clients: 8 concurrent pgx clients run a parameterised point query (prepared
// and cached by pgx) for 10 s in all (split over b.N rounds); qps is the figure.
func BenchmarkPointQuery8Clients(b *testing.B) {
	const clients = 8
	window := 10 * time.Second
	if v := os.Getenv("ANKAFLOW_BENCH_WINDOW"); v != "" {
		if d, err := time.ParseDuration(v); err == nil {
			window = d
		}
	}
	targets := benchTargets(b, map[string]int{"points": 1_000_000}, true)
	for _, target := range targets {
		b.Run(target.name, func(b *testing.B) {
			ctx := context.Background()
			conns := make([]*pgx.Conn, clients)
			for i := range conns {
				c, err := pgx.Connect(ctx, target.url)
				require.NoError(b, err)
				defer c.Close(ctx)
				conns[i] = c
			}
			// The processes serving the clients: one for ours, a backend per client for the reference.
			pids := map[int]bool{}
			for _, c := range conns {
				pids[target.pid(c)] = true
			}
			serverCPU := func() (d time.Duration) {
				for pid := range pids {
					d += procCPU(pid)
				}
				return d
			}
			var total atomic.Int64
			b.ResetTimer()
			cpu0 := serverCPU()
			start := time.Now()
			for it := 0; it < b.N; it++ {
				deadline := time.Now().Add(window / time.Duration(b.N))
				var wg sync.WaitGroup
				for i, c := range conns {
					wg.Add(1)
					go func() {
						defer wg.Done()
						r := rand.New(rand.NewPCG(uint64(i), uint64(it)))
						var s string
						for time.Now().Before(deadline) {
							id := r.Int64N(1_000_000)
							if err := c.QueryRow(ctx, "SELECT s FROM points WHERE id = $1", id).Scan(&s); err != nil {
								b.Error(err)
								return
							}
							total.Add(1)
						}
					}()
				}
				wg.Wait()
			}
			elapsed := time.Since(start)
			cpu := serverCPU() - cpu0
			b.StopTimer()
			b.ReportMetric(float64(total.Load())/elapsed.Seconds(), "qps")
			b.ReportMetric(float64(cpu.Microseconds())/float64(total.Load()), "server-cpu-us/query")
		})
	}
}
