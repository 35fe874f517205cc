package pgwire

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

func TestSmoke(t *testing.T) {
	ts := startServer(t, Config{})
	ctx := context.Background()
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeSimpleProtocol} {
		c := ts.connect(t, mode)
		var x int32
		var s string
		require.NoError(t, c.QueryRow(ctx, "SELECT CAST($1 AS INTEGER) + 1, CAST($2 AS TEXT)", 41, "hi").Scan(&x, &s))
		require.Equal(t, int32(42), x)
		require.Equal(t, "hi", s)
	}
	t.Log(ts.logs.String())
}
