package sqlast

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestBaseTables(t *testing.T) {
	// Shape of json_serialize_sql: base tables anywhere, CTE names excluded, qualified skipped.
	js := `{"error": false, "statements": [{"node": {"type": "SELECT_NODE",
	  "cte_map": {"map": [{"key": "recent", "value": {}}]},
	  "from_table": {"type": "JOIN",
	     "left": {"type": "BASE_TABLE", "table_name": "Orders", "schema_name": "", "catalog_name": ""},
	     "right": {"type": "BASE_TABLE", "table_name": "recent", "schema_name": "", "catalog_name": ""}},
	  "where_clause": {"subquery": {"node": {"from_table": {"type": "BASE_TABLE", "table_name": "t", "schema_name": "information_schema", "catalog_name": ""}}}}}}]}`
	got, err := BaseTables(js)
	require.NoError(t, err)
	require.Equal(t, []string{"Orders"}, got)
}
