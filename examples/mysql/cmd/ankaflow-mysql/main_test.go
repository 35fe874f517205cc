package main

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/cmd/cli"
	"github.com/ankaflow/ankaflow/examples/mysql/mariadbtest"
)

// These tests drive this binary's command line in-process (cli.Run, what main calls) with the
// MySQL connection compiled in, against a throwaway MariaDB.

const examplePipeline = "../../pipeline.yaml"

type e2e struct {
	t   *testing.T
	srv *mariadbtest.Server
	my  *sql.DB
	ctx []string // -c/--context values for the example pipeline
}

func newE2E(t *testing.T) *e2e {
	srv := mariadbtest.Start(t, mariadbtest.Options{Database: "shop", User: "etl"})
	my, err := srv.Open("shop")
	require.NoError(t, err)
	t.Cleanup(func() { my.Close() })
	for _, q := range []string{
		`CREATE TABLE orders (id INT PRIMARY KEY, customer VARCHAR(40) NOT NULL, amount DECIMAL(10,2) NOT NULL,
			status VARCHAR(10) NOT NULL, placed_at DATETIME NOT NULL)`,
		`INSERT INTO orders VALUES
			(1, 'ann', 10.50, 'paid', '2024-03-01 10:00:00'),
			(2, 'bob', 20.00, 'paid', '2024-03-02 11:00:00'),
			(3, 'ann', 5.25, 'paid', '2024-03-05 09:30:00'),
			(4, 'cid', 99.00, 'refunded', '2024-03-06 12:00:00'),
			(5, 'dee', 1.00, 'paid', '2024-03-07 08:00:00')`,
	} {
		_, err := my.Exec(q)
		require.NoError(t, err)
	}
	// The example pipeline reads the password from the environment.
	t.Setenv("MYSQL_PASSWORD", srv.Password)
	return &e2e{t: t, srv: srv, my: my, ctx: []string{
		"mysql_host=" + srv.Host, "mysql_port=" + strconv.Itoa(srv.Port), "mysql_user=" + srv.User,
		"mysql_database=shop",
	}}
}

// paidOrdersTap is a pipeline's first stage: the paid orders tapped from MySQL, with the
// server's params anchored as &mysql for the later stages.
const paidOrdersTap = `
- name: Orders
  kind: tap
  connection:
    kind: CustomConnection
    module: myapp.connectors.database
    classname: MySQL
    params: &mysql
      host: << context.mysql_host >>
      port: << context.mysql_port >>
      user: << context.mysql_user >>
      password: << context.env.MYSQL_PASSWORD >>
      database: << context.mysql_database >>
  query: SELECT * FROM orders WHERE status = 'paid'
`

// run runs the command line and returns exit code, stdout and stderr.
func (e *e2e) run(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := cli.Run(context.Background(), args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

// contextFlags renders the context values with the given flag (-c for run, --context for sql).
func (e *e2e) contextFlags(flag string) []string {
	var out []string
	for _, kv := range e.ctx {
		out = append(out, flag, kv)
	}
	return out
}

func (e *e2e) rows(q string) [][]string {
	e.t.Helper()
	rows, err := e.my.Query(q)
	require.NoError(e.t, err, q)
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		require.NoError(e.t, rows.Scan(ptrs...))
		row := make([]string, len(cols))
		for i, v := range vals {
			row[i] = v.String
			if !v.Valid {
				row[i] = "NULL"
			}
		}
		out = append(out, row)
	}
	require.NoError(e.t, rows.Err())
	return out
}

func TestConnectionsListsMySQL(t *testing.T) {
	e := &e2e{t: t}
	code, out, _ := e.run("connections")
	require.Equal(t, 0, code)
	require.Contains(t, out, "module: myapp.connectors.database  classname: MySQL  (tap, sink, sql, show_schema)")
	require.Regexp(t, `params\.host\s+string, required`, out)
	require.Regexp(t, `params\.password\s+string, secret`, out)
	require.Regexp(t, `params\.port\s+int, default 3306`, out)
}

func TestValidateExamplePipeline(t *testing.T) {
	e := &e2e{t: t}
	code, out, errOut := e.run("validate", examplePipeline)
	require.Equal(t, 0, code, out+errOut)

	// A misspelt param and a missing host are reported with file, line and stage.
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte(`- name: Orders
  kind: tap
  connection:
    kind: CustomConnection
    module: myapp.connectors.database
    classname: MySQL
    params:
      port: 5555
      password: hunter2-secret
      tabel: orders
`), 0o644))
	code, out, errOut = e.run("validate", bad)
	all := out + errOut
	require.Equal(t, 2, code, all)
	require.Contains(t, all, `params.host: required param "host" is missing`)
	require.Contains(t, all, `unknown param "tabel" (did you mean 'table'?)`)
	require.Contains(t, all, "bad.yaml:10:")
	require.NotContains(t, all, "hunter2-secret")
}

func TestRunExamplePipeline(t *testing.T) {
	e := newE2E(t)
	args := append([]string{"run", examplePipeline}, e.contextFlags("-c")...)
	for i := 0; i < 2; i++ { // twice: the sql stage resets the report, so runs repeat cleanly
		code, out, errOut := e.run(args...)
		require.Equal(t, 0, code, out+errOut)
		require.Equal(t, [][]string{
			{"ann", "2", "15.75", "2024-03-05 09:30:00.000000"},
			{"bob", "1", "20.00", "2024-03-02 11:00:00.000000"},
			{"dee", "1", "1.00", "2024-03-07 08:00:00.000000"},
		}, e.rows("SELECT customer, orders, revenue, last_order FROM customer_revenue ORDER BY customer"))
		if i == 0 {
			t.Logf("stdout:\n%s\nstderr:\n%s", out, errOut)
			// show_schema of the Report tap prints MySQL's own column types.
			require.Contains(t, out, "decimal(")
			require.Contains(t, out, "datetime(6)")
			require.NotContains(t, out+errOut, e.srv.Password)
		}
	}
	// The tap pushed its filter down: the refunded order never reached DuckDB.
	require.Equal(t, [][]string{{"3"}}, e.rows("SELECT COUNT(*) FROM customer_revenue"))
}

