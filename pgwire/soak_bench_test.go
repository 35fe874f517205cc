package pgwire

import (
	"context"
	"errors"
	"fmt"
	"github.com/ankaflow/ankaflow/internal/testenv"
	"math/rand"
	"net"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// BenchmarkSoak drives one `ankaflow serve` process with 32 clients for 60 s (ANKAFLOW_SOAK
// changes the duration), each mixing small and large selects, inserts that commit, inserts
// that roll back, cancelled statements and disconnects in the middle of a result. It fails if
// the rows present differ from the rows whose COMMIT succeeded, and reports errors by
// SQLSTATE and the server's RSS at start, peak and end. It runs once per `make bench`
// (not in `make test`): b.N only repeats the report.
func BenchmarkSoak(b *testing.B) {
	soakOnce.Do(func() { soakResult = runSoak(b) })
	r := soakResult
	if r == nil {
		b.Fatal("soak did not run")
	}
	b.ReportMetric(float64(r.committed), "committed-rows")
	b.ReportMetric(float64(r.present), "present-rows")
	b.ReportMetric(float64(r.statements), "statements")
	b.ReportMetric(float64(r.rssStart)/(1<<20), "rss-start-MB")
	b.ReportMetric(float64(r.rssPeak)/(1<<20), "rss-peak-MB")
	b.ReportMetric(float64(r.rssEnd)/(1<<20), "rss-end-MB")
	b.Logf("soak: %d clients × %s: %d statements, errors by SQLSTATE %v, committed %d rows, present %d",
		soakClients, r.duration, r.statements, r.errors, r.committed, r.present)
	if r.committed != r.present {
		b.Fatalf("rows committed (%d) and present (%d) differ", r.committed, r.present)
	}
	for code := range r.errors {
		switch code {
		case "57014", "client-timeout", "client-gone": // our own cancels and disconnects
		default:
			b.Fatalf("unexpected errors: %v", r.errors)
		}
	}
}

const soakClients = 32

var (
	soakOnce   sync.Once
	soakResult *soakReport
)

type soakReport struct {
	duration                  time.Duration
	statements                int64
	committed, present        int64
	errors                    map[string]int
	rssStart, rssPeak, rssEnd uint64
}

func runSoak(b *testing.B) *soakReport {
	d := 60 * time.Second
	if v := os.Getenv("ANKAFLOW_SOAK"); v != "" {
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			b.Fatalf("ANKAFLOW_SOAK: %v", err)
		}
	}
	srv := startServeProcess(b)
	ctx := context.Background()
	setup, err := pgx.Connect(ctx, srv.url)
	if err != nil {
		b.Fatal(err)
	}
	defer setup.Close(ctx)
	for _, q := range []string{
		"CREATE TABLE soak_big AS SELECT range AS id, range * 0.5 AS x, 'row ' || range AS s FROM range(2000000)",
		"CREATE TABLE soak_rows (client INTEGER, n BIGINT, note VARCHAR)",
	} {
		if _, err := setup.Exec(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	r := &soakReport{duration: d, errors: map[string]int{}, rssStart: testenv.RSS(srv.pid)}
	var mu sync.Mutex
	fail := func(err error) {
		msg := err.Error()
		code := "other: " + msg[:min(len(msg), 80)]
		var pe *pgconn.PgError
		switch {
		case errors.As(err, &pe):
			code = pe.Code
		case errors.Is(err, context.DeadlineExceeded):
			code = "client-timeout" // our own cancels: pgx sends CancelRequest, then gives up
		case errors.Is(err, net.ErrClosed), strings.Contains(err.Error(), "conn closed"):
			code = "client-gone"
		}
		mu.Lock()
		r.errors[code]++
		mu.Unlock()
	}
	var committed, statements atomic.Int64
	stop := time.Now().Add(d)
	done := make(chan struct{})
	go func() { // RSS sampler
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if rss := testenv.RSS(srv.pid); rss > r.rssPeak {
					mu.Lock()
					r.rssPeak = rss
					mu.Unlock()
				}
			}
		}
	}()
	var wg sync.WaitGroup
	for client := 0; client < soakClients; client++ {
		wg.Add(1)
		go func(client int) {
			defer wg.Done()
			rng := rand.New(rand.NewSource(int64(client)))
			var c *pgx.Conn
			for time.Now().Before(stop) {
				if c == nil {
					var err error
					if c, err = pgx.Connect(ctx, srv.url); err != nil {
						fail(err)
						time.Sleep(10 * time.Millisecond)
						continue
					}
				}
				statements.Add(1)
				switch op := rng.Intn(100); {
				case op < 40: // small select
					var n int64
					if err := c.QueryRow(ctx, "SELECT count(*) FROM soak_big WHERE id < $1", rng.Intn(1000)).Scan(&n); err != nil {
						fail(err)
					}
				case op < 50: // large select, read to the end
					rows, err := c.Query(ctx, "SELECT id, x, s FROM soak_big WHERE id < 200000")
					if err != nil {
						fail(err)
						continue
					}
					for rows.Next() {
					}
					if err := rows.Err(); err != nil {
						fail(err)
					}
				case op < 75: // insert, committed
					n := int64(1 + rng.Intn(20))
					tx, err := c.Begin(ctx)
					if err != nil {
						fail(err)
						continue
					}
					if _, err := tx.Exec(ctx, "INSERT INTO soak_rows SELECT $1::INTEGER, range, 'c' FROM range($2::BIGINT)", fmt.Sprint(client), fmt.Sprint(n)); err != nil {
						fail(err)
						tx.Rollback(ctx)
						continue
					}
					if err := tx.Commit(ctx); err != nil {
						fail(err)
						continue
					}
					committed.Add(n)
				case op < 85: // insert, rolled back
					tx, err := c.Begin(ctx)
					if err != nil {
						fail(err)
						continue
					}
					if _, err := tx.Exec(ctx, "INSERT INTO soak_rows SELECT $1::INTEGER, range, 'r' FROM range(10)", fmt.Sprint(client)); err != nil {
						fail(err)
					}
					if err := tx.Rollback(ctx); err != nil {
						fail(err)
					}
				case op < 93: // cancelled statement
					qctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
					var n int64
					err := c.QueryRow(qctx, "SELECT count(*) FROM soak_big a, soak_big b WHERE a.id + b.id = -1").Scan(&n)
					cancel()
					if err != nil {
						fail(err)
					}
					if c.IsClosed() {
						c = nil
					}
				default: // disconnect in the middle of a large result
					rows, err := c.Query(ctx, "SELECT id, x, s FROM soak_big")
					if err == nil {
						for i := 0; i < 1000 && rows.Next(); i++ {
						}
					}
					c.PgConn().Conn().Close()
					c = nil
				}
			}
			if c != nil {
				c.Close(ctx)
			}
		}(client)
	}
	wg.Wait()
	close(done)
	r.statements = statements.Load()
	r.committed = committed.Load()
	if err := setup.QueryRow(ctx, "SELECT count(*) FROM soak_rows").Scan(&r.present); err != nil {
		b.Fatal(err)
	}
	time.Sleep(time.Second)
	r.rssEnd = testenv.RSS(srv.pid)
	keys := make([]string, 0, len(r.errors))
	for k := range r.errors {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b.Logf("soak errors: %s", fmt.Sprint(keys))
	return r
}
