package pgwire

import (
	"context"
	"math"
	"math/big"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/stretchr/testify/require"
)

var execModes = map[string]pgx.QueryExecMode{
	"cache-statement": pgx.QueryExecModeCacheStatement, // extended protocol, binary where pgx can
	"simple":          pgx.QueryExecModeSimpleProtocol, // client-side interpolation, text results
	"describe-exec":   pgx.QueryExecModeDescribeExec,   // unnamed statement, Describe, then Bind
}

func numeric(s string) pgtype.Numeric {
	var n pgtype.Numeric
	if err := n.Scan(s); err != nil {
		panic(err)
	}
	return n
}

func numericString(t *testing.T, n pgtype.Numeric) string {
	v, err := n.Value()
	require.NoError(t, err)
	return v.(string)
}

// Typed parameters of every binary type round-trip through the server, in every pgx mode.
func TestTypedParametersRoundTrip(t *testing.T) {
	ts := startServer(t, Config{})
	ctx := context.Background()
	ts12 := time.Date(2024, 2, 29, 13, 45, 30, 123456000, time.UTC)
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	require.NoError(t, err)
	for name, mode := range execModes {
		t.Run(name, func(t *testing.T) {
			c := ts.connect(t, mode)
			roundTrip := func(sqlType string, in, out any) {
				t.Helper()
				require.NoError(t, c.QueryRow(ctx, "SELECT CAST($1 AS "+sqlType+")", in).Scan(out), sqlType)
			}
			var i16 int16
			roundTrip("SMALLINT", int16(-12345), &i16)
			require.Equal(t, int16(-12345), i16)
			var i32 int32
			roundTrip("INTEGER", int32(math.MinInt32), &i32)
			require.Equal(t, int32(math.MinInt32), i32)
			var i64 int64
			roundTrip("BIGINT", int64(math.MaxInt64), &i64)
			require.Equal(t, int64(math.MaxInt64), i64)
			var f32 float32
			roundTrip("REAL", float32(1.5e-7), &f32)
			require.Equal(t, float32(1.5e-7), f32)
			var f64 float64
			roundTrip("DOUBLE", math.Pi, &f64)
			require.Equal(t, math.Pi, f64)
			roundTrip("DOUBLE", math.Inf(-1), &f64)
			require.True(t, math.IsInf(f64, -1))
			var b bool
			roundTrip("BOOLEAN", true, &b)
			require.True(t, b)
			for _, s := range []string{"12345.6789", "-0.0001", "0", "99999999999999.9999"} {
				var n pgtype.Numeric
				roundTrip("DECIMAL(18,4)", numeric(s), &n)
				want, _ := new(big.Rat).SetString(s)
				got, _ := new(big.Rat).SetString(numericString(t, n))
				require.Equal(t, want.String(), got.String(), s)
			}
			var n pgtype.Numeric
			roundTrip("DECIMAL(38,10)", numeric("-1234567890123456789012345678.0123456789"), &n)
			require.Equal(t, "-1234567890123456789012345678.0123456789", numericString(t, n))
			var s string
			roundTrip("TEXT", "héllo 'wörld' \\ \"x\"\n\t😀", &s)
			require.Equal(t, "héllo 'wörld' \\ \"x\"\n\t😀", s)
			roundTrip("VARCHAR", "", &s)
			require.Equal(t, "", s)
			var by []byte
			roundTrip("BYTEA", []byte{0, 0xff, 1, '\\', 'x', 0x7f}, &by)
			require.Equal(t, []byte{0, 0xff, 1, '\\', 'x', 0x7f}, by)
			var d time.Time
			for _, day := range []time.Time{time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC), time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)} {
				roundTrip("DATE", day, &d)
				require.True(t, day.Equal(d), "%v != %v", day, d)
			}
			var tm pgtype.Time
			roundTrip("TIME", pgtype.Time{Microseconds: 13*3600e6 + 45*60e6 + 30e6 + 123456, Valid: true}, &tm)
			require.Equal(t, int64(13*3600e6+45*60e6+30e6+123456), tm.Microseconds)
			var tsv time.Time
			roundTrip("TIMESTAMP", ts12, &tsv)
			require.True(t, ts12.Equal(tsv), "%v != %v", ts12, tsv)
			old := time.Date(1900, 1, 1, 0, 0, 0, 1000, time.UTC)
			roundTrip("TIMESTAMP", old, &tsv)
			require.True(t, old.Equal(tsv), "%v != %v", old, tsv)
			roundTrip("TIMESTAMPTZ", ts12.In(tokyo), &tsv)
			require.True(t, ts12.Equal(tsv), "%v != %v", ts12, tsv)
			var iv pgtype.Interval
			roundTrip("INTERVAL", pgtype.Interval{Months: 14, Days: 3, Microseconds: 14706500000, Valid: true}, &iv)
			require.Equal(t, pgtype.Interval{Months: 14, Days: 3, Microseconds: 14706500000, Valid: true}, iv)
			roundTrip("INTERVAL", pgtype.Interval{Months: -1, Days: 2, Microseconds: -3600e6, Valid: true}, &iv)
			require.Equal(t, pgtype.Interval{Months: -1, Days: 2, Microseconds: -3600e6, Valid: true}, iv)
			u := [16]byte{0xa0, 0xee, 0xbc, 0x99, 0x9c, 0x0b, 0x4e, 0xf8, 0xbb, 0x6d, 0x6b, 0xb9, 0xbd, 0x38, 0x0a, 0x11}
			var uo pgtype.UUID
			roundTrip("UUID", pgtype.UUID{Bytes: u, Valid: true}, &uo)
			require.Equal(t, u, uo.Bytes)
			var j map[string]any
			roundTrip("JSON", `{"a": 1, "b": ["x", null]}`, &j)
			require.Equal(t, map[string]any{"a": 1.0, "b": []any{"x", nil}}, j)

			// Arrays.
			var ai []int32
			roundTrip("INTEGER[]", []int32{1, -2, 3}, &ai)
			require.Equal(t, []int32{1, -2, 3}, ai)
			var al []*int64
			one := int64(1)
			roundTrip("BIGINT[]", []*int64{&one, nil}, &al)
			require.Len(t, al, 2)
			require.Equal(t, int64(1), *al[0])
			require.Nil(t, al[1])
			var as []string
			in := []string{"a", "b c", "", "NULL", `q"uo\te`, "{x}", "ä,ö"}
			roundTrip("TEXT[]", in, &as)
			require.Equal(t, in, as)
			var af []float64
			roundTrip("DOUBLE[]", []float64{1.5, -0.25}, &af)
			require.Equal(t, []float64{1.5, -0.25}, af)
			var ab []bool
			roundTrip("BOOLEAN[]", []bool{true, false}, &ab)
			require.Equal(t, []bool{true, false}, ab)
			var ats []time.Time
			roundTrip("TIMESTAMP[]", []time.Time{ts12}, &ats)
			require.Len(t, ats, 1)
			require.True(t, ts12.Equal(ats[0]))
			var ae []int32
			roundTrip("INTEGER[]", []int32{}, &ae)
			require.Empty(t, ae)

			// NULL of a typed parameter.
			var np *int32
			roundTrip("INTEGER", nil, &np)
			require.Nil(t, np)
		})
	}
}

