package postgres_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/engine"
)

// The tap reads the COPY's protocol messages itself (copyConn): messages other than rows in the
// middle of the stream (notices, a parameter change), a server error after several batches of
// rows, and a tap stopped early all leave the connection usable, and the values are the ones
// PostgreSQL computes.
func TestTapProtocolMessagesMidStream(t *testing.T) {
	f := newFixture(t)
	f.exec(`CREATE FUNCTION noisy(i int) RETURNS int LANGUAGE plpgsql AS $$
		BEGIN IF i % 1000 = 0 THEN RAISE NOTICE 'row %', i; END IF; RETURN i * 2; END $$`)
	f.conn("pg", "", f.params(nil))

	// Notices between the rows, and a ParameterStatus (application_name is reported) at the end.
	const q = `SELECT noisy(g) AS v, set_config('application_name', 'tap' || g, false) AS app FROM generate_series(1, 100000) g`
	want := f.scalar(`SELECT sum(v)::text || ' ' || max(app) FROM (` + q + `) s`)
	require.Equal(t, [][]string{{want}}, f.duckRows(`SELECT sum(v)::VARCHAR || ' ' || max(app) FROM tap('pg', `+engine.QuoteLiteral(q)+`)`))

	// A server error after several batches: PostgreSQL's message and SQLSTATE, then the
	// connection still works.
	err := f.duckExec(`CREATE TABLE d AS SELECT * FROM tap('pg', 'SELECT g, 1 / (g - 300000) AS r FROM generate_series(1, 400000) g')`)
	require.ErrorContains(t, err, "division by zero (SQLSTATE 22012)")
	require.Equal(t, [][]string{{"7"}}, f.duckRows(`SELECT * FROM tap('pg', 'SELECT 7')`))

	// Stopped early (LIMIT): the rest of the COPY is abandoned, the next tap gets a good
	// connection.
	require.Equal(t, [][]string{{"3"}}, f.duckRows(`SELECT count(*) FROM (SELECT * FROM tap('pg', 'SELECT g FROM generate_series(1, 5000000) g') LIMIT 3)`))
	require.Equal(t, [][]string{{"8", "true"}}, f.duckRows(`SELECT * FROM tap('pg', `+engine.QuoteLiteral("SELECT 8, current_database() = "+engine.QuoteLiteral(f.db))+`)`))
}
