package pipeline

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSplitStatements(t *testing.T) {
	cases := map[string][]string{
		"SELECT 1; SELECT 2;":                         {"SELECT 1", "SELECT 2"},
		"SELECT ';' AS a; SELECT 2":                   {"SELECT ';' AS a", "SELECT 2"},
		`SELECT 1 AS "semi;colon"; SELECT 2`:          {`SELECT 1 AS "semi;colon"`, "SELECT 2"},
		"SELECT 1 -- a; comment\n; SELECT 2":          {"SELECT 1 -- a; comment", "SELECT 2"},
		"SELECT /* ; /* nested ; */ ; */ 1; SELECT 2": {"SELECT /* ; /* nested ; */ ; */ 1", "SELECT 2"},
		"SELECT $$a;b$$; SELECT $tag$;$tag$":          {"SELECT $$a;b$$", "SELECT $tag$;$tag$"},
		"SELECT 'it''s; fine'; SELECT E'a\\';b'":      {"SELECT 'it''s; fine'", "SELECT E'a\\';b'"},
		"  ;; -- only a comment\n ; /* x */":          nil,
		"SELECT 1":                                    {"SELECT 1"},
	}
	for in, want := range cases {
		require.Equal(t, want, SplitStatements(in), in)
	}
}

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
