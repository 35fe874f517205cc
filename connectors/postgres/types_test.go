package postgres_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// allTypes is a table with every type the connection maps, and rows with edge values and NULLs
// everywhere.
var allTypes = []string{
	"CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')",
	`CREATE TABLE src (
		id int4 PRIMARY KEY,
		i2 int2, i4 int4, i8 int8,
		n numeric(12,3), nbig numeric(38,10), nfree numeric,
		f4 float4, f8 float8, b bool,
		t text, vc varchar(20), ch char(5),
		by bytea, d date, tm time, ttz timetz, ts timestamp, tstz timestamptz, iv interval,
		u uuid, j json, jb jsonb, ip inet, net cidr, m mood,
		ai int4[], at text[], an numeric(10,2)[], ats timestamptz[], au uuid[], am mood[], aip inet[]
	)`,
	`INSERT INTO src VALUES
	(1, -32768, -2147483648, -9223372036854775808,
	 -123456789.123, 1234567890123456789012345678.0123456789, 3.14159265358979323846264338327950288419716939937510,
	 1.5, -2.25e300, true,
	 'héllo "wörld"', 'varchar', 'ab',
	 '\x00ff10', '1999-12-31', '23:59:59.999999', '10:00:00+02', '2024-02-29 12:34:56.789012', '2024-06-01 00:00:00+05:30', '1 year 2 mons 3 days 04:05:06.789',
	 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a": [1, 2]}', '{"b": {"c": null}}', '192.168.0.1/24', '10.0.0.0/8', 'happy',
	 '{1,NULL,3}', '{"x","y z",NULL}', '{1.50,-2.25}', '{"2020-01-01 00:00:00+00"}', '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}', '{sad,ok}', '{::1,10.1.2.3}'),
	(2, 32767, 2147483647, 9223372036854775807,
	 0, -0.0000000001, 'NaN',
	 'Infinity', 'NaN', false,
	 '', '', '',
	 '', 'infinity', '00:00:00', '00:00:00-11:30', '-infinity', '1970-01-01 00:00:00+00', '-3 days -00:00:01',
	 '00000000-0000-0000-0000-000000000000', 'null', '[]', '::1', '2001:db8::/32', 'sad',
	 '{}', '{}', '{}', '{}', '{}', '{}', '{}'),
	(3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	 NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
	(4, 0, 0, 0, 99.999, 1, -1e30, -0.0, 0.1, NULL, 'line1
line2	tab', 'x', 'abcde', '\x', '0001-01-01', '12:00', '12:00+14', '4713-11-24 00:00:00 BC', '2262-04-11 23:47:16.854775+00', '0 seconds',
	 NULL, '"str"', '1.5e10', '0.0.0.0', '0.0.0.0/0', 'ok', '{NULL}', '{""}', '{NULL,0.01}', NULL, NULL, '{NULL}', NULL)`,
}

// columnsOf lists src's columns.
func (f *fixture) columnsOf(table string) []string {
	rows, err := f.pg.Query(f.ctx, "SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum", table)
	require.NoError(f.t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		require.NoError(f.t, rows.Scan(&n))
		out = append(out, n)
	}
	return out
}

// mismatches compares two tables row by row (joined on id) in PostgreSQL, each column with IS
// NOT DISTINCT FROM, the copy's columns cast to the source's types; it returns the differing
// cells.
func (f *fixture) mismatches(src, dst string) []string {
	f.t.Helper()
	var conds []string
	for _, c := range f.columnsOf(src) {
		typ := f.scalar(fmt.Sprintf("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = '%s'::regclass AND attname = '%s'", src, c))
		lhs, rhs := "s."+c, "d."+c+"::"+typ
		if typ == "json" { // json has no equality: its text must be the same
			lhs, rhs = lhs+"::text", rhs+"::text"
		}
		conds = append(conds, fmt.Sprintf("CASE WHEN %[2]s IS DISTINCT FROM %[3]s THEN '%[1]s: ' || coalesce(s.%[1]s::text, 'NULL') || ' <> ' || coalesce(d.%[1]s::text, 'NULL') END",
			c, lhs, rhs))
	}
	q := fmt.Sprintf("SELECT s.id, x FROM %s s FULL JOIN %s d USING (id), LATERAL unnest(ARRAY[%s]) x WHERE x IS NOT NULL OR s.id IS NULL OR d.id IS NULL ORDER BY 1",
		src, dst, strings.Join(conds, ", "))
	rows, err := f.pg.Query(f.ctx, q)
	require.NoError(f.t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id *int32
		var x *string
		require.NoError(f.t, rows.Scan(&id, &x))
		if x == nil {
			out = append(out, fmt.Sprintf("row %v missing on one side", id))
		} else {
			out = append(out, fmt.Sprintf("row %v: %s", *id, *x))
		}
	}
	require.NoError(f.t, rows.Err())
	return out
}

