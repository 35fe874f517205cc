package pgwire

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// snapshotProbes are catalog queries of the kinds psql's \d and \dt send, over every relation
// the snapshot holds.
var snapshotProbes = []string{
	`SELECT n.nspname, c.relname, c.relkind, c.relnatts, c.relhasindex, c.relhastriggers, c.relchecks,
  pg_catalog.pg_table_is_visible(c.oid), c.oid::pg_catalog.regclass::text
FROM pg_catalog.pg_class c LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname <> 'pg_catalog' ORDER BY 1, 2`,
	`SELECT c.relname, a.attnum, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull,
  (SELECT pg_catalog.pg_get_expr(d.adbin, d.adrelid, true) FROM pg_catalog.pg_attrdef d
   WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum AND a.atthasdef)
FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
WHERE a.attnum > 0 AND c.relname LIKE 'snap%' ORDER BY 1, 2`,
	`SELECT conrelid::pg_catalog.regclass::text, conname, contype, pg_catalog.pg_get_constraintdef(oid, true),
  confrelid::pg_catalog.regclass::text
FROM pg_catalog.pg_constraint ORDER BY 1, 2`,
	`SELECT c.relname, c2.relname, i.indisprimary, i.indisunique, pg_catalog.pg_get_indexdef(i.indexrelid, 0, true)
FROM pg_catalog.pg_class c, pg_catalog.pg_class c2, pg_catalog.pg_index i
WHERE c.oid = i.indrelid AND i.indexrelid = c2.oid ORDER BY 1, 2`,
	`SELECT t.typname, e.enumlabel FROM pg_catalog.pg_type t JOIN pg_catalog.pg_enum e ON e.enumtypid = t.oid ORDER BY 1, 2`,
}

// catalogRows runs a catalog query in one protocol and renders its rows.
func catalogRows(t *testing.T, c *pgx.Conn, q string, mode pgx.QueryExecMode) []string {
	t.Helper()
	rows, err := c.Query(context.Background(), q, mode)
	require.NoError(t, err, q)
	defer rows.Close()
	var out []string
	for rows.Next() {
		vals, err := rows.Values()
		require.NoError(t, err)
		parts := make([]string, len(vals))
		for i, v := range vals {
			parts[i] = fmt.Sprint(v)
		}
		out = append(out, strings.Join(parts, " "))
	}
	require.NoError(t, rows.Err(), q)
	return out
}

// sameCatalog checks that every probe answers the same in the simple protocol (which reads the
// snapshot when the session may) as in the extended protocol (always the live views), and
// returns the simple protocol's relations (the first probe).
func sameCatalog(t *testing.T, c *pgx.Conn, step string) string {
	t.Helper()
	var relations string
	for i, q := range snapshotProbes {
		simple := catalogRows(t, c, q, pgx.QueryExecModeSimpleProtocol)
		live := catalogRows(t, c, q, pgx.QueryExecModeDescribeExec)
		require.Equal(t, live, simple, "%s: %s", step, q)
		if i == 0 {
			relations = strings.Join(simple, "\n")
		}
	}
	return relations
}

// The snapshot shows what the live catalog shows, after every kind of change, from the session
// that made it and from another one, inside and outside transaction blocks and with temporary
// objects; and it is what simple-protocol queries read.
func TestCatalogSnapshotFollowsChanges(t *testing.T) {
	ts := startServer(t, Config{})
	ctx := context.Background()
	a, b := ts.connect(t), ts.connect(t)
	exec := func(c *pgx.Conn, sql string) {
		t.Helper()
		_, err := c.Exec(ctx, sql, pgx.QueryExecModeSimpleProtocol)
		require.NoError(t, err, sql)
	}
	snapshotHas := func(relname string) bool {
		var n int
		require.NoError(t, a.QueryRow(ctx, "SELECT count(*) FROM ankaflow_pg.snap.pg_class WHERE relname = $1", relname).Scan(&n))
		return n > 0
	}

	rels := sameCatalog(t, a, "empty")
	require.NotContains(t, rels, "snap_customers")

	exec(b, `CREATE TABLE snap_customers (id integer PRIMARY KEY, email text NOT NULL UNIQUE, score numeric(10,2) DEFAULT 1.5)`)
	rels = sameCatalog(t, a, "created by another session")
	require.Contains(t, rels, "public snap_customers r 3 true false 0 true snap_customers")
	require.True(t, snapshotHas("snap_customers"), "simple-protocol catalog queries read the snapshot")

	exec(b, `ALTER TABLE snap_customers ADD COLUMN note varchar`)
	exec(b, `CREATE TYPE snap_mood AS ENUM ('sad', 'happy')`)
	exec(b, `CREATE TABLE snap_orders (id bigint PRIMARY KEY, customer integer REFERENCES snap_customers (id), mood snap_mood, placed timestamptz)`)
	exec(b, `CREATE INDEX snap_orders_placed ON snap_orders (placed)`)
	rels = sameCatalog(t, a, "altered, typed, indexed")
	require.Contains(t, rels, "public snap_customers r 4 true true 0 true snap_customers")
	require.Contains(t, rels, "public snap_orders_placed i 1")
	require.Contains(t, strings.Join(catalogRows(t, a, snapshotProbes[2], pgx.QueryExecModeSimpleProtocol), "\n"),
		"snap_orders snap_orders_customer_fkey f FOREIGN KEY (customer) REFERENCES snap_customers(id) snap_customers")

	// A transaction block sees its own changes; the other session does not, until COMMIT.
	exec(a, "BEGIN")
	exec(a, "CREATE TABLE snap_pending (x integer)")
	require.Contains(t, sameCatalog(t, a, "in the creating block"), "snap_pending")
	require.NotContains(t, sameCatalog(t, b, "beside the block"), "snap_pending")
	require.False(t, snapshotHas("snap_pending"))
	exec(a, "COMMIT")
	require.Contains(t, sameCatalog(t, b, "after COMMIT"), "snap_pending")

	// Temporary tables are the session's own.
	exec(a, "CREATE TEMP TABLE snap_scratch (x integer)")
	require.Contains(t, sameCatalog(t, a, "own temporary table"), "pg_temp_1 snap_scratch r")
	require.NotContains(t, sameCatalog(t, b, "another's temporary table"), "snap_scratch")
	exec(a, "DROP TABLE snap_scratch")
	require.NotContains(t, sameCatalog(t, a, "temporary table dropped"), "snap_scratch")

	exec(b, "DROP TABLE snap_pending")
	exec(b, "COMMENT ON TABLE snap_orders IS 'orders'")
	require.NotContains(t, sameCatalog(t, a, "dropped by another session"), "snap_pending")
	require.NotContains(t, sameCatalog(t, b, "dropped by this session"), "snap_pending")
	require.False(t, snapshotHas("snap_pending"))

	// A session whose temporary table is gone reads the snapshot again (and takes it anew).
	exec(b, "CREATE TABLE snap_later (x integer)")
	require.Contains(t, sameCatalog(t, a, "created after the temporary table went"), "snap_later")
	require.True(t, snapshotHas("snap_later"))
}
