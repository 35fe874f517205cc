package mysql_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/examples/mysql"
)

const allTypesDDL = "CREATE TABLE all_types (" +
	"id INT NOT NULL PRIMARY KEY, " +
	"ti TINYINT, si SMALLINT, mi MEDIUMINT, i INT, bi BIGINT, " +
	"uti TINYINT UNSIGNED, usi SMALLINT UNSIGNED, umi MEDIUMINT UNSIGNED, ui INT UNSIGNED, ubi BIGINT UNSIGNED, " +
	"dec_small DECIMAL(10,2), dec_wide DECIMAL(38,10), dec_int DECIMAL(20,0), dec_huge DECIMAL(50,5), " +
	"f FLOAT, d DOUBLE, " +
	"c CHAR(3), vc VARCHAR(50), t TEXT, e ENUM('red','green'), st SET('a','b'), js JSON, " +
	"bn BINARY(4), vb VARBINARY(10), bl BLOB, " +
	"dt DATE, dtm DATETIME(6), ts TIMESTAMP(3) NULL, tm TIME(6), yr YEAR, bt BIT(10), bo BOOLEAN" +
	") ENGINE=InnoDB"

// allTypes is the column → (Arrow type, value of row 1) table the tap must produce.
var allTypes = []struct{ col, typ, val string }{
	{"id", "int32", "1"},
	{"ti", "int8", "-128"}, {"si", "int16", "-32768"}, {"mi", "int32", "-8388608"},
	{"i", "int32", "-2147483648"}, {"bi", "int64", "-9223372036854775808"},
	{"uti", "uint8", "255"}, {"usi", "uint16", "65535"}, {"umi", "uint32", "16777215"},
	{"ui", "uint32", "4294967295"}, {"ubi", "uint64", "18446744073709551615"},
	{"dec_small", "decimal(10, 2)", "-12345678.91"},
	{"dec_wide", "decimal(38, 10)", "1234567890123456789012345678.0123456789"},
	{"dec_int", "decimal(20, 0)", "12345678901234567890"},
	{"dec_huge", "utf8", "123456789012345678901234567890123456789012345.12345"},
	{"f", "float32", "1.5"}, {"d", "float64", "2.25"},
	{"c", "utf8", "ab"}, {"vc", "utf8", "héllo ✓"}, {"t", "utf8", "long text"},
	{"e", "utf8", "green"}, {"st", "utf8", "a,b"}, {"js", "utf8", `{"k": [1, 2]}`},
	{"bn", "binary", "AAECAw=="}, {"vb", "binary", "/wA="}, {"bl", "binary", "3q2+7w=="}, // base64 of the bytes
	{"dt", "date32", "2024-02-29"},
	{"dtm", "timestamp[us]", "2024-02-29T13:14:15.123456Z"},
	{"ts", "timestamp[us, tz=UTC]", "2038-01-19T03:14:07.999Z"},
	{"tm", "duration[us]", "-3020399000000us"},
	{"yr", "int16", "2155"}, {"bt", "uint64", "682"}, {"bo", "int8", "1"},
}

const allTypesRow = "INSERT INTO all_types VALUES (1, -128, -32768, -8388608, -2147483648, -9223372036854775808, " +
	"255, 65535, 16777215, 4294967295, 18446744073709551615, " +
	"-12345678.91, 1234567890123456789012345678.0123456789, 12345678901234567890, 123456789012345678901234567890123456789012345.12345, " +
	"1.5, 2.25, 'ab', 'héllo ✓', 'long text', 'green', 'a,b', '{\"k\": [1, 2]}', " +
	"x'00010203', x'ff00', x'deadbeef', " +
	"'2024-02-29', '2024-02-29 13:14:15.123456', '2038-01-19 03:14:07.999', '-838:59:59.000000', 2155, b'1010101010', TRUE)"

func TestTapEveryType(t *testing.T) {
	f := newFixture(t)
	f.exec(allTypesDDL, allTypesRow, "INSERT INTO all_types (id) VALUES (2)")
	c := f.conn("AllTypes", f.params(map[string]any{"table": "all_types"}))
	r, err := c.Tap(f.ctx, "")
	require.NoError(t, err)
	schema := r.Schema()
	require.Equal(t, len(allTypes), schema.NumFields())
	for i, want := range allTypes {
		fld := schema.Field(i)
		require.Equal(t, want.col, fld.Name)
		require.Equal(t, want.typ, fld.Type.String(), want.col)
		require.Equal(t, want.col != "id", fld.Nullable, "%s: NOT NULL columns are not nullable", want.col)
	}
	rows, _ := readAll(t, r)
	require.Len(t, rows, 2)
	for i, want := range allTypes {
		require.Equal(t, want.val, rows[0][i], want.col)
		if i > 0 {
			require.Equal(t, "NULL", rows[1][i], want.col)
		}
	}
}

