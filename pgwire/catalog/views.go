package catalog

import (
	"fmt"
	"strings"
)

// userDB selects the catalog entries a client sees: the default database and the session's
// temporary objects. Attached databases (the Fn macros, this catalog) stay hidden.
const userDB = `(database_name = current_database() OR database_name = 'temp')`

// nspName is PostgreSQL's name of a DuckDB schema: main is public, temporary objects live in
// pg_temp_1 (as PostgreSQL names a session's temporary schema).
const nspName = `(CASE WHEN database_name = 'temp' THEN 'pg_temp_1' WHEN database_name = 'system' THEN schema_name WHEN schema_name = 'main' THEN 'public' ELSE schema_name END)`

// pgCatalogOID is the OID of DuckDB's pg_catalog schema, the namespace of built-in objects.
const pgCatalogOID = `(SELECT oid FROM duckdb_schemas() WHERE database_name = 'system' AND schema_name = 'pg_catalog')`

// publicOID is the OID of the default database's main schema (public).
const publicOID = `(SELECT oid FROM duckdb_schemas() WHERE database_name = current_database() AND schema_name = 'main')`

// empty is a relation with PostgreSQL's columns and no rows (features DuckDB does not have).
func empty(cols string) string {
	parts := strings.Split(cols, ",")
	for i, p := range parts {
		f := strings.Fields(p)
		parts[i] = "CAST(NULL AS " + strings.Join(f[1:], " ") + ") AS " + f[0]
	}
	return "SELECT " + strings.Join(parts, ", ") + " WHERE false"
}

