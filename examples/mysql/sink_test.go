package mysql_test

import (
	"context"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/stretchr/testify/require"
)

// A DuckDB query with most of DuckDB's everyday types, 10,000 rows, every 7th value NULL.
const duckSource = `SELECT
	i::INTEGER AS id,
	(i % 100)::TINYINT AS small,
	i * 1000000007 AS big,
	(i % 200)::UTINYINT AS ubyte,
	i::UBIGINT * 1000000 AS ubig,
	(i / 7)::DOUBLE AS ratio,
	(i / 4)::FLOAT AS quarter,
	(i * 1.25)::DECIMAL(12,2) AS price,
	CASE WHEN i % 7 = 0 THEN NULL ELSE 'name ' || i || ' ✓' END AS name,
	i % 2 = 0 AS even,
	DATE '2024-01-01' + (i % 365)::INTEGER AS day,
	TIMESTAMP '2024-01-01 00:00:00' + to_microseconds(i * 1000003) AS happened,
	TIMESTAMPTZ '2024-06-01 12:00:00+00' + to_seconds(i) AS happened_tz,
	TIME '01:02:03' + to_seconds(i % 1000) AS clock,
	encode('blob' || i) AS raw,
	[i, i + 1] AS pair,
	{'k': i, 'v': 'x'} AS obj
FROM range(10000) t(i)`

func TestSinkDuckDBQueryIntoNewTable(t *testing.T) {
	f := newFixture(t)
	c := f.conn("Out", f.params(map[string]any{"table": "out"}))
	n, err := c.Sink(f.ctx, f.duckRows(duckSource))
	require.NoError(t, err)
	require.Equal(t, int64(10000), n)
	require.Equal(t, []string{"out"}, f.tables(), "no staging table left behind")

	// The created columns follow the Arrow types.
	fields, err := c.ShowSchema(f.ctx)
	require.NoError(t, err)
	var types []string
	for _, fl := range fields {
		types = append(types, fl.Name+" "+fl.Type)
	}
	require.Equal(t, []string{
		"id int(11)", "small tinyint(4)", "big bigint(20)", "ubyte tinyint(3) unsigned", "ubig bigint(20) unsigned",
		"ratio double", "quarter float", "price decimal(12,2)", "name longtext", "even tinyint(1)", "day date",
		"happened datetime(6)", "happened_tz datetime(6)", "clock time(6)", "raw longblob", "pair longtext", "obj longtext",
	}, types)

	// Every value arrived: compare MySQL's rendering with DuckDB's, row by row.
	r, err := c.Tap(f.ctx, `SELECT id, small, big, ubyte, ubig, ratio, quarter, price, name, even, day,
		DATE_FORMAT(happened, '%Y-%m-%d %H:%i:%s.%f'), DATE_FORMAT(happened_tz, '%Y-%m-%d %H:%i:%s'), clock, raw, pair, obj
		FROM `+"`out`"+` ORDER BY id`)
	require.NoError(t, err)
	got, _ := readAll(t, r)
	want, _ := readAll(t, f.duckRows(`SELECT id, small, big, ubyte, ubig, ratio, quarter, price, name,
		CASE WHEN even THEN 1 ELSE 0 END, day, strftime(happened, '%Y-%m-%d %H:%M:%S.%f'), strftime(happened_tz AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S'),
		clock, raw, pair, obj FROM (`+duckSource+`) ORDER BY id`))
	require.Len(t, got, 10000)
	for i := range want {
		w, g := want[i], got[i]
		require.Equal(t, w[:9], g[:9], "row %d", i)
		require.Equal(t, w[9], g[9], "row %d even", i)
		require.Equal(t, w[10], g[10], "row %d day", i)
		require.Equal(t, w[11], g[11], "row %d at", i)
		require.Equal(t, w[12], g[12], "row %d at_tz", i)
		require.Equal(t, w[14], g[14], "row %d raw", i)
	}
	// TIME comes back as a duration; lists and structs as JSON text.
	require.Equal(t, "3723000000us", got[0][13])
	require.Equal(t, `[0,1]`, got[0][15])
	require.Equal(t, `{"k":0,"v":"x"}`, got[0][16])
	require.Equal(t, "NULL", got[7][8])
	require.Equal(t, "name 8 ✓", got[8][8])
}

