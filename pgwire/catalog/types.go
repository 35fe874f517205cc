package catalog

import (
	"fmt"
	"strings"
)

// pgType is one row of pg_type for a built-in PostgreSQL type the server presents DuckDB types
// as (or that clients ask about by name).
type pgType struct {
	oid      int
	name     string // typname
	display  string // format_type's name ("integer", "character varying")
	length   int    // typlen
	category string // typcategory
	elem     int    // typelem for array types
	array    int    // typarray
}

// builtinTypes are PostgreSQL 15's OIDs for the types the wire server sends and those clients
// look up. The OIDs must agree with pgwire's RowDescription mapping (pgwire/types.go); the test
// TestCatalogOIDsMatchRowDescription checks that they do.
var builtinTypes = []pgType{
	{16, "bool", "boolean", 1, "B", 0, 1000},
	{17, "bytea", "bytea", -1, "U", 0, 1001},
	{18, "char", "\"char\"", 1, "Z", 0, 1002},
	{19, "name", "name", 64, "S", 0, 1003},
	{20, "int8", "bigint", 8, "N", 0, 1016},
	{21, "int2", "smallint", 2, "N", 0, 1005},
	{22, "int2vector", "int2vector", -1, "A", 21, 1006},
	{23, "int4", "integer", 4, "N", 0, 1007},
	{24, "regproc", "regproc", 4, "N", 0, 1008},
	{25, "text", "text", -1, "S", 0, 1009},
	{26, "oid", "oid", 4, "N", 0, 1028},
	{30, "oidvector", "oidvector", -1, "A", 26, 1013},
	{114, "json", "json", -1, "U", 0, 199},
	{199, "_json", "json[]", -1, "A", 114, 0},
	{700, "float4", "real", 4, "N", 0, 1021},
	{701, "float8", "double precision", 8, "N", 0, 1022},
	{705, "unknown", "unknown", -2, "X", 0, 0},
	{1000, "_bool", "boolean[]", -1, "A", 16, 0},
	{1001, "_bytea", "bytea[]", -1, "A", 17, 0},
	{1002, "_char", "\"char\"[]", -1, "A", 18, 0},
	{1003, "_name", "name[]", -1, "A", 19, 0},
	{1005, "_int2", "smallint[]", -1, "A", 21, 0},
	{1006, "_int2vector", "int2vector[]", -1, "A", 22, 0},
	{1007, "_int4", "integer[]", -1, "A", 23, 0},
	{1008, "_regproc", "regproc[]", -1, "A", 24, 0},
	{1009, "_text", "text[]", -1, "A", 25, 0},
	{1013, "_oidvector", "oidvector[]", -1, "A", 30, 0},
	{1014, "_bpchar", "character[]", -1, "A", 1042, 0},
	{1015, "_varchar", "character varying[]", -1, "A", 1043, 0},
	{1016, "_int8", "bigint[]", -1, "A", 20, 0},
	{1021, "_float4", "real[]", -1, "A", 700, 0},
	{1022, "_float8", "double precision[]", -1, "A", 701, 0},
	{1028, "_oid", "oid[]", -1, "A", 26, 0},
	{1042, "bpchar", "character", -1, "S", 0, 1014},
	{1043, "varchar", "character varying", -1, "S", 0, 1015},
	{1082, "date", "date", 4, "D", 0, 1182},
	{1083, "time", "time without time zone", 8, "D", 0, 1183},
	{1114, "timestamp", "timestamp without time zone", 8, "D", 0, 1115},
	{1115, "_timestamp", "timestamp without time zone[]", -1, "A", 1114, 0},
	{1182, "_date", "date[]", -1, "A", 1082, 0},
	{1183, "_time", "time without time zone[]", -1, "A", 1083, 0},
	{1184, "timestamptz", "timestamp with time zone", 8, "D", 0, 1185},
	{1185, "_timestamptz", "timestamp with time zone[]", -1, "A", 1184, 0},
	{1186, "interval", "interval", 16, "T", 0, 1187},
	{1187, "_interval", "interval[]", -1, "A", 1186, 0},
	{1231, "_numeric", "numeric[]", -1, "A", 1700, 0},
	{1266, "timetz", "time with time zone", 12, "D", 0, 1270},
	{1270, "_timetz", "time with time zone[]", -1, "A", 1266, 0},
	{1560, "bit", "bit", -1, "V", 0, 1561},
	{1561, "_bit", "bit[]", -1, "A", 1560, 0},
	{1562, "varbit", "bit varying", -1, "V", 0, 1563},
	{1563, "_varbit", "bit varying[]", -1, "A", 1562, 0},
	{1700, "numeric", "numeric", -1, "N", 0, 1231},
	{2205, "regclass", "regclass", 4, "N", 0, 2210},
	{2206, "regtype", "regtype", 4, "N", 0, 2211},
	{2210, "_regclass", "regclass[]", -1, "A", 2205, 0},
	{2211, "_regtype", "regtype[]", -1, "A", 2206, 0},
	{2249, "record", "record", -1, "P", 0, 2287},
	{2287, "_record", "record[]", -1, "P", 2249, 0},
	{2275, "cstring", "cstring", -2, "P", 0, 1263},
	{2276, "any", "\"any\"", 4, "P", 0, 0},
	{2277, "anyarray", "anyarray", -1, "P", 0, 0},
	{2278, "void", "void", 4, "P", 0, 0},
	{2283, "anyelement", "anyelement", 4, "P", 0, 0},
	{2950, "uuid", "uuid", 16, "U", 0, 2951},
	{2951, "_uuid", "uuid[]", -1, "A", 2950, 0},
	{3802, "jsonb", "jsonb", -1, "U", 0, 3807},
	{3807, "_jsonb", "jsonb[]", -1, "A", 3802, 0},
	{4089, "regnamespace", "regnamespace", 4, "N", 0, 4090},
	{4090, "_regnamespace", "regnamespace[]", -1, "A", 4089, 0},
}

