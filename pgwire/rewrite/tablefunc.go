package rewrite

import "encoding/json"

// tableFunctionArgs puts each argument of a table function (FROM generate_series(1, x)) that
// calls one of the catalog's macros into a scalar subquery. DuckDB binds a table function's
// arguments before the query, where a macro that has subqueries of its own (current_schemas)
// does not bind: pgjdbc's type lookup reads generate_series(1, array_upper(current_schemas(false), 1)).
func (r *rewriter) tableFunctionArgs(n node) {
	fn, _ := n["function"].(node)
	args, _ := fn["children"].([]any)
	for i, a := range args {
		if callsCatalog(a) {
			args[i] = scalarSubquery(a)
			r.changed = true
		}
	}
}

// callsCatalog reports whether an expression calls a function qualified with a catalog (only
// the rewrite qualifies functions so: the catalog's macros).
func callsCatalog(v any) bool {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if callsCatalog(e) {
				return true
			}
		}
	case node:
		if str(x, "class") == "FUNCTION" && str(x, "catalog") != "" {
			return true
		}
		for _, e := range x {
			if callsCatalog(e) {
				return true
			}
		}
	}
	return false
}

// scalarSubquery is (SELECT expr).
func scalarSubquery(expr any) node {
	none := json.Number("18446744073709551615")
	sel := node{"type": "SELECT_NODE", "modifiers": []any{}, "cte_map": node{"map": []any{}}, "select_list": []any{expr},
		"from_table":   node{"type": "EMPTY", "alias": "", "sample": nil, "query_location": none},
		"where_clause": nil, "group_expressions": []any{}, "group_sets": []any{}, "aggregate_handling": "STANDARD_HANDLING",
		"having": nil, "sample": nil, "qualify": nil}
	return node{"class": "SUBQUERY", "type": "SUBQUERY", "alias": "", "query_location": none, "subquery_type": "SCALAR",
		"subquery": node{"node": sel, "named_param_map": []any{}}, "child": nil, "comparison_type": "INVALID"}
}