func TestRunFailsWithoutLeakingThePassword(t *testing.T) {
	e := newE2E(t)
	t.Setenv("MYSQL_PASSWORD", "wrong-Pa55word")
	code, out, errOut := e.run(append([]string{"run", examplePipeline}, e.contextFlags("-c")...)...)
	require.Equal(t, 1, code, out+errOut)
	require.Contains(t, errOut, "Access denied for user 'etl'")
	require.Contains(t, errOut, "Orders")
	require.NotContains(t, out+errOut, "wrong-Pa55word")
}

func TestSQLFunctions(t *testing.T) {
	e := newE2E(t)
	sqlRun := func(stmts ...string) string {
		t.Helper()
		args := append([]string{"sql", "--pipeline", examplePipeline, "--format", "csv"}, e.contextFlags("--context")...)
		for _, s := range stmts {
			args = append(args, "-c", s)
		}
		code, out, errOut := e.run(args...)
		require.Equal(t, 0, code, out+errOut)
		return out
	}

	// tap('Name'): the tap stage's connection, with its own query pushed down to MySQL.
	out := sqlRun(`SELECT customer, sum(amount) AS total FROM tap('Orders') GROUP BY customer ORDER BY customer`)
	require.Contains(t, out, "ann,15.75")
	require.NotContains(t, out, "cid")
	// A query given in SQL replaces the stage's.
	out = sqlRun(`SELECT count(*) AS n FROM tap('Orders', 'SELECT * FROM orders')`)
	require.Contains(t, out, "5")
	// A LIMIT stops reading early; the half-read MySQL result is released and the next tap works.
	out = sqlRun(`SELECT id FROM tap('Orders', 'SELECT id FROM orders ORDER BY id') LIMIT 2`,
		`SELECT count(*) AS n FROM tap('Orders')`)
	require.Contains(t, out, "1\n2\n")
	require.Contains(t, out, "4")

	// COPY … TO 'Name' (FORMAT ankaflow): a DuckDB query sunk into MySQL.
	sqlRun(`COPY (SELECT i AS id, 'c' || i AS customer, i * 1.5 AS revenue FROM range(3) t(i)) TO 'MySqlWriter' (FORMAT ankaflow)`)
	require.Equal(t, [][]string{{"0", "c0", "0.0"}, {"1", "c1", "1.5"}, {"2", "c2", "3.0"}},
		e.rows("SELECT id, customer, revenue FROM customer_revenue ORDER BY id"))

	// show_schema('Name') and connection_sql('Name', stmt).
	out = sqlRun(`SELECT * FROM show_schema('MySqlWriter')`)
	require.Contains(t, out, "customer")
	require.Contains(t, out, "longtext")
	out = sqlRun(`SELECT * FROM connection_sql('Report check', 'SELECT COUNT(*) AS n FROM customer_revenue')`)
	require.Contains(t, out, "3")
}

// A sink stage that fails in MySQL fails the run and leaves the table exactly as it was.
func TestFailedSinkStageLeavesTheTable(t *testing.T) {
	e := newE2E(t)
	_, err := e.my.Exec(`CREATE TABLE customer_revenue (customer VARCHAR(40) PRIMARY KEY, orders INT, revenue DECIMAL(10,2), last_order DATETIME)`)
	require.NoError(t, err)
	_, err = e.my.Exec(`INSERT INTO customer_revenue VALUES ('zed', 9, 9.99, '2024-01-01 00:00:00'), ('dee', 0, 0, '2024-01-01 00:00:00')`)
	require.NoError(t, err)
	before := e.rows("SELECT * FROM customer_revenue ORDER BY customer")

	p := filepath.Join(t.TempDir(), "append.yaml")
	require.NoError(t, os.WriteFile(p, []byte(paidOrdersTap+`- name: Revenue
  kind: transform
  query: SELECT customer, count(*) AS orders, sum(amount) AS revenue, max(placed_at) AS last_order FROM "Orders" GROUP BY ALL ORDER BY customer
- name: Append
  kind: sink
  connection:
    kind: CustomConnection
    module: myapp.connectors.database
    classname: MySQL
    params: {<<: *mysql, table: customer_revenue}
`), 0o644))
	code, out, errOut := e.run(append([]string{"run", p}, e.contextFlags("-c")...)...)
	require.Equal(t, 1, code, out+errOut)
	require.Contains(t, errOut, "stage 'Append'")
	require.Contains(t, errOut, "Duplicate entry 'dee' for key 'PRIMARY'")
	require.Equal(t, before, e.rows("SELECT * FROM customer_revenue ORDER BY customer"), "ann and bob were not kept")

	// The same through COPY from SQL.
	args := append([]string{"sql", "--pipeline", p}, e.contextFlags("--context")...)
	code, out, errOut = e.run(append(args, "-c", `COPY (SELECT * FROM (VALUES ('new1', 1, 1.0, TIMESTAMP '2024-01-01'), ('zed', 1, 1.0, TIMESTAMP '2024-01-01')) t(customer, orders, revenue, last_order)) TO 'Append' (FORMAT ankaflow)`)...)
	require.Equal(t, 1, code, out+errOut)
	require.Contains(t, errOut, "Duplicate entry 'zed'")
	require.Equal(t, before, e.rows("SELECT * FROM customer_revenue ORDER BY customer"))
}
