package value_test

import (
	"context"
	"testing"

	"github.com/ankaflow/ankaflow/engine"
	"github.com/ankaflow/ankaflow/engine/value"
)

// TestLosslessRecords: values in DuckDB's lossless Arrow form (Variable rows) read back as the
// values they are: Format of a record's value matches DuckDB's CAST(… AS VARCHAR), where the
// raw bytes were printed before.
func TestLosslessRecords(t *testing.T) {
	cases := []string{
		"'550e8400-e29b-41d4-a716-446655440000'::UUID", "'00000000-0000-0000-0000-000000000001'::UUID",
		"170141183460469231731687303715884105727::HUGEINT", "(-170141183460469231731687303715884105727)::HUGEINT",
		"(-1)::HUGEINT", "42::HUGEINT", "340282366920938463463374607431768211455::UHUGEINT", "5::UHUGEINT",
		"TIMETZ '01:02:03+05:30'", "TIMETZ '23:59:59.5-08'", "TIMETZ '00:00:00+00'",
		"'101'::BIT", "'1'::BIT", "'0000000011'::BIT", "'11111111'::BIT",
		"12345::VARINT", "(-12345)::VARINT", "0::VARINT", "(-123456789012345678901234567890)::VARINT",
		"['550e8400-e29b-41d4-a716-446655440000'::UUID]", "{'u': '550e8400-e29b-41d4-a716-446655440000'::UUID, 'h': 1::HUGEINT}",
		"[1::HUGEINT, NULL]",
	}
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
	if _, err := s.Exec(ctx, "SET arrow_lossless_conversion = true"); err != nil {
		t.Fatal(err)
	}
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
		rec := value.Record(rows.RecordBatch(), 0)
		x, _ := rec.Get("x")
		want, _ := rec.Get("s")
		if got := value.Format(x); got != want {
			t.Errorf("%s: Format gives %q, DuckDB %q", e, got, want)
		}
		rows.Release()
	}
}
