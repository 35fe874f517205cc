package postgres_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/cmd/cli"
	"github.com/ankaflow/ankaflow/internal/testenv"
	"github.com/ankaflow/ankaflow/internal/testpg"
)

const examplePipeline = "../../examples/postgres/pipeline.yaml"

// pgEnv points libpq's variables (which the example pipeline relies on) at the test database.
func (f *fixture) pgEnv(t *testing.T) {
	t.Setenv("PGHOST", f.srv.Host)
	t.Setenv("PGPORT", strconv.Itoa(f.srv.Port))
	t.Setenv("PGUSER", f.srv.User)
	t.Setenv("PGPASSWORD", password)
	t.Setenv("PGDATABASE", f.db)
	t.Setenv("PGSSLMODE", "disable")
}

const ordersTable = `CREATE TABLE orders (id int PRIMARY KEY, customer text NOT NULL, amount numeric(10,2) NOT NULL,
	status text NOT NULL, placed_at timestamptz NOT NULL)`

// The example pipeline runs as documented, twice (the second run upserts over the first), and
// prints nothing secret.
func TestExamplePipeline(t *testing.T) {
	f := newFixture(t)
	f.pgEnv(t)
	f.exec(ordersTable, `INSERT INTO orders VALUES
		(1, 'ann', 10.50, 'paid', '2024-01-01 10:00+00'), (2, 'bob', 5.25, 'paid', '2024-01-02 10:00+00'),
		(3, 'ann', 4.50, 'paid', '2024-01-03 10:00+00'), (4, 'cid', 99, 'cancelled', '2024-01-04 10:00+00')`)
	run := func() (string, string) {
		var out, errOut bytes.Buffer
		code := cli.Run(f.ctx, []string{"run", examplePipeline}, strings.NewReader(""), &out, &errOut)
		require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
		return out.String(), errOut.String()
	}
	out, errOut := run()
	require.Contains(t, out, "customers")
	require.Equal(t, "ann 2 15.00 2024-01-03 10:00:00+00|bob 1 5.25 2024-01-02 10:00:00+00",
		f.scalar("SELECT string_agg(customer || ' ' || orders || ' ' || revenue || ' ' || last_order, '|' ORDER BY customer) FROM customer_revenue"))
	f.exec("INSERT INTO orders VALUES (5, 'bob', 1, 'paid', '2024-02-01 00:00+00'), (6, 'dan', 2, 'paid', '2024-02-02 00:00+00')")
	out2, errOut2 := run()
	require.Equal(t, "ann 2 15.00|bob 2 6.25|dan 1 2.00",
		f.scalar("SELECT string_agg(customer || ' ' || orders || ' ' || revenue, '|' ORDER BY customer) FROM customer_revenue"))
	for _, s := range []string{out, errOut, out2, errOut2} {
		require.NotContains(t, s, password)
	}
	var planOut bytes.Buffer
	require.Equal(t, 0, cli.Run(f.ctx, []string{"plan", examplePipeline}, strings.NewReader(""), &planOut, io.Discard))
	require.Contains(t, planOut.String(), "COPY (SELECT * FROM \"revenue\") TO 'pg_revenue' (FORMAT ankaflow")
}

// Over the wire: `ankaflow serve --pipeline` and psql, using the pipeline's Postgres
// connections from SQL.
func TestServeWithPsql(t *testing.T) {
	f := newFixture(t)
	f.pgEnv(t)
	psql := testpg.NeedBinary(t, "psql")
	f.exec(ordersTable, "INSERT INTO orders SELECT g, 'c' || (g % 3), g, CASE WHEN g % 2 = 0 THEN 'paid' ELSE 'open' END, '2024-01-01' FROM generate_series(1, 100) g")
	port, err := testenv.FreePort()
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var serveLog bytes.Buffer
	go func() {
		done <- cli.Run(ctx, []string{"serve", "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--auth", "trust",
			"--pipeline", examplePipeline}, strings.NewReader(""), io.Discard, &serveLog)
	}()
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
		}
		require.NotContains(t, serveLog.String(), password)
	}()
	url := fmt.Sprintf("postgres://tester@127.0.0.1:%d/ankaflow?sslmode=disable", port)
	require.Eventually(t, func() bool {
		c, err := pgx.Connect(context.Background(), url)
		if err == nil {
			c.Close(context.Background())
		}
		return err == nil
	}, 20*time.Second, 50*time.Millisecond)
	run := func(sql string) string {
		cmd := exec.Command(psql, "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", url, "-c", sql)
		cmd.Env = append(os.Environ(), "PGPASSWORD=")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s\n%s\nserve log:\n%s", sql, out, serveLog.String())
		return strings.TrimSpace(string(out))
	}
	// The tap's own query (paid orders) runs on PostgreSQL; DuckDB filters further.
	require.Equal(t, "c0|16|816", run("SELECT customer, count(*), sum(amount)::int FROM tap('pg_orders') WHERE customer = 'c0' GROUP BY customer"))
	require.Equal(t, "COPY 2", run("COPY (SELECT * FROM (VALUES ('x', 1, 2.5::DECIMAL(10,2), TIMESTAMPTZ '2024-05-01 00:00:00+00'), ('y', 2, 3.0, NULL)) v(customer, orders, revenue, last_order)) TO 'pg_revenue' (FORMAT ankaflow)"))
	require.Equal(t, "x 1 2.50|y 2 3.00", f.scalar("SELECT string_agg(customer || ' ' || orders || ' ' || revenue, '|' ORDER BY customer) FROM customer_revenue"))
	require.Equal(t, "2", run("SELECT customers FROM connection_sql('pg_report', 'SELECT count(*)::int AS customers FROM customer_revenue')"))
	require.Equal(t, "0", run("SELECT * FROM connection_sql('pg_report', 'VACUUM ANALYZE customer_revenue')"))
	require.Contains(t, run("SELECT column_name || ' ' || column_type FROM show_schema('pg_orders')"), "amount numeric(10,2)")
}