func TestTapTypedValues(t *testing.T) {
	f := newFixture(t)
	f.exec(allTypesDDL, allTypesRow)
	c := f.conn("AllTypes", f.params(map[string]any{"table": "all_types"}))
	r, err := c.Tap(f.ctx, "SELECT dec_small, dt, dtm, tm, bl FROM all_types")
	require.NoError(t, err)
	defer r.Release()
	require.True(t, r.Next())
	rec := r.RecordBatch()
	dec := rec.Column(0).(*array.Decimal128).Value(0)
	require.Equal(t, int64(-1234567891), dec.BigInt().Int64(), "unscaled decimal")
	require.Equal(t, "2024-02-29", rec.Column(1).(*array.Date32).Value(0).FormattedString())
	ts := rec.Column(2).(*array.Timestamp).Value(0).ToTime(arrow.Microsecond)
	require.Equal(t, "2024-02-29 13:14:15.123456", ts.Format("2006-01-02 15:04:05.999999"))
	require.Equal(t, arrow.Duration(-(838*3600+59*60+59)*1_000_000), rec.Column(3).(*array.Duration).Value(0))
	require.Equal(t, []byte{0xde, 0xad, 0xbe, 0xef}, rec.Column(4).(*array.Binary).Value(0))
	require.False(t, r.Next())
	require.NoError(t, r.Err())
}

func TestTapZeroDatesAreNull(t *testing.T) {
	f := newFixture(t)
	f.exec("CREATE TABLE z (d DATE, dt DATETIME)")
	conn, err := f.my.Conn(f.ctx)
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.ExecContext(f.ctx, "SET SESSION sql_mode = ''")
	require.NoError(t, err)
	_, err = conn.ExecContext(f.ctx, "INSERT INTO z VALUES ('0000-00-00', '0000-00-00 00:00:00'), ('2024-00-10', '2024-05-00 10:00:00'), ('2024-01-10', '2024-05-01 10:00:00')")
	require.NoError(t, err)
	c := f.conn("Z", f.params(map[string]any{"table": "z"}))
	r, err := c.Tap(f.ctx, "")
	require.NoError(t, err)
	rows, _ := readAll(t, r)
	require.Equal(t, [][]string{{"NULL", "NULL"}, {"NULL", "NULL"}, {"2024-01-10", "2024-05-01T10:00:00Z"}}, rows)
}

func TestTapQueryIsPushedDown(t *testing.T) {
	f := newFixture(t)
	f.exec("CREATE TABLE orders (id INT PRIMARY KEY, customer VARCHAR(20), amount DECIMAL(10,2))",
		"INSERT INTO orders VALUES (1, 'ann', 10.50), (2, 'bob', 20.00), (3, 'ann', 5.25), (4, 'cid', 1.00)")
	c := f.conn("Orders", f.params(map[string]any{"table": "orders"}))
	// MySQL SQL, run by MySQL: GROUP_CONCAT and the backtick quoting are not DuckDB's.
	r, err := c.Tap(f.ctx, "SELECT customer, SUM(amount) AS total, GROUP_CONCAT(id ORDER BY id SEPARATOR '+') AS ids FROM `orders` WHERE amount > 2 GROUP BY customer ORDER BY customer")
	require.NoError(t, err)
	require.Equal(t, "decimal(32, 2)", r.Schema().Field(1).Type.String())
	rows, _ := readAll(t, r)
	require.Equal(t, [][]string{{"ann", "15.75", "1+3"}, {"bob", "20", "2"}}, rows)

	// A table given as the locator instead of params.table.
	c2, err := newConnWithLocator(f, "orders")
	require.NoError(t, err)
	r, err = c2.Tap(f.ctx, "")
	require.NoError(t, err)
	rows, _ = readAll(t, r)
	require.Len(t, rows, 4)

	// No query and no table.
	c3 := f.conn("NoTable", f.params(nil))
	_, err = c3.Tap(f.ctx, "")
	require.ErrorContains(t, err, "tap needs a table: set params.table")

	// A statement without a result set is not a tap query.
	_, err = c.Tap(f.ctx, "DELETE FROM orders WHERE id = 4")
	require.ErrorContains(t, err, "returned no result set")

	// MySQL's own error, with the server named.
	_, err = c.Tap(f.ctx, "SELECT nope FROM orders")
	require.ErrorContains(t, err, "Unknown column 'nope'")
	require.ErrorContains(t, err, "mysql "+f.srv.User+"@127.0.0.1:")
}

func TestTapStreamsInBatches(t *testing.T) {
	f := newFixture(t)
	f.exec("CREATE TABLE big (id INT PRIMARY KEY, payload VARCHAR(40))",
		"INSERT INTO big SELECT seq, CONCAT('row-', seq) FROM seq_1_to_10000")
	c := f.conn("Big", f.params(map[string]any{"table": "big"}))
	r, err := c.Tap(f.ctx, "SELECT * FROM big ORDER BY id")
	require.NoError(t, err)
	defer r.Release()
	var sizes []int64
	var n int64
	for r.Next() {
		rec := r.RecordBatch()
		sizes = append(sizes, rec.NumRows())
		first := rec.Column(0).(*array.Int32).Value(0)
		require.Equal(t, int32(n+1), first, "rows arrive in order")
		n += rec.NumRows()
	}
	require.NoError(t, r.Err())
	require.Equal(t, []int64{mysql.DefaultBatchRows, mysql.DefaultBatchRows, 10000 - 2*mysql.DefaultBatchRows}, sizes)

	// An empty result still has its schema.
	r, err = c.Tap(f.ctx, "SELECT id, payload FROM big WHERE id < 0")
	require.NoError(t, err)
	require.Equal(t, []string{"id", "payload"}, []string{r.Schema().Field(0).Name, r.Schema().Field(1).Name})
	rows, batches := readAll(t, r)
	require.Empty(t, rows)
	require.Zero(t, batches)
}

