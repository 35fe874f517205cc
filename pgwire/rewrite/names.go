package rewrite

import "strings"

// nameColumns gives the unaliased result columns of a statement PostgreSQL's names: a function
// call is named after the function (count, version), a cast after its type (int4, text), a CASE
// "case", and any other expression "?column?". Column references keep their names. Only the
// outermost select list is named (or the first branch of a set operation, which names the
// result), so references from outer queries to inner columns are unaffected.
func (r *rewriter) nameColumns(top node) {
	for str(top, "type") == "SET_OPERATION_NODE" {
		left, ok := top["left"].(node)
		if !ok {
			return
		}
		top = left
	}
	if str(top, "type") != "SELECT_NODE" {
		return
	}
	list, _ := top["select_list"].([]any)
	for _, e := range list {
		n, ok := e.(node)
		if !ok || str(n, "alias") != "" {
			continue
		}
		if str(n, "class") == "COLUMN_REF" {
			// current_user and friends become calls; they keep the name they had
			if names, _ := n["column_names"].([]any); len(names) == 1 {
				if s, _ := names[0].(string); keywordFunctions[strings.ToLower(s)] {
					if text := r.textAt(n); text != "" && text[0] != '"' {
						n["alias"] = strings.ToLower(s)
						r.changed = true
					}
				}
			}
			continue
		}
		if name := pgColumnName(n); name != "" {
			n["alias"] = name
			r.changed = true
		}
	}
}

// castNames are PostgreSQL's names of the types DuckDB parses casts into.
var castNames = map[string]string{
	"BOOLEAN": "bool", "TINYINT": "int2", "SMALLINT": "int2", "INTEGER": "int4", "BIGINT": "int8",
	"FLOAT": "float4", "DOUBLE": "float8", "DECIMAL": "numeric", "VARCHAR": "text", "BLOB": "bytea",
	"DATE": "date", "TIME": "time", "TIMESTAMP": "timestamp", "TIMESTAMP WITH TIME ZONE": "timestamptz",
	"TIMESTAMP_TZ": "timestamptz", "INTERVAL": "interval", "UUID": "uuid", "LIST": "array",
}

func pgColumnName(n node) string {
	switch str(n, "class") {
	case "COLUMN_REF", "STAR", "SUBQUERY", "PARAMETER":
		return ""
	case "FUNCTION":
		if op, _ := n["is_operator"].(bool); op {
			return "?column?"
		}
		switch name := strings.ToLower(str(n, "function_name")); name {
		case "count_star":
			return "count"
		case "list_value":
			return "array"
		case "regexp_full_match", "~~", "!~~", "~~*", "!~~*", "like_escape", "ilike_escape":
			return "?column?"
		default:
			return name
		}
	case "CAST":
		ct, _ := n["cast_type"].(node)
		id := str(ct, "id")
		if id == "UNBOUND" {
			ti, _ := ct["type_info"].(node)
			return strings.ToLower(str(ti, "name"))
		}
		if id == "VARCHAR" {
			if ti, _ := ct["type_info"].(node); str(ti, "alias") == "JSON" {
				return "json"
			}
		}
		if name, ok := castNames[id]; ok {
			return name
		}
		return "?column?"
	case "CASE":
		return "case"
	}
	return "?column?"
}

// keywordFunctions are PostgreSQL's functions called without parentheses.
var keywordFunctions = map[string]bool{"current_user": true, "session_user": true, "user": true,
	"current_role": true, "current_catalog": true, "current_schema": true}
