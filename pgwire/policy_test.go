package pgwire

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The gate's helpers that find the statement inside another one: what they return is what
// the gate checks, so a wrong cut would check the wrong SQL.
func TestPolicyInnerStatements(t *testing.T) {
	for _, c := range []struct {
		fn   func(string) (string, bool)
		sql  string
		want string
		ok   bool
	}{
		{explainTarget, "EXPLAIN SELECT 1", "SELECT 1", true},
		{explainTarget, "EXPLAIN ANALYZE SELECT 1", "SELECT 1", true},
		{explainTarget, "explain (format json, analyze) /* c */ SELECT (1)", "SELECT (1)", true},
		{explainTarget, "EXPLAIN", "", false},
		{viewQuery, `CREATE VIEW v AS SELECT 1`, "SELECT 1", true},
		{viewQuery, `CREATE OR REPLACE TEMP VIEW "as" (a, "AS") AS FROM t`, "FROM t", true},
		{viewQuery, `CREATE VIEW v`, "", false},
		{prepareTarget, "PREPARE p AS SELECT $1", "SELECT $1", true},
		{prepareTarget, "PREPARE p (INT, \"as\") AS INSERT INTO t VALUES ($1)", "INSERT INTO t VALUES ($1)", true},
	} {
		got, ok := c.fn(c.sql)
		require.Equal(t, c.ok, ok, c.sql)
		require.Equal(t, c.want, got, c.sql)
	}
}

// Only a COPY whose options name FORMAT ankaflow once, after TO 'target', writes to a
// connection rather than a file.
func TestCopiesToConnection(t *testing.T) {
	for sql, want := range map[string]bool{
		"COPY (SELECT 1) TO 'Out' (FORMAT ankaflow)":                  true,
		"COPY t TO 'Out' WITH (FORMAT 'ankaflow', source 'x');":       true,
		"COPY t TO 'out.csv'":                                         false,
		"COPY t TO 'out.csv' (FORMAT csv)":                            false,
		"COPY t TO 'out.csv' (FORMAT csv, COMMENT 'FORMAT ankaflow')": false,
		"COPY (SELECT 1 AS format) TO 'out.csv'":                      false,
		"COPY (SELECT * FROM t AS format(ankaflow)) TO 'out.csv'":     false,
		"COPY t TO 'out.csv' (FORMAT ankaflow, FORMAT csv)":           false,
		"COPY (SELECT 1) TO 'Out' (FORMAT ankaflow) TO 'x'":           false,
		"COPY t FROM 'in.csv' (FORMAT ankaflow)":                      false,
	} {
		require.Equal(t, want, copiesToConnection(sql), sql)
	}
}
