package rewrite

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Source is the table a query's result columns come from, when the query reads one plain table:
// PostgreSQL names it (and each column's number) in RowDescription, and pgjdbc's
// getTableName/isNullable rely on it.
type Source struct {
	Schema, Table string   // as written ("" schema: found along the search path)
	Columns       []string // per result column: the table column it is, "" for computed ones; nil for SELECT *
	Star          bool     // SELECT * (every column of the table, in order)
}

// SourceOf finds the Source of a serialised query (json_serialize_sql's output); false when the
// query is not a select list of plain columns (or *) over one table.
func SourceOf(serialized []byte) (Source, bool) {
	dec := json.NewDecoder(bytes.NewReader(serialized))
	dec.UseNumber()
	var root node
	if err := dec.Decode(&root); err != nil {
		return Source{}, false
	}
	stmts, _ := root["statements"].([]any)
	if len(stmts) != 1 {
		return Source{}, false
	}
	st, _ := stmts[0].(node)
	sel, _ := st["node"].(node)
	if str(sel, "type") != "SELECT_NODE" || len(anyList(sel["group_expressions"])) > 0 || sel["having"] != nil {
		return Source{}, false
	}
	if mods := anyList(sel["modifiers"]); len(mods) > 0 {
		for _, m := range mods {
			if t := str(asNode(m), "type"); t != "ORDER_MODIFIER" && t != "LIMIT_MODIFIER" {
				return Source{}, false
			}
		}
	}
	from := asNode(sel["from_table"])
	if str(from, "type") != "BASE_TABLE" || str(from, "catalog_name") != "" {
		return Source{}, false
	}
	src := Source{Schema: str(from, "schema_name"), Table: str(from, "table_name")}
	if strings.EqualFold(src.Schema, "pg_catalog") || strings.EqualFold(src.Schema, "information_schema") {
		return Source{}, false
	}
	alias := str(from, "alias")
	list := anyList(sel["select_list"])
	for _, e := range list {
		n := asNode(e)
		switch str(n, "class") {
		case "STAR":
			if len(list) != 1 || str(n, "relation_name") != "" || len(anyList(n["exclude_list"])) > 0 || len(anyList(n["replace_list"])) > 0 || n["expr"] != nil {
				return Source{}, false
			}
			src.Star = true
			return src, true
		case "COLUMN_REF":
			names := anyList(n["column_names"])
			col, _ := names[len(names)-1].(string)
			if len(names) == 2 {
				q, _ := names[0].(string)
				if !strings.EqualFold(q, alias) && !(alias == "" && strings.EqualFold(q, src.Table)) {
					return Source{}, false
				}
			} else if len(names) != 1 {
				return Source{}, false
			}
			src.Columns = append(src.Columns, col)
		default:
			src.Columns = append(src.Columns, "")
		}
	}
	return src, true
}

func anyList(v any) []any { l, _ := v.([]any); return l }
func asNode(v any) node   { n, _ := v.(node); return n }
