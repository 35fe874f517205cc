package catalog

// macros are the catalog's functions. Several have PostgreSQL's overloads (pg_get_expr with 2
// and 3 arguments).
func macros() []object {
	m := func(name, body string) object { return object{name: name, macro: true, body: body} }
	user := `coalesce(getvariable('` + VarUser + `'), 'duckdb')`
	// the search path as PostgreSQL schema names (main is public)
	searchPath := `list_transform(CASE WHEN coalesce(current_setting('search_path'), '') = '' THEN ['main'] ELSE string_split(current_setting('search_path'), ',') END,
  s -> CASE trim(s) WHEN 'main' THEN 'public' ELSE trim(s) END)`
	return []object{
		m("ankaflow_typeoid", "(dt) AS "+typeOIDMacro()),
		m("ankaflow_typmod", "(dt, prec, scale) AS "+typmodMacro),
		m("ankaflow_search_path", "() AS "+searchPath),

		m("ankaflow_display", "(typ) AS "+displayMacro()),
		m("format_type", `(typ, mod) AS CASE
  WHEN typ IS NULL THEN NULL
  WHEN typ = 1700 AND mod >= 4 THEN 'numeric(' || ((mod - 4) >> 16) || ',' || ((mod - 4) & 65535) || ')'
  WHEN typ = 1114 AND mod >= 0 THEN 'timestamp(' || mod || ') without time zone'
  WHEN typ = 1184 AND mod >= 0 THEN 'timestamp(' || mod || ') with time zone'
  WHEN typ IN (1043, 1042) AND mod >= 4 THEN `+q("ankaflow_display")+`(typ) || '(' || (mod - 4) || ')'
  ELSE coalesce(`+q("ankaflow_display")+`(typ), (SELECT ankaflow_display FROM `+q("pg_type")+` WHERE oid = typ), '???') END`),

		m("pg_get_userbyid", `(r) AS coalesce((SELECT rolname FROM `+q("pg_roles")+` WHERE oid = r), 'unknown (OID=' || r || ')')`),
		m("pg_get_expr", `(e, r) AS e, (e, r, p) AS e`),
		m("pg_get_indexdef", `(i) AS (SELECT indexdef FROM `+q("ankaflow_indexes")+` WHERE oid = i),
  (i, c, p) AS CASE WHEN c = 0 THEN (SELECT CASE WHEN p THEN pretty_indexdef ELSE indexdef END FROM `+q("ankaflow_indexes")+` WHERE oid = i)
    ELSE (SELECT ankaflow_x.exprs[c] FROM `+q("ankaflow_indexes")+` ankaflow_x WHERE ankaflow_x.oid = i) END`),
		m("pg_get_constraintdef", `(c) AS (SELECT condef FROM `+q("ankaflow_constraints")+` WHERE oid = c), (c, p) AS (SELECT condef FROM `+q("ankaflow_constraints")+` WHERE oid = c)`),
		m("pg_get_function_result", `(f) AS (SELECT result FROM `+q("ankaflow_functions")+` WHERE oid = f)`),
		m("pg_get_function_arguments", `(f) AS (SELECT arguments FROM `+q("ankaflow_functions")+` WHERE oid = f)`),
		m("pg_get_function_identity_arguments", `(f) AS (SELECT arguments FROM `+q("ankaflow_functions")+` WHERE oid = f)`),
		m("pg_get_functiondef", `(f) AS (SELECT 'CREATE OR REPLACE FUNCTION ' || CASE WHEN ankaflow_n.nspname IS NULL THEN '' ELSE ankaflow_n.nspname || '.' END || proname || '(' || arguments || E')\n RETURNS ' || result ||
  E'\n LANGUAGE sql\nAS $function$' || coalesce(macro_definition, proname) || E'$function$\n'
  FROM `+q("ankaflow_functions")+` ankaflow_fn LEFT JOIN `+q("pg_namespace")+` ankaflow_n ON ankaflow_n.oid = ankaflow_fn.pronamespace WHERE ankaflow_fn.oid = f)`),
		m("pg_get_viewdef", `(v) AS (SELECT sql FROM `+q("ankaflow_relations")+` WHERE oid = v AND relkind = 'v'), (v, p) AS (SELECT sql FROM `+q("ankaflow_relations")+` WHERE oid = v AND relkind = 'v')`),
		m("pg_get_serial_sequence", `(t, c) AS CAST(NULL AS VARCHAR)`),
		m("pg_get_partkeydef", `(t) AS CAST(NULL AS VARCHAR)`),
		m("pg_get_triggerdef", `(t) AS CAST(NULL AS VARCHAR), (t, p) AS CAST(NULL AS VARCHAR)`),
		m("pg_get_ruledef", `(t) AS CAST(NULL AS VARCHAR), (t, p) AS CAST(NULL AS VARCHAR)`),
		m("pg_get_statisticsobjdef_columns", `(o) AS CAST(NULL AS VARCHAR)`),
		m("pg_relation_is_publishable", `(r) AS false`),
		m("pg_partition_ancestors", `(r) AS unnest([CAST(r AS BIGINT)])`),
		m("pg_encoding_to_char", `(e) AS CASE WHEN e = 6 THEN 'UTF8' ELSE 'SQL_ASCII' END`),
		m("pg_char_to_encoding", `(e) AS CASE WHEN upper(e) IN ('UTF8', 'UTF-8') THEN 6 ELSE 0 END`),
		m("obj_description", `(o) AS (SELECT min(description) FROM `+q("pg_description")+` WHERE objoid = o AND objsubid = 0),
  (o, c) AS (SELECT min(description) FROM `+q("pg_description")+` WHERE objoid = o AND objsubid = 0)`),
		m("col_description", `(r, n) AS (SELECT min(description) FROM `+q("pg_description")+` WHERE objoid = r AND objsubid = n)`),
		m("shobj_description", `(o, c) AS CAST(NULL AS VARCHAR)`),
		m("has_table_privilege", `(t, p) AS true, (u, t, p) AS true`),
		m("has_schema_privilege", `(s, p) AS true, (u, s, p) AS true`),
		m("has_database_privilege", `(d, p) AS true, (u, d, p) AS true`),
		m("has_function_privilege", `(f, p) AS true, (u, f, p) AS true`),
		m("has_sequence_privilege", `(s, p) AS true, (u, s, p) AS true`),
		m("has_column_privilege", `(t, c, p) AS true, (u, t, c, p) AS true`),
		m("has_any_column_privilege", `(t, p) AS true, (u, t, p) AS true`),
		m("has_type_privilege", `(t, p) AS true, (u, t, p) AS true`),
		m("pg_has_role", `(r, p) AS true, (u, r, p) AS true`),
		m("pg_backend_pid", `() AS CAST(getvariable('`+VarPID+`') AS INTEGER)`),
		m("pg_is_in_recovery", `() AS false`),
		m("pg_table_is_visible", `(r) AS coalesce((SELECT list_contains(`+q("ankaflow_search_path")+`() || ['pg_temp_1', 'pg_catalog'], ankaflow_n.nspname)
  FROM `+q("pg_class")+` ankaflow_c JOIN `+q("pg_namespace")+` ankaflow_n ON ankaflow_n.oid = ankaflow_c.relnamespace WHERE ankaflow_c.oid = r), false)`),
		m("pg_type_is_visible", `(t) AS true`),
		m("pg_function_is_visible", `(f) AS coalesce((SELECT list_contains(`+q("ankaflow_search_path")+`() || ['pg_temp_1', 'pg_catalog'], ankaflow_n.nspname)
  FROM `+q("ankaflow_functions")+` ankaflow_p JOIN `+q("pg_namespace")+` ankaflow_n ON ankaflow_n.oid = ankaflow_p.pronamespace WHERE ankaflow_p.oid = f), false)`),
		m("array_upper", `(a, d) AS CASE WHEN d = 1 AND len(a) > 0 THEN len(a) END`),
		m("array_lower", `(a, d) AS CASE WHEN d = 1 AND len(a) > 0 THEN 1 END`),
		m("quote_ident", `(s) AS CASE WHEN regexp_full_match(s, '[a-z_][a-z0-9_$]*') AND s NOT IN (SELECT keyword_name FROM duckdb_keywords() WHERE keyword_category <> 'unreserved')
  THEN s ELSE '"' || replace(s, '"', '""') || '"' END`),
		m("pg_get_keywords", `() AS TABLE SELECT keyword_name AS word,
  CASE keyword_category WHEN 'reserved' THEN 'R' WHEN 'unreserved' THEN 'U' WHEN 'column_name' THEN 'C' ELSE 'T' END AS catcode,
  true AS barelabel, keyword_category AS catdesc, 'can be bare label' AS baredesc FROM duckdb_keywords()`),
		m("ankaflow_current_user", `() AS `+user),
		m("ankaflow_session_user", `() AS `+user),
		m("ankaflow_current_role", `() AS `+user),
		m("ankaflow_current_database", `() AS coalesce(getvariable('`+VarDatabase+`'), current_database())`),
		m("ankaflow_current_catalog", `() AS coalesce(getvariable('`+VarDatabase+`'), current_database())`),
		m("ankaflow_current_schema", `() AS (SELECT ankaflow_s FROM unnest(`+q("ankaflow_search_path")+`()) ankaflow_u(ankaflow_s) WHERE ankaflow_s IN (SELECT nspname FROM `+q("pg_namespace")+`) LIMIT 1)`),
		m("ankaflow_current_schemas", `(implicit) AS CASE WHEN implicit THEN ['pg_catalog'] ELSE [] END ||
  coalesce((SELECT list(s ORDER BY i) FROM (SELECT unnest(sp) AS s, generate_subscripts(sp, 1) AS i FROM (SELECT `+q("ankaflow_search_path")+`() AS sp))
    WHERE s IN (SELECT nspname FROM `+q("pg_namespace")+`)), [])`),
		m("set_config", `(n, v, l) AS v`),
		m("to_regclass", `(n) AS `+q("ankaflow_regclass_oid")+`(n)`),
		m("to_regtype", `(n) AS `+q("ankaflow_regtype_oid")+`(n)`),
		m("to_regnamespace", `(n) AS (SELECT oid FROM `+q("pg_namespace")+` WHERE nspname = n)`),

		// The reg* types: a name cast to one of them is its OID; an OID cast to one is its name.
		m("ankaflow_regclass_oid", `(n) AS CASE WHEN regexp_full_match(n, '[0-9]+') THEN CAST(n AS BIGINT)
  WHEN list_contains(`+catalogRelNames+`, replace(lower(n), 'pg_catalog.', '')) THEN `+catalogRelOIDs+`[list_position(`+catalogRelNames+`, replace(lower(n), 'pg_catalog.', ''))]
  ELSE (
  SELECT ankaflow_c.oid FROM `+q("pg_class")+` ankaflow_c JOIN `+q("pg_namespace")+` ankaflow_ns ON ankaflow_ns.oid = ankaflow_c.relnamespace
  WHERE ankaflow_c.relname = CASE WHEN contains(n, '.') THEN trim(split_part(n, '.', 2), '"') ELSE trim(n, '"') END
    AND CASE WHEN contains(n, '.') THEN ankaflow_ns.nspname = trim(split_part(n, '.', 1), '"')
        ELSE list_contains(`+q("ankaflow_search_path")+`() || ['pg_temp_1', 'pg_catalog'], ankaflow_ns.nspname) END
  ORDER BY ankaflow_ns.nspname = 'pg_temp_1' DESC LIMIT 1) END`),
		m("ankaflow_regclass_name", `(o) AS CASE WHEN o = 0 THEN '-' ELSE coalesce((SELECT CASE WHEN list_contains(`+q("ankaflow_search_path")+`() || ['pg_temp_1', 'pg_catalog'], ankaflow_ns.nspname)
  THEN ankaflow_c.relname ELSE ankaflow_ns.nspname || '.' || ankaflow_c.relname END
  FROM `+q("pg_class")+` ankaflow_c JOIN `+q("pg_namespace")+` ankaflow_ns ON ankaflow_ns.oid = ankaflow_c.relnamespace WHERE ankaflow_c.oid = o), CAST(o AS VARCHAR)) END`),
		m("ankaflow_regtype_oid", `(n) AS CASE WHEN regexp_full_match(n, '[0-9]+') THEN CAST(n AS BIGINT) ELSE (
  SELECT oid FROM `+q("pg_type")+` WHERE typname = replace(lower(n), 'pg_catalog.', '') OR ankaflow_display = lower(n)
    OR (lower(n) = 'int' AND typname = 'int4') OR (lower(n) = 'varchar' AND typname = 'varchar') LIMIT 1) END`),
		m("ankaflow_regtype_name", `(o) AS CASE WHEN o = 0 THEN '-' ELSE coalesce(`+q("format_type")+`(o, -1), CAST(o AS VARCHAR)) END`),
		m("ankaflow_regproc_name", `(o) AS CASE WHEN TRY_CAST(o AS BIGINT) IS NULL THEN replace(CAST(o AS VARCHAR), 'pg_catalog.', '')
  ELSE coalesce((SELECT proname FROM `+q("ankaflow_functions")+` WHERE oid = TRY_CAST(o AS BIGINT)), CAST(o AS VARCHAR)) END`),
		// 'name'::regproc::oid and 'name(args)'::regprocedure::oid (psql's \sf): the function of
		// that name, a user's (macro) before a built-in; overloads are not told apart.
		m("ankaflow_regproc_oid", `(n) AS (SELECT CASE WHEN min(oid) IS NULL THEN CAST(error('function "' || n || '" does not exist') AS BIGINT)
  ELSE arg_min(oid, (macro_definition IS NULL, oid)) END
  FROM `+q("ankaflow_functions")+` WHERE proname = trim(regexp_replace(regexp_replace(trim(n), '\(.*$', ''), '^.*\.', ''), '"'))`),
		m("ankaflow_regnamespace_oid", `(n) AS CASE WHEN regexp_full_match(n, '[0-9]+') THEN CAST(n AS BIGINT) ELSE (SELECT oid FROM `+q("pg_namespace")+` WHERE nspname = trim(n, '"')) END`),
		m("ankaflow_regnamespace_name", `(o) AS coalesce((SELECT nspname FROM `+q("pg_namespace")+` WHERE oid = o), CAST(o AS VARCHAR))`),
		// PostgreSQL raises division_by_zero where DuckDB returns NULL or infinity.
		m("ankaflow_nonzero", `(d) AS CASE WHEN d = 0 THEN error('division by zero') ELSE d END`),
	}
}

// PostgreSQL's OIDs of its catalog relations ('pg_class'::regclass is 1259): clients compare
// pg_description.classoid and pg_depend.classid with them.
const (
	catalogRelNames = `['pg_class', 'pg_namespace', 'pg_proc', 'pg_type', 'pg_constraint', 'pg_attribute', 'pg_index', 'pg_database', 'pg_description', 'pg_am', 'pg_trigger', 'pg_attrdef', 'pg_rewrite', 'pg_authid', 'pg_collation', 'pg_extension']`
	catalogRelOIDs  = `[1259, 2615, 1255, 1247, 2606, 1249, 2610, 1262, 2609, 2601, 2620, 2604, 2618, 1260, 3456, 3079]`
)
