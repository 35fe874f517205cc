package cli_test

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSQLOutputValues: `ankaflow sql` prints values as DuckDB's CAST(… AS VARCHAR) does in its
// table and CSV output, and JSON with keys in column/field order and exact numbers.
func TestSQLOutputValues(t *testing.T) {
	q := "SELECT 1.50 AS z, {'b': 1, 'a': 'x y'} AS s, INTERVAL 90 MINUTE AS iv, 7::DOUBLE AS d, " +
		"MAP {'k': [1, 2]} AS m, 123456789012345678.12 AS big, '日本' AS w"
	out, _ := cliRun(t, "", "sql", "--format", "json", "-c", q)
	require.Equal(t, `{"z":1.50,"s":{"b":1,"a":"x y"},"iv":"01:30:00","d":7,"m":{"k":[1,2]},"big":123456789012345678.12,"w":"日本"}`+"\n", out)
	out, _ = cliRun(t, "", "sql", "--format", "csv", "-c", q)
	require.Equal(t, "z,s,iv,d,m,big,w\n1.50,\"{'b': 1, 'a': x y}\",01:30:00,7.0,\"{k=[1, 2]}\",123456789012345678.12,日本\n", out)
	out, _ = cliRun(t, "", "sql", "-c", "SELECT '日本' AS w, 1 AS n UNION ALL SELECT 'abcd', 22")
	require.Equal(t, " w    | n\n------+----\n 日本 |  1\n abcd | 22\n(2 rows)\n", out)
}
