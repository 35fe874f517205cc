package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// A sink knows which stage its rows come from (connectors.SinkInfo), in a pipeline and from
// SQL; the example MySQL sink names its table after it when no table is given.
func TestSinkKnowsItsSource(t *testing.T) {
	e := newE2E(t)
	p := filepath.Join(t.TempDir(), "source.yaml")
	require.NoError(t, os.WriteFile(p, []byte(paidOrdersTap+`
- name: big_orders
  kind: transform
  query: SELECT id, customer, amount FROM "Orders" WHERE amount >= 10

# No table: the sink writes the previous stage into a table named after it (big_orders).
- name: Copy previous
  kind: sink
  connection: {kind: CustomConnection, module: myapp.connectors.database, classname: MySQL, params: *mysql}

# A sink with a query writes its own object: the table is named after the sink (small_orders).
- name: small_orders
  kind: sink
  query: CREATE OR REPLACE VIEW small_orders AS SELECT id, customer, amount FROM "Orders" WHERE amount < 10
  connection: {kind: CustomConnection, module: myapp.connectors.database, classname: MySQL, params: *mysql}
`), 0o644))
	code, out, errOut := e.run(append([]string{"run", p}, e.contextFlags("-c")...)...)
	require.Equal(t, 0, code, out+errOut)
	require.Equal(t, [][]string{{"1", "ann", "10.50"}, {"2", "bob", "20.00"}},
		e.rows("SELECT id, customer, amount FROM big_orders ORDER BY id"))
	require.Equal(t, [][]string{{"3", "ann", "5.25"}, {"5", "dee", "1.00"}},
		e.rows("SELECT id, customer, amount FROM small_orders ORDER BY id"))

	// From SQL, COPY's SOURCE option names the source; without it the sink has no name to use.
	sqlArgs := append([]string{"sql", "--pipeline", p}, e.contextFlags("--context")...)
	code, out, errOut = e.run(append(sqlArgs, "-c",
		`CREATE TABLE refunds AS SELECT 4 AS id, 'cid' AS customer`,
		"-c", `COPY refunds TO 'Copy previous' (FORMAT ankaflow, SOURCE 'refunds')`)...)
	require.Equal(t, 0, code, out+errOut)
	require.Equal(t, [][]string{{"4", "cid"}}, e.rows("SELECT id, customer FROM refunds"))

	code, out, errOut = e.run(append(sqlArgs, "-c", `COPY (SELECT 1 AS id) TO 'Copy previous' (FORMAT ankaflow)`)...)
	require.Equal(t, 1, code, out+errOut)
	require.Contains(t, errOut, "sink needs a table: set params.table (or the connection's locator), or write the rows of a named stage (COPY … (FORMAT ankaflow, SOURCE 'stage'))")
}
