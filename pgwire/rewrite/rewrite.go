// Package rewrite gives client SQL PostgreSQL's meaning where DuckDB's differs, on DuckDB's own
// parse tree: the caller serialises a statement with json_serialize_sql, Statement changes the
// tree, and the caller turns it back into SQL with json_deserialize_sql. Nothing here reads SQL
// text except at the positions DuckDB's parser reports (to tell `~` from SIMILAR TO, which
// DuckDB parses to the same function).
//
// What changes:
//   - pg_catalog relations and functions resolve to the server's catalog (package
//     pgwire/catalog) instead of DuckDB's partial pg_catalog; other pg_catalog-qualified
//     functions lose the qualifier (pg_catalog.lower → lower); the schema public is DuckDB's main.
//   - `~`, `~*`, `!~`, `!~*` are partial regular-expression matches; SIMILAR TO with a constant
//     pattern is translated to a regular expression.
//   - division and modulo by zero raise division_by_zero (DuckDB returns NULL or infinity).
//   - casts to regclass, regtype, regproc, regnamespace, oid and name; COLLATE "default"/"C".
//   - reg* casts compare by OID; casts to regtype[] (regclass[], regnamespace[]) list names.
//   - LIKE and ILIKE without ESCAPE escape with a backslash.
//   - FROM unnest(<catalog function>) becomes a subquery (no subqueries in table functions).
//   - current_user, session_user, user, current_role, current_catalog, current_schema.
//   - the result columns are named as PostgreSQL names them (count, version, ?column?).
package rewrite

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Catalog says where the server's catalog objects are.
type Catalog struct {
	Relations map[string]string // PostgreSQL relation name → qualified DuckDB name (catalog.schema.name)
	Functions map[string]string // PostgreSQL function name → qualified macro name
	// Helpers: qualified names of the catalog's helper macros, by role.
	RegclassOID, RegclassName         string
	RegtypeOID, RegtypeName           string
	RegprocName, RegprocOID           string
	RegnamespaceOID, RegnamespaceName string
	NonZero                           string // raises division_by_zero for a zero divisor
	ExpandArray                       string // information_schema._pg_expandarray
	// InformationSchema: information_schema view name → qualified replacement (PostgreSQL's
	// type and schema names, the client's database).
	InformationSchema map[string]string
}

type node = map[string]any

// Statement rewrites one serialised statement (json_serialize_sql's output). sql is the text
// that was serialised (its query_location offsets are byte offsets into it). It returns the new
// serialisation and whether anything changed; an error when the input is not a parsed
// statement (json_serialize_sql reports an error for anything but SELECT).
func Statement(sql string, serialized []byte, cat *Catalog) ([]byte, bool, error) {
	dec := json.NewDecoder(bytes.NewReader(serialized))
	dec.UseNumber() // query_location is a uint64 (2^64-1 for "none")
	var root node
	if err := dec.Decode(&root); err != nil {
		return nil, false, err
	}
	if e, _ := root["error"].(bool); e {
		return nil, false, errNotSerializable
	}
	stmts, _ := root["statements"].([]any)
	if len(stmts) != 1 {
		return nil, false, errNotSerializable
	}
	r := &rewriter{sql: sql, cat: cat}
	st, _ := stmts[0].(node)
	if top, ok := st["node"].(node); ok {
		r.nameColumns(top)
	}
	r.walk(st)
	if !r.changed {
		return serialized, false, nil
	}
	out, err := json.Marshal(root)
	return out, true, err
}

type rewriteError string

func (e rewriteError) Error() string { return string(e) }

const errNotSerializable = rewriteError("rewrite: statement cannot be serialised")

type rewriter struct {
	sql     string
	cat     *Catalog
	changed bool
}

// walk visits every object of the tree, children first, rewriting nodes in place.
func (r *rewriter) walk(v any) any {
	switch x := v.(type) {
	case []any:
		for i, e := range x {
			x[i] = r.walk(e)
		}
		return x
	case node:
		for k, e := range x {
			x[k] = r.walk(e)
		}
		return r.rewriteNode(x)
	}
	return v
}

