package pgwire

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/internal/testpg"
)

// psql's \gdesc (describe a query's result columns without running it: Parse, Describe, then
// format_type over the OIDs and typmods of the RowDescription) prints what PostgreSQL 15
// prints for the same tables. Known differences, left out here and listed in
// docs/postgres-compatibility.md: varchar is text, an aggregate over numeric(p,s) keeps the
// typmod, and a bare VALUES names its columns col0, col1 (PostgreSQL: column1, column2).
func TestPsqlGdescMatchesPostgres(t *testing.T) {
	pg := testpg.Start(t, testpg.Options{})
	ts := startServer(t, Config{})
	for _, port := range []int{pg.Port, ts.port()} {
		r := runPsql(t, port, "postgres", "-v", "ON_ERROR_STOP=1", "-c", pgcliSchema)
		require.Equal(t, 0, r.code, r.stderr)
	}
	script := filepath.Join(t.TempDir(), "gdesc.sql")
	require.NoError(t, os.WriteFile(script, []byte(strings.Join([]string{
		`SELECT id, email, score FROM customers \gdesc`,
		`SELECT * FROM sales.orders \gdesc`,
		`SELECT c.id AS customer, o.note, r.name FROM sales.orders o JOIN sales.regions r ON r.id = o.region_id, customers c \gdesc`,
		`SELECT 1 AS one, 'x'::text AS t, now() AS ts, 1.5::numeric(10,2) AS n, true AS b, 2.5::float8 AS f,
		   DATE '2024-01-01' AS d, 1::bigint AS big, 1::smallint AS small, TIMESTAMP '2024-01-01' AS plain \gdesc`,
		`SELECT count(*), max(email), min(id) FROM customers \gdesc`,
		`WITH t AS (SELECT id FROM customers) SELECT id, id + 1 FROM t \gdesc`,
		`SELECT 1 WHERE false \gdesc`,
		// Not run, only described: no rows, and the row is not inserted.
		`INSERT INTO customers VALUES (3, 'c@example.com', 1) \gdesc`,
		`SELECT count(*) FROM customers`,
	}, "\n")+"\n"), 0o600))
	want := runPsql(t, pg.Port, "postgres", "-f", script)
	require.Equal(t, 0, want.code, want.stderr)
	got := runPsql(t, ts.port(), "postgres", "-f", script)
	require.Equal(t, 0, got.code, got.stderr)
	assert.Equal(t, want.stderr, got.stderr)
	assert.Equal(t, want.stdout, got.stdout)
	require.Contains(t, got.stdout, " score  | numeric(10,2)\n")
}
