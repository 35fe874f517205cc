package sqlfuncs_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/engine"
	"github.com/ankaflow/ankaflow/internal/testconn"
)

// TestPlanningWithoutTapSchema: a custom connection without TapSchema but with show_schema is
// planned from what show_schema reports: EXPLAIN, PREPARE (with Describe) and SQL PREPARE
// never tap it; executing taps it once, and its rows (spelled otherwise in Arrow: int32, a
// large string) are read as the columns show_schema reported.
func TestPlanningWithoutTapSchema(t *testing.T) {
	f := newFixture(t)
	c := f.conn(f.s, "Desc", "Described", map[string]any{"rows": 3}, "the query").(*testconn.Described)

	require.NoError(t, f.exec(f.s, "EXPLAIN SELECT * FROM tap('Desc')"))
	p, err := f.s.Prepare(f.ctx, "SELECT n, label FROM tap('Desc') ORDER BY n")
	require.NoError(t, err)
	defer p.Close()
	cols := p.Columns()
	require.Len(t, cols, 2)
	require.Equal(t, "n", cols[0].Name)
	require.Equal(t, engine.Type(4), cols[0].Type.ID) // DUCKDB_TYPE_INTEGER
	require.NoError(t, f.exec(f.s, "PREPARE q AS SELECT sum(n), any_value(label) FROM tap('Desc')"))
	require.Equal(t, int64(0), c.Taps.Load(), "planning must not tap")
	require.Positive(t, c.Describes.Load(), "planning asks show_schema")

	var sum int64
	var label string
	f.scalar(f.s, "EXECUTE q", &sum, &label)
	require.Equal(t, int64(3), sum)
	require.Equal(t, "the query", label)
	require.Equal(t, int64(1), c.Taps.Load(), "executing taps once")

	var typ string
	f.scalar(f.s, "SELECT typeof(n) || ' ' || typeof(label) FROM tap('Desc') LIMIT 1", &typ)
	require.Equal(t, "INTEGER VARCHAR", typ)

	// show_schema that does not match the rows: the query fails when it runs, saying so.
	bad := f.conn(f.s, "Bad", "Described", map[string]any{"n_type": "BIGINT"}, "").(*testconn.Described)
	err = f.exec(f.s, "SELECT * FROM tap('Bad')")
	require.ErrorContains(t, err, "the columns changed since the statement was planned")
	require.Equal(t, int64(1), bad.Taps.Load())
}
