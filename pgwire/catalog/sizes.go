package catalog

// Relation sizes (pg_table_size, pg_relation_size, pg_total_relation_size; psql's \dt+ Size).
// DuckDB reports a table's storage only per named table (pragma_storage_info), which a catalog
// function called once per row cannot use; the sizes here are estimated from what
// duckdb_tables() and duckdb_columns() report: the table's row count times the width DuckDB
// stores a row of its column types in (strings and nested values count as their 16-byte
// headers). An index counts 8 bytes per key column and 8 for the row id, per row. They grow
// with the data, are 0 for empty tables, views and sequences, and are NULL for an unknown OID,
// as in PostgreSQL.

func sizeObjects() []object {
	m := func(name, body string) object { return object{name: name, macro: true, body: body} }
	v := func(name, body string) object { return object{name: name, body: body} }
	return []object{
		m("ankaflow_type_width", `(dt, prec) AS CASE
  WHEN dt IN ('BOOLEAN', 'TINYINT', 'UTINYINT') THEN 1
  WHEN dt IN ('SMALLINT', 'USMALLINT') THEN 2
  WHEN dt IN ('INTEGER', 'UINTEGER', 'FLOAT', 'DATE') THEN 4
  WHEN dt IN ('BIGINT', 'UBIGINT', 'DOUBLE', 'TIME', 'TIME_NS') OR dt LIKE 'TIMESTAMP%' THEN 8
  WHEN dt LIKE 'DECIMAL(%' THEN CASE WHEN prec <= 4 THEN 2 WHEN prec <= 9 THEN 4 WHEN prec <= 18 THEN 8 ELSE 16 END
  ELSE 16 END`),

		// oid, bytes, and the table an index belongs to (its own oid for a table).
		v("ankaflow_relation_sizes", `SELECT t.table_oid AS oid, CAST(t.estimated_size * coalesce(w.width, 0) AS BIGINT) AS bytes, t.table_oid AS table_oid
FROM duckdb_tables() t LEFT JOIN (SELECT table_oid AS w_oid, sum(`+q("ankaflow_type_width")+`(data_type, numeric_precision)) AS width
  FROM duckdb_columns() WHERE `+userDB+` GROUP BY table_oid) w ON w.w_oid = t.table_oid
WHERE `+userDB+`
UNION ALL
SELECT i.oid, CAST(t.estimated_size * (8 * len(i.indkey) + 8) AS BIGINT), i.table_oid
FROM `+q("ankaflow_indexes")+` i JOIN duckdb_tables() t ON t.table_oid = i.table_oid
UNION ALL
SELECT oid, 0, oid FROM `+q("ankaflow_relations")+` WHERE relkind IN ('v', 'S')`),

		m("pg_table_size", `(r) AS (SELECT bytes FROM `+q("ankaflow_relation_sizes")+` WHERE oid = r)`),
		m("pg_relation_size", `(r) AS (SELECT bytes FROM `+q("ankaflow_relation_sizes")+` WHERE oid = r),
  (r, f) AS (SELECT CASE WHEN f = 'main' THEN bytes ELSE 0 END FROM `+q("ankaflow_relation_sizes")+` WHERE oid = r)`),
		m("pg_indexes_size", `(r) AS (SELECT CASE WHEN count(*) FILTER (WHERE oid = r) = 0 THEN NULL ELSE coalesce(sum(bytes) FILTER (WHERE oid <> r), 0) END
  FROM `+q("ankaflow_relation_sizes")+` WHERE table_oid = r)`),
		m("pg_total_relation_size", `(r) AS (SELECT CASE WHEN count(*) FILTER (WHERE oid = r) = 0 THEN NULL ELSE CAST(sum(bytes) AS BIGINT) END
  FROM `+q("ankaflow_relation_sizes")+` WHERE table_oid = r)`),

		// PostgreSQL 15's pg_size_pretty: bytes below 10 kB, then kB, MB, GB, TB and PB below
		// 20 × 1024 − 1 of the unit, halves rounded away from zero.
		m("pg_size_pretty", `(s) AS CASE WHEN s IS NULL THEN NULL ELSE `+sizePretty+` END`),
	}
}

// sizePretty is the body of pg_size_pretty on a = |s| (DuckDB's // truncates like C's /).
const sizePretty = `(SELECT CASE
    WHEN ankaflow_a < 10240 THEN CAST(ankaflow_sign * ankaflow_a AS VARCHAR) || ' bytes'
    WHEN ankaflow_a // 512 < 20479 THEN CAST(ankaflow_sign * ((ankaflow_a // 512 + 1) // 2) AS VARCHAR) || ' kB'
    WHEN ankaflow_a // 524288 < 20479 THEN CAST(ankaflow_sign * ((ankaflow_a // 524288 + 1) // 2) AS VARCHAR) || ' MB'
    WHEN ankaflow_a // 536870912 < 20479 THEN CAST(ankaflow_sign * ((ankaflow_a // 536870912 + 1) // 2) AS VARCHAR) || ' GB'
    WHEN ankaflow_a // 549755813888 < 20479 THEN CAST(ankaflow_sign * ((ankaflow_a // 549755813888 + 1) // 2) AS VARCHAR) || ' TB'
    ELSE CAST(ankaflow_sign * ((ankaflow_a // 562949953421312 + 1) // 2) AS VARCHAR) || ' PB' END
  FROM (SELECT abs(CAST(trunc(s) AS HUGEINT)) AS ankaflow_a, CASE WHEN s < 0 THEN -1 ELSE 1 END AS ankaflow_sign))`
