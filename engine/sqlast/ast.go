package sqlast

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/ankaflow/ankaflow/engine"
)

// Serialize is DuckDB's parse tree of query as JSON (json_serialize_sql): the one place the
// project asks DuckDB's parser for it. A query DuckDB cannot parse gives JSON with
// "error": true (see its error_type and error_message), not an error.
func Serialize(ctx context.Context, s *engine.Session, query string) (string, error) {
	var js string
	if err := s.QueryRowContext(ctx, "SELECT json_serialize_sql(?::VARCHAR)::VARCHAR", query).Scan(&js); err != nil {
		return "", err
	}
	return js, nil
}

// BaseTables collects the unqualified base tables a query reads from DuckDB's JSON AST
// (json_serialize_sql), leaving out names defined by the query's own CTEs.
func BaseTables(js string) ([]string, error) {
	var root any
	if err := json.Unmarshal([]byte(js), &root); err != nil {
		return nil, err
	}
	if m, ok := root.(map[string]any); ok && m["error"] == true {
		return nil, fmt.Errorf("%v", m["error_message"])
	}
	tables := map[string]bool{}
	ctes := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if x["type"] == "BASE_TABLE" {
				name, _ := x["table_name"].(string)
				schema, _ := x["schema_name"].(string)
				catalog, _ := x["catalog_name"].(string)
				if name != "" && schema == "" && catalog == "" {
					tables[name] = true
				}
			}
			if cm, ok := x["cte_map"].(map[string]any); ok {
				if entries, ok := cm["map"].([]any); ok {
					for _, e := range entries {
						if em, ok := e.(map[string]any); ok {
							if k, ok := em["key"].(string); ok {
								ctes[strings.ToLower(k)] = true
							}
						}
					}
				}
			}
			for _, c := range x {
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(root)
	var out []string
	for t := range tables {
		if !ctes[strings.ToLower(t)] {
			out = append(out, t)
		}
	}
	sort.Strings(out)
	return out, nil
}
