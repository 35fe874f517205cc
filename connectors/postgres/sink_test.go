package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/internal/testconn"
)

const itemsTable = `CREATE TABLE items (id int PRIMARY KEY CHECK (id > 0), name text NOT NULL, qty int DEFAULT 7)`

// rows returns the (id, name, qty) rows of items as text, ordered by id.
func (f *fixture) items() string {
	return f.scalar("SELECT coalesce(string_agg(id || '=' || name || '/' || coalesce(qty::text, 'NULL'), ' ' ORDER BY id), '') FROM items")
}

func TestSinkModes(t *testing.T) {
	f := newFixture(t)
	sink := func(stage string, params map[string]any, q string) error {
		f.conn(stage, "items", f.params(params))
		return f.duckExec("COPY (" + q + ") TO '" + stage + "' (FORMAT ankaflow)")
	}
	f.exec(itemsTable, "INSERT INTO items VALUES (1, 'a', 1), (2, 'b', 2)")

	// append (default): columns matched by name, missing ones take their default.
	require.NoError(t, sink("append", nil, "SELECT 'c' AS name, 3 AS id"))
	require.Equal(t, "1=a/1 2=b/2 3=c/7", f.items())

	// upsert: existing keys updated, new ones inserted; a key repeated in the rows keeps the
	// last of its rows.
	require.NoError(t, sink("upsert", map[string]any{"mode": "upsert", "key": []any{"id"}},
		"SELECT id, name, qty FROM (VALUES (2, 'B', 20, 1), (4, 'd', 40, 2), (4, 'D', 41, 3), (2, 'BB', 21, 4)) v(id, name, qty, o) ORDER BY o"))
	require.Equal(t, "1=a/1 2=BB/21 3=c/7 4=D/41", f.items())
	require.NoError(t, sink("upsert2", map[string]any{"mode": "upsert", "key": "id"}, "SELECT 1 AS id, 'A' AS name"))
	require.Equal(t, "1=A/1 2=BB/21 3=c/7 4=D/41", f.items(), "columns not in the rows keep their values")

	// replace: the table's rows become the new rows.
	require.NoError(t, sink("replace", map[string]any{"mode": "replace"}, "SELECT 9 AS id, 'z' AS name, 9 AS qty"))
	require.Equal(t, "9=z/9", f.items())
	require.NoError(t, sink("overwrite", map[string]any{"data_mode": "overwrite"}, "SELECT 8 AS id, 'y' AS name, 8 AS qty"))
	require.Equal(t, "8=y/8", f.items())

	// truncate.
	require.NoError(t, sink("truncate", map[string]any{"mode": "truncate"}, "SELECT 5 AS id, 'e' AS name, 5 AS qty"))
	require.Equal(t, "5=e/5", f.items())

	// data_mode error: refused when the table has rows, fine when empty.
	err := sink("error", map[string]any{"data_mode": "error"}, "SELECT 6 AS id, 'f' AS name")
	require.ErrorContains(t, err, "has rows and data_mode is error")
	require.Equal(t, "5=e/5", f.items())
	f.exec("DELETE FROM items")
	require.NoError(t, sink("error2", map[string]any{"data_mode": "error"}, "SELECT 6 AS id, 'f' AS name"))
	require.Equal(t, "6=f/7", f.items())

	// Many repeated keys over many batches: the last row of each key wins.
	f.exec("CREATE TABLE many (k int PRIMARY KEY, v int)", "INSERT INTO many VALUES (1, -1), (5000, -1)")
	f.conn("many", "many", f.params(map[string]any{"mode": "upsert", "key": []any{"k"}}))
	require.NoError(t, f.duckExec("COPY (SELECT (i % 1000)::INT AS k, i::INT AS v FROM range(100000) t(i) ORDER BY i) TO 'many' (FORMAT ankaflow)"))
	require.Equal(t, "1001 true", f.scalar("SELECT count(*) || ' ' || bool_and(v = k + 99000 OR (k = 5000 AND v = -1)) FROM many"))
}

func TestSinkUpsertNeedsUniqueKey(t *testing.T) {
	f := newFixture(t)
	f.exec("CREATE TABLE kv (k int, v text)", "INSERT INTO kv VALUES (1, 'one')")
	f.conn("up", "kv", f.params(map[string]any{"mode": "upsert", "key": []any{"k"}}))
	err := f.duckExec("COPY (SELECT 1 AS k, 'uno' AS v) TO 'up' (FORMAT ankaflow)")
	require.ErrorContains(t, err, "upsert needs a primary key or unique index on exactly (k) of table \"kv\"")
	require.Equal(t, "1:one", f.scalar("SELECT count(*) || ':' || string_agg(v, ',') FROM kv"))

	// A unique index on other columns does not count; one on exactly the key does.
	f.exec("CREATE UNIQUE INDEX kv_kv ON kv (k, v)")
	require.Error(t, f.duckExec("COPY (SELECT 1 AS k, 'uno' AS v) TO 'up' (FORMAT ankaflow)"))
	f.exec("CREATE UNIQUE INDEX kv_k ON kv (k)")
	require.NoError(t, f.duckExec("COPY (SELECT 1 AS k, 'uno' AS v) TO 'up' (FORMAT ankaflow)"))
	require.Equal(t, "1:uno", f.scalar("SELECT count(*) || ':' || string_agg(v, ',') FROM kv"))

	// A missing table is created with the key as its primary key.
	f.conn("up_new", "kv_new", f.params(map[string]any{"mode": "upsert", "key": []any{"k"}}))
	require.NoError(t, f.duckExec("COPY (SELECT * FROM (VALUES (1, 'a'), (1, 'b')) v(k, v)) TO 'up_new' (FORMAT ankaflow)"))
	require.Equal(t, "1:b", f.scalar("SELECT count(*) || ':' || string_agg(v, ',') FROM kv_new"))
	require.Equal(t, "kv_new_pkey", f.scalar("SELECT conname FROM pg_constraint WHERE conrelid = 'kv_new'::regclass AND contype = 'p'"))
}

