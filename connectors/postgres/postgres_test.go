package postgres_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/connectors"
	"github.com/ankaflow/ankaflow/connectors/postgres"
)

func TestTapQueryPushdownAndErrors(t *testing.T) {
	f := newFixture(t)
	f.exec("CREATE TABLE orders (id int, customer text, amount numeric(10,2))",
		"INSERT INTO orders SELECT g, 'c' || (g % 3), g * 1.5 FROM generate_series(1, 10) g")
	f.conn("orders", "orders", f.params(nil))
	// The stage's query runs on PostgreSQL (PostgreSQL syntax: ::, FILTER, string_agg).
	f.conn("agg", "", f.params(nil))
	require.Equal(t, [][]string{{"c0", "3", "27"}, {"c1", "3", "18"}, {"c2", "3", "23"}},
		f.duckRows(`SELECT * FROM tap('agg', 'SELECT customer, count(*)::int AS n, sum(amount)::int AS total FROM orders WHERE id <= 9 GROUP BY customer HAVING count(*) FILTER (WHERE id > 0) > 2 ORDER BY 1;')`))
	// A table with duplicate column names and an unmapped type (point) still taps.
	require.Equal(t, [][]string{{"1", "2", "(1,2)"}}, f.duckRows(`SELECT * FROM tap('agg', 'SELECT 1 AS a, 2 AS a, point(1,2) AS p -- comment')`))
	// PostgreSQL's own message and SQLSTATE, naming the connection.
	err := f.duckExec("SELECT * FROM tap('agg', 'SELECT nope FROM orders')")
	require.ErrorContains(t, err, `tap('agg')`)
	require.ErrorContains(t, err, `column "nope" does not exist (SQLSTATE 42703)`)
	err = f.duckExec("SELECT * FROM tap('agg', 'SELECT 1/(id-5) FROM orders')")
	require.ErrorContains(t, err, "division by zero (SQLSTATE 22012)")
	// The connection is still usable after those errors.
	require.Equal(t, [][]string{{"10"}}, f.duckRows("SELECT count(*) FROM tap('orders')"))
	// Big enough for several batches.
	require.Equal(t, [][]string{{"200000", "20000100000"}}, f.duckRows("SELECT count(*), sum(g) FROM tap('agg', 'SELECT g FROM generate_series(1, 200000) g')"))
}

func TestSQLAndShowSchema(t *testing.T) {
	f := newFixture(t)
	f.exec("CREATE TABLE orders (id int PRIMARY KEY, customer varchar(40) NOT NULL, amount numeric(10,2), placed timestamptz)")
	f.conn("db", "orders", f.params(nil))
	require.Equal(t, [][]string{{"3"}}, f.duckRows("SELECT * FROM connection_sql('db', 'INSERT INTO orders VALUES (1, ''a'', 1.5, now()), (2, ''b'', 2, now()), (3, ''c'', NULL, NULL)')"))
	require.Equal(t, [][]string{{"2", "3.50"}}, f.duckRows("SELECT n, total::VARCHAR FROM connection_sql('db', 'SELECT count(amount)::int AS n, sum(amount) AS total FROM orders')"))
	// Several statements: the last rows come back (as text), or the rows affected.
	require.Equal(t, [][]string{{"1", "b"}}, f.duckRows("SELECT * FROM connection_sql('db', 'UPDATE orders SET amount = 0 WHERE id = 1; SELECT count(*), max(customer) FROM orders WHERE amount IS NOT NULL AND amount > 1')"))
	require.Equal(t, [][]string{{"2"}}, f.duckRows("SELECT * FROM connection_sql('db', 'DELETE FROM orders WHERE id = 1; DELETE FROM orders WHERE id = 2')"))
	require.Equal(t, "3", f.scalar("SELECT string_agg(id::text, ',') FROM orders"))
	err := f.duckExec("SELECT * FROM connection_sql('db', 'SELEC 1')")
	require.ErrorContains(t, err, `syntax error at or near "SELEC" (SQLSTATE 42601)`)

	// show_schema: the table's columns from the catalog.
	require.Equal(t, [][]string{{"id", "integer", "false"}, {"customer", "character varying(40)", "false"},
		{"amount", "numeric(10,2)", "true"}, {"placed", "timestamp with time zone", "true"}},
		f.duckRows("SELECT * FROM show_schema('db')"))
	// With a query: described without running it (the query would fail if it ran).
	c, err := f.newConn("q", "", f.params(nil), "SELECT id, amount * 2 AS doubled, 1/0 AS boom FROM orders")
	require.NoError(t, err)
	fields, err := c.ShowSchema(f.ctx)
	require.NoError(t, err)
	require.Equal(t, "id integer false|doubled numeric <nil>|boom integer <nil>", describeFields(fields))
	schema, err := c.TapSchema(f.ctx, "SELECT id, amount, '1.2.3.4'::inet AS ip FROM orders")
	require.NoError(t, err)
	require.Equal(t, "id: int32, amount: decimal(10, 2), ip: utf8", schemaText(schema.Fields()))
}

