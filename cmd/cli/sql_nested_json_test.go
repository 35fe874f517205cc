package cli_test

import (
	"encoding/csv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSQLOutputNestedJSON: a JSON value inside a LIST (at any depth) prints unquoted, as DuckDB
// prints it, and inside a STRUCT or MAP quoted, as DuckDB prints it: each value is compared with
// DuckDB's own CAST(… AS VARCHAR) of the same expression.
func TestSQLOutputNestedJSON(t *testing.T) {
	exprs := []string{
		`[json '{"a": 1}']`, `[[json '[1, "x y"]', NULL]]`, `{'l': [json '"s"']}`, `MAP {'k': [json '{"b": [2]}']}`,
		`{'j': json '{"a": 1}'}`, `MAP {'k': json '{"a": 1}'}`, `[{'j': json 'true', 'l': [json '{}']}]`,
	}
	var cols []string
	for i, e := range exprs {
		cols = append(cols, e+" AS v"+string(rune('a'+i)), "CAST("+e+" AS VARCHAR) AS d"+string(rune('a'+i)))
	}
	out, _ := cliRun(t, "", "sql", "--format", "csv", "-c", "SELECT "+strings.Join(cols, ", "))
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	require.NoError(t, err)
	require.Len(t, recs, 2)
	for i, e := range exprs {
		require.Equal(t, recs[1][2*i+1], recs[1][2*i], "%s", e)
	}
	require.Equal(t, `[{"a": 1}]`, recs[1][0])

}
