package rewrite

// FROM unnest(f(…)) where f is one of the catalog's macros: DuckDB refuses subqueries in a
// table function's arguments ("Table function cannot contain subqueries"), and the catalog's
// macros read the catalog with subqueries. pgcli reads its search path with
// `SELECT * FROM unnest(current_schemas(true))`. The table function becomes the subquery
// (SELECT unnest(f(…)) AS unnest), named as PostgreSQL names unnest's table and column.

// unnestTemplate is json_serialize_sql's tree of the FROM item
// `(SELECT unnest(ankaflow_unnest_arg) AS unnest) AS ankaflow_alias(ankaflow_col)`
// (query locations cleared).
const unnestTemplate = `{"type":"SUBQUERY","alias":"ankaflow_alias","sample":null,"query_location":18446744073709551615,"subquery":{"node":{"type":"SELECT_NODE","modifiers":[],"cte_map":{"map":[]},"select_list":[{"class":"FUNCTION","type":"FUNCTION","alias":"unnest","query_location":18446744073709551615,"function_name":"unnest","schema":"","children":[{"class":"COLUMN_REF","type":"COLUMN_REF","alias":"","query_location":18446744073709551615,"column_names":["ankaflow_unnest_arg"]}],"filter":null,"order_bys":{"type":"ORDER_MODIFIER","orders":[]},"distinct":false,"is_operator":false,"export_state":false,"catalog":""}],"from_table":{"type":"EMPTY","alias":"","sample":null,"query_location":18446744073709551615},"where_clause":null,"group_expressions":[],"group_sets":[],"aggregate_handling":"STANDARD_HANDLING","having":null,"sample":null,"qualify":null},"named_param_map":[]},"column_name_alias":["ankaflow_col"]}`

func (r *rewriter) catalogUnnest(n node) any {
	fn, _ := n["function"].(node)
	args, _ := fn["children"].([]any)
	if s := str(fn, "schema"); str(fn, "function_name") != "unnest" || (s != "" && s != "pg_catalog") ||
		len(args) != 1 || str(n, "with_ordinality") == "WITH_ORDINALITY" || !callsCatalog(args[0]) {
		return n
	}
	var tree node
	if err := decodeNumbers([]byte(unnestTemplate), &tree); err != nil {
		return n
	}
	sub, _ := tree["subquery"].(node)
	sel, _ := sub["node"].(node)
	list, _ := sel["select_list"].([]any)
	call, _ := list[0].(node)
	call["children"] = []any{args[0]}
	alias := str(n, "alias")
	cols, _ := n["column_name_alias"].([]any)
	switch {
	case len(cols) > 0:
	case alias != "":
		cols = []any{alias} // FROM unnest(…) s: s is the value, as for any scalar function
	default:
		cols = []any{"unnest"}
	}
	if alias == "" {
		alias = "unnest"
	}
	tree["alias"], tree["column_name_alias"] = alias, cols
	r.changed = true
	return tree
}
