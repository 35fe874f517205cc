package pgwire

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/internal/testpg"
)

// Expressions that mean the same in PostgreSQL and DuckDB. Each must come back from our server
// with the same type OID, type modifier, and the same bytes in text and in binary format as
// from a real PostgreSQL 15.
var conformanceExprs = []string{
	"true", "false",
	"CAST(-32768 AS smallint)", "CAST(2147483647 AS integer)", "CAST(-9223372036854775807 AS bigint)",
	"CAST(1e20 AS float8)", "CAST(123456789012345 AS float8)", "CAST(1234567890123456 AS float8)",
	"CAST(0.0001 AS float8)", "CAST(0.00001 AS float8)", "CAST('-0' AS float8)", "CAST('NaN' AS float8)",
	"CAST('-Infinity' AS float8)", "CAST(3.141592653589793 AS float8)", "CAST(1e-300 AS float8)",
	"CAST(1000000 AS float4)", "CAST(100000 AS float4)", "CAST(0.1 AS float4)", "CAST(1.5e-7 AS float4)",
	"CAST(-12.50 AS numeric(5,2))", "CAST(0.05 AS numeric(3,2))", "CAST(0 AS numeric(10,4))",
	"CAST(123456789.123456789 AS numeric(18,9))", "CAST(-0.000001 AS numeric(12,6))",
	"CAST(99999999999999999999999999999999999999 AS numeric(38,0))", "CAST(10000 AS numeric(10,0))",
	"CAST(1.0001 AS numeric(10,4))", "CAST(100000000.0001 AS numeric(18,4))",
	"CAST('héllo' AS text)", "CAST('' AS text)",
	"CAST('\\x00ff' AS bytea)",
	"DATE '2024-02-29'", "DATE '1969-12-31'", "DATE '0001-01-01'", "CAST('infinity' AS date)",
	"TIME '13:45:30.5'", "TIME '00:00:00'", "TIME '23:59:59.999999'",
	"TIMESTAMP '2024-02-29 13:45:30.123456'", "TIMESTAMP '2024-02-29 13:45:30'", "TIMESTAMP '1900-01-01 00:00:00.000001'",
	"CAST('-infinity' AS timestamp)",
	"CAST('2024-07-01 12:00:00+00' AS timestamptz)", "CAST('2024-01-01 12:00:00+00' AS timestamptz)",
	"INTERVAL '-1 year -2 months 3 days -04:05:06'", "INTERVAL '0 seconds'", "INTERVAL '49 hours'",
	"INTERVAL '1 day 1 microsecond'", "INTERVAL '14 months 3 days 4 hours 5 minutes 6.5 seconds'",
	"INTERVAL '-1 day'", "INTERVAL '1 month -1 day'", "INTERVAL '-00:00:01.5'",
	"CAST('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11' AS uuid)",
	"CAST('{\"a\": [1, 2]}' AS json)",
	"ARRAY[1, 2, NULL]", "ARRAY[CAST(1 AS bigint)]", "ARRAY['a\"b', NULL, 'null', '', 'x y', 'a,b', 'ä']",
	"ARRAY[CAST(1.5 AS float8), CAST('NaN' AS float8)]", "ARRAY[true, false]", "ARRAY[DATE '2024-01-02']",
	"ARRAY[TIMESTAMP '2024-01-02 03:04:05']", "ARRAY[CAST(1.50 AS numeric(4,2))]", "ARRAY[CAST('\\x01' AS bytea)]",
	"ARRAY[CAST('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11' AS uuid)]", "ARRAY[INTERVAL '1 day']",
	"CAST(NULL AS integer)",
}

type resultShape struct {
	oid    uint32
	mod    int32
	size   int16
	text   []byte
	binary []byte
}

func collect(t *testing.T, c *pgconn.PgConn, expr string) resultShape {
	t.Helper()
	ctx := context.Background()
	var r resultShape
	res := c.ExecParams(ctx, "SELECT "+expr, nil, nil, nil, []int16{0}).Read()
	require.NoError(t, res.Err, expr)
	require.Len(t, res.Rows, 1, expr)
	fd := res.FieldDescriptions[0]
	r.oid, r.mod, r.size, r.text = fd.DataTypeOID, fd.TypeModifier, fd.DataTypeSize, res.Rows[0][0]
	res = c.ExecParams(ctx, "SELECT "+expr, nil, nil, nil, []int16{1}).Read()
	require.NoError(t, res.Err, expr)
	r.binary = res.Rows[0][0]
	return r
}

func TestConformanceWithPostgreSQL(t *testing.T) {
	pg := testpg.Start(t, testpg.Options{})
	ts := startServer(t, Config{})
	ctx := context.Background()
	connect := func(url string) *pgconn.PgConn {
		cfg, err := pgx.ParseConfig(url)
		require.NoError(t, err)
		cfg.RuntimeParams["timezone"] = "America/St_Johns"
		c, err := pgx.ConnectConfig(ctx, cfg)
		require.NoError(t, err)
		t.Cleanup(func() { c.Close(ctx) })
		return c.PgConn()
	}
	ref := connect(pg.URL(""))
	ours := connect(ts.url("tester", ""))
	for _, expr := range conformanceExprs {
		want := collect(t, ref, expr)
		got := collect(t, ours, expr)
		assert.Equal(t, want.oid, got.oid, "type of %s", expr)
		assert.Equal(t, want.size, got.size, "size of %s", expr)
		assert.Equal(t, want.mod, got.mod, "typmod of %s", expr)
		assert.Equal(t, string(want.text), string(got.text), "text of %s", expr)
		assert.Equal(t, fmt.Sprintf("%x", want.binary), fmt.Sprintf("%x", got.binary), "binary of %s", expr)
		for _, opts := range []string{"", "(FORMAT csv, HEADER)", "(FORMAT binary)"} {
			q := "COPY (SELECT " + expr + " AS v) TO STDOUT " + opts
			var w, g bytes.Buffer
			_, err := ref.CopyTo(ctx, &w, q)
			require.NoError(t, err, q)
			_, err = ours.CopyTo(ctx, &g, q)
			require.NoError(t, err, q)
			assert.Equal(t, fmt.Sprintf("%q", w.String()), fmt.Sprintf("%q", g.String()), q)
		}
	}
}