func TestSinkAppendsToExistingTable(t *testing.T) {
	f := newFixture(t)
	f.exec("CREATE TABLE events (id INT PRIMARY KEY, kind VARCHAR(10) NOT NULL DEFAULT 'x', note TEXT)",
		"INSERT INTO events VALUES (-1, 'old', 'kept')")
	c := f.conn("Events", f.params(map[string]any{"table": "events"}))
	n, err := c.Sink(f.ctx, f.duckRows("SELECT i::INT AS id, 'n' || i AS note FROM range(3000) t(i)"))
	require.NoError(t, err)
	require.Equal(t, int64(3000), n)
	require.Equal(t, "3001", f.scalar("SELECT COUNT(*) FROM events"))
	require.Equal(t, "x", f.scalar("SELECT kind FROM events WHERE id = 2999"), "columns not in the rows keep their defaults")
	require.Equal(t, "kept", f.scalar("SELECT note FROM events WHERE id = -1"))
}

// checksum identifies a table's content.
func (f *fixture) checksum(table string) string {
	return f.scalar("SELECT CONCAT(COUNT(*), ':', COALESCE(SUM(CRC32(CONCAT_WS('|', id, note))), 0)) FROM " + table)
}

func TestFailedSinkLeavesExistingTableAsItWas(t *testing.T) {
	f := newFixture(t)
	f.exec("CREATE TABLE events (id INT PRIMARY KEY, note VARCHAR(20) NOT NULL)",
		"INSERT INTO events SELECT seq, CONCAT('before ', seq) FROM seq_1_to_100")
	before := f.checksum("events")
	c := f.conn("Events", f.params(map[string]any{"table": "events"}))

	// The last of ~10 INSERT batches violates the primary key (id 50 exists).
	_, err := c.Sink(f.ctx, f.duckRows("SELECT (CASE WHEN i = 19999 THEN 50 ELSE 1000 + i END)::INT AS id, 'new' AS note FROM range(20000) t(i)"))
	require.ErrorContains(t, err, "Duplicate entry '50'")
	require.ErrorContains(t, err, "rows 18433-20000", "the error says which rows failed")
	require.Equal(t, before, f.checksum("events"))

	// A NULL into a NOT NULL column, late in the stream.
	_, err = c.Sink(f.ctx, f.duckRows("SELECT 1000 + i AS id, CASE WHEN i = 9000 THEN NULL ELSE 'n' END AS note FROM range(10000) t(i)"))
	require.ErrorContains(t, err, "cannot be null")
	require.Equal(t, before, f.checksum("events"))

	// A value too long for its column fails (strict mode) instead of being truncated.
	_, err = c.Sink(f.ctx, f.duckRows("SELECT 5000 AS id, repeat('x', 21) AS note"))
	require.ErrorContains(t, err, "Data too long")
	require.Equal(t, before, f.checksum("events"))

	// The upstream stream fails after some batches.
	src := f.duckRows("SELECT 1000 + i AS id, 'n' AS note FROM range(10000) t(i)")
	_, err = c.Sink(f.ctx, &failingReader{RecordReader: src, after: 3})
	require.ErrorContains(t, err, "upstream failed after 3 batches")
	require.Equal(t, before, f.checksum("events"))

	// Cancellation half-way.
	ctx, cancel := context.WithCancel(f.ctx)
	src = f.duckRows("SELECT 1000 + i AS id, 'n' AS note FROM range(10000) t(i)")
	_, err = c.Sink(ctx, &cancellingReader{RecordReader: src, after: 3, cancel: cancel})
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, before, f.checksum("events"))

	// The connection still works, and a good sink goes through.
	n, err := c.Sink(f.ctx, f.duckRows("SELECT 1000 + i AS id, 'n' AS note FROM range(10) t(i)"))
	require.NoError(t, err)
	require.Equal(t, int64(10), n)
	require.Equal(t, "110", f.scalar("SELECT COUNT(*) FROM events"))
}

