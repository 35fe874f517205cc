package catalog

import "strings"

// information_schema.routines with PostgreSQL 15's columns, in its order and with its values
// for what DuckDB knows of a function (pg_proc's rows: macros, connection functions and the
// built-ins under pg_catalog). PostgreSQL's domains are their base types here:
// sql_identifier, character_data and yes_or_no are text, cardinal_number is integer,
// time_stamp is timestamp with time zone.

// routineColumns are the view's columns: name, type and value (NULL when absent). f is
// ankaflow_functions, n its pg_namespace row, t the pg_type row of its result.
var routineColumns = []struct{ name, typ, value string }{
	{"specific_catalog", "VARCHAR", q("ankaflow_current_database") + "()"},
	{"specific_schema", "VARCHAR", "n.nspname"},
	{"specific_name", "VARCHAR", "f.proname || '_' || f.oid"},
	{"routine_catalog", "VARCHAR", q("ankaflow_current_database") + "()"},
	{"routine_schema", "VARCHAR", "n.nspname"},
	{"routine_name", "VARCHAR", "f.proname"},
	{"routine_type", "VARCHAR", "CASE f.prokind WHEN 'f' THEN 'FUNCTION' WHEN 'p' THEN 'PROCEDURE' END"},
	{"module_catalog", "VARCHAR", ""}, {"module_schema", "VARCHAR", ""}, {"module_name", "VARCHAR", ""},
	{"udt_catalog", "VARCHAR", ""}, {"udt_schema", "VARCHAR", ""}, {"udt_name", "VARCHAR", ""},
	{"data_type", "VARCHAR", "CASE WHEN t.typcategory = 'A' THEN 'ARRAY' ELSE t.ankaflow_display END"},
	{"character_maximum_length", "INTEGER", ""}, {"character_octet_length", "INTEGER", ""},
	{"character_set_catalog", "VARCHAR", ""}, {"character_set_schema", "VARCHAR", ""}, {"character_set_name", "VARCHAR", ""},
	{"collation_catalog", "VARCHAR", ""}, {"collation_schema", "VARCHAR", ""}, {"collation_name", "VARCHAR", ""},
	{"numeric_precision", "INTEGER", ""}, {"numeric_precision_radix", "INTEGER", ""}, {"numeric_scale", "INTEGER", ""},
	{"datetime_precision", "INTEGER", ""}, {"interval_type", "VARCHAR", ""}, {"interval_precision", "INTEGER", ""},
	{"type_udt_catalog", "VARCHAR", "CASE WHEN t.oid IS NOT NULL THEN " + q("ankaflow_current_database") + "() END"},
	{"type_udt_schema", "VARCHAR", "CASE WHEN t.oid IS NOT NULL THEN 'pg_catalog' END"},
	{"type_udt_name", "VARCHAR", "t.typname"},
	{"scope_catalog", "VARCHAR", ""}, {"scope_schema", "VARCHAR", ""}, {"scope_name", "VARCHAR", ""},
	{"maximum_cardinality", "INTEGER", ""},
	{"dtd_identifier", "VARCHAR", "'0'"},
	// macros are SQL functions; the rest are built into DuckDB or ankaflow (PostgreSQL's C and
	// internal functions)
	{"routine_body", "VARCHAR", "CASE WHEN f.macro_definition IS NOT NULL THEN 'SQL' ELSE 'EXTERNAL' END"},
	{"routine_definition", "VARCHAR", "coalesce(f.macro_definition, f.proname)"},
	{"external_name", "VARCHAR", ""},
	{"external_language", "VARCHAR", "CASE WHEN f.macro_definition IS NOT NULL THEN 'SQL' ELSE 'INTERNAL' END"},
	{"parameter_style", "VARCHAR", "'GENERAL'"},
	{"is_deterministic", "VARCHAR", "CASE WHEN f.provolatile = 'i' THEN 'YES' ELSE 'NO' END"},
	{"sql_data_access", "VARCHAR", "'MODIFIES'"},
	{"is_null_call", "VARCHAR", "'NO'"},
	{"sql_path", "VARCHAR", ""},
	{"schema_level_routine", "VARCHAR", "'YES'"},
	{"max_dynamic_result_sets", "INTEGER", "0"},
	{"is_user_defined_cast", "VARCHAR", ""}, {"is_implicitly_invocable", "VARCHAR", ""},
	{"security_type", "VARCHAR", "'INVOKER'"},
	{"to_sql_specific_catalog", "VARCHAR", ""}, {"to_sql_specific_schema", "VARCHAR", ""}, {"to_sql_specific_name", "VARCHAR", ""},
	{"as_locator", "VARCHAR", "'NO'"},
	{"created", "TIMESTAMPTZ", ""}, {"last_altered", "TIMESTAMPTZ", ""},
	{"new_savepoint_level", "VARCHAR", ""},
	{"is_udt_dependent", "VARCHAR", "'NO'"},
	{"result_cast_from_data_type", "VARCHAR", ""}, {"result_cast_as_locator", "VARCHAR", ""},
	{"result_cast_char_max_length", "INTEGER", ""}, {"result_cast_char_octet_length", "INTEGER", ""},
	{"result_cast_char_set_catalog", "VARCHAR", ""}, {"result_cast_char_set_schema", "VARCHAR", ""}, {"result_cast_char_set_name", "VARCHAR", ""},
	{"result_cast_collation_catalog", "VARCHAR", ""}, {"result_cast_collation_schema", "VARCHAR", ""}, {"result_cast_collation_name", "VARCHAR", ""},
	{"result_cast_numeric_precision", "INTEGER", ""}, {"result_cast_numeric_precision_radix", "INTEGER", ""}, {"result_cast_numeric_scale", "INTEGER", ""},
	{"result_cast_datetime_precision", "INTEGER", ""}, {"result_cast_interval_type", "VARCHAR", ""}, {"result_cast_interval_precision", "INTEGER", ""},
	{"result_cast_type_udt_catalog", "VARCHAR", ""}, {"result_cast_type_udt_schema", "VARCHAR", ""}, {"result_cast_type_udt_name", "VARCHAR", ""},
	{"result_cast_scope_catalog", "VARCHAR", ""}, {"result_cast_scope_schema", "VARCHAR", ""}, {"result_cast_scope_name", "VARCHAR", ""},
	{"result_cast_maximum_cardinality", "INTEGER", ""}, {"result_cast_dtd_identifier", "VARCHAR", ""},
}

func routinesView() string {
	cols := make([]string, len(routineColumns))
	for i, c := range routineColumns {
		v := c.value
		if v == "" {
			v = "NULL"
		}
		cols[i] = "CAST(" + v + " AS " + c.typ + ") AS " + c.name
	}
	// A macro's result type is not declared (anyelement, as \df shows it); a table function
	// returns a set of records.
	return "SELECT " + strings.Join(cols, ",\n  ") + `
FROM ` + q("ankaflow_functions") + ` f JOIN ` + q("pg_namespace") + ` n ON n.oid = f.pronamespace
LEFT JOIN ` + q("pg_type") + ` t ON t.oid = CASE WHEN f.function_type IN ('table', 'table_macro') THEN 2249
  WHEN f.return_type IS NULL THEN 2283 ELSE ` + q("ankaflow_typeoid") + `(f.return_type) END`
}