func str(n node, k string) string { s, _ := n[k].(string); return s }

func (r *rewriter) rewriteNode(n node) any {
	switch str(n, "type") {
	case "BASE_TABLE":
		r.table(n)
		return n
	case "TABLE_FUNCTION":
		r.scalarTableFunction(n)
		if u, _ := r.catalogUnnest(n).(node); str(u, "type") == "SUBQUERY" {
			return u // unnest(catalog macro) became a subquery of its own
		}
		r.tableFunctionArgs(n)
		return n
	}
	switch str(n, "class") {
	case "FUNCTION":
		return r.function(n)
	case "OPERATOR":
		if str(n, "type") == "OPERATOR_NOT" {
			return r.not(n)
		}
	case "CAST":
		return r.cast(n)
	case "COMPARISON":
		return r.regComparison(n)
	case "COLLATE":
		switch strings.ToLower(str(n, "collation")) {
		case "pg_catalog.default", "default", "c", "posix", "pg_catalog.c", "pg_catalog.posix", `"c"`:
			r.changed = true
			return keepAlias(n, n["child"])
		}
	case "COLUMN_REF":
		return r.keywordFunction(n)
	case "SUBQUERY":
		return r.anyArray(n)
	}
	return n
}

// anyArray turns x = ANY(array), which DuckDB plans as a subquery over unnest(array) (and then
// cannot use in an outer join's condition, as SQLAlchemy does), into list_contains(array, x).
func (r *rewriter) anyArray(n node) any {
	if str(n, "subquery_type") != "ANY" || str(n, "comparison_type") != "COMPARE_EQUAL" {
		return n
	}
	sq, _ := n["subquery"].(node)
	sel, _ := sq["node"].(node)
	if str(sel, "type") != "SELECT_NODE" || sel["where_clause"] != nil {
		return n
	}
	if from, _ := sel["from_table"].(node); str(from, "type") != "EMPTY" {
		return n
	}
	list, _ := sel["select_list"].([]any)
	if len(list) != 1 {
		return n
	}
	f, _ := list[0].(node)
	args, _ := f["children"].([]any)
	if str(f, "class") != "FUNCTION" || str(f, "function_name") != "unnest" || len(args) != 1 {
		return n
	}
	r.changed = true
	return keepAlias(n, call("list_contains", args[0], n["child"]))
}

// keepAlias gives the replacement of a node the alias the node had.
func keepAlias(old node, repl any) any {
	if nn, ok := repl.(node); ok {
		if a := str(old, "alias"); a != "" {
			nn["alias"] = a
		}
	}
	return repl
}

func (r *rewriter) table(n node) {
	if str(n, "catalog_name") != "" {
		return
	}
	schema := strings.ToLower(str(n, "schema_name"))
	name := strings.ToLower(str(n, "table_name"))
	if schema == "pg_catalog" || schema == "" {
		if q, ok := r.cat.Relations[name]; ok {
			parts := strings.SplitN(q, ".", 3)
			n["catalog_name"], n["schema_name"], n["table_name"] = parts[0], parts[1], parts[2]
			if str(n, "alias") == "" {
				n["alias"] = name // column references keep naming the relation as written
			}
			r.changed = true
			return
		}
	}
	if schema == "public" {
		n["schema_name"] = "main"
		r.changed = true
	}
	if q, ok := r.cat.InformationSchema[name]; ok && schema == "information_schema" {
		parts := strings.SplitN(q, ".", 3)
		n["catalog_name"], n["schema_name"], n["table_name"] = parts[0], parts[1], parts[2]
		if str(n, "alias") == "" {
			n["alias"] = name
		}
		r.changed = true
	}
}

// location is the byte offset the parser recorded for a node, or -1.
func (r *rewriter) location(n node) int {
	num, ok := n["query_location"].(json.Number)
	if !ok {
		return -1
	}
	i, err := num.Int64()
	if err != nil || i < 0 || int(i) >= len(r.sql) {
		return -1
	}
	return int(i)
}

// textAt is the SQL text at a node's recorded position ("" when unknown).
func (r *rewriter) textAt(n node) string {
	if i := r.location(n); i >= 0 {
		return r.sql[i:]
	}
	return ""
}

