package rewrite

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Object-identifier casts inside comparisons and arrays. The cast rewrite turns a column cast
// to regtype (regclass, regnamespace) into the object's name, for display, and a string cast to
// regtype into the object's OID. PostgreSQL compares reg* values by OID, so pgcli's
// `WHERE p.prorettype::regtype != 'trigger'::regtype` must compare OIDs, not a name with a number.

// regPairs are the (name helper, OID helper) pairs of the reg* types.
func (r *rewriter) regPairs() [][2]string {
	return [][2]string{{r.cat.RegtypeName, r.cat.RegtypeOID}, {r.cat.RegclassName, r.cat.RegclassOID},
		{r.cat.RegnamespaceName, r.cat.RegnamespaceOID}}
}

// helperArg returns the argument of a call to the helper named qualified.
func helperArg(v any, qualified string) (any, bool) {
	f, ok := v.(node)
	if !ok || qualified == "" || str(f, "class") != "FUNCTION" ||
		str(f, "catalog")+"."+str(f, "schema")+"."+str(f, "function_name") != qualified {
		return nil, false
	}
	args, _ := f["children"].([]any)
	if len(args) != 1 {
		return nil, false
	}
	return args[0], true
}

// regComparison compares the OIDs of reg* casts: a side that became the object's name goes
// back to the OID it was cast from, when the other side is a reg* value of the same type.
func (r *rewriter) regComparison(n node) any {
	for _, p := range r.regPairs() {
		name, oid := p[0], p[1]
		lName, lIsName := helperArg(n["left"], name)
		rName, rIsName := helperArg(n["right"], name)
		_, lIsOID := helperArg(n["left"], oid)
		_, rIsOID := helperArg(n["right"], oid)
		if !(lIsName && (rIsName || rIsOID) || rIsName && lIsOID) {
			continue
		}
		if lIsName {
			n["left"] = lName
		}
		if rIsName {
			n["right"] = rName
		}
		r.changed = true
		return n
	}
	return n
}

// regListCast turns an array of OIDs cast to regtype[] (regclass[], regnamespace[]) into the
// array of the objects' names, element by element: pgcli lists function argument types with
// `proargtypes::regtype[]::text[]`.
func (r *rewriter) regListCast(n node) any {
	ct, _ := n["cast_type"].(node)
	ti, _ := ct["type_info"].(node)
	elem, _ := ti["child_type"].(node)
	if str(elem, "id") != "UNBOUND" {
		return n
	}
	eti, _ := elem["type_info"].(node)
	if s := strings.ToLower(str(eti, "schema")); s != "" && s != "pg_catalog" {
		return n
	}
	var helper string
	switch strings.ToLower(str(eti, "name")) {
	case "regtype":
		helper = r.cat.RegtypeName
	case "regclass":
		helper = r.cat.RegclassName
	case "regnamespace":
		helper = r.cat.RegnamespaceName
	default:
		return n
	}
	if helper == "" {
		return n
	}
	tree, err := regListTree(n["child"], helper)
	if err != nil {
		return n
	}
	r.changed = true
	return keepAlias(n, tree)
}

