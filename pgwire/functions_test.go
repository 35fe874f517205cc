package pgwire

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/connectors"
	"github.com/ankaflow/ankaflow/engine"
	"github.com/ankaflow/ankaflow/sqlfuncs"
)

// The connection functions other packages install into the engine work over the wire:
// tap('Name') and show_schema('Name') are ordinary table functions to the server.
func TestConnectionFunctionsOverTheWire(t *testing.T) {
	ctx := context.Background()
	db, err := engine.Open(ctx, engine.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	csv := filepath.Join(t.TempDir(), "orders.csv")
	require.NoError(t, os.WriteFile(csv, []byte("id,customer,amount\n1,ada,12.5\n2,bob,7.25\n3,cy,100\n"), 0o600))
	c, err := connectors.New(ctx, connectors.Definition{Stage: "Orders", Kind: "CSV", Locator: csv}, &connectors.Env{DB: db})
	require.NoError(t, err)
	sqlfuncs.RegisterGlobal(db, c)

	ts := startServer(t, Config{DB: db})
	for name, mode := range execModes {
		t.Run(name, func(t *testing.T) {
			conn := ts.connect(t, mode)
			var n int
			var total float64
			require.NoError(t, conn.QueryRow(ctx, "SELECT count(*), sum(amount) FROM tap('Orders')").Scan(&n, &total))
			require.Equal(t, 3, n)
			require.Equal(t, 119.75, total)

			rows, err := conn.Query(ctx, "SELECT * FROM show_schema('Orders')")
			require.NoError(t, err)
			maps, err := pgx.CollectRows(rows, pgx.RowToMap)
			require.NoError(t, err)
			require.Len(t, maps, 3)

			var customer string
			require.NoError(t, conn.QueryRow(ctx, "SELECT customer FROM tap('Orders') WHERE id = $1", 2).Scan(&customer))
			require.Equal(t, "bob", customer)

			_, err = conn.Exec(ctx, "SELECT * FROM tap('Nope')")
			require.Error(t, err)
		})
	}
}
