package catalog

// information_schema as PostgreSQL presents it: DuckDB's own views, with the database the client
// connected to as the catalog, main as public, and PostgreSQL's type names (data_type
// "integer", "character varying", "ARRAY"; udt_name "int4"). Queries naming
// information_schema.columns, .tables or .schemata are pointed at these (package rewrite).

// infoSchemaViews maps the information_schema view name to the catalog view behind it.
var infoSchemaViews = map[string]string{
	"columns":  "ankaflow_is_columns",
	"tables":   "ankaflow_is_tables",
	"schemata": "ankaflow_is_schemata",
	"routines": "ankaflow_is_routines",
	"views":    "ankaflow_is_views",
}

// InformationSchema maps information_schema view names to their qualified replacements.
func InformationSchema() map[string]string {
	out := map[string]string{}
	for k, v := range infoSchemaViews {
		out[k] = q(v)
	}
	return out
}

// isSchema renders DuckDB's schema name of an information_schema row as PostgreSQL's.
func isSchema(catalogCol, schemaCol string) string {
	return `CASE WHEN ` + catalogCol + ` = 'temp' THEN 'pg_temp_1' WHEN ` + schemaCol + ` = 'main' THEN 'public' ELSE ` + schemaCol + ` END`
}

const isUserCatalog = `IN (current_database(), 'temp')`

func infoSchemaObjects() []object {
	v := func(name, body string) object { return object{name: name, body: body} }
	return []object{
		v("ankaflow_is_columns", `SELECT c.* REPLACE (
    `+q("ankaflow_current_database")+`() AS table_catalog,
    `+isSchema("c.table_catalog", "c.table_schema")+` AS table_schema,
    CASE WHEN t.typcategory = 'A' THEN 'ARRAY' ELSE coalesce(t.ankaflow_display, 'USER-DEFINED') END AS data_type,
    CASE WHEN t.oid IS NULL THEN NULL ELSE `+q("ankaflow_current_database")+`() END AS udt_catalog,
    CASE WHEN t.oid IS NULL THEN NULL ELSE 'pg_catalog' END AS udt_schema,
    t.typname AS udt_name)
FROM information_schema.columns c LEFT JOIN `+q("pg_type")+` t ON t.oid = `+q("ankaflow_typeoid")+`(c.data_type)
WHERE c.table_catalog `+isUserCatalog),
		v("ankaflow_is_tables", `SELECT t.* REPLACE (
    `+q("ankaflow_current_database")+`() AS table_catalog,
    `+isSchema("t.table_catalog", "t.table_schema")+` AS table_schema,
    CASE WHEN t.table_catalog = 'temp' AND t.table_type = 'BASE TABLE' THEN 'LOCAL TEMPORARY' ELSE t.table_type END AS table_type)
FROM information_schema.tables t WHERE t.table_catalog `+isUserCatalog),
		v("ankaflow_is_schemata", `SELECT s.* REPLACE (
    `+q("ankaflow_current_database")+`() AS catalog_name,
    `+isSchema("s.catalog_name", "s.schema_name")+` AS schema_name)
FROM information_schema.schemata s WHERE s.catalog_name = current_database()`),
		v("ankaflow_is_routines", routinesView()),
		// DuckDB's views are not updatable; view_definition is DuckDB's CREATE VIEW statement,
		// as pg_get_viewdef gives it.
		v("ankaflow_is_views", `SELECT `+q("ankaflow_current_database")+`() AS table_catalog, `+nspName+` AS table_schema, view_name AS table_name,
  sql AS view_definition, 'NONE' AS check_option, 'NO' AS is_updatable, 'NO' AS is_insertable_into,
  'NO' AS is_trigger_updatable, 'NO' AS is_trigger_deletable, 'NO' AS is_trigger_insertable_into
FROM duckdb_views() WHERE `+userDB+` AND NOT internal`),
	}
}