// Every mapped type goes PostgreSQL → DuckDB (tap) → PostgreSQL (sink) and comes back equal:
// into a table of the same definition, and into a table the sink creates.
func TestTypesRoundTrip(t *testing.T) {
	f := newFixture(t)
	f.exec(allTypes...)
	f.exec("CREATE TABLE dst (LIKE src)")
	f.conn("pg_src", "public.src", f.params(nil))
	f.conn("pg_dst", "dst", f.params(nil))
	f.conn("pg_new", "created", f.params(nil))

	require.NoError(t, f.duckExec("CREATE TABLE d AS SELECT * FROM tap('pg_src')"))
	// DuckDB sees the natural types.
	types := map[string]string{}
	for _, r := range f.duckRows("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'd'") {
		types[r[0]] = r[1]
	}
	for col, want := range map[string]string{"i2": "SMALLINT", "i4": "INTEGER", "i8": "BIGINT", "n": "DECIMAL(12,3)",
		"nbig": "DECIMAL(38,10)", "nfree": "VARCHAR", "f4": "FLOAT", "f8": "DOUBLE", "b": "BOOLEAN", "t": "VARCHAR",
		"by": "BLOB", "d": "DATE", "tm": "TIME", "ttz": "VARCHAR", "ts": "TIMESTAMP", "tstz": "TIMESTAMP WITH TIME ZONE",
		"iv": "INTERVAL", "u": "UUID", "j": "JSON", "jb": "JSON", "ip": "VARCHAR", "m": "VARCHAR", "ai": "INTEGER[]",
		"at": "VARCHAR[]", "an": "DECIMAL(10,2)[]", "ats": "TIMESTAMP WITH TIME ZONE[]", "au": "UUID[]", "am": "VARCHAR[]",
		"aip": "VARCHAR[]"} {
		require.Equal(t, want, types[col], "DuckDB type of %s", col)
	}
	// Values in DuckDB: a few spot checks of what users see.
	require.Equal(t, [][]string{{"1", "-123456789.123", "happy", "192.168.0.1/24", "10:00:00+02", "[1 <nil> 3]"}},
		f.duckRows("SELECT id, n::VARCHAR, m, ip, ttz, ai FROM d WHERE id = 1"))

	require.NoError(t, f.duckExec("COPY (SELECT * FROM d) TO 'pg_dst' (FORMAT ankaflow)"))
	require.Empty(t, f.mismatches("src", "dst"))
	require.Equal(t, "4", f.scalar("SELECT count(*) FROM dst"))

	require.NoError(t, f.duckExec("COPY (SELECT * FROM d) TO 'pg_new' (FORMAT ankaflow)"))
	require.Empty(t, f.mismatches("src", "created"))
	// The created table has the inverse of the tap's mapping. DuckDB hands UUID and JSON values
	// over as plain strings, so those columns are created as text.
	require.Equal(t, "integer, smallint, integer, bigint, numeric(12,3), numeric(38,10), text, real, double precision, boolean, text, text, text, bytea, date, time without time zone, text, timestamp without time zone, timestamp with time zone, interval, text, text, text, text, text, text, integer[], text[], numeric(10,2)[], timestamp with time zone[], text[], text[], text[]",
		f.scalar("SELECT string_agg(format_type(atttypid, atttypmod), ', ' ORDER BY attnum) FROM pg_attribute WHERE attrelid = 'created'::regclass AND attnum > 0"))
}
