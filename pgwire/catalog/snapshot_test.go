package catalog

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// One snapshot serves every session, so the relations it holds must not depend on who reads
// them: no session variable, setting or search path (those are read by the views and macros
// over the snapshot, at query time).
func TestSnapshotReadsNothingOfTheSession(t *testing.T) {
	objs, _ := snapshotObjects()
	tables := 0
	for _, o := range objs {
		if !o.table {
			continue
		}
		tables++
		for _, s := range []string{"getvariable", "current_setting", "ankaflow_search_path", "ankaflow_current_", "current_user", "current_schema"} {
			require.NotContains(t, o.body, s, "snapshot of %s", o.name)
		}
		eachRef(o.body, func(name string) {
			for _, m := range objects() {
				if m.name == name && m.macro {
					for _, s := range []string{"getvariable", "current_setting", "search_path"} {
						require.NotContains(t, m.body, s, "snapshot of %s calls %s", o.name, name)
					}
				}
			}
		})
	}
	require.Equal(t, len(snapshotted), tables)
}

// The snapshot holds what the live views show, and is taken anew from the catalog as it is.
func TestSnapshotMatchesLiveViews(t *testing.T) {
	ctx := context.Background()
	c := openDB(t)
	require.NoError(t, Install(ctx, c))
	_, err := c.ExecContext(ctx, `CREATE TYPE mood AS ENUM ('sad', 'happy');
CREATE TABLE customers(id INTEGER PRIMARY KEY, email VARCHAR UNIQUE NOT NULL, score DECIMAL(10,2) DEFAULT 1.5, m mood);
CREATE TABLE lines(order_id INTEGER REFERENCES customers(id), qty INTEGER CHECK (qty > 0));
CREATE INDEX lines_qty ON lines((qty + 1));`)
	require.NoError(t, err)
	require.NoError(t, Refresh(ctx, c))
	for _, n := range snapshotted {
		live := rows(t, c, "SELECT CAST(COLUMNS(*) AS VARCHAR) FROM "+q(n)+" ORDER BY ALL")
		require.NotEmpty(t, live, n)
		require.Equal(t, live, rows(t, c, "SELECT CAST(COLUMNS(*) AS VARCHAR) FROM "+sq(n)+" ORDER BY ALL"), n)
	}
	_, err = c.ExecContext(ctx, "DROP TABLE lines")
	require.NoError(t, err)
	require.NotEmpty(t, rows(t, c, "SELECT relname FROM "+sq("pg_class")+" WHERE relname = 'lines'"))
	require.NoError(t, Refresh(ctx, c))
	require.Empty(t, rows(t, c, "SELECT relname FROM "+sq("pg_class")+" WHERE relname = 'lines'"))
	require.True(t, strings.HasPrefix(SnapshotQualified(q("pg_class")), snapSchema+"."))
	require.Equal(t, q("pg_roles"), SnapshotQualified(q("pg_roles")))
}
