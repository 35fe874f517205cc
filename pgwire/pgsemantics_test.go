package pgwire

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/internal/testpg"
)

// answer is what a server sent for one query: column names and text values, or the SQLSTATE.
func answer(t *testing.T, conn *pgx.Conn, q string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rows, err := conn.Query(ctx, q, pgx.QueryExecModeSimpleProtocol)
	if err == nil {
		var b strings.Builder
		for i, f := range rows.FieldDescriptions() {
			if i > 0 {
				b.WriteString("|")
			}
			b.WriteString(f.Name)
		}
		for rows.Next() {
			b.WriteString("\n")
			for i, v := range rows.RawValues() {
				if i > 0 {
					b.WriteString("|")
				}
				if v == nil {
					b.WriteString("NULL")
				} else {
					b.Write(v)
				}
			}
		}
		rows.Close()
		err = rows.Err()
		if err == nil {
			return b.String()
		}
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return "ERROR " + pe.Code
	}
	return fmt.Sprint("ERROR ", err)
}

// Names, types, catalog answers and operators give what PostgreSQL 15 gives for the same
// schema: pg_catalog-qualified names, OPERATOR(pg_catalog.~), COLLATE pg_catalog.default, reg*
// casts, one OID space (pg_attribute, pg_type, format_type), regular expressions, SIMILAR TO,
// integer division, division by zero, identity functions and column names.
func TestPostgresNamesAndSemanticsMatchPostgres(t *testing.T) {
	pg := testpg.Start(t, testpg.Options{})
	ts := startServer(t, Config{})
	ctx := context.Background()
	connect := func(url string) *pgx.Conn {
		c, err := pgx.Connect(ctx, url)
		require.NoError(t, err)
		t.Cleanup(func() { c.Close(ctx) })
		return c
	}
	want := connect(pg.URL(pg.Database))
	got := connect(fmt.Sprintf("postgres://tester@%s/%s?sslmode=disable", ts.Addr(), pg.Database))
	for _, c := range []*pgx.Conn{want, got} {
		_, err := c.Exec(ctx, catalogSchema, pgx.QueryExecModeSimpleProtocol)
		require.NoError(t, err)
	}
	for _, q := range []string{
		`SELECT pg_catalog.version() LIKE 'PostgreSQL 15%' AS v`,
		`SELECT NULL::pg_catalog.text, CAST(1 AS pg_catalog.int4), CAST('x' AS pg_catalog.varchar) AS c`,
		`SELECT 1, 1 + 1, count(*), sum(x), max(x) FROM (VALUES (1), (2)) v(x)`,
		`SELECT 'abc' ~ 'b', 'abc' ~* 'B', 'abc' !~ 'b', 'abc' !~* 'B', 'abc' ~ '^b'`,
		`SELECT 'abc' SIMILAR TO 'a%', 'abc' SIMILAR TO 'b%', 'a.c' SIMILAR TO 'a.c', 'abc' SIMILAR TO 'a.c', 'abc' NOT SIMILAR TO '(a|x)bc'`,
		`SELECT 7 / 2 AS a, -7 / 2 AS b, 7 % 3 AS c`,
		`SELECT 1 / 0`,
		`SELECT 1 % 0`,
		`SELECT current_user, session_user, current_database(), current_schema()`,
		`SELECT 'customers'::regclass::text AS r, 'sales.orders'::pg_catalog.regclass::pg_catalog.text AS o`,
		`SELECT to_regclass('customers') = 'customers'::regclass AS a, to_regclass('nope') IS NULL AS b`,
		`SELECT 'x' COLLATE pg_catalog.default AS x`,
		`SELECT c.relname FROM pg_catalog.pg_class c WHERE c.relname OPERATOR(pg_catalog.~) '^(cust.*)$' COLLATE pg_catalog.default ORDER BY 1`,
		`SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), t.typname, a.attnotnull, a.attnum
		   FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
		  WHERE a.attrelid = 'customers'::regclass AND a.attnum > 0 ORDER BY a.attnum`,
		`SELECT conname, contype, conkey, confkey, confrelid::regclass::text AS ref, pg_catalog.pg_get_constraintdef(oid, true) AS def
		   FROM pg_catalog.pg_constraint WHERE connamespace IN (SELECT oid FROM pg_namespace WHERE nspname IN ('public', 'sales')) ORDER BY 1`,
		`SELECT c.relname, i.indisunique, i.indisprimary FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid
		  WHERE c.relnamespace IN (SELECT oid FROM pg_namespace WHERE nspname IN ('public', 'sales')) ORDER BY 1`,
		`SELECT nspname FROM pg_catalog.pg_namespace WHERE nspname IN ('public', 'sales', 'pg_catalog', 'information_schema') ORDER BY 1`,
		`SELECT typname, typlen, typcategory FROM pg_catalog.pg_type WHERE oid IN (16, 20, 23, 25, 1043, 1082, 1114, 1184, 1700, 2950) ORDER BY oid`,
		`SELECT pg_catalog.obj_description('customers'::regclass, 'pg_class') AS d, pg_catalog.col_description('customers'::regclass, 2) AS c`,
		`SELECT pg_catalog.pg_get_userbyid(c.relowner) = current_user AS mine FROM pg_catalog.pg_class c WHERE c.relname = 'customers'`,
		`SELECT d.datname = current_database() AS d, pg_catalog.pg_encoding_to_char(d.encoding) AS e FROM pg_catalog.pg_database d WHERE d.datname = current_database()`,
		`SELECT pg_backend_pid() > 0 AS p, pg_is_in_recovery() AS r, array_upper(ARRAY[1, 2, 3], 1) AS u, quote_ident('a b') AS q, quote_ident('ab') AS q2`,
		`SELECT 'int4'::regtype::text AS t, 1700::regtype::text AS n`,
		`SELECT typinput = 'pg_catalog.array_in'::regproc AS is_array, typname FROM pg_catalog.pg_type WHERE oid = 1007`,
		`SELECT n.nspname = ANY(current_schemas(true)) AS v, n.nspname, t.typname FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON t.typnamespace = n.oid WHERE t.oid = 1186`,
		`SELECT count(*) AS n FROM pg_catalog.pg_stat_activity WHERE pid = pg_backend_pid()`,
		`SELECT customers.id FROM public.customers`,
		`SHOW search_path`,
		`SHOW nonexistent_parameter`,
		`SET search_path TO sales, public`,
		`SHOW search_path`,
		`SELECT current_schema(), current_schemas(false), current_schemas(true)`,
		`SELECT count(*) FROM orders JOIN customers ON customers.id = orders.customer_id`,
		`SELECT 'orders'::regclass::text AS o, 'customers'::regclass::text AS c`,
		`SET search_path TO public`,
		`SELECT current_schema()`,
		`SELECT count(*) FROM orders`,
	} {
		assert.Equal(t, answer(t, want, q), answer(t, got, q), q)
	}
	// SHOW ALL lists settings (not DuckDB's tables), with PostgreSQL's columns; the settings
	// themselves differ.
	pgAll, ourAll := answer(t, want, "SHOW ALL"), answer(t, got, "SHOW ALL")
	firstLine := func(s string) string { return strings.SplitN(s, "\n", 2)[0] }
	assert.Equal(t, firstLine(pgAll), firstLine(ourAll))
	for _, name := range []string{"\napplication_name|", "\nsearch_path|", "\nTimeZone|"} {
		assert.Contains(t, pgAll, name)
		assert.Contains(t, ourAll, name)
	}
}

