package pgwire

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/connectors"
	"github.com/ankaflow/ankaflow/connectors/postgres"
	"github.com/ankaflow/ankaflow/engine"
	"github.com/ankaflow/ankaflow/internal/testpg"
	_ "github.com/ankaflow/ankaflow/pipeline" // run_pipeline
	"github.com/ankaflow/ankaflow/sqlfuncs"
)

// Errors of the connection functions get a specific SQLSTATE, never the catch-all 42000: an
// unknown connection is 42704 with the suggestion as HINT, a missing file 58P01, and a remote
// PostgreSQL's error keeps the code PostgreSQL itself gives for the same statement. DuckDB's
// "Binder Error: " style prefixes are not part of the message.
func TestConnectionErrorCodes(t *testing.T) {
	ctx := context.Background()
	pg := testpg.Start(t, testpg.Options{})
	db, err := engine.Open(ctx, engine.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	dir := t.TempDir()
	csv := filepath.Join(dir, "orders.csv")
	require.NoError(t, os.WriteFile(csv, []byte("id,amount\n1,2.5\n"), 0o600))
	register := func(def connectors.Definition) {
		c, err := connectors.New(ctx, def, &connectors.Env{DB: db})
		require.NoError(t, err)
		t.Cleanup(func() { connectors.Close(c) })
		sqlfuncs.RegisterGlobal(db, c)
	}
	register(connectors.Definition{Stage: "Orders", Kind: "CSV", Locator: csv})
	register(connectors.Definition{Stage: "Missing", Kind: "CSV", Locator: filepath.Join(dir, "missing.csv")})
	// A sink whose directory is a file: the write fails with an I/O error other than a
	// missing file.
	register(connectors.Definition{Stage: "Blocked", Kind: "CSV", Locator: filepath.Join(csv, "out.csv")})
	register(connectors.Definition{Stage: "Remote", Kind: postgres.Kind, Locator: "public.nosuch",
		Params: map[string]any{"host": pg.Host, "port": pg.Port, "user": pg.User, "database": pg.Database, "sslmode": "disable"}})

	// PostgreSQL's own answers to the statements the Postgres connection forwards.
	direct, err := pgx.Connect(ctx, pg.URL(pg.Database))
	require.NoError(t, err)
	t.Cleanup(func() { direct.Close(context.Background()) })
	pgCode := func(sql string) string {
		_, err := direct.Exec(ctx, sql)
		var pe *pgconn.PgError
		require.True(t, errors.As(err, &pe), "PostgreSQL accepted %q: %v", sql, err)
		return pe.Code
	}

	ts := startServer(t, Config{DB: db})
	for name, mode := range execModes {
		t.Run(name, func(t *testing.T) {
			conn := ts.connect(t, mode)
			fail := func(sql string) *pgconn.PgError {
				t.Helper()
				_, err := conn.Exec(ctx, sql)
				var pe *pgconn.PgError
				require.True(t, errors.As(err, &pe), "%s: %v", sql, err)
				require.NotContains(t, pe.Message, " Error: ", sql)
				return pe
			}
			for _, sql := range []string{
				"SELECT * FROM tap('Ordres')",
				"SELECT * FROM show_schema('Ordres')",
				"SELECT * FROM connection_sql('Ordres', 'SELECT 1')",
				"COPY (SELECT 1 AS id) TO 'Ordres' (FORMAT ankaflow)",
			} {
				pe := fail(sql)
				require.Equal(t, "42704", pe.Code, sql)
				op := strings.Fields(strings.NewReplacer("(", " ", "*", " ").Replace(strings.TrimPrefix(sql, "SELECT * FROM ")))[0]
				if op == "COPY" {
					op = "sink"
				}
				require.Equal(t, op+"('Ordres'): no connection named 'Ordres'", pe.Message, sql)
				require.Equal(t, "Did you mean 'Orders'? Registered connections: 'Blocked', 'Missing', 'Orders', 'Remote'.", pe.Hint, sql)
			}

			pe := fail("SELECT * FROM tap('Missing')")
			require.Equal(t, "58P01", pe.Code, pe.Message)
			pe = fail("COPY (SELECT 1 AS id) TO 'Blocked' (FORMAT ankaflow)")
			require.Equal(t, "58030", pe.Code, pe.Message)

			sql := "SELECT * FROM public.nosuch"
			pe = fail("SELECT * FROM connection_sql('Remote', " + engine.QuoteLiteral(sql) + ")")
			require.Equal(t, pgCode(sql), pe.Code, pe.Message)
			pe = fail("SELECT * FROM tap('Remote')")
			require.Equal(t, pgCode(sql), pe.Code, pe.Message)
			sql = "SELECT 1/0 AS x"
			pe = fail("SELECT * FROM tap('Remote', " + engine.QuoteLiteral(sql) + ")")
			require.Equal(t, pgCode(sql), pe.Code, pe.Message)

			// Not a connection error: DuckDB's own errors keep their mapping.
			pe = fail("SELECT * FROM no_such_table")
			require.Equal(t, "42P01", pe.Code)
		})
	}
}

// A pipeline run over the wire that would replace a client's table fails with PostgreSQL's
// duplicate_table, as CREATE TABLE of an existing name does in PostgreSQL, and the table stays.
func TestRunPipelineConflictOverTheWire(t *testing.T) {
	ctx := context.Background()
	pg := testpg.Start(t, testpg.Options{})
	direct, err := pgx.Connect(ctx, pg.URL(pg.Database))
	require.NoError(t, err)
	t.Cleanup(func() { direct.Close(context.Background()) })
	_, err = direct.Exec(ctx, "CREATE TABLE orders (id int PRIMARY KEY)")
	require.NoError(t, err)
	_, err = direct.Exec(ctx, "CREATE TABLE orders (id int)")
	var want *pgconn.PgError
	require.True(t, errors.As(err, &want))

	p := filepath.Join(t.TempDir(), "p.yaml")
	require.NoError(t, os.WriteFile(p, []byte("- name: Orders\n  kind: internal\n  query: SELECT 2 AS id\n"), 0o644))
	ts := startServer(t, Config{})
	conn := ts.connect(t)
	_, err = conn.Exec(ctx, "CREATE TABLE orders (id INTEGER PRIMARY KEY); INSERT INTO orders VALUES (1)")
	require.NoError(t, err)
	_, err = conn.Exec(ctx, "SELECT * FROM run_pipeline("+engine.QuoteLiteral(p)+")")
	var pe *pgconn.PgError
	require.True(t, errors.As(err, &pe), "%v", err)
	require.Equal(t, want.Code, pe.Code, pe.Message)
	require.Contains(t, pe.Message, `would replace the table "main"."orders"`)
	var id int
	require.NoError(t, conn.QueryRow(ctx, "SELECT id FROM orders").Scan(&id))
	require.Equal(t, 1, id)
}