func setFunction(n node, qualified string) {
	parts := strings.SplitN(qualified, ".", 3)
	n["catalog"], n["schema"], n["function_name"] = parts[0], parts[1], parts[2]
}

// call builds a function call node.
func call(qualified string, args ...any) node {
	n := node{"class": "FUNCTION", "type": "FUNCTION", "alias": "", "query_location": json.Number("18446744073709551615"),
		"children": append([]any{}, args...), "filter": nil, "order_bys": node{"type": "ORDER_MODIFIER", "orders": []any{}},
		"distinct": false, "is_operator": false, "export_state": false, "catalog": "", "schema": "", "function_name": qualified}
	if strings.Count(qualified, ".") == 2 {
		setFunction(n, qualified)
	}
	return n
}

func isStringConstant(v any) bool {
	c, ok := v.(node)
	if !ok || str(c, "class") != "CONSTANT" {
		return false
	}
	val, _ := c["value"].(node)
	_, isString := val["value"].(string)
	return isString
}

func constant(s string) node {
	return node{"class": "CONSTANT", "type": "VALUE_CONSTANT", "alias": "", "query_location": json.Number("18446744073709551615"),
		"value": node{"type": node{"id": "VARCHAR", "type_info": nil}, "is_null": false, "value": s}}
}

func notOf(child any) node {
	return node{"class": "OPERATOR", "type": "OPERATOR_NOT", "alias": "", "query_location": json.Number("18446744073709551615"),
		"children": []any{child}}
}

func (r *rewriter) function(n node) any {
	name := strings.ToLower(str(n, "function_name"))
	schema := strings.ToLower(str(n, "schema"))
	if str(n, "catalog") != "" {
		return n
	}
	children, _ := n["children"].([]any)
	if out, ok := r.likeEscape(n, name, children); ok {
		return out
	}
	opText := r.textAt(n)
	switch {
	case name == "regexp_full_match" && len(children) == 2 && strings.HasPrefix(opText, "~"):
		// a ~ b: PostgreSQL's ~ matches anywhere in the string
		n["function_name"] = "regexp_matches"
		r.changed = true
		return n
	case name == "regexp_full_match" && len(children) == 2 && hasPrefixFold(opText, "similar"):
		r.similar(n, children)
		return n
	case name == "~*" || name == "!~*":
		if b, _ := n["is_operator"].(bool); b && len(children) == 2 {
			r.changed = true
			m := call("regexp_matches", children[0], children[1], constant("i"))
			if name == "!~*" {
				return keepAlias(n, notOf(m))
			}
			return keepAlias(n, m)
		}
	case name == "/" || name == "//" || name == "%":
		if b, _ := n["is_operator"].(bool); b && len(children) == 2 && r.cat.NonZero != "" {
			children[1] = call(r.cat.NonZero, children[1])
			r.changed = true
		}
		return n
	}
	if to, ok := renamed[name]; ok && (schema == "" || schema == "pg_catalog") {
		n["schema"], n["function_name"] = "", to
		r.changed = true
		return n
	}
	if schema == "information_schema" && name == "_pg_expandarray" && r.cat.ExpandArray != "" {
		setFunction(n, r.cat.ExpandArray)
		r.changed = true
		return n
	}
	if schema == "pg_catalog" || schema == "" {
		if q, ok := r.cat.Functions[name]; ok {
			setFunction(n, q)
			r.changed = true
			return n
		}
		if schema == "pg_catalog" {
			n["schema"] = ""
			r.changed = true
		}
	}
	if schema == "public" {
		n["schema"] = "main"
		r.changed = true
	}
	return n
}

func hasPrefixFold(s, p string) bool { return len(s) >= len(p) && strings.EqualFold(s[:len(p)], p) }

// similar turns SIMILAR TO's pattern into the regular expression it means, when it is a
// constant. (A pattern computed at run time keeps DuckDB's reading: a regular expression.)
func (r *rewriter) similar(n node, children []any) {
	c, ok := children[1].(node)
	if !ok || str(c, "class") != "CONSTANT" {
		return
	}
	v, _ := c["value"].(node)
	p, ok := v["value"].(string)
	if !ok {
		return
	}
	v["value"] = SimilarToRegex(p)
	r.changed = true
}