// Result columns carry the PostgreSQL OID, size and type modifier PostgreSQL would send, and
// decode in both formats.
func TestResultColumnTypes(t *testing.T) {
	ts := startServer(t, Config{})
	ctx := context.Background()
	const q = `SELECT true AS b, 1::TINYINT AS i1, 2::SMALLINT AS i2, 3::INTEGER AS i4, 4::BIGINT AS i8,
		5::UTINYINT AS u1, 6::USMALLINT AS u2, 7::UINTEGER AS u4, 18446744073709551615::UBIGINT AS u8,
		170141183460469231731687303715884105727::HUGEINT AS h, 1.5::REAL AS f4, 2.25::DOUBLE AS f8,
		12.3456::DECIMAL(10,4) AS dec, 'x' AS t, 'ab'::BLOB AS by, DATE '2024-02-29' AS d,
		TIME '13:45:30.5' AS tm, TIMESTAMP '2024-02-29 13:45:30.123456' AS ts, TIMESTAMPTZ '2024-02-29 13:45:30+00' AS tz,
		INTERVAL '14 months 3 days 4 hours 5 minutes 6.5 seconds' AS iv, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::UUID AS u,
		'{"a":1}'::JSON AS j, [1, 2, NULL] AS li, ['a', 'b c'] AS ls, {'k': 1, 'v': 'x'} AS st, MAP {'k': 1} AS mp,
		'b'::ENUM('a', 'b') AS en, '0101'::BIT AS bits, TIMESTAMP_MS '2024-01-01 00:00:00.123' AS tms,
		TIMESTAMP_NS '2024-01-01 00:00:00.123456789' AS tns, [[1, 2], [3]] AS nested, NULL AS n`
	wantOIDs := []uint32{16, 21, 21, 23, 20, 21, 23, 20, 1700, 1700, 700, 701, 1700, 25, 17, 1082, 1083, 1114, 1184, 1186, 2950, 114, 1007, 1009, 114, 114, 25, 1562, 1114, 1114, 114, 23}
	wantText := []string{"t", "1", "2", "3", "4", "5", "6", "7", "18446744073709551615", "170141183460469231731687303715884105727",
		"1.5", "2.25", "12.3456", "x", `\x6162`, "2024-02-29", "13:45:30.5", "2024-02-29 13:45:30.123456", "2024-02-29 13:45:30+00",
		"1 year 2 mons 3 days 04:05:06.5", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", `{"a":1}`, "{1,2,NULL}", `{a,"b c"}`,
		`{"k":1,"v":"x"}`, `{"k":1}`, "b", "0101", "2024-01-01 00:00:00.123", "2024-01-01 00:00:00.123456", "[[1,2],[3]]", ""}

	// Text, as psql sees it.
	c := ts.connect(t, pgx.QueryExecModeSimpleProtocol)
	rows, err := c.Query(ctx, q)
	require.NoError(t, err)
	fds := rows.FieldDescriptions()
	require.Len(t, fds, len(wantOIDs))
	for i, fd := range fds {
		require.Equal(t, wantOIDs[i], fd.DataTypeOID, fd.Name)
	}
	require.Equal(t, int32((10<<16|4)+4), fds[12].TypeModifier)
	require.Equal(t, int16(4), fds[3].DataTypeSize)
	require.Equal(t, int16(-1), fds[13].DataTypeSize)
	require.Equal(t, int32(3), fds[28].TypeModifier)
	require.True(t, rows.Next())
	for i, raw := range rows.RawValues() {
		if wantText[i] == "" {
			require.Nil(t, raw, fds[i].Name)
			continue
		}
		require.Equal(t, wantText[i], string(raw), fds[i].Name)
	}
	rows.Close()
	require.NoError(t, rows.Err())

	// Binary where pgx asks for it: every column decodes to the same values.
	cb := ts.connect(t, pgx.QueryExecModeCacheStatement)
	rowsB, err := cb.Query(ctx, q)
	require.NoError(t, err)
	require.True(t, rowsB.Next())
	vals, err := rowsB.Values()
	require.NoError(t, err)
	rowsB.Close()
	require.NoError(t, rowsB.Err())
	require.Equal(t, true, vals[0])
	require.Equal(t, int16(1), vals[1])
	require.Equal(t, int64(7), vals[7])
	u8 := vals[8].(pgtype.Numeric)
	require.Equal(t, "18446744073709551615", u8.Int.String())
	h := vals[9].(pgtype.Numeric)
	hb, _ := new(big.Int).SetString("170141183460469231731687303715884105727", 10)
	require.Equal(t, hb, h.Int)
	require.Equal(t, float32(1.5), vals[10])
	require.Equal(t, "12.3456", numericString(t, vals[12].(pgtype.Numeric)))
	require.Equal(t, []byte("ab"), vals[14])
	require.Equal(t, time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), vals[15])
	require.Equal(t, pgtype.Time{Microseconds: (13*3600+45*60+30)*1e6 + 500000, Valid: true}, vals[16])
	require.Equal(t, time.Date(2024, 2, 29, 13, 45, 30, 123456000, time.UTC), vals[17])
	require.True(t, time.Date(2024, 2, 29, 13, 45, 30, 0, time.UTC).Equal(vals[18].(time.Time)))
	require.Equal(t, pgtype.Interval{Months: 14, Days: 3, Microseconds: 14706500000, Valid: true}, vals[19])
	require.Equal(t, [16]byte{0xa0, 0xee, 0xbc, 0x99, 0x9c, 0x0b, 0x4e, 0xf8, 0xbb, 0x6d, 0x6b, 0xb9, 0xbd, 0x38, 0x0a, 0x11}, vals[20])
	require.Equal(t, map[string]any{"a": 1.0}, vals[21])
	require.Equal(t, []any{int32(1), int32(2), nil}, vals[22])
	require.Equal(t, []any{"a", "b c"}, vals[23])
	require.Equal(t, map[string]any{"k": 1.0, "v": "x"}, vals[24])
	require.Equal(t, "b", vals[26])
	require.Equal(t, pgtype.Bits{Bytes: []byte{0x50}, Len: 4, Valid: true}, vals[27])
	require.Equal(t, time.Date(2024, 1, 1, 0, 0, 0, 123456000, time.UTC), vals[29])
	require.Nil(t, vals[31])
}