func TestTapHonoursCancellation(t *testing.T) {
	f := newFixture(t)
	f.exec("CREATE TABLE big (id INT PRIMARY KEY)", "INSERT INTO big SELECT seq FROM seq_1_to_50000")
	c := f.conn("Big", f.params(map[string]any{"table": "big"}))
	ctx, cancel := context.WithCancel(f.ctx)
	defer cancel()
	r, err := c.Tap(ctx, "")
	require.NoError(t, err)
	defer r.Release()
	require.True(t, r.Next())
	cancel()
	require.False(t, r.Next())
	require.True(t, errors.Is(r.Err(), context.Canceled), "got %v", r.Err())

	// Releasing a half-read stream leaves the pool usable.
	r2, err := c.Tap(f.ctx, "")
	require.NoError(t, err)
	require.True(t, r2.Next())
	r2.Release()
	rows, err := c.SQL(f.ctx, "SELECT COUNT(*) FROM big")
	require.NoError(t, err)
	got, _ := readAll(t, rows)
	require.Equal(t, [][]string{{"50000"}}, got)
}

func TestTapWideRowsMakeSmallerBatches(t *testing.T) {
	f := newFixture(t)
	f.exec("CREATE TABLE wide (id INT PRIMARY KEY, b LONGBLOB)",
		"INSERT INTO wide SELECT seq, REPEAT('x', 1024*1024) FROM seq_1_to_40")
	c := f.conn("Wide", f.params(map[string]any{"table": "wide"}))
	r, err := c.Tap(f.ctx, "")
	require.NoError(t, err)
	defer r.Release()
	var sizes []string
	for r.Next() {
		sizes = append(sizes, fmt.Sprint(r.RecordBatch().NumRows()))
	}
	require.NoError(t, r.Err())
	require.Equal(t, "32,8", strings.Join(sizes, ","), "batches close at 32 MiB of values")
}

// The tap's Arrow types land in DuckDB as the documented column types, with their values.
func TestTapIntoDuckDB(t *testing.T) {
	f := newFixture(t)
	f.exec(allTypesDDL, allTypesRow, "INSERT INTO all_types (id) VALUES (2)")
	c := f.conn("AllTypes", f.params(map[string]any{"table": "all_types"}))
	r, err := c.Tap(f.ctx, "")
	require.NoError(t, err)
	defer r.Release()
	s, err := f.duck.NewSession(f.ctx)
	require.NoError(t, err)
	defer s.Close()
	from, release := s.ScanArrow(r)
	_, err = s.Exec(f.ctx, "CREATE TABLE tapped AS SELECT * FROM "+from)
	release()
	require.NoError(t, err)

	types, _ := readAll(t, f.duckRowsOn(s, "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'tapped' ORDER BY ordinal_position"))
	got := map[string]string{}
	for _, row := range types {
		got[row[0]] = row[1]
	}
	want := map[string]string{
		"ti": "TINYINT", "si": "SMALLINT", "mi": "INTEGER", "i": "INTEGER", "bi": "BIGINT",
		"uti": "UTINYINT", "usi": "USMALLINT", "umi": "UINTEGER", "ui": "UINTEGER", "ubi": "UBIGINT",
		"dec_small": "DECIMAL(10,2)", "dec_wide": "DECIMAL(38,10)", "dec_int": "DECIMAL(20,0)", "dec_huge": "VARCHAR",
		"f": "FLOAT", "d": "DOUBLE", "c": "VARCHAR", "js": "VARCHAR", "bl": "BLOB",
		"dt": "DATE", "dtm": "TIMESTAMP", "ts": "TIMESTAMP WITH TIME ZONE", "tm": "INTERVAL",
		"yr": "SMALLINT", "bt": "UBIGINT", "bo": "TINYINT",
	}
	for col, typ := range want {
		require.Equal(t, typ, got[col], col)
	}
	vals, _ := readAll(t, f.duckRowsOn(s, `SELECT dec_wide::VARCHAR, vc, dtm::VARCHAR, (ts AT TIME ZONE 'UTC')::VARCHAR, tm::VARCHAR, hex(bl), ubi::VARCHAR
		FROM tapped ORDER BY id`))
	require.Equal(t, [][]string{
		{"1234567890123456789012345678.0123456789", "héllo ✓", "2024-02-29 13:14:15.123456", "2038-01-19 03:14:07.999", "-838:59:59", "DEADBEEF", "18446744073709551615"},
		{"NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL"},
	}, vals)
}
