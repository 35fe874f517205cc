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

	// With the connection name as a parameter DuckDB can describe the result only once the
	// parameter is bound. Parse, Bind, Describe portal, Execute (node-postgres, pgx's exec mode)
	// then works: the Describe starts the statement.
	conn := ts.connect(t, pgx.QueryExecModeExec)
	rows, err := conn.Query(ctx, "SELECT * FROM show_schema($1)", "Orders")
	require.NoError(t, err)
	maps, err := pgx.CollectRows(rows, pgx.RowToMap)
	require.NoError(t, err)
	require.Equal(t, map[string]any{"column_name": "amount", "column_type": "DOUBLE", "nullable": true}, maps[2])
	rows, err = conn.Query(ctx, "SELECT amount FROM tap($1) ORDER BY id", "Orders")
	require.NoError(t, err)
	amounts, err := pgx.CollectRows(rows, pgx.RowTo[float64])
	require.NoError(t, err)
	require.Equal(t, []float64{12.5, 7.25, 100}, amounts)
	_, err = conn.Exec(ctx, "CREATE TABLE copied AS SELECT * FROM tap('Orders') LIMIT 0")
	require.NoError(t, err)
	tag, err := conn.Exec(ctx, "INSERT INTO copied SELECT * FROM tap($1)", "Orders")
	require.NoError(t, err)
	require.Equal(t, "INSERT 0 3", tag.String())
	_, err = conn.Exec(ctx, "SELECT * FROM tap($1)", "Nope")
	require.ErrorContains(t, err, "Nope")
	var n int
	require.NoError(t, conn.QueryRow(ctx, "SELECT count(*) FROM copied").Scan(&n))
	require.Equal(t, 3, n)
}
