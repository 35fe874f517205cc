package pgwire

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/internal/testpg"
)

// reg* values compare by OID, arrays cast to regtype[] list the types' names, unnest over a
// catalog function works in FROM (pgcli's completion refresher sends all three), and LIKE
// escapes with a backslash (psql's tab completion), as in PostgreSQL.
func TestRegCastsUnnestAndLikeMatchPostgres(t *testing.T) {
	pg := testpg.Start(t, testpg.Options{})
	ts := startServer(t, Config{})
	ctx := context.Background()
	connect := func(url string) *pgx.Conn {
		c, err := pgx.Connect(ctx, url)
		require.NoError(t, err)
		t.Cleanup(func() { c.Close(ctx) })
		_, err = c.Exec(ctx, pgcliSchema, pgx.QueryExecModeSimpleProtocol)
		require.NoError(t, err)
		return c
	}
	want := connect(pg.URL(pg.Database))
	got := connect(fmt.Sprintf("postgres://tester@%s/%s?sslmode=disable", ts.Addr(), pg.Database))
	for _, q := range []string{
		`SELECT a.attname FROM pg_catalog.pg_attribute a WHERE a.attrelid = 'customers'::regclass AND a.atttypid::regtype = 'integer'::regtype`,
		`SELECT a.attname FROM pg_catalog.pg_attribute a WHERE a.attrelid = 'customers'::regclass AND a.attnum > 0 AND 'text'::regtype <> a.atttypid::regtype ORDER BY 1`,
		`SELECT c.relname FROM pg_catalog.pg_class c WHERE c.oid::regclass = 'sales.orders'::regclass`,
		`SELECT count(*) FROM pg_catalog.pg_class c WHERE c.relname = 'customers' AND c.oid::regclass != 'customers'::regclass`,
		`SELECT array_agg(a.atttypid ORDER BY a.attnum)::regtype[]::text[] AS types FROM pg_catalog.pg_attribute a
		  WHERE a.attrelid = 'customers'::regclass AND a.attnum > 0`,
		`SELECT (array_agg(a.atttypid) FILTER (WHERE false))::regtype[]::text[] AS none FROM pg_catalog.pg_attribute a`,
		`SELECT * FROM unnest(current_schemas(true))`,
		`SELECT s FROM unnest(current_schemas(false)) s`,
		`SELECT x.y FROM unnest(current_schemas(false)) AS x(y)`,
		`SELECT 'big_c' LIKE 'big\_%' AS a, 'bigxc' LIKE 'big\_%' AS b, 'BIG_C' ILIKE 'big\_%' AS c, 'bigxc' NOT LIKE 'big\_%' AS d,
		   'BIGXC' NOT ILIKE 'big\_%' AS e, 'a\b' LIKE 'a\\b' AS f, 'a%' LIKE 'a\%' AS g, 'ab' LIKE 'a\%' AS h, 'a_' LIKE 'a#_' ESCAPE '#' AS i`,
		`SELECT c.relname FROM pg_catalog.pg_class c WHERE c.relname LIKE 'cust%' AND c.relname NOT LIKE '%\_%'`,
		`SET search_path TO sales, public`,
		`SELECT * FROM unnest(current_schemas(false))`,
	} {
		assert.Equal(t, answer(t, want, q), answer(t, got, q), q)
	}
}
