package catalog

import (
	"context"
	"database/sql"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"
	"github.com/stretchr/testify/require"
)

func openDB(t *testing.T) *sql.Conn {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	c, err := db.Conn(context.Background())
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

func rows(t *testing.T, c *sql.Conn, q string) [][]string {
	t.Helper()
	r, err := c.QueryContext(context.Background(), q)
	require.NoError(t, err, q)
	defer r.Close()
	cols, _ := r.Columns()
	var out [][]string
	for r.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		require.NoError(t, r.Scan(ptrs...))
		row := make([]string, len(cols))
		for i, v := range vals {
			row[i] = v.String
			if !v.Valid {
				row[i] = "NULL"
			}
		}
		out = append(out, row)
	}
	require.NoError(t, r.Err())
	return out
}

// The catalog answers from DuckDB's live catalog, in PostgreSQL's terms: 1-based keys, real
// constraint names, PostgreSQL type OIDs, main shown as public.
func TestCatalogFromLiveDuckDB(t *testing.T) {
	ctx := context.Background()
	c := openDB(t)
	require.NoError(t, Install(ctx, c))
	require.NoError(t, Install(ctx, c)) // idempotent
	_, err := c.ExecContext(ctx, `CREATE SCHEMA sales;
CREATE TABLE customers(id INTEGER PRIMARY KEY, email VARCHAR UNIQUE NOT NULL, score DECIMAL(10,2) DEFAULT 1.5);
CREATE TABLE sales.orders(id BIGINT PRIMARY KEY, customer INTEGER, placed TIMESTAMPTZ, tags VARCHAR[]);
CREATE TABLE lines(order_id INTEGER REFERENCES customers(id), qty INTEGER);
CREATE INDEX orders_placed ON sales.orders(placed);
CREATE VIEW big AS SELECT * FROM customers WHERE score > 10;
COMMENT ON TABLE customers IS 'who buys';
COMMENT ON COLUMN customers.email IS 'login';`)
	require.NoError(t, err)

	require.Equal(t, [][]string{{"information_schema"}, {"pg_catalog"}, {"pg_temp_1"}, {"public"}, {"sales"}},
		rows(t, c, "SELECT nspname FROM "+q("pg_namespace")+" ORDER BY 1"))
	require.Equal(t, [][]string{{"big", "v", "public"}, {"customers", "r", "public"}, {"customers_email_key", "i", "public"}, {"customers_pkey", "i", "public"}, {"lines", "r", "public"},
		{"orders", "r", "sales"}, {"orders_pkey", "i", "sales"}, {"orders_placed", "i", "sales"}},
		rows(t, c, "SELECT relname, relkind, nspname FROM "+q("pg_class")+" c JOIN "+q("pg_namespace")+" n ON n.oid = c.relnamespace ORDER BY 1"))
	require.Equal(t, [][]string{
		{"id", "23", "-1", "integer", "true", "NULL"},
		{"email", "25", "-1", "text", "true", "NULL"},
		{"score", "1700", "655366", "numeric(10,2)", "false", "1.5"},
	}, rows(t, c, `SELECT attname, atttypid, atttypmod, `+q("format_type")+`(atttypid, atttypmod), attnotnull, `+q("pg_get_expr")+`(d.adbin, d.adrelid)
FROM `+q("pg_attribute")+` a LEFT JOIN `+q("pg_attrdef")+` d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE attrelid = `+q("ankaflow_regclass_oid")+`('customers') ORDER BY attnum`))
	require.Equal(t, [][]string{
		{"customers_email_key", "u", "[2]", "UNIQUE (email)", "0"},
		{"customers_pkey", "p", "[1]", "PRIMARY KEY (id)", "0"},
		{"lines_order_id_fkey", "f", "[1]", "FOREIGN KEY (order_id) REFERENCES customers(id)", "1"},
		{"orders_pkey", "p", "[1]", "PRIMARY KEY (id)", "0"},
	}, rows(t, c, `SELECT conname, contype, CAST(conkey AS VARCHAR), `+q("pg_get_constraintdef")+`(oid), CAST(confrelid = `+q("ankaflow_regclass_oid")+`('customers') AS INT)
FROM `+q("pg_constraint")+` ORDER BY 1`))
	require.Equal(t, [][]string{
		{"customers_email_key", "true", "false", "CREATE UNIQUE INDEX customers_email_key ON public.customers USING btree (email)"},
		{"customers_pkey", "true", "true", "CREATE UNIQUE INDEX customers_pkey ON public.customers USING btree (id)"},
		{"orders_pkey", "true", "true", "CREATE UNIQUE INDEX orders_pkey ON sales.orders USING btree (id)"},
		{"orders_placed", "false", "false", "CREATE INDEX orders_placed ON sales.orders USING btree (placed)"},
	}, rows(t, c, `SELECT c.relname, indisunique, indisprimary, `+q("pg_get_indexdef")+`(indexrelid, 0, true)
FROM `+q("pg_index")+` i JOIN `+q("pg_class")+` c ON c.oid = i.indexrelid ORDER BY 1`))
	require.Equal(t, [][]string{{"who buys", "login"}},
		rows(t, c, `SELECT `+q("obj_description")+`(`+q("ankaflow_regclass_oid")+`('customers'), 'pg_class'), `+q("col_description")+`(`+q("ankaflow_regclass_oid")+`('customers'), 2)`))
	require.Equal(t, [][]string{{"1184", "1009", "text[]"}},
		rows(t, c, `SELECT (SELECT atttypid FROM `+q("pg_attribute")+` WHERE attname = 'placed' AND attrelid = `+q("ankaflow_regclass_oid")+`('sales.orders')), (SELECT atttypid FROM `+q("pg_attribute")+` WHERE attname = 'tags'), `+q("format_type")+`(1009, -1)`))
	// The catalog follows the live catalog: a table created now is there at once.
	_, err = c.ExecContext(ctx, "CREATE TABLE later(x INTEGER)")
	require.NoError(t, err)
	require.Equal(t, [][]string{{"later"}}, rows(t, c, "SELECT relname FROM "+q("pg_class")+" WHERE relname = 'later'"))
	require.Equal(t, [][]string{{"true", "false"}}, rows(t, c, "SELECT "+q("pg_table_is_visible")+"("+q("ankaflow_regclass_oid")+"('later')), "+q("pg_table_is_visible")+"("+q("ankaflow_regclass_oid")+"('sales.orders'))"))
}