func TestFailedSinkLeavesNoNewTable(t *testing.T) {
	f := newFixture(t)
	f.exec("CREATE TABLE other (x INT)")
	c := f.conn("Out", f.params(map[string]any{"table": "fresh"}))

	src := f.duckRows("SELECT i AS id, 'n' AS note FROM range(10000) t(i)")
	_, err := c.Sink(f.ctx, &failingReader{RecordReader: src, after: 3})
	require.ErrorContains(t, err, "upstream failed")
	require.Equal(t, []string{"other"}, f.tables())

	ctx, cancel := context.WithCancel(f.ctx)
	src = f.duckRows("SELECT i AS id, 'n' AS note FROM range(10000) t(i)")
	_, err = c.Sink(ctx, &cancellingReader{RecordReader: src, after: 2, cancel: cancel})
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, []string{"other"}, f.tables())

	// A value MySQL rejects in the last row (DuckDB's dates go past year 9999, MySQL's do not).
	_, err = c.Sink(f.ctx, f.duckRows("SELECT i AS id, CASE WHEN i = 9999 THEN DATE '10000-01-01' ELSE DATE '2024-01-01' END AS d FROM range(10000) t(i)"))
	require.ErrorContains(t, err, "Incorrect date value: '10000-01-01'")
	require.Equal(t, []string{"other"}, f.tables())

	// A type MySQL has no column for fails before anything is created.
	_, err = c.Sink(f.ctx, f.duckRows("SELECT i AS id, INTERVAL 1 HOUR AS d FROM range(10) t(i)"))
	require.ErrorContains(t, err, "column `d`: Arrow type month_day_nano_interval has no MySQL column type; cast it in the query")
	require.Equal(t, []string{"other"}, f.tables())

	// A sink that creates the table while another one appears under the same name.
	_, err = c.Sink(f.ctx, &hookReader{RecordReader: f.duckRows("SELECT 1 AS id"), before: func() {
		f.exec("CREATE TABLE fresh (y INT)")
	}})
	require.ErrorContains(t, err, "created by someone else")
	require.Equal(t, []string{"fresh", "other"}, f.tables())
	require.Equal(t, "0", f.scalar("SELECT COUNT(*) FROM fresh"))
}

func TestSinkRefusesNonTransactionalTables(t *testing.T) {
	f := newFixture(t)
	f.exec("CREATE TABLE m (id INT) ENGINE=MyISAM")
	c := f.conn("M", f.params(map[string]any{"table": "m"}))
	_, err := c.Sink(f.ctx, f.duckRows("SELECT 1 AS id"))
	require.ErrorContains(t, err, "MyISAM storage engine, which cannot roll back")
	require.Equal(t, "0", f.scalar("SELECT COUNT(*) FROM m"))
}

func TestSinkStaysUnderMaxAllowedPacket(t *testing.T) {
	f := newFixture(t)
	// 64 KiB packets: one INSERT of 2,048 rows of 1 KiB strings would be 2 MiB.
	_, err := f.srv.Admin().ExecContext(f.ctx, "SET GLOBAL max_allowed_packet = 65536")
	require.NoError(t, err)
	t.Cleanup(func() { f.srv.Admin().ExecContext(context.Background(), "SET GLOBAL max_allowed_packet = 16777216") })
	c := f.conn("Out", f.params(map[string]any{"table": "packets"}))
	n, err := c.Sink(f.ctx, f.duckRows("SELECT i AS id, repeat(chr(65 + (i % 26)::INT), 1024) AS s FROM range(5000) t(i)"))
	require.NoError(t, err)
	require.Equal(t, int64(5000), n)
	require.Equal(t, "5000:5120000", f.scalar("SELECT CONCAT(COUNT(*), ':', SUM(LENGTH(s))) FROM packets"))
}

func TestSinkNeedsTableAndDatabase(t *testing.T) {
	f := newFixture(t)
	c := f.conn("Out", f.params(nil))
	_, err := c.Sink(f.ctx, f.duckRows("SELECT 1 AS id"))
	require.ErrorContains(t, err, "sink needs a table")

	p := f.params(map[string]any{"table": "x"})
	delete(p, "database")
	c = f.conn("Out", p)
	_, err = c.Sink(f.ctx, f.duckRows("SELECT 1 AS id"))
	require.ErrorContains(t, err, "no database selected: set params.database")
}

type cancellingReader struct {
	array.RecordReader
	after, n int
	cancel   func()
}

func (r *cancellingReader) Next() bool {
	if r.n == r.after {
		r.cancel()
	}
	r.n++
	return r.RecordReader.Next()
}

// hookReader runs before() when the sink asks for the first batch.
type hookReader struct {
	array.RecordReader
	before func()
	done   bool
}

func (r *hookReader) Next() bool {
	if !r.done {
		r.done = true
		r.before()
	}
	return r.RecordReader.Next()
}
