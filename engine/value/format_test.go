package value_test

import (
	"context"
	"testing"

	"github.com/ankaflow/ankaflow/engine"
	"github.com/ankaflow/ankaflow/engine/value"
)

// formatCases are SQL expressions whose DuckDB text (CAST … AS VARCHAR) Format must reproduce
// from the value read out of DuckDB's Arrow result.
var formatCases = []string{
	"7::DOUBLE", "1e6::DOUBLE", "1e20::DOUBLE", "1e15::DOUBLE", "1e16::DOUBLE", "123456789012345678.0::DOUBLE",
	"0.1::DOUBLE", "1.5e-7::DOUBLE", "0.0001::DOUBLE", "0.00001::DOUBLE", "'nan'::DOUBLE", "'inf'::DOUBLE",
	"'-inf'::DOUBLE", "-0.0::DOUBLE", "-2.5::DOUBLE", "12345678.9::DOUBLE", "9007199254740993::DOUBLE", "2.5e-300::DOUBLE",
	"1.5::FLOAT", "0.1::FLOAT", "16777217::FLOAT", "3.4e38::FLOAT",
	"1.50::DECIMAL(5,2)", "123456789012345678.12::DECIMAL(20,2)", "1.0::DECIMAL(38,10)", "-0.5::DECIMAL(3,1)",
	"0.01::DECIMAL(4,2)", "-0.01::DECIMAL(4,2)", "12::DECIMAL(4,0)", "0.1::DECIMAL(18,1)",
	"INTERVAL 90 MINUTE", "INTERVAL '1 year 2 months 3 days 4 hours'", "INTERVAL '-1 day 2 hours'",
	"INTERVAL '1.5 seconds'", "INTERVAL 0 SECOND", "INTERVAL '14 months'", "INTERVAL '-36 hours'",
	"INTERVAL '-14 months'", "INTERVAL '1 month 1 day'", "INTERVAL '2 years'", "INTERVAL '-1 year -1 month'",
	"INTERVAL '1 microsecond'", "INTERVAL '-0.25 seconds'",
	"MAP {'a': 2, 'z': 1}", "MAP {'k w': 'x y'}", "MAP {1: [1]}", "MAP {'a': NULL}", "MAP {'=': 'a,b'}",
	"{'z': 1, 'a': 'x'}", "{'z': 1, 'a': 'it''s, ok'}", "{'a': [1,2], 'b': {'c': NULL}}", "{'x y': 1}",
	"{'a': 1.5::DOUBLE, 'b': 7::DOUBLE}", "{'a': 'x''y'}", "{'a': ' b'}", "{'a': NULL}", "{'k''q': 1}",
	"[1,2]", "['a', 'b c', NULL, '', 'x,y', '[', 'NULL', 'null', 'a:b', 'a=b', '(x)', 'a\\b', '\"q\"', 'tab	']",
	"[[1],[2,3]]", "[1.0::DOUBLE]", "['a''b']", "['{']", "[' a']", "[NULL]", "[]::INTEGER[]", "[1,2]::INTEGER[2]",
	"[DATE '2024-01-02']", "[TIMESTAMP '2024-01-02 03:04:05']", "[TIMESTAMPTZ '2024-01-02 03:04:05+00']", "['a,b'::BLOB]", "{'t': TIME '01:02:03'}", "MAP {DATE '2024-01-01': INTERVAL 2 DAY}", "[INTERVAL 1 HOUR]", "[1.5::DECIMAL(3,1)]", "[{'a': 1}]",
	"TIMESTAMPTZ '2024-01-02 03:04:05.123+02'", "TIMESTAMP '2024-01-02 03:04:05'", "TIMESTAMP '2024-01-02 03:04:05.5'",
	"TIMESTAMP_NS '2024-01-02 03:04:05.123456789'", "TIMESTAMP_S '2024-01-02 03:04:05'", "TIMESTAMP_MS '2024-01-02 03:04:05.1'",
	"TIMESTAMP '1969-12-31 23:59:59.999999'", "'infinity'::TIMESTAMP", "'-infinity'::TIMESTAMP",
	"DATE '2024-01-02'", "DATE '1900-02-28'", "DATE '0044-03-15 (BC)'",
	"TIME '01:02:03.5'", "TIME '00:00:00'", "TIME '23:59:59.999999'",
	"'\\x01abc'::BLOB", "'ab'::BLOB", "'a\\x5Cb\\xFF'::BLOB",
	"'550e8400-e29b-41d4-a716-446655440000'::UUID", "170141183460469231731687303715884105727::HUGEINT",
	"-170141183460469231731687303715884105727::HUGEINT",
	"18446744073709551615::UBIGINT", "true", "false", "42", "-7::TINYINT", "255::UTINYINT",
	"'{\"b\":1,\"a\":2}'::JSON",
	// Nested values: JSON and strings that need quotes, NULLs and maps of lists at depth.
	"{'j': '{\"k\": \"v, w\"}'::JSON}", "MAP {'m': '\"s\"'::JSON}",
	"MAP {'a': [1, NULL], 'b': []}", "MAP {'k': [{'x': 'y z'}]}",
	"[{'a': NULL, 'b': [NULL, 'c d']}]", "{'s': ['it''s', 'a, b', ''], 'n': NULL}", "[MAP {'x': NULL}]",
	"[[NULL, 'x']]", "{'a': {'b': {'c': 'd e'}}}", "[NULL::JSON]",
	// JSON at every depth: DuckDB prints it unquoted in a LIST, quoted in a STRUCT or MAP.
	"['{\"a\": 1}'::JSON]", "['\"s\"'::JSON, NULL]", "[['[1, \"x y\"]'::JSON]]", "{'l': ['{\"a\": [1]}'::JSON]}",
	"MAP {'k': ['{\"a\": 1}'::JSON]}", "MAP {'k': '{\"a\": 1}'::JSON}", "[MAP {'k': '2'::JSON}]",
	"[{'j': '{\"a\": \"b, c\"}'::JSON, 'l': ['true'::JSON]}]", "['1'::JSON, '{}']::JSON[2]", "{'e': 'x'::ENUM('x','y')}", "'x'::ENUM('x','y')", "union_value(num := 2)", "'日本語 テキスト'", "'plain'",
}