// not handles NOT applied to a pattern match: `a !~ b` parses as NOT regexp_full_match(a, b)
// with the position of the operator on the NOT; NOT SIMILAR TO likewise.
func (r *rewriter) not(n node) any {
	children, _ := n["children"].([]any)
	if len(children) != 1 {
		return n
	}
	f, ok := children[0].(node)
	if !ok || str(f, "class") != "FUNCTION" || str(f, "function_name") != "regexp_full_match" {
		return n
	}
	args, _ := f["children"].([]any)
	text := r.textAt(n)
	switch {
	case strings.HasPrefix(text, "!~") && len(args) == 2:
		f["function_name"] = "regexp_matches"
		r.changed = true
	case hasPrefixFold(text, "not") && len(args) == 2:
		r.similar(f, args)
	}
	return n
}

// SimilarToRegex translates an SQL regular expression (SIMILAR TO, with the default escape \)
// to a regular expression matching the whole string.
func SimilarToRegex(p string) string {
	var b strings.Builder
	b.WriteString("^(?:")
	inClass := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\' && i+1 < len(p):
			i++
			b.WriteByte('\\')
			b.WriteByte(p[i])
		case inClass:
			if c == ']' {
				inClass = false
			}
			b.WriteByte(c)
		case c == '[':
			inClass = true
			b.WriteByte(c)
		case c == '%':
			b.WriteString(".*")
		case c == '_':
			b.WriteByte('.')
		case c == '.' || c == '^' || c == '$':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteString(")$")
	return b.String()
}

// cast handles PostgreSQL's object-identifier types, which DuckDB does not have: a name cast to
// regclass is the relation's OID, an OID cast to regclass prints as its name.
func (r *rewriter) cast(n node) any {
	ct, _ := n["cast_type"].(node)
	if id := str(ct, "id"); id == "LIST" {
		return r.regListCast(n)
	} else if id == "VARCHAR" {
		// int2vector and oidvector columns print as space-separated numbers (SQLAlchemy
		// splits ix.indkey::varchar); the catalog keeps them as lists
		if col, ok := n["child"].(node); ok && str(col, "class") == "COLUMN_REF" {
			if names, _ := col["column_names"].([]any); len(names) > 0 {
				if last, _ := names[len(names)-1].(string); vectorColumns[strings.ToLower(last)] {
					r.changed = true
					return keepAlias(n, call("array_to_string", col, constant(" ")))
				}
			}
		}
		// a reg* value as text is the object's name ('t'::regclass::text)
		if f, ok := n["child"].(node); ok && str(f, "class") == "FUNCTION" {
			q := str(f, "catalog") + "." + str(f, "schema") + "." + str(f, "function_name")
			byName := map[string]string{r.cat.RegclassOID: r.cat.RegclassName, r.cat.RegtypeOID: r.cat.RegtypeName,
				r.cat.RegnamespaceOID: r.cat.RegnamespaceName}
			if to, ok := byName[q]; ok && to != "" {
				r.changed = true
				return keepAlias(n, call(to, f))
			}
		}
		return n
	} else if id == "BIGINT" {
		// 'name'::regproc::oid (psql's \sf; DuckDB reads oid as BIGINT) is the function's OID;
		// the inner cast has already become the name helper applied to the string.
		if f, ok := n["child"].(node); ok && r.cat.RegprocOID != "" && str(f, "class") == "FUNCTION" &&
			str(f, "catalog")+"."+str(f, "schema")+"."+str(f, "function_name") == r.cat.RegprocName {
			if args, _ := f["children"].([]any); len(args) == 1 && isStringConstant(args[0]) {
				r.changed = true
				return keepAlias(n, call(r.cat.RegprocOID, args[0]))
			}
		}
		return n
	} else if id != "UNBOUND" {
		return n
	}
	ti, _ := ct["type_info"].(node)
	typ := strings.ToLower(str(ti, "name"))
	if s := strings.ToLower(str(ti, "schema")); s != "" && s != "pg_catalog" {
		return n
	}
	child := n["child"]
	isString := false
	if c, ok := child.(node); ok && str(c, "class") == "CONSTANT" {
		v, _ := c["value"].(node)
		_, isString = v["value"].(string)
	}
	pick := func(fromName, fromOID string) any {
		r.changed = true
		if isString {
			return keepAlias(n, call(fromName, child))
		}
		return keepAlias(n, call(fromOID, child))
	}
	switch typ {
	case "regclass":
		return pick(r.cat.RegclassOID, r.cat.RegclassName)
	case "regtype":
		return pick(r.cat.RegtypeOID, r.cat.RegtypeName)
	case "regnamespace":
		return pick(r.cat.RegnamespaceOID, r.cat.RegnamespaceName)
	case "regproc", "regprocedure":
		r.changed = true
		return keepAlias(n, call(r.cat.RegprocName, child))
	case "oid", "regrole", "xid", "cid", "tid":
		n["cast_type"] = node{"id": "BIGINT", "type_info": nil}
		r.changed = true
	case "name", "char", "bpchar":
		n["cast_type"] = node{"id": "VARCHAR", "type_info": nil}
		r.changed = true
	case "int2vector", "oidvector":
		n["cast_type"] = node{"id": "LIST", "type_info": node{"type": "LIST_TYPE_INFO", "alias": "", "extension_info": nil,
			"child_type": node{"id": "BIGINT", "type_info": nil}}}
		r.changed = true
	}
	return n
}