func describeFields(fields []connectors.Field) string {
	var s []string
	for _, f := range fields {
		n := "<nil>"
		if f.Nullable != nil {
			n = fmt.Sprint(*f.Nullable)
		}
		s = append(s, f.Name+" "+f.Type+" "+n)
	}
	return strings.Join(s, "|")
}

// Cancelling the DuckDB statement cancels the PostgreSQL query; the connection is not reused
// broken.
func TestCancelLongTap(t *testing.T) {
	f := newFixture(t)
	f.conn("slow", "", f.params(nil))
	ctx, cancel := context.WithTimeout(f.ctx, 1500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := f.s.Exec(ctx, "SELECT count(*) FROM tap('slow', 'SELECT g, pg_sleep(0.001) FROM generate_series(1, 10000000) g')")
	require.Error(t, err)
	require.Less(t, time.Since(start), 10*time.Second)
	// PostgreSQL stopped the query: no backend is still running it.
	require.Eventually(t, func() bool {
		return f.scalar("SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(0.001)%' AND pid <> pg_backend_pid() AND state = 'active'") == "0"
	}, 5*time.Second, 50*time.Millisecond)
	// And the connection works afterwards.
	require.Equal(t, [][]string{{"3"}}, f.duckRows("SELECT * FROM tap('slow', 'SELECT 3')"))

	// A long tap cancelled while rows are streaming (COPY in progress).
	ctx2, cancel2 := context.WithTimeout(f.ctx, time.Second)
	defer cancel2()
	_, err = f.s.Exec(ctx2, "SELECT count(*) FROM tap('slow', 'SELECT g, repeat(''x'', 100) FROM generate_series(1, 1000000000) g')")
	require.Error(t, err)
	require.Eventually(t, func() bool {
		return f.scalar("SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%1000000000%' AND pid <> pg_backend_pid() AND state = 'active'") == "0"
	}, 5*time.Second, 50*time.Millisecond)
	require.Equal(t, [][]string{{"4"}}, f.duckRows("SELECT * FROM tap('slow', 'SELECT 4')"))
}

// The password appears in no output: connections(), errors of a refused login or a bad DSN,
// logs.
func TestSecretsNeverShown(t *testing.T) {
	f := newFixture(t)
	var logs bytes.Buffer
	env := &connectors.Env{DB: f.duck, Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	mk := func(stage string, params map[string]any) (connectors.Connection, error) {
		c, err := connectors.New(f.ctx, connectors.Definition{Kind: postgres.Kind, Stage: stage, Locator: "t", Params: params}, env)
		if err == nil {
			t.Cleanup(func() { connectors.Close(c) })
		}
		return c, err
	}
	var outputs []string
	c, err := mk("good", f.params(nil))
	require.NoError(t, err)
	_, err = c.SQL(f.ctx, "CREATE TABLE t AS SELECT 1 AS a")
	require.NoError(t, err)
	e := connectors.CatalogEntry(c)
	outputs = append(outputs, fmt.Sprint(e.Params))
	require.Contains(t, e.Params, `"password":"***"`)

	dsn := fmt.Sprintf("postgres://%s:%s@%s:%d/%s?sslmode=disable", f.srv.User, password, f.srv.Host, f.srv.Port, f.db)
	c, err = mk("dsn", map[string]any{"dsn": dsn})
	require.NoError(t, err)
	rows, err := c.Tap(f.ctx, "")
	require.NoError(t, err)
	rows.Release()
	outputs = append(outputs, fmt.Sprint(connectors.CatalogEntry(c).Params))

	// Refused login: names the host, not the password.
	bad, err := mk("bad", f.params(map[string]any{"password": "wrong-" + password}))
	require.NoError(t, err)
	_, err = bad.Tap(f.ctx, "")
	require.ErrorContains(t, err, "password authentication failed")
	require.ErrorContains(t, err, fmt.Sprintf("127.0.0.1:%d", f.srv.Port))
	outputs = append(outputs, err.Error())
	// A DSN that does not parse: the error does not quote it.
	_, err = mk("baddsn", map[string]any{"dsn": "postgres://u:" + password + "@host:notaport/db"})
	require.ErrorContains(t, err, "invalid connection settings")
	outputs = append(outputs, err.Error())
	_, err = mk("baddsn2", map[string]any{"dsn": "host=x password='" + password + " port=abc"})
	require.Error(t, err)
	outputs = append(outputs, err.Error())
	// Sinks log at debug level.
	r, err := f.s.QueryArrow(f.ctx, "SELECT 2 AS a")
	require.NoError(t, err)
	_, err = c.Sink(f.ctx, r)
	r.Release()
	require.NoError(t, err)
	outputs = append(outputs, logs.String())
	require.Contains(t, logs.String(), "postgres sink")

	// The password file works too: no password in the params at all.
	pgpass := filepath.Join(t.TempDir(), "pgpass")
	require.NoError(t, os.WriteFile(pgpass, []byte(fmt.Sprintf("%s:%d:*:%s:%s\n", f.srv.Host, f.srv.Port, f.srv.User, password)), 0o600))
	t.Setenv("PGPASSFILE", pgpass)
	t.Setenv("PGDATABASE", f.db)
	c, err = mk("pgpass", map[string]any{"host": f.srv.Host, "port": f.srv.Port, "user": f.srv.User, "sslmode": "disable"})
	require.NoError(t, err)
	r2, err := c.SQL(f.ctx, "SELECT current_database()")
	require.NoError(t, err)
	require.True(t, r2.Next())
	require.Equal(t, f.db, r2.RecordBatch().Column(0).ValueStr(0))
	r2.Release()

	for _, o := range outputs {
		require.NotContains(t, o, password)
	}
}

func schemaText(fields []arrowField) string {
	var s []string
	for _, f := range fields {
		s = append(s, f.Name+": "+f.Type.String())
	}
	return strings.Join(s, ", ")
}

type arrowField = arrow.Field

// TestTapValuesAcrossBuffers: tuples that straddle the socket reads (copyConn) and the
// decoder's frame buffer, and values larger than either (up to 1.3 MB), arrive intact, NULLs
// included.
func TestTapValuesAcrossBuffers(t *testing.T) {
	f := newFixture(t)
	f.exec(`CREATE TABLE wide AS SELECT g, CASE WHEN g % 3 <> 0 THEN g * 0.25 END::float8 AS x,
		CASE WHEN g % 997 = 0 THEN repeat(md5(g::text), 10000 + g * 20) END AS big,
		repeat(chr(65 + g % 26), (g * 7919) % 3000) AS s FROM generate_series(1, 30000) g`)
	f.conn("wide", "wide", f.params(nil))
	const digest = `count(*)::text || ' ' || sum(length(big))::text || ' ' || (sum(x) * 4)::bigint::text || ' ' ||
		md5(string_agg(md5(coalesce(s, '-')) || md5(coalesce(big, '-')), ',' ORDER BY g))`
	want := f.scalar("SELECT " + digest + " FROM wide")
	require.Equal(t, [][]string{{want}}, f.duckRows("SELECT "+digest+" FROM tap('wide')"))
}