// RowDescription names the table and column number of plain table columns, as PostgreSQL does
// (0 for computed columns), in the extended protocol (pgjdbc's getTableName, isNullable).
func TestRowDescriptionTableColumns(t *testing.T) {
	pg := testpg.Start(t, testpg.Options{})
	ts := startServer(t, Config{})
	ctx := context.Background()
	describe := func(url string) []string {
		c, err := pgx.Connect(ctx, url)
		require.NoError(t, err)
		defer c.Close(ctx)
		_, err = c.Exec(ctx, catalogSchema, pgx.QueryExecModeSimpleProtocol)
		require.NoError(t, err)
		var out []string
		// query runs q and notes each result column's table and number.
		query := func(q string, mode pgx.QueryExecMode) {
			rows, err := c.Query(ctx, q, mode)
			require.NoError(t, err, q)
			rows.Close()
			require.NoError(t, rows.Err(), q)
			for _, f := range rows.FieldDescriptions() {
				table := "0"
				if f.TableOID != 0 {
					require.NoError(t, c.QueryRow(ctx, fmt.Sprintf("SELECT %d::oid::regclass::text", f.TableOID), pgx.QueryExecModeSimpleProtocol).Scan(&table))
				}
				out = append(out, fmt.Sprintf("%s %s.%d", f.Name, table, f.TableAttributeNumber))
			}
		}
		for _, q := range []string{
			"SELECT email, id, 1 AS one, score + 1 AS more FROM customers",
			"SELECT * FROM sales.orders",
			"SELECT o.note FROM sales.orders o WHERE o.id > 0 ORDER BY 1 LIMIT 1",
			"SELECT count(*) FROM customers",
		} {
			for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeDescribeExec, pgx.QueryExecModeSimpleProtocol} {
				query(q, mode)
			}
		}
		// A table replaced, or a column added, under the same name: the numbers follow (the
		// server caches what it looked up until the catalog may have changed).
		simple := func(q string) { query(q, pgx.QueryExecModeSimpleProtocol) }
		simple("SELECT qty, order_id FROM sales.lines")
		simple("DROP TABLE sales.lines")
		simple("CREATE TABLE sales.lines (qty integer, order_id bigint)")
		simple("SELECT qty, order_id FROM sales.lines")
		simple("SELECT * FROM sales.lines")
		simple("ALTER TABLE sales.lines ADD COLUMN note text")
		simple("SELECT * FROM sales.lines")
		simple("BEGIN; CREATE TABLE sales.later (x integer, y integer); COMMIT")
		simple("SELECT y FROM sales.later")
		return out
	}
	want := describe(pg.URL(pg.Database))
	got := describe(fmt.Sprintf("postgres://tester@%s/%s?sslmode=disable", ts.Addr(), pg.Database))
	require.Equal(t, want, got)
}
