package pipeline

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLeadingKeyword(t *testing.T) {
	require.Equal(t, "SELECT", leadingKeyword("  -- hi\n /* x */ select 1"))
	require.Equal(t, "(", leadingKeyword("(SELECT 1) UNION (SELECT 2)"))
	require.Equal(t, "WITH", leadingKeyword("with x as (select 1) select * from x"))
	require.Equal(t, "CREATE", leadingKeyword("CREATE TABLE t(a INT)"))
}

func TestRefsFromAST(t *testing.T) {
	// Shape of json_serialize_sql: base tables anywhere, CTE names excluded, qualified skipped.
	js := `{"error": false, "statements": [{"node": {"type": "SELECT_NODE",
	  "cte_map": {"map": [{"key": "recent", "value": {}}]},
	  "from_table": {"type": "JOIN",
	     "left": {"type": "BASE_TABLE", "table_name": "Orders", "schema_name": "", "catalog_name": ""},
	     "right": {"type": "BASE_TABLE", "table_name": "recent", "schema_name": "", "catalog_name": ""}},
	  "where_clause": {"subquery": {"node": {"from_table": {"type": "BASE_TABLE", "table_name": "t", "schema_name": "information_schema", "catalog_name": ""}}}}}}]}`
	got, err := refsFromAST(js)
	require.NoError(t, err)
	require.Equal(t, []string{"Orders"}, got)
}