// losslessFormatCases are read from a session with arrow_lossless_conversion, as Variable
// sinks read rows: only there does DuckDB mark a JSON element of a LIST (which it prints
// unquoted) as JSON, and there UUID, HUGEINT, TIMETZ, BIT, BIGNUM… arrive as marked bytes.
var losslessFormatCases = []string{
	"['{\"a\": 1}'::JSON]", "['[1, 2]'::JSON, NULL]", "['\"quoted string\"'::JSON]", "[['1'::JSON]]",
	"MAP {'m': ['{\"k\": \"v, w\"}'::JSON]}", "MAP {'k': '{\"a\": 1}'::JSON}", "[MAP {'k': ['2'::JSON]}]",
	"MAP {'u': '550e8400-e29b-41d4-a716-446655440000'::UUID}", "MAP {1::HUGEINT: TIMETZ '01:02:03+05:30'}", "MAP {'b': '101'::BIT, 'c': NULL}",
	"MAP {'v': (-12345)::VARINT}", "[MAP {'s': {'u': '550e8400-e29b-41d4-a716-446655440000'::UUID}}]", "[{'j': '{\"k\": 1}'::JSON}]", "[NULL::JSON]",
	"'{\"b\":1,\"a\":2}'::JSON", "['a b', 'x,y', NULL]", "{'a': [1, NULL], 'j': ['{}'::JSON]}",
	// Types DuckDB's lossless form carries as marked bytes: read back as the values they are.
	"'550e8400-e29b-41d4-a716-446655440000'::UUID", "'00000000-0000-0000-0000-000000000001'::UUID",
	"170141183460469231731687303715884105727::HUGEINT", "(-170141183460469231731687303715884105727)::HUGEINT",
	"(-1)::HUGEINT", "42::HUGEINT", "340282366920938463463374607431768211455::UHUGEINT", "5::UHUGEINT",
	"TIMETZ '01:02:03+05:30'", "TIMETZ '23:59:59.5-08'", "TIMETZ '00:00:00+00'",
	"'101'::BIT", "'1'::BIT", "'0000000011'::BIT", "'11111111'::BIT",
	"12345::VARINT", "(-12345)::VARINT", "0::VARINT", "(-123456789012345678901234567890)::VARINT",
	"['550e8400-e29b-41d4-a716-446655440000'::UUID]", "{'u': '550e8400-e29b-41d4-a716-446655440000'::UUID, 'h': 1::HUGEINT}",
	"[1::HUGEINT, NULL]",
}

func TestFormatMatchesDuckDB(t *testing.T) {
	ctx := context.Background()
	db, err := engine.Open(ctx, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, err := db.NewSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	checkFormat(t, s, formatCases)
	if _, err := s.Exec(ctx, "SET arrow_lossless_conversion = true"); err != nil {
		t.Fatal(err)
	}
	checkFormat(t, s, losslessFormatCases)
}

func checkFormat(t *testing.T, s *engine.Session, cases []string) {
	t.Helper()
	ctx := context.Background()
	for _, e := range cases {
		rows, err := s.QueryArrow(ctx, "SELECT x, CAST(x AS VARCHAR) AS s FROM (SELECT "+e+" AS x)")
		if err != nil {
			t.Errorf("%s: %v", e, err)
			continue
		}
		if !rows.Next() {
			t.Errorf("%s: no row (%v)", e, rows.Err())
			rows.Release()
			continue
		}
		// Record reads each column with its field, as Variable rows are read.
		rec := value.Record(rows.RecordBatch(), 0)
		x, _ := rec.Get("x")
		want, _ := rec.Get("s")
		got := value.Format(x)
		if got != want {
			t.Errorf("%s: Format gives %q, DuckDB %q", e, got, want)
		}
		rows.Release()
	}
}