func TestSinkCreate(t *testing.T) {
	f := newFixture(t)
	f.conn("nocreate", "nope", f.params(map[string]any{"create": false}))
	err := f.duckExec("COPY (SELECT 1 AS a) TO 'nocreate' (FORMAT ankaflow)")
	require.ErrorContains(t, err, `table "nope" does not exist (create: false)`)
	require.Equal(t, "NULL", f.scalar("SELECT to_regclass('nope')"))

	f.exec("CREATE SCHEMA s2")
	f.conn("create", `s2."Mixed Case"`, f.params(nil))
	require.NoError(t, f.duckExec(`COPY (SELECT 1 AS "Id", 'x' AS "Name") TO 'create' (FORMAT ankaflow)`))
	require.Equal(t, "1 x", f.scalar(`SELECT "Id" || ' ' || "Name" FROM s2."Mixed Case"`))
}

// A sink that fails on its last rows leaves the table exactly as it was, in every mode; a new
// table is not created at all.
func TestSinkFailureLeavesTableUnchanged(t *testing.T) {
	f := newFixture(t)
	f.exec(itemsTable, "INSERT INTO items SELECT g, 'item ' || g, g FROM generate_series(1, 1000) g")
	before := f.checksum("items")
	// 50,000 good rows, then one that violates the CHECK constraint.
	bad := "SELECT * FROM (SELECT i::INT + 1000 AS id, 'new ' || i AS name, i::INT AS qty, i AS o FROM range(1, 50001) t(i) UNION ALL SELECT -1, 'bad', 0, 99999999) ORDER BY o"
	for _, mode := range []string{"append", "replace", "truncate", "upsert"} {
		params := map[string]any{"mode": mode}
		if mode == "upsert" {
			params["key"] = []any{"id"}
		}
		f.conn("fail_"+mode, "items", f.params(params))
		err := f.duckExec("COPY (SELECT id, name, qty FROM (" + bad + ")) TO 'fail_" + mode + "' (FORMAT ankaflow)")
		require.ErrorContains(t, err, "items_id_check", mode)
		require.ErrorContains(t, err, "SQLSTATE 23514", mode)
		require.Equal(t, before, f.checksum("items"), mode)
	}
	// A failure upstream (the rows' own query) after many rows.
	c := f.conn("fail_upstream", "items", f.params(map[string]any{"mode": "replace"}))
	r, err := f.s.QueryArrow(f.ctx, "SELECT i::INT + 1000 AS id, 'x' AS name FROM range(1, 200001) t(i)")
	require.NoError(t, err)
	_, err = c.Sink(f.ctx, &testconn.FailingReader{RecordReader: r, After: 20})
	r.Release()
	require.ErrorContains(t, err, "upstream failed after 20 batches")
	require.Equal(t, before, f.checksum("items"))

	// A new table is created only when its load succeeds.
	f.conn("fail_new", "brand_new", f.params(nil))
	require.Error(t, f.duckExec("COPY (SELECT CASE WHEN i = 5000 THEN error('boom') ELSE i END AS i FROM range(10000) t(i)) TO 'fail_new' (FORMAT ankaflow)"))
	require.Equal(t, "NULL", f.scalar("SELECT to_regclass('brand_new')"))
}

// Readers polling the table while a replace runs always see the whole old or the whole new
// table, never an empty or partial one.
func TestSinkReplaceConcurrentReader(t *testing.T) {
	f := newFixture(t)
	f.exec(itemsTable, "INSERT INTO items SELECT g, 'old', 1 FROM generate_series(1, 20000) g")
	f.conn("replace", "items", f.params(map[string]any{"mode": "replace"}))

	reader, err := pgx.Connect(f.ctx, f.srv.URL(f.db))
	require.NoError(t, err)
	defer reader.Close(context.Background())
	var stop atomic.Bool
	var seen sync.Map
	var reads atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !stop.Load() {
			var n int64
			var name string
			if err := reader.QueryRow(f.ctx, "SELECT count(*), min(name) FROM items").Scan(&n, &name); err != nil {
				seen.Store("error: "+err.Error(), true)
				return
			}
			seen.Store(fmt.Sprintf("%d %s", n, name), true)
			reads.Add(1)
		}
	}()
	time.Sleep(50 * time.Millisecond)
	for i := 0; i < 3; i++ {
		require.NoError(t, f.duckExec(fmt.Sprintf("COPY (SELECT i::INT AS id, 'new%d' AS name, 2 AS qty FROM range(1, 30001) t(i)) TO 'replace' (FORMAT ankaflow)", i)))
	}
	time.Sleep(50 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	var states []string
	seen.Range(func(k, _ any) bool { states = append(states, k.(string)); return true })
	require.Greater(t, reads.Load(), int64(3))
	for _, s := range states {
		require.Contains(t, []string{"20000 old", "30000 new0", "30000 new1", "30000 new2"}, s)
	}
	require.Equal(t, "30000", f.scalar("SELECT count(*) FROM items WHERE name = 'new2'"))
}
