package mysql_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/connectors"
)

// The guide's sink(from_name): without params.table, the sink writes into a MySQL table named
// after the stage its rows come from (connectors.SinkInfo.From).
func TestSinkTableNamedAfterTheSource(t *testing.T) {
	f := newFixture(t)
	c := f.conn("Writer", f.params(nil))
	require.Equal(t, connectors.SinkInfo{Stage: "Writer"}, c.SinkInfo(f.ctx), "no caller info: the connection's own name")

	ctx := connectors.WithSinkInfo(f.ctx, connectors.SinkInfo{Stage: "Writer", From: "paid_orders"})
	require.Equal(t, connectors.SinkInfo{Stage: "Writer", From: "paid_orders"}, c.SinkInfo(ctx))
	n, err := c.Sink(ctx, f.duckRows("SELECT i::INT AS id, 'c' || i AS customer FROM range(3) t(i)"))
	require.NoError(t, err)
	require.Equal(t, int64(3), n)
	require.Equal(t, []string{"paid_orders"}, f.tables())
	require.Equal(t, "0:c0,1:c1,2:c2", f.scalar("SELECT GROUP_CONCAT(id, ':', customer ORDER BY id) FROM paid_orders"))

	// params.table still wins.
	c = f.conn("Writer", f.params(map[string]any{"table": "explicit"}))
	_, err = c.Sink(ctx, f.duckRows("SELECT 1 AS id"))
	require.NoError(t, err)
	require.Equal(t, []string{"explicit", "paid_orders"}, f.tables())
}