// regListTemplate is json_serialize_sql's tree of
//
//	CASE WHEN ankaflow_reg_list IS NULL THEN NULL ELSE coalesce((SELECT list(f(ankaflow_reg_element)
//	ORDER BY ankaflow_reg_index) FROM unnest(ankaflow_reg_list) WITH ORDINALITY AS
//	ankaflow_reg_u(ankaflow_reg_element, ankaflow_reg_index)), CAST([] AS VARCHAR[])) END
//
// (query locations cleared): a subquery, because the name helpers read the catalog with
// subqueries, which DuckDB does not allow inside a list_transform lambda. PostgreSQL keeps NULL
// and empty arrays apart, and so does this.
const regListTemplate = `{"class":"CASE","type":"CASE_EXPR","alias":"","query_location":18446744073709551615,"case_checks":[{"when_expr":{"class":"OPERATOR","type":"OPERATOR_IS_NULL","alias":"","query_location":18446744073709551615,"children":[{"class":"COLUMN_REF","type":"COLUMN_REF","alias":"","query_location":18446744073709551615,"column_names":["ankaflow_reg_list"]}]},"then_expr":{"class":"CONSTANT","type":"VALUE_CONSTANT","alias":"","query_location":18446744073709551615,"value":{"type":{"id":"NULL","type_info":null},"is_null":true}}}],"else_expr":{"class":"OPERATOR","type":"OPERATOR_COALESCE","alias":"","query_location":18446744073709551615,"children":[{"class":"SUBQUERY","type":"SUBQUERY","alias":"","query_location":18446744073709551615,"subquery_type":"SCALAR","subquery":{"node":{"type":"SELECT_NODE","modifiers":[],"cte_map":{"map":[]},"select_list":[{"class":"FUNCTION","type":"FUNCTION","alias":"","query_location":18446744073709551615,"function_name":"list","schema":"","children":[{"class":"FUNCTION","type":"FUNCTION","alias":"","query_location":18446744073709551615,"function_name":"f","schema":"","children":[{"class":"COLUMN_REF","type":"COLUMN_REF","alias":"","query_location":18446744073709551615,"column_names":["ankaflow_reg_element"]}],"filter":null,"order_bys":{"type":"ORDER_MODIFIER","orders":[]},"distinct":false,"is_operator":false,"export_state":false,"catalog":""}],"filter":null,"order_bys":{"type":"ORDER_MODIFIER","orders":[{"type":"ORDER_DEFAULT","null_order":"ORDER_DEFAULT","expression":{"class":"COLUMN_REF","type":"COLUMN_REF","alias":"","query_location":18446744073709551615,"column_names":["ankaflow_reg_index"]}}]},"distinct":false,"is_operator":false,"export_state":false,"catalog":""}],"from_table":{"type":"TABLE_FUNCTION","alias":"ankaflow_reg_u","sample":null,"query_location":18446744073709551615,"function":{"class":"FUNCTION","type":"FUNCTION","alias":"","query_location":18446744073709551615,"function_name":"unnest","schema":"","children":[{"class":"COLUMN_REF","type":"COLUMN_REF","alias":"","query_location":18446744073709551615,"column_names":["ankaflow_reg_list"]}],"filter":null,"order_bys":{"type":"ORDER_MODIFIER","orders":[]},"distinct":false,"is_operator":false,"export_state":false,"catalog":""},"column_name_alias":["ankaflow_reg_element","ankaflow_reg_index"],"with_ordinality":"WITH_ORDINALITY"},"where_clause":null,"group_expressions":[],"group_sets":[],"aggregate_handling":"STANDARD_HANDLING","having":null,"sample":null,"qualify":null},"named_param_map":[]},"child":null,"comparison_type":"INVALID"},{"class":"CAST","type":"OPERATOR_CAST","alias":"","query_location":18446744073709551615,"child":{"class":"FUNCTION","type":"FUNCTION","alias":"","query_location":18446744073709551615,"function_name":"list_value","schema":"main","children":[],"filter":null,"order_bys":{"type":"ORDER_MODIFIER","orders":[]},"distinct":false,"is_operator":false,"export_state":false,"catalog":""},"cast_type":{"id":"LIST","type_info":{"type":"LIST_TYPE_INFO","alias":"","extension_info":null,"child_type":{"id":"VARCHAR","type_info":null}}},"try_cast":false}]}}`

// regListTree instantiates regListTemplate for the array expression list and the name helper.
func regListTree(list any, helper string) (any, error) {
	listJSON, err := json.Marshal(list)
	if err != nil {
		return nil, err
	}
	var tree any
	if err := decodeNumbers([]byte(regListTemplate), &tree); err != nil {
		return nil, err
	}
	var fill func(v any) (any, error)
	fill = func(v any) (any, error) {
		switch x := v.(type) {
		case []any:
			for i, e := range x {
				var err error
				if x[i], err = fill(e); err != nil {
					return nil, err
				}
			}
		case node:
			if names, _ := x["column_names"].([]any); str(x, "class") == "COLUMN_REF" && len(names) == 1 && names[0] == "ankaflow_reg_list" {
				var copied any
				err := decodeNumbers(listJSON, &copied)
				return copied, err
			}
			if str(x, "class") == "FUNCTION" && str(x, "function_name") == "f" {
				setFunction(x, helper)
			}
			for k, e := range x {
				var err error
				if x[k], err = fill(e); err != nil {
					return nil, err
				}
			}
		}
		return v, nil
	}
	return fill(tree)
}

func decodeNumbers(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return dec.Decode(v)
}