// keywordFunction turns PostgreSQL's niladic functions, written without parentheses
// (current_user), into calls; DuckDB parses them as column names. A quoted "user" stays a
// column.
func (r *rewriter) keywordFunction(n node) any {
	names, _ := n["column_names"].([]any)
	if len(names) != 1 {
		return n
	}
	name, _ := names[0].(string)
	text := r.textAt(n)
	if text == "" || text[0] == '"' {
		return n
	}
	pg := strings.ToLower(name)
	switch pg {
	case "user":
		pg = "current_user"
	case "current_user", "session_user", "current_role", "current_catalog", "current_schema":
	default:
		return n
	}
	q, ok := r.cat.Functions[pg]
	if !ok {
		return n
	}
	r.changed = true
	f := call(q)
	if a := str(n, "alias"); a != "" {
		f["alias"] = a
	}
	return f
}

// scalarTableFunction names the column of a set-returning function of one column after its
// alias, as PostgreSQL does: in `FROM generate_series(1, 3) s`, s is the value (DuckDB would
// make it a struct of the row).
func (r *rewriter) scalarTableFunction(n node) {
	alias := str(n, "alias")
	cols, _ := n["column_name_alias"].([]any)
	fn, _ := n["function"].(node)
	if strings.ToLower(str(fn, "function_name")) == "pg_partition_ancestors" {
		// a relation is its own only ancestor (DuckDB has no partitions): unnest([relid]),
		// which, unlike a table macro, DuckDB can number WITH ORDINALITY
		if args, _ := fn["children"].([]any); len(args) == 1 {
			fn["catalog"], fn["schema"], fn["function_name"] = "", "", "unnest"
			fn["children"] = []any{call("list_value", args[0])}
			r.changed = true
		}
		return
	}
	if alias == "" {
		return
	}
	switch strings.ToLower(str(fn, "function_name")) {
	case "generate_series": // PostgreSQL's name; DuckDB code refers to range(…) r as r.range
		if len(cols) > 0 {
			return
		}
		n["column_name_alias"] = []any{alias}
		r.changed = true
	}
}

// renamed are PostgreSQL functions DuckDB has under another name (variadic, so they cannot be
// macros).
var renamed = map[string]string{"json_build_object": "json_object", "jsonb_build_object": "json_object",
	"json_build_array": "json_array", "jsonb_build_array": "json_array"}

// vectorColumns are the catalog's int2vector/oidvector columns.
var vectorColumns = map[string]bool{"indkey": true, "indoption": true, "indclass": true, "indcollation": true, "proargtypes": true}
