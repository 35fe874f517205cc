package sqlfuncs_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/internal/testconn"
)

// TestPlanningHasNoSideEffects: EXPLAIN and PREPARE (with its Describe: the result columns)
// of statements using tap() and COPY … (FORMAT ankaflow) never call the connection's Tap or
// Sink; executing them does, once.
func TestPlanningHasNoSideEffects(t *testing.T) {
	f := newFixture(t)
	c := f.conn(f.s, "Nums", "Numbers", map[string]any{"rows": 3, "label": "x"}, "")
	nums := c.(*testconn.Numbers)

	require.NoError(t, f.exec(f.s, "EXPLAIN SELECT * FROM tap('Nums')"))
	require.NoError(t, f.exec(f.s, "EXPLAIN COPY (SELECT 1 AS n) TO 'Nums' (FORMAT ankaflow)"))
	p, err := f.s.Prepare(f.ctx, "SELECT n, label FROM tap('Nums') ORDER BY n")
	require.NoError(t, err)
	defer p.Close()
	cols := p.Columns()
	require.Len(t, cols, 2)
	require.Equal(t, "n", cols[0].Name)
	require.NoError(t, f.exec(f.s, "PREPARE q AS SELECT count(*) FROM tap('Nums')"))
	require.Equal(t, int64(0), nums.Taps.Load(), "planning must not tap")
	require.Equal(t, int64(0), nums.Sinks.Load(), "planning must not sink")

	var n int64
	f.scalar(f.s, "EXECUTE q", &n)
	require.Equal(t, int64(3), n)
	require.Equal(t, int64(1), nums.Taps.Load(), "executing taps once")
	require.NoError(t, f.exec(f.s, "COPY (SELECT 1 AS n) TO 'Nums' (FORMAT ankaflow)"))
	require.Equal(t, int64(1), nums.Sinks.Load())
}
