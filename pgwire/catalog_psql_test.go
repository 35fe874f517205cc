package pgwire

import (
	"bytes"
	"context"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/internal/testpg"
)

// catalogSchema is created on both servers: two schemas, primary, unique and foreign keys, an
// index, a view and comments. Types are ones DuckDB and PostgreSQL name alike.
const catalogSchema = `CREATE SCHEMA sales;
CREATE TABLE customers (id integer PRIMARY KEY, email text NOT NULL UNIQUE, score numeric(10,2) DEFAULT 1.5);
CREATE TABLE sales.orders (id bigint PRIMARY KEY, customer_id integer, placed timestamp with time zone, note text);
CREATE TABLE sales.lines (order_id bigint REFERENCES sales.orders (id), qty integer NOT NULL);
CREATE INDEX orders_placed ON sales.orders (placed);
CREATE VIEW big_customers AS SELECT id, email FROM customers WHERE score > 10;
COMMENT ON TABLE customers IS 'who buys';
COMMENT ON COLUMN customers.email IS 'login';
`

// runPsql runs psql against host:port with the given arguments.
func runPsql(t *testing.T, port int, db string, args ...string) psqlResult {
	t.Helper()
	return runPsqlEnv(t, port, db, nil, args...)
}

// runPsqlEnv runs the real psql (skipped locally without psql, failing under CI=true) as user
// tester, with extra environment variables.
func runPsqlEnv(t *testing.T, port int, db string, env []string, args ...string) psqlResult {
	t.Helper()
	bin := testpg.NeedBinary(t, "psql")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	base := []string{"-X", "-h", "127.0.0.1", "-p", strconv.Itoa(port), "-d", db}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	cmd.Env = append(cleanPGEnv(), "PGUSER=tester", "PGCONNECT_TIMEOUT=30", "COLUMNS=200")
	cmd.Env = append(cmd.Env, env...) // later values win
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return psqlResult{stdout: out.String(), stderr: errb.String(), code: code}
}

// psql's meta-commands give the same listings as PostgreSQL 15 for the same schema.
func TestPsqlMetaCommandsMatchPostgres(t *testing.T) {
	pg := testpg.Start(t, testpg.Options{})
	ts := startServer(t, Config{})
	for _, target := range []struct {
		port int
		db   string
	}{{pg.Port, pg.Database}, {ts.port(), "ankaflow"}} {
		r := runPsql(t, target.port, target.db, "-v", "ON_ERROR_STOP=1", "-c", catalogSchema)
		require.Equal(t, 0, r.code, r.stderr)
	}
	for _, cmd := range []string{
		`\dn`, `\dt`, `\dv`, `\di`, `\ds`, `\d`, `\d customers`, `\d sales.orders`, `\d sales.lines`, `\d+ customers`, `\dt sales.*`, `\dt cust*`,
		`\dT`, `\d big_customers`, `\dp`, `\dd`,
	} {
		want := runPsql(t, pg.Port, pg.Database, "-c", cmd)
		require.Equal(t, 0, want.code, "%s on PostgreSQL: %s", cmd, want.stderr)
		got := runPsql(t, ts.port(), "ankaflow", "-c", cmd)
		if assert.Equal(t, 0, got.code, "%s: %s", cmd, got.stderr) {
			assert.Equal(t, want.stdout, got.stdout, cmd)
		}
	}
	// Errors psql reports the same way.
	for _, cmd := range []string{`\sf no_such_function`} {
		want := runPsql(t, pg.Port, pg.Database, "-c", cmd)
		got := runPsql(t, ts.port(), "ankaflow", "-c", cmd)
		assert.Equal(t, want.code, got.code, cmd)
		assert.Equal(t, want.stderr, got.stderr, cmd)
	}
}

// The listings PostgreSQL cannot give for ankaflow's own objects: one database (the one the
// client asked for), the Fn macros and connection functions with their arguments, DuckDB's
// loaded extensions, the connected role.
func TestPsqlMetaCommandsOwnListings(t *testing.T) {
	ts := startServer(t, Config{})
	r := runPsql(t, ts.port(), "ankaflow", "-v", "ON_ERROR_STOP=1", "-c", catalogSchema)
	require.Equal(t, 0, r.code, r.stderr)
	for cmd, want := range map[string]string{
		`\l`:         "\n ankaflow | tester | UTF8     |",
		`\df dt_add`: "\n public | dt_add | anyelement       | d, days             | func\n",
		`\dx json`:   "\n json |",
		`\du`:        "\n tester    | Superuser  | {}\n",
		`\dt+`:       "| heap          | 0 bytes | who buys\n",
		`\conninfo`:  `You are connected to database "ankaflow" as user "tester" on host "127.0.0.1"`,
		`\sf dt_add`: "CREATE OR REPLACE FUNCTION public.dt_add(d, days)\n RETURNS anyelement\n LANGUAGE sql\nAS $function$",
		`\sf tap`:    "CREATE OR REPLACE FUNCTION public.tap(",
	} {
		r := runPsql(t, ts.port(), "ankaflow", "-c", cmd)
		require.Equal(t, 0, r.code, "%s: %s", cmd, r.stderr)
		assert.Contains(t, r.stdout, want, cmd)
	}
}

// information_schema reports PostgreSQL's type names, public for DuckDB's main, and the
// database the client connected to, as PostgreSQL does for the same schema.
func TestInformationSchemaMatchesPostgres(t *testing.T) {
	pg := testpg.Start(t, testpg.Options{})
	ts := startServer(t, Config{})
	// The same startup database name on both servers.
	db := pg.Database
	for _, port := range []int{pg.Port, ts.port()} {
		r := runPsql(t, port, db, "-v", "ON_ERROR_STOP=1", "-c", catalogSchema)
		require.Equal(t, 0, r.code, r.stderr)
	}
	for _, query := range []string{
		`SELECT table_catalog, table_schema, table_name, column_name, ordinal_position, is_nullable, data_type, udt_catalog, udt_schema, udt_name,
		   numeric_precision, numeric_scale FROM information_schema.columns WHERE table_schema IN ('public', 'sales') ORDER BY 2, 3, 5`,
		`SELECT table_catalog, table_schema, table_name, table_type FROM information_schema.tables WHERE table_schema IN ('public', 'sales') ORDER BY 2, 3`,
		`SELECT catalog_name, schema_name FROM information_schema.schemata WHERE schema_name IN ('public', 'sales') ORDER BY 2`,
		`SELECT c.table_name, c.data_type FROM information_schema.columns AS c JOIN information_schema.tables t USING (table_schema, table_name)
		   WHERE t.table_type = 'VIEW' AND t.table_schema = 'public' ORDER BY c.ordinal_position`,
	} {
		want := runPsql(t, pg.Port, db, "-A", "-c", query)
		require.Equal(t, 0, want.code, "%s on PostgreSQL: %s", query, want.stderr)
		got := runPsql(t, ts.port(), db, "-A", "-c", query)
		if assert.Equal(t, 0, got.code, "%s: %s", query, got.stderr) {
			assert.Equal(t, want.stdout, got.stdout, query)
		}
	}
}