// scalarOIDs maps DuckDB's type names (duckdb_columns().data_type, without modifiers) to the
// PostgreSQL type the wire server sends them as.
var scalarOIDs = []struct {
	duck string
	oid  int
}{
	{"BOOLEAN", 16},
	{"TINYINT", 21}, {"SMALLINT", 21}, {"UTINYINT", 21},
	{"INTEGER", 23}, {"USMALLINT", 23},
	{"BIGINT", 20}, {"UINTEGER", 20},
	{"UBIGINT", 1700}, {"HUGEINT", 1700}, {"UHUGEINT", 1700}, {"BIGNUM", 1700}, {"VARINT", 1700},
	{"FLOAT", 700}, {"DOUBLE", 701},
	{"VARCHAR", 25}, {"JSON", 114}, {"BLOB", 17}, {"BIT", 1562},
	{"DATE", 1082}, {"TIME", 1083}, {"TIME_NS", 1083}, {"TIME WITH TIME ZONE", 1083},
	{"TIMESTAMP", 1114}, {"TIMESTAMP_NS", 1114}, {"TIMESTAMP_S", 1114}, {"TIMESTAMP_MS", 1114},
	{"TIMESTAMP WITH TIME ZONE", 1184}, {"INTERVAL", 1186}, {"UUID", 2950},
}

// typeOIDMacro is the SQL body of ankaflow_typeoid(dt): the OID for a DuckDB type name as
// duckdb_columns() spells it. Lists of a scalar type are that type's array; other nested types
// are json; everything else (enums, VARIANT, …) is text — as pgwire's RowDescription does.
// It is one list lookup, not a CASE per type: DuckDB expands a macro's argument at each use,
// and callers nest these macros.
func typeOIDMacro() string {
	arrays := map[int]int{}
	for _, t := range builtinTypes {
		arrays[t.oid] = t.array
	}
	var names, oids []string
	for _, s := range scalarOIDs {
		names = append(names, "'"+s.duck+"'")
		oids = append(oids, fmt.Sprint(s.oid))
		if a := arrays[s.oid]; a != 0 {
			names = append(names, "'"+s.duck+"[]'")
			oids = append(oids, fmt.Sprint(a))
		}
	}
	return "coalesce([" + strings.Join(oids, ", ") + "][list_position([" + strings.Join(names, ", ") + "], dt)]," +
		" CASE WHEN dt LIKE 'DECIMAL(%)[]' THEN 1231 WHEN dt LIKE 'DECIMAL(%' THEN 1700" +
		" WHEN dt LIKE '%]' OR dt LIKE 'STRUCT(%' OR dt LIKE 'MAP(%' OR dt LIKE 'UNION(%' THEN 114 ELSE 25 END)"
}

// typmodMacro is the SQL body of pg_typmod(dt, prec, scale): PostgreSQL's atttypmod.
const typmodMacro = `CASE WHEN dt LIKE 'DECIMAL(%' THEN (prec << 16 | scale) + 4
 WHEN dt IN ('TIMESTAMP_S', 'TIMESTAMP_S[]') THEN 0
 WHEN dt IN ('TIMESTAMP_MS', 'TIMESTAMP_MS[]') THEN 3
 ELSE -1 END`

// typeValues is the VALUES list of the built-in rows of pg_type.
func typeValues() string {
	rows := make([]string, len(builtinTypes))
	for i, t := range builtinTypes {
		typtype := "b"
		if t.category == "P" {
			typtype = "p"
		}
		input := t.name + "in"
		if t.category == "A" {
			input = "array_in"
		}
		rows[i] = fmt.Sprintf("(%d, '%s', '%s', %d, '%s', '%s', %d, %d, '%s')",
			t.oid, t.name, strings.ReplaceAll(t.display, "'", "''"), t.length, typtype, t.category, t.elem, t.array, input)
	}
	return "VALUES " + strings.Join(rows, ",\n ")
}

// displayMacro is the SQL body of ankaflow_display(typ): format_type's name of a built-in type
// without a modifier, NULL for other OIDs. It has no subquery, so lambdas can use it.
func displayMacro() string {
	var oids, names []string
	for _, t := range builtinTypes {
		oids = append(oids, fmt.Sprint(t.oid))
		names = append(names, "'"+strings.ReplaceAll(t.display, "'", "''")+"'")
	}
	return "[" + strings.Join(names, ", ") + "][list_position([" + strings.Join(oids, ", ") + "], typ)]"
}
