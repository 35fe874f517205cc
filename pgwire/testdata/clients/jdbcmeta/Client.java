// Asks pgjdbc's DatabaseMetaData and ResultSetMetaData about one schema (two schemas, primary,
// unique and foreign keys, an index, a view, comments) and prints one "check: value" line per
// answer; pgwire/clients_jdbc_test.go runs it against ankaflow and PostgreSQL and compares.
// Run as: java -cp /usr/share/java/postgresql.jar Client.java
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;

public class Client {
    static void show(String name, Object value) {
        System.out.println(name + ": " + value);
    }

    // rows prints the named columns of every row of a metadata result.
    static void rows(String name, ResultSet rs, String... cols) throws SQLException {
        int n = 0;
        while (rs.next()) {
            StringBuilder sb = new StringBuilder();
            for (String c : cols) {
                if (sb.length() > 0) {
                    sb.append("|");
                }
                sb.append(rs.getString(c));
            }
            show(name + "[" + n + "]", sb);
            n++;
        }
        show(name + " rows", n);
        rs.close();
    }

    public static void main(String[] args) throws Exception {
        String url = "jdbc:postgresql://" + System.getenv("ANKA_HOST") + ":" + System.getenv("ANKA_PORT") + "/" + System.getenv("ANKA_DATABASE");
        Properties p = new Properties();
        p.setProperty("user", System.getenv("ANKA_USER"));
        p.setProperty("password", System.getenv("ANKA_PASSWORD"));
        try (Connection c = DriverManager.getConnection(url, p)) {
            try (Statement s = c.createStatement()) {
                s.execute("CREATE SCHEMA sales");
                s.execute("CREATE TABLE customers (id integer PRIMARY KEY, email text NOT NULL UNIQUE, score numeric(10,2) DEFAULT 1.5)");
                s.execute("CREATE TABLE sales.orders (id bigint PRIMARY KEY, customer_id integer, placed timestamp with time zone, note text)");
                s.execute("CREATE TABLE sales.lines (order_id bigint REFERENCES sales.orders (id), qty integer NOT NULL)");
                s.execute("CREATE INDEX orders_placed ON sales.orders (placed)");
                s.execute("CREATE VIEW big_customers AS SELECT id, email FROM customers WHERE score > 10");
                s.execute("COMMENT ON TABLE customers IS 'who buys'");
                // The same function on both: a macro is PostgreSQL's polymorphic SQL function.
                if ("ankaflow".equals(System.getenv("ANKA_TARGET"))) {
                    s.execute("CREATE MACRO pick(a, b) AS coalesce(a, b)");
                } else {
                    s.execute("CREATE FUNCTION pick(a anyelement, b anyelement) RETURNS anyelement LANGUAGE sql AS 'SELECT coalesce(a, b)'");
                }
            }
            DatabaseMetaData md = c.getMetaData();
            show("product", md.getDatabaseProductName());
            rows("schemas", md.getSchemas(null, "sales"), "TABLE_SCHEM");
            rows("tables public", md.getTables(null, "public", "%", new String[] {"TABLE", "VIEW"}), "TABLE_SCHEM", "TABLE_NAME", "TABLE_TYPE", "REMARKS");
            rows("tables sales", md.getTables(null, "sales", "%", new String[] {"TABLE"}), "TABLE_SCHEM", "TABLE_NAME", "TABLE_TYPE");
            rows("columns customers", md.getColumns(null, "public", "customers", "%"),
                    "COLUMN_NAME", "DATA_TYPE", "TYPE_NAME", "COLUMN_SIZE", "DECIMAL_DIGITS", "NULLABLE", "COLUMN_DEF", "ORDINAL_POSITION", "IS_NULLABLE");
            rows("columns orders", md.getColumns(null, "sales", "orders", "%"), "COLUMN_NAME", "DATA_TYPE", "TYPE_NAME", "NULLABLE", "ORDINAL_POSITION");
            rows("pk customers", md.getPrimaryKeys(null, "public", "customers"), "COLUMN_NAME", "KEY_SEQ", "PK_NAME");
            rows("pk orders", md.getPrimaryKeys(null, "sales", "orders"), "COLUMN_NAME", "KEY_SEQ", "PK_NAME");
            rows("imported lines", md.getImportedKeys(null, "sales", "lines"),
                    "PKTABLE_SCHEM", "PKTABLE_NAME", "PKCOLUMN_NAME", "FKTABLE_NAME", "FKCOLUMN_NAME", "KEY_SEQ", "FK_NAME", "PK_NAME");
            rows("exported orders", md.getExportedKeys(null, "sales", "orders"), "PKTABLE_NAME", "FKTABLE_SCHEM", "FKTABLE_NAME", "FKCOLUMN_NAME", "FK_NAME");
            rows("indexes orders", md.getIndexInfo(null, "sales", "orders", false, false), "INDEX_NAME", "NON_UNIQUE", "COLUMN_NAME", "ORDINAL_POSITION");
            rows("indexes customers", md.getIndexInfo(null, "public", "customers", false, false), "INDEX_NAME", "NON_UNIQUE", "COLUMN_NAME");
            // getTypeInfo: the shape, and the rows of the types both servers have.
            try (ResultSet rs = md.getTypeInfo()) {
                ResultSetMetaData m = rs.getMetaData();
                StringBuilder cols = new StringBuilder();
                for (int i = 1; i <= m.getColumnCount(); i++) {
                    cols.append(m.getColumnName(i)).append(" ");
                }
                show("typeinfo columns", cols.toString().trim());
                java.util.Set<String> common = new java.util.HashSet<>(java.util.Arrays.asList(
                        "bool", "int2", "int4", "int8", "float4", "float8", "numeric", "text", "varchar", "bytea",
                        "date", "time", "timestamp", "timestamptz", "interval", "uuid", "json"));
                java.util.TreeMap<String, String> rowsByName = new java.util.TreeMap<>();
                while (rs.next()) {
                    String name = rs.getString("TYPE_NAME");
                    if (common.contains(name)) {
                        rowsByName.put(name, rs.getInt("DATA_TYPE") + "|" + rs.getInt("PRECISION") + "|" + rs.getString("LITERAL_PREFIX") + "|"
                                + rs.getInt("NULLABLE") + "|" + rs.getBoolean("CASE_SENSITIVE") + "|" + rs.getInt("SEARCHABLE") + "|"
                                + rs.getBoolean("UNSIGNED_ATTRIBUTE") + "|" + rs.getBoolean("AUTO_INCREMENT") + "|" + rs.getInt("NUM_PREC_RADIX"));
                    }
                }
                for (java.util.Map.Entry<String, String> e : rowsByName.entrySet()) {
                    show("typeinfo " + e.getKey(), e.getValue());
                }
            }
            // getFunctions / getProcedures: the user's function (its specific name carries an OID).
            try (ResultSet rs = md.getFunctions(null, "public", "pick")) {
                int n = 0;
                while (rs.next()) {
                    show("function " + n, rs.getString("FUNCTION_CAT") + "|" + rs.getString("FUNCTION_SCHEM") + "|" + rs.getString("FUNCTION_NAME") + "|"
                            + rs.getString("REMARKS") + "|" + rs.getInt("FUNCTION_TYPE") + "|" + rs.getString("SPECIFIC_NAME").replaceAll("_[0-9]+$", "_OID"));
                    n++;
                }
                show("functions", n);
            }
            rows("procedures", md.getProcedures(null, "public", "%"), "PROCEDURE_NAME");
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT id, email, score FROM customers")) {
                ResultSetMetaData rmd = rs.getMetaData();
                for (int i = 1; i <= rmd.getColumnCount(); i++) {
                    show("rsmd " + i, rmd.getColumnName(i) + "|" + rmd.getColumnTypeName(i) + "|" + rmd.getColumnType(i) + "|" + rmd.getPrecision(i) + "|" + rmd.getScale(i));
                }
                sourceColumns("rsmd extended", rmd);
            }
        }
        // The simple query protocol (preferQueryMode=simple): RowDescription names the source
        // table and column there too.
        p.setProperty("preferQueryMode", "simple");
        try (Connection c = DriverManager.getConnection(url, p);
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT email, id, score + 1 AS more FROM customers")) {
            sourceColumns("rsmd simple", rs.getMetaData());
        }
    }

    // sourceColumns prints what pgjdbc reads from the table OID and column number of each
    // result column: its table, nullability and whether it is generated.
    static void sourceColumns(String name, ResultSetMetaData rmd) throws SQLException {
        for (int i = 1; i <= rmd.getColumnCount(); i++) {
            org.postgresql.PGResultSetMetaData pg = rmd.unwrap(org.postgresql.PGResultSetMetaData.class);
            show(name + " " + i, rmd.getColumnName(i) + "|" + rmd.getTableName(i) + "|" + pg.getBaseSchemaName(i) + "." + pg.getBaseTableName(i) + "." + pg.getBaseColumnName(i) + "|"
                    + rmd.isNullable(i) + "|" + rmd.isAutoIncrement(i));
        }
    }
}