// Text output of values PostgreSQL formats in special ways.
func TestTextFormatting(t *testing.T) {
	ts := startServer(t, Config{})
	rc := ts.rawConnect(t, map[string]string{"timezone": "America/St_Johns"})
	for sql, want := range map[string]string{
		"SELECT 1e20::DOUBLE":                                       "1e+20",
		"SELECT 123456789012345::DOUBLE":                            "123456789012345",
		"SELECT 1234567890123456::DOUBLE":                           "1.234567890123456e+15",
		"SELECT 0.0001::DOUBLE":                                     "0.0001",
		"SELECT 0.00001::DOUBLE":                                    "1e-05",
		"SELECT -0.0::DOUBLE":                                       "-0",
		"SELECT 'nan'::DOUBLE":                                      "NaN",
		"SELECT '-inf'::DOUBLE":                                     "-Infinity",
		"SELECT 1000000::REAL":                                      "1e+06",
		"SELECT 100000::REAL":                                       "100000",
		"SELECT 0.1::REAL":                                          "0.1",
		"SELECT -12.50::DECIMAL(5,2)":                               "-12.50",
		"SELECT 0.05::DECIMAL(3,2)":                                 "0.05",
		"SELECT DATE '0044-03-15'":                                  "0044-03-15",
		"SELECT make_date(-43, 3, 15)":                              "0044-03-15 BC",
		"SELECT 'infinity'::DATE":                                   "infinity",
		"SELECT '-infinity'::TIMESTAMP":                             "-infinity",
		"SELECT TIMESTAMPTZ '2024-07-01 12:00:00+00'":               "2024-07-01 09:30:00-02:30",
		"SELECT INTERVAL '-1 year -2 months 3 days -04:05:06'":      "-1 years -2 mons +3 days -04:05:06",
		"SELECT INTERVAL '0 seconds'":                               "00:00:00",
		"SELECT INTERVAL '49 hours'":                                "49:00:00",
		"SELECT INTERVAL '1 day 1 microsecond'":                     "1 day 00:00:00.000001",
		"SELECT '\\x00ff'::BLOB":                                    `\x00ff`,
		"SELECT ['a\"b', NULL, 'null', '']":                         `{"a\"b",NULL,"null",""}`,
		"SELECT [DATE '2024-01-02']":                                "{2024-01-02}",
		"SELECT union_value(num := 2)::UNION(num INT, str VARCHAR)": "2",
		"SELECT {'a': [1, 2], 'b': {'c': 'x\ny'}}":                  `{"a":[1,2],"b":{"c":"x\ny"}}`,
	} {
		got := rc.query(sql)
		require.Equal(t, "DataRow["+want+"]", got[1], sql)
	}
}