func views() []object {
	v := func(name, body string) object { return object{name: name, body: body} }
	return []object{
		v("pg_type", `SELECT b.oid, b.typname, `+pgCatalogOID+` AS typnamespace, CAST(10 AS BIGINT) AS typowner, CAST(b.typlen AS SMALLINT) AS typlen,
  b.typlen BETWEEN 1 AND 8 AS typbyval, b.typtype, b.typcategory, false AS typispreferred, true AS typisdefined, ',' AS typdelim,
  CAST(0 AS BIGINT) AS typrelid, '-' AS typsubscript, CAST(b.typelem AS BIGINT) AS typelem, CAST(b.typarray AS BIGINT) AS typarray,
  b.typinput, replace(b.typinput, '_in', '_out') AS typoutput, '-' AS typreceive, '-' AS typsend, '-' AS typmodin, '-' AS typmodout, '-' AS typanalyze,
  'i' AS typalign, CASE WHEN b.oid = 1700 THEN 'm' WHEN b.typlen = -1 THEN 'x' ELSE 'p' END AS typstorage, false AS typnotnull, CAST(0 AS BIGINT) AS typbasetype, -1 AS typtypmod, 0 AS typndims,
  CASE WHEN b.typcategory = 'S' THEN 100 ELSE 0 END AS typcollation, CAST(NULL AS VARCHAR) AS typdefaultbin, CAST(NULL AS VARCHAR) AS typdefault,
  CAST(NULL AS VARCHAR[]) AS typacl, b.display AS ankaflow_display
FROM (`+typeValues()+`) b(oid, typname, display, typlen, typtype, typcategory, typelem, typarray, typinput)
UNION ALL
SELECT type_oid, type_name, schema_oid, 10, -1, false, 'e', 'E', false, true, ',', 0, '-', 0, 0, 'enum_in', 'enum_out', '-', '-', '-', '-', '-',
  'i', 'p', false, 0, -1, 0, 0, NULL, NULL, NULL, type_name
FROM duckdb_types() WHERE `+userDB+` AND NOT internal AND logical_type = 'ENUM'`),

		// public belongs to pg_database_owner (6171), as in PostgreSQL 15.
		v("pg_namespace", `SELECT oid, `+nspName+` AS nspname, CAST(CASE WHEN database_name <> 'temp' AND schema_name = 'main' THEN 6171 ELSE 10 END AS BIGINT) AS nspowner, CAST(NULL AS VARCHAR[]) AS nspacl
FROM duckdb_schemas() WHERE `+userDB+` OR (database_name = 'system' AND schema_name IN ('pg_catalog', 'information_schema'))`),

		// Constraints with PostgreSQL's names (table_pkey, table_cols_key, table_cols_fkey),
		// 1-based keys and their definitions. NOT NULL is a column property in PostgreSQL 15.
		v("ankaflow_constraints", `SELECT c.*,
  CASE c.contype WHEN 'p' THEN 'PRIMARY KEY (' || array_to_string(constraint_column_names, ', ') || ')'
    WHEN 'u' THEN 'UNIQUE (' || array_to_string(constraint_column_names, ', ') || ')'
    WHEN 'f' THEN 'FOREIGN KEY (' || array_to_string(constraint_column_names, ', ') || ') REFERENCES ' ||
      CASE WHEN c.schema_name = 'main' OR c.database_name = 'temp' THEN '' ELSE c.schema_name || '.' END || referenced_table || '(' || array_to_string(referenced_column_names, ', ') || ')'
    ELSE 'CHECK (' || expression || ')' END AS condef,
  list_transform(referenced_column_names, n -> list_position(rc.names, n)) AS confkey
FROM (SELECT d.*,
  CAST(`+fmt.Sprint(constraintOIDBase)+` + table_oid * 1000 + constraint_index * 2 AS BIGINT) AS oid,
  CASE constraint_type WHEN 'PRIMARY KEY' THEN 'p' WHEN 'UNIQUE' THEN 'u' WHEN 'FOREIGN KEY' THEN 'f' ELSE 'c' END AS contype,
  CASE constraint_type WHEN 'PRIMARY KEY' THEN table_name || '_pkey'
    WHEN 'UNIQUE' THEN table_name || '_' || array_to_string(constraint_column_names, '_') || '_key'
    WHEN 'FOREIGN KEY' THEN table_name || '_' || array_to_string(constraint_column_names, '_') || '_fkey'
    ELSE table_name || '_' || array_to_string(constraint_column_names, '_') || '_check' END AS conname,
  CAST(list_transform(constraint_column_indexes, i -> i + 1) AS SMALLINT[]) AS conkey,
  r.r_oid AS confrelid
  -- a join, not a correlated subquery: DuckDB plans that as a delim join, many times slower
  FROM duckdb_constraints() d LEFT JOIN (SELECT database_name AS r_db, schema_name AS r_schema, table_name AS r_table, table_oid AS r_oid FROM duckdb_tables()) r
    ON r.r_db = d.database_name AND r.r_schema = d.schema_name AND r.r_table = d.referenced_table
  WHERE `+userDB+` AND constraint_type IN ('PRIMARY KEY', 'UNIQUE', 'FOREIGN KEY', 'CHECK')) c
LEFT JOIN (SELECT table_oid AS rc_oid, list(column_name ORDER BY column_index) AS names FROM duckdb_columns() GROUP BY table_oid) rc ON rc.rc_oid = c.confrelid`),

		v("pg_constraint", `SELECT oid, conname, schema_oid AS connamespace, contype, false AS condeferrable, false AS condeferred,
  true AS convalidated, table_oid AS conrelid, CAST(0 AS BIGINT) AS contypid,
  -- a foreign key's index is the referenced table's primary-key (or unique) index
  CASE WHEN contype IN ('p', 'u') THEN oid + 1
    WHEN contype = 'f' THEN coalesce(pk.pk_index, 0)
    ELSE CAST(0 AS BIGINT) END AS conindid, CAST(0 AS BIGINT) AS conparentid,
  coalesce(confrelid, 0) AS confrelid, CASE WHEN contype = 'f' THEN 'a' ELSE ' ' END AS confupdtype,
  CASE WHEN contype = 'f' THEN 'a' ELSE ' ' END AS confdeltype, CASE WHEN contype = 'f' THEN 's' ELSE ' ' END AS confmatchtype,
  true AS conislocal, 0 AS coninhcount, false AS connoinherit, conkey,
  CAST(CASE WHEN contype = 'f' THEN confkey END AS SMALLINT[]) AS confkey,
  CAST(NULL AS BIGINT[]) AS conpfeqop, CAST(NULL AS BIGINT[]) AS conppeqop, CAST(NULL AS BIGINT[]) AS conffeqop,
  CAST(NULL AS SMALLINT[]) AS confdelsetcols, CAST(NULL AS BIGINT[]) AS conexclop, expression AS conbin,
  CAST(2606 AS BIGINT) AS tableoid
FROM `+q("ankaflow_constraints")+` f
LEFT JOIN (SELECT table_oid AS pk_table, min(oid) + 1 AS pk_index FROM `+q("ankaflow_constraints")+` WHERE contype = 'p' GROUP BY table_oid) pk
  ON pk.pk_table = f.confrelid`),

		// Indexes: DuckDB's own (CREATE INDEX) and the ones behind primary-key and unique
		// constraints, which DuckDB does not list as indexes (PostgreSQL does).
		// exprs holds each key as PostgreSQL's pg_get_indexdef(index, n) prints it: a column's
		// name, a function call, or another expression in parentheses (DuckDB keeps every
		// expression wrapped in one more pair).
		// indexdef is pg_get_indexdef's, which puts an expression other than a function call
		// in one more pair of parentheses; pretty_indexdef is its pretty form (psql's \d).
		v("ankaflow_indexes", `SELECT oid, relname, schema_oid, table_oid, is_unique, is_primary, indkey,
  'CREATE ' || CASE WHEN is_unique THEN 'UNIQUE ' ELSE '' END || 'INDEX ' || relname || ' ON ' || nsp || '.' || table_name ||
    ' USING btree (' || array_to_string(list_transform(list_zip(indkey, exprs), k -> CASE WHEN k[1] = 0 AND NOT regexp_full_match(k[2], '[A-Za-z_][A-Za-z0-9_.]*\(.*\)')
      THEN '(' || k[2] || ')' ELSE k[2] END), ', ') || ')' AS indexdef,
  database_name, exprs,
  'CREATE ' || CASE WHEN is_unique THEN 'UNIQUE ' ELSE '' END || 'INDEX ' || relname || ' ON ' || nsp || '.' || table_name ||
    ' USING btree (' || array_to_string(exprs, ', ') || ')' AS pretty_indexdef
FROM (SELECT i.index_oid AS oid, i.index_name AS relname, i.schema_oid, i.table_oid, i.is_unique, i.is_primary, i.table_name, i.database_name,
  `+strings.NewReplacer("schema_name", "i.schema_name", "database_name", "i.database_name").Replace(nspName)+` AS nsp,
  CAST(list_transform(i.expressions, e -> coalesce(list_position(cols.names, e), 0)) AS SMALLINT[]) AS indkey,
  list_transform(i.expressions, e -> CASE WHEN list_contains(cols.names, e) THEN e WHEN e[1] = '(' AND e[-1] = ')' THEN e[2:-2] ELSE e END) AS exprs
FROM (SELECT * REPLACE (list_transform(CAST(expressions AS VARCHAR[]),
    -- DuckDB quotes a column that is a keyword ("name"); PostgreSQL does not need to
    e -> CASE WHEN regexp_full_match(e, '"([^"]|"")*"') THEN replace(e[2:-2], '""', '"') ELSE e END) AS expressions) FROM duckdb_indexes()) i,
  (SELECT table_oid, list(column_name ORDER BY column_index) AS names FROM duckdb_columns() GROUP BY table_oid) cols
WHERE cols.table_oid = i.table_oid AND (i.database_name = current_database() OR i.database_name = 'temp'))
UNION ALL
SELECT oid + 1, conname, schema_oid, table_oid, true, contype = 'p', conkey,
  'CREATE UNIQUE INDEX ' || conname || ' ON ' || `+nspName+` || '.' || table_name || ' USING btree (' || array_to_string(constraint_column_names, ', ') || ')',
  database_name, constraint_column_names,
  'CREATE UNIQUE INDEX ' || conname || ' ON ' || `+nspName+` || '.' || table_name || ' USING btree (' || array_to_string(constraint_column_names, ', ') || ')'
FROM `+q("ankaflow_constraints")+` WHERE contype IN ('p', 'u')`),

		v("pg_index", `SELECT oid AS indexrelid, table_oid AS indrelid, CAST(len(indkey) AS SMALLINT) AS indnatts, CAST(len(indkey) AS SMALLINT) AS indnkeyatts,
  is_unique AS indisunique, false AS indnullsnotdistinct, is_primary AS indisprimary, false AS indisexclusion, true AS indimmediate, false AS indisclustered,
  true AS indisvalid, false AS indcheckxmin, true AS indisready, true AS indislive, false AS indisreplident,
  indkey, CAST(NULL AS BIGINT[]) AS indcollation, CAST(NULL AS BIGINT[]) AS indclass, CAST(list_transform(indkey, k -> 0) AS SMALLINT[]) AS indoption,
  CAST(NULL AS VARCHAR) AS indexprs, CAST(NULL AS VARCHAR) AS indpred
FROM `+q("ankaflow_indexes")),

		v("ankaflow_relations", `SELECT table_oid AS oid, table_name AS relname, schema_oid AS relnamespace, 'r' AS relkind, CAST(column_count AS SMALLINT) AS relnatts,
  (index_count > 0 OR has_primary_key OR EXISTS (SELECT 1 FROM `+q("ankaflow_constraints")+` c WHERE c.table_oid = t.table_oid AND c.contype = 'u')) AS relhasindex,
  CAST(check_constraint_count AS SMALLINT) AS relchecks, "temporary", comment, CAST(estimated_size AS REAL) AS reltuples, CAST(2 AS BIGINT) AS relam, database_name, schema_name, sql,
  -- PostgreSQL implements foreign keys with triggers on both tables; psql lists them only then
  EXISTS (SELECT 1 FROM `+q("ankaflow_constraints")+` c WHERE c.contype = 'f' AND (c.table_oid = t.table_oid OR c.confrelid = t.table_oid)) AS relhastriggers
FROM duckdb_tables() t WHERE `+userDB+`
UNION ALL SELECT view_oid, view_name, schema_oid, 'v', CAST(column_count AS SMALLINT), false, 0, "temporary", comment, 0, 0, database_name, schema_name, sql, false
FROM duckdb_views() WHERE `+userDB+` AND NOT internal
UNION ALL SELECT sequence_oid, sequence_name, schema_oid, 'S', 0, false, 0, "temporary", comment, 0, 0, database_name, schema_name, sql, false
FROM duckdb_sequences() WHERE `+userDB+`
UNION ALL SELECT oid, relname, schema_oid, 'i', CAST(len(indkey) AS SMALLINT), false, 0, database_name = 'temp', NULL, 0, 403, database_name, NULL, indexdef, false
FROM `+q("ankaflow_indexes")),

		v("pg_class", `SELECT oid, relname, relnamespace, CAST(0 AS BIGINT) AS reltype, CAST(0 AS BIGINT) AS reloftype, CAST(10 AS BIGINT) AS relowner,
  relam, oid AS relfilenode, CAST(0 AS BIGINT) AS reltablespace, 0 AS relpages, reltuples, 0 AS relallvisible,
  CAST(0 AS BIGINT) AS reltoastrelid, relhasindex, false AS relisshared, CASE WHEN "temporary" THEN 't' ELSE 'p' END AS relpersistence,
  relkind, relnatts, relchecks, false AS relhasrules, relhastriggers, false AS relhassubclass, false AS relrowsecurity,
  false AS relforcerowsecurity, true AS relispopulated, CASE WHEN relkind = 'r' THEN 'd' ELSE 'n' END AS relreplident,
  false AS relispartition, CAST(0 AS BIGINT) AS relrewrite, 0 AS relfrozenxid, 0 AS relminmxid,
  CAST(NULL AS VARCHAR[]) AS relacl, CAST(NULL AS VARCHAR[]) AS reloptions, CAST(NULL AS VARCHAR) AS relpartbound,
  CAST(1259 AS BIGINT) AS tableoid
FROM `+q("ankaflow_relations")),

		v("pg_attribute", `SELECT c.table_oid AS attrelid, c.column_name AS attname, `+q("ankaflow_typeoid")+`(c.data_type) AS atttypid,
  -1 AS attstattarget, CAST(coalesce(t.typlen, -1) AS SMALLINT) AS attlen, CAST(c.column_index AS SMALLINT) AS attnum, 0 AS attndims, -1 AS attcacheoff,
  `+q("ankaflow_typmod")+`(c.data_type, c.numeric_precision, c.numeric_scale) AS atttypmod,
  t.typlen BETWEEN 1 AND 8 AS attbyval, 'i' AS attalign, coalesce(t.typstorage, 'p') AS attstorage, '' AS attcompression,
  NOT c.is_nullable AS attnotnull, c.column_default IS NOT NULL AS atthasdef, false AS atthasmissing, '' AS attidentity, '' AS attgenerated,
  false AS attisdropped, true AS attislocal, 0 AS attinhcount, coalesce(t.typcollation, 0) AS attcollation,
  CAST(NULL AS VARCHAR[]) AS attacl, CAST(NULL AS VARCHAR[]) AS attoptions, CAST(NULL AS VARCHAR[]) AS attfdwoptions, CAST(NULL AS VARCHAR) AS attmissingval
FROM duckdb_columns() c LEFT JOIN `+q("pg_type")+` t ON t.oid = `+q("ankaflow_typeoid")+`(c.data_type)
WHERE (c.database_name = current_database() OR c.database_name = 'temp')
-- An index's own columns (psql's \d INDEX and \d schema.*): a key column has the table
-- column's name and type; an expression is named after its function, or "expr", as
-- PostgreSQL names them. DuckDB does not say an expression's type (0: unknown).
UNION ALL
SELECT x.oid, CASE WHEN x.k > 0 THEN c.column_name ELSE coalesce(nullif(regexp_extract(x.e, '^([A-Za-z_][A-Za-z0-9_]*)\(', 1), ''), 'expr') END,
  CASE WHEN x.k > 0 THEN `+q("ankaflow_typeoid")+`(c.data_type) ELSE 0 END, -1, CAST(coalesce(t.typlen, -1) AS SMALLINT), CAST(x.n AS SMALLINT), 0, -1,
  CASE WHEN x.k > 0 THEN `+q("ankaflow_typmod")+`(c.data_type, c.numeric_precision, c.numeric_scale) ELSE -1 END,
  t.typlen BETWEEN 1 AND 8, 'i', coalesce(t.typstorage, 'p'), '', false, false, false, '', '', false, true, 0, coalesce(t.typcollation, 0),
  NULL, NULL, NULL, NULL
FROM (SELECT oid, table_oid, unnest(indkey) AS k, unnest(exprs) AS e, generate_subscripts(indkey, 1) AS n FROM `+q("ankaflow_indexes")+`) x
LEFT JOIN duckdb_columns() c ON c.table_oid = x.table_oid AND c.column_index = x.k
LEFT JOIN `+q("pg_type")+` t ON t.oid = `+q("ankaflow_typeoid")+`(c.data_type)`),

		v("pg_attrdef", `SELECT CAST(2000000000 + table_oid * 1000 + column_index AS BIGINT) AS oid, table_oid AS adrelid, CAST(column_index AS SMALLINT) AS adnum,
  column_default AS adbin
FROM duckdb_columns() WHERE `+userDB+` AND column_default IS NOT NULL`),

		v("pg_enum", `SELECT CAST(type_oid * 1000 + generate_subscripts(labels, 1) AS BIGINT) AS oid, type_oid AS enumtypid,
  CAST(generate_subscripts(labels, 1) AS REAL) AS enumsortorder, unnest(labels) AS enumlabel
FROM duckdb_types() WHERE `+userDB+` AND NOT internal AND logical_type = 'ENUM'`),

		v("pg_description", `SELECT table_oid AS objoid, CAST(1259 AS BIGINT) AS classoid, 0 AS objsubid, comment AS description FROM duckdb_tables() WHERE `+userDB+` AND comment IS NOT NULL
UNION ALL SELECT view_oid, 1259, 0, comment FROM duckdb_views() WHERE `+userDB+` AND comment IS NOT NULL
UNION ALL SELECT sequence_oid, 1259, 0, comment FROM duckdb_sequences() WHERE `+userDB+` AND comment IS NOT NULL
UNION ALL SELECT table_oid, 1259, column_index, comment FROM duckdb_columns() WHERE `+userDB+` AND comment IS NOT NULL
UNION ALL SELECT oid, 2615, 0, comment FROM duckdb_schemas() WHERE `+userDB+` AND comment IS NOT NULL
UNION ALL SELECT oid, 1255, 0, description FROM `+q("ankaflow_functions")+` WHERE description IS NOT NULL`),

		// Functions: DuckDB's built-ins (and this catalog's) are in pg_catalog, so psql's \df
		// lists what users and ankaflow added: macros (Fn, CREATE MACRO) and the connection
		// functions. Overloads get one OID each.
		v("ankaflow_functions", `SELECT CAST(function_oid * 64 + row_number() OVER (PARTITION BY function_oid ORDER BY array_to_string(parameter_types, ','), array_to_string(parameters, ',')) AS BIGINT) AS oid,
  function_name AS proname,
  CASE WHEN (database_name = 'system' AND internal) OR database_name = '`+Name+`' OR schema_name = 'pg_catalog'
         OR (database_name = 'temp' AND function_name = 'version') THEN `+pgCatalogOID+`
       WHEN database_name = current_database() THEN (SELECT s.oid FROM duckdb_schemas() s WHERE s.database_name = f.database_name AND s.schema_name = f.schema_name)
       ELSE `+publicOID+` END AS pronamespace,
  CASE function_type WHEN 'aggregate' THEN 'a' ELSE 'f' END AS prokind,
  function_type IN ('table', 'table_macro') AS proretset,
  CASE stability WHEN 'CONSISTENT' THEN 'i' WHEN 'CONSISTENT_WITHIN_QUERY' THEN 's' ELSE 'v' END AS provolatile,
  CAST(len(parameters) AS SMALLINT) AS pronargs,
  CASE WHEN function_type IN ('table', 'table_macro') THEN 'SETOF record'
       WHEN return_type IS NULL THEN 'anyelement'
       ELSE `+q("ankaflow_display")+`(`+q("ankaflow_typeoid")+`(return_type)) END AS result,
  array_to_string(list_transform(list_zip(parameters, parameter_types), p ->
    CASE WHEN p[2] IS NULL THEN p[1]
         WHEN p[1] LIKE 'col%' AND function_type <> 'macro' THEN `+q("ankaflow_display")+`(`+q("ankaflow_typeoid")+`(p[2]))
         ELSE p[1] || ' ' || `+q("ankaflow_display")+`(`+q("ankaflow_typeoid")+`(p[2])) END), ', ') AS arguments,
  parameters, macro_definition, description, function_type, varargs, return_type
FROM duckdb_functions() f
WHERE database_name IN (current_database(), 'temp', 'system', '`+Name+`', 'Fn')`),

		v("pg_proc", `SELECT oid, proname, pronamespace, CAST(10 AS BIGINT) AS proowner, CAST(14 AS BIGINT) AS prolang, 1 AS procost, 0 AS prorows,
  CAST(0 AS BIGINT) AS provariadic, '-' AS prosupport, prokind, false AS prosecdef, false AS proleakproof, false AS proisstrict, proretset,
  provolatile, 'u' AS proparallel, pronargs, CAST(0 AS SMALLINT) AS pronargdefaults, CAST(0 AS BIGINT) AS prorettype,
  CAST(NULL AS BIGINT[]) AS proargtypes, CAST(NULL AS BIGINT[]) AS proallargtypes, CAST(NULL AS VARCHAR[]) AS proargmodes,
  parameters AS proargnames, CAST(NULL AS VARCHAR) AS proargdefaults, CAST(NULL AS BIGINT[]) AS protrftypes,
  coalesce(macro_definition, proname) AS prosrc, CAST(NULL AS VARCHAR) AS probin, CAST(NULL AS VARCHAR) AS prosqlbody,
  CAST(NULL AS VARCHAR[]) AS proconfig, CAST(NULL AS VARCHAR[]) AS proacl, CAST(1255 AS BIGINT) AS tableoid
FROM `+q("ankaflow_functions")),

		v("pg_database", `SELECT CAST(`+fmt.Sprint(databaseOID)+` AS BIGINT) AS oid, coalesce(getvariable('`+VarDatabase+`'), current_database()) AS datname,
  CAST(10 AS BIGINT) AS datdba, 6 AS encoding, 'c' AS datlocprovider, false AS datistemplate, true AS datallowconn, -1 AS datconnlimit,
  0 AS datfrozenxid, 1 AS datminmxid, CAST(1663 AS BIGINT) AS dattablespace, 'C.UTF-8' AS datcollate, 'C.UTF-8' AS datctype,
  CAST(NULL AS VARCHAR) AS daticulocale, CAST(NULL AS VARCHAR) AS datcollversion, CAST(NULL AS VARCHAR[]) AS datacl`),

		// Roles: the session's user is oid 10 (the owner of every object: DuckDB has no owners),
		// the other users of the users file follow in name order. A user of role admin may do
		// anything DuckDB can, so it is a superuser; a user of role user is not (its statements
		// pass the gate in pgwire/policy.go). None has the other attributes (roles come from the
		// users file, not CREATE ROLE; one database; no replication or row-level security).
		// pg_database_owner is PostgreSQL's own.
		v("pg_roles", `SELECT rolname, oid <> 6171 AND list_contains(CAST(coalesce(getvariable('`+VarAdmins+`'), []) AS VARCHAR[]), rolname) AS rolsuper, true AS rolinherit, false AS rolcreaterole, false AS rolcreatedb,
  oid <> 6171 AS rolcanlogin, false AS rolreplication, -1 AS rolconnlimit, '********' AS rolpassword, CAST(NULL AS TIMESTAMPTZ) AS rolvaliduntil,
  false AS rolbypassrls, CAST(NULL AS VARCHAR[]) AS rolconfig, oid
FROM (SELECT coalesce(getvariable('`+VarUser+`'), 'duckdb') AS rolname, CAST(10 AS BIGINT) AS oid
  UNION ALL SELECT 'pg_database_owner', 6171
  UNION ALL SELECT rname, CAST(`+fmt.Sprint(roleOIDBase)+` + i AS BIGINT) FROM (SELECT unnest(roles) AS rname, generate_subscripts(roles, 1) AS i
    FROM (SELECT CAST(coalesce(getvariable('`+VarRoles+`'), []) AS VARCHAR[]) AS roles))
  WHERE rname <> coalesce(getvariable('`+VarUser+`'), 'duckdb'))`),
		v("pg_user", `SELECT rolname AS usename, oid AS usesysid, rolcreatedb AS usecreatedb, rolsuper AS usesuper, false AS userepl, false AS usebypassrls,
  '********' AS passwd, rolvaliduntil AS valuntil, rolconfig AS useconfig FROM `+q("pg_roles")),
		v("pg_authid", `SELECT oid, rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication, rolbypassrls, rolconnlimit,
  CAST(NULL AS VARCHAR) AS rolpassword, rolvaliduntil FROM `+q("pg_roles")),
		v("pg_auth_members", empty("roleid BIGINT, member BIGINT, grantor BIGINT, admin_option BOOLEAN")),

		v("pg_settings", `SELECT name, value AS setting, CAST(NULL AS VARCHAR) AS unit, 'DuckDB' AS category, description AS short_desc,
  CAST(NULL AS VARCHAR) AS extra_desc, 'user' AS context, lower(input_type) AS vartype, 'default' AS source,
  CAST(NULL AS VARCHAR) AS min_val, CAST(NULL AS VARCHAR) AS max_val, CAST(NULL AS VARCHAR[]) AS enumvals,
  CAST(NULL AS VARCHAR) AS boot_val, value AS reset_val, CAST(NULL AS VARCHAR) AS sourcefile, CAST(NULL AS INTEGER) AS sourceline,
  false AS pending_restart FROM duckdb_settings()
UNION ALL SELECT name, setting, NULL, 'Preset Options', name, NULL, 'internal', 'integer', 'default', NULL, NULL, NULL, setting, setting, NULL, NULL, false
FROM (VALUES ('max_index_keys', '32'), ('max_identifier_length', '63'), ('max_function_args', '100'), ('block_size', '8192')) p(name, setting)`),

		v("pg_extension", `SELECT CAST(13000 + row_number() OVER (ORDER BY extension_name) AS BIGINT) AS oid, extension_name AS extname, CAST(10 AS BIGINT) AS extowner,
  `+pgCatalogOID+` AS extnamespace, false AS extrelocatable, coalesce(extension_version, '') AS extversion,
  CAST(NULL AS BIGINT[]) AS extconfig, CAST(NULL AS VARCHAR[]) AS extcondition, description AS ankaflow_description
FROM duckdb_extensions() WHERE loaded`),

		v("pg_am", `SELECT * FROM (VALUES (CAST(2 AS BIGINT), 'heap', 'heap_tableam_handler', 't'), (403, 'btree', 'bthandler', 'i')) a(oid, amname, amhandler, amtype)`),
		v("pg_collation", `SELECT * FROM (VALUES (CAST(100 AS BIGINT), 'default', CAST(11 AS BIGINT), CAST(10 AS BIGINT), 'd', true, -1, CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR)),
  (950, 'C', 11, 10, 'c', true, -1, 'C', 'C', NULL, NULL), (951, 'POSIX', 11, 10, 'c', true, -1, 'POSIX', 'POSIX', NULL, NULL))
  c(oid, collname, collnamespace, collowner, collprovider, collisdeterministic, collencoding, collcollate, collctype, colliculocale, collversion)`),
		v("pg_tablespace", `SELECT * FROM (VALUES (CAST(1663 AS BIGINT), 'pg_default', CAST(10 AS BIGINT), CAST(NULL AS VARCHAR[]), CAST(NULL AS VARCHAR[])),
  (1664, 'pg_global', 10, NULL, NULL)) t(oid, spcname, spcowner, spcacl, spcoptions)`),

		v("pg_inherits", empty("inhrelid BIGINT, inhparent BIGINT, inhseqno INTEGER, inhdetachpending BOOLEAN")),
		v("pg_trigger", empty("tableoid BIGINT, oid BIGINT, tgrelid BIGINT, tgparentid BIGINT, tgname VARCHAR, tgfoid BIGINT, tgtype SMALLINT, tgenabled VARCHAR, tgisinternal BOOLEAN, tgconstrrelid BIGINT, tgconstrindid BIGINT, tgconstraint BIGINT, tgdeferrable BOOLEAN, tginitdeferred BOOLEAN, tgnargs SMALLINT, tgattr SMALLINT[], tgargs BLOB, tgqual VARCHAR, tgoldtable VARCHAR, tgnewtable VARCHAR")),
		v("pg_policy", empty("tableoid BIGINT, oid BIGINT, polname VARCHAR, polrelid BIGINT, polcmd VARCHAR, polpermissive BOOLEAN, polroles BIGINT[], polqual VARCHAR, polwithcheck VARCHAR")),
		v("pg_rewrite", empty("tableoid BIGINT, oid BIGINT, rulename VARCHAR, ev_class BIGINT, ev_type VARCHAR, ev_enabled VARCHAR, is_instead BOOLEAN, ev_qual VARCHAR, ev_action VARCHAR")),
		v("pg_statistic_ext", empty("oid BIGINT, stxrelid BIGINT, stxname VARCHAR, stxnamespace BIGINT, stxowner BIGINT, stxstattarget INTEGER, stxkeys SMALLINT[], stxkind VARCHAR[], stxexprs VARCHAR")),
		v("pg_publication", empty("oid BIGINT, pubname VARCHAR, pubowner BIGINT, puballtables BOOLEAN, pubinsert BOOLEAN, pubupdate BOOLEAN, pubdelete BOOLEAN, pubtruncate BOOLEAN, pubviaroot BOOLEAN")),
		v("pg_publication_namespace", empty("oid BIGINT, pnpubid BIGINT, pnnspid BIGINT")),
		v("pg_publication_rel", empty("oid BIGINT, prpubid BIGINT, prrelid BIGINT, prqual VARCHAR, prattrs SMALLINT[]")),
		v("pg_depend", empty("classid BIGINT, objid BIGINT, objsubid INTEGER, refclassid BIGINT, refobjid BIGINT, refobjsubid INTEGER, deptype VARCHAR")),
		v("pg_foreign_table", empty("ftrelid BIGINT, ftserver BIGINT, ftoptions VARCHAR[]")),
		v("pg_partitioned_table", empty("partrelid BIGINT, partstrat VARCHAR, partnatts SMALLINT, partdefid BIGINT, partattrs SMALLINT[]")),
		v("pg_default_acl", empty("oid BIGINT, defaclrole BIGINT, defaclnamespace BIGINT, defaclobjtype VARCHAR, defaclacl VARCHAR[]")),
		v("pg_init_privs", empty("objoid BIGINT, classoid BIGINT, objsubid INTEGER, privtype VARCHAR, initprivs VARCHAR[]")),
		v("pg_event_trigger", empty("oid BIGINT, evtname VARCHAR, evtevent VARCHAR, evtowner BIGINT, evtfoid BIGINT, evtenabled VARCHAR, evttags VARCHAR[]")),
		v("pg_opclass", empty("tableoid BIGINT, oid BIGINT, opcmethod BIGINT, opcname VARCHAR, opcnamespace BIGINT, opcowner BIGINT, opcfamily BIGINT, opcintype BIGINT, opcdefault BOOLEAN, opckeytype BIGINT")),
		v("pg_opfamily", empty("tableoid BIGINT, oid BIGINT, opfmethod BIGINT, opfname VARCHAR, opfnamespace BIGINT, opfowner BIGINT")),
		v("pg_language", `SELECT * FROM (VALUES (CAST(12 AS BIGINT), 'internal'), (13, 'c'), (14, 'sql')) l(oid, lanname)`),
		v("pg_sequence", `SELECT sequence_oid AS seqrelid, CAST(20 AS BIGINT) AS seqtypid, start_value AS seqstart, increment_by AS seqincrement,
  max_value AS seqmax, min_value AS seqmin, 1 AS seqcache, cycle AS seqcycle FROM duckdb_sequences() WHERE `+userDB),

		// One row per wire session, kept by the server in ankaflow_sessions.
		{name: "ankaflow_sessions", table: true, body: `(pid INTEGER PRIMARY KEY, usename VARCHAR, datname VARCHAR, application_name VARCHAR,
  client_addr VARCHAR, client_port INTEGER, backend_start TIMESTAMPTZ)`},
		v("pg_stat_activity", `SELECT CAST(`+fmt.Sprint(databaseOID)+` AS BIGINT) AS datid, datname, pid, CAST(NULL AS INTEGER) AS leader_pid,
  CAST(10 AS BIGINT) AS usesysid, usename, application_name, client_addr, CAST(NULL AS VARCHAR) AS client_hostname, client_port,
  backend_start, CAST(NULL AS TIMESTAMPTZ) AS xact_start, CAST(NULL AS TIMESTAMPTZ) AS query_start, CAST(NULL AS TIMESTAMPTZ) AS state_change,
  CAST(NULL AS VARCHAR) AS wait_event_type, CAST(NULL AS VARCHAR) AS wait_event,
  CASE WHEN pid = getvariable('`+VarPID+`') THEN 'active' ELSE 'idle' END AS state, CAST(NULL AS VARCHAR) AS backend_xid,
  CAST(NULL AS VARCHAR) AS backend_xmin, CAST(NULL AS BIGINT) AS query_id, '' AS query, 'client backend' AS backend_type
FROM `+q("ankaflow_sessions")),
	}
}
