// Drives a server the way JDBC applications use pgjdbc: the extended query protocol for
// everything, typed PreparedStatement parameters (some binary, some text with declared or
// unspecified OIDs), batches, server-side named statements with binary results after
// prepareThreshold executions, fetch-size portals, transactions and SQLSTATEs. Prints one
// "check: value" line per check; pgwire/clients_jdbc_test.go runs it against ankaflow and
// PostgreSQL and compares the lines. Run as: java -cp /usr/share/java/postgresql.jar Client.java
import java.math.BigDecimal;
import java.sql.Array;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.TimeZone;
import java.util.UUID;

public class Client {
    static final String TARGET = System.getenv("ANKA_TARGET");

    interface SqlAction {
        void run() throws SQLException;
    }

    static void show(String name, Object value) {
        System.out.println(name + ": " + value);
    }

    static String hex(byte[] b) {
        if (b == null) {
            return "null";
        }
        StringBuilder sb = new StringBuilder("0x");
        for (byte x : b) {
            sb.append(String.format("%02x", x & 0xff));
        }
        return sb.toString();
    }

    static String className(Object o) {
        return o == null ? "null" : o.getClass().getSimpleName();
    }

    // expectError runs action and prints the SQLSTATE it fails with ("no error" if it does not).
    static void expectError(String name, SqlAction action) {
        try {
            action.run();
            show(name, "no error");
        } catch (SQLException e) {
            show(name, e.getSQLState());
        }
    }

    static Connection connect(String password) throws SQLException {
        String url = "jdbc:postgresql://" + System.getenv("ANKA_HOST") + ":" + System.getenv("ANKA_PORT")
                + "/" + System.getenv("ANKA_DATABASE");
        Properties props = new Properties();
        props.setProperty("user", System.getenv("ANKA_USER"));
        props.setProperty("password", password);
        props.setProperty("sslmode", "disable");
        return DriverManager.getConnection(url, props);
    }

    // typed reads column i with the getter an application uses for its type.
    static String typed(ResultSet rs, int i) throws SQLException {
        String type = rs.getMetaData().getColumnTypeName(i);
        String v;
        switch (type) {
            case "int4":
                v = Integer.toString(rs.getInt(i));
                break;
            case "int8":
                v = Long.toString(rs.getLong(i));
                break;
            case "numeric":
                BigDecimal d = rs.getBigDecimal(i);
                v = d == null ? "null" : d.toString() + " scale " + d.scale();
                break;
            case "float8":
                v = Double.toString(rs.getDouble(i));
                break;
            case "bool":
                v = Boolean.toString(rs.getBoolean(i));
                break;
            case "date":
                v = rs.getObject(i, LocalDate.class) + " / getDate " + rs.getDate(i);
                break;
            case "timestamp":
                v = rs.getObject(i, LocalDateTime.class) + " / getTimestamp " + rs.getTimestamp(i);
                break;
            case "timestamptz":
                OffsetDateTime odt = rs.getObject(i, OffsetDateTime.class);
                Timestamp ts = rs.getTimestamp(i);
                v = odt + " / epoch ms " + (ts == null ? "null" : Long.toString(ts.getTime()));
                break;
            case "uuid":
                v = String.valueOf(rs.getObject(i, UUID.class));
                break;
            case "bytea":
                v = hex(rs.getBytes(i));
                break;
            case "_int4":
            case "_text":
                Array a = rs.getArray(i);
                v = a == null ? "null" : a.getBaseTypeName() + " " + Arrays.toString((Object[]) a.getArray());
                break;
            default:
                v = rs.getString(i);
        }
        if (rs.wasNull()) {
            v += " (wasNull)";
        }
        return v;
    }

    // str is getString, except that pgjdbc's getString of a binary-format bytea is the byte[]'s
    // identity ("[B@1b2c3d"), which differs on every run.
    static String str(ResultSet rs, int i) throws SQLException {
        String s = rs.getString(i);
        return s != null && s.startsWith("[B@") ? "byte[]" : String.valueOf(s);
    }

    static String typedRow(ResultSet rs) throws SQLException {
        List<String> parts = new ArrayList<>();
        for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
            parts.add(typed(rs, i));
        }
        return String.join(" | ", parts);
    }

    static List<String> rows(ResultSet rs) throws SQLException {
        List<String> out = new ArrayList<>();
        int n = rs.getMetaData().getColumnCount();
        while (rs.next()) {
            List<String> cols = new ArrayList<>();
            for (int i = 1; i <= n; i++) {
                cols.add(rs.getString(i));
            }
            out.add("(" + String.join(", ", cols) + ")");
        }
        rs.close();
        return out;
    }

    static List<String> query(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            return rows(s.executeQuery(sql));
        }
    }

    public static void main(String[] args) throws Exception {
        // pgjdbc sends the JVM's zone as TimeZone at startup; a fixed zone with an odd offset
        // makes timestamptz text and java.sql.Timestamp/Date conversions deterministic.
        TimeZone.setDefault(TimeZone.getTimeZone("Asia/Kolkata"));
        Connection conn = connect(System.getenv("ANKA_PASSWORD"));

        DatabaseMetaData md = conn.getMetaData();
        show("database product name", md.getDatabaseProductName());
        show("database major version", md.getDatabaseMajorVersion());
        show("driver", md.getDriverName() + " " + md.getDriverMajorVersion() + "." + md.getDriverMinorVersion());
        show("identifier quote", md.getIdentifierQuoteString());
        show("supports transactions", md.supportsTransactions());
        show("catalog", conn.getCatalog());
        show("autocommit", conn.getAutoCommit());
        show("isValid", conn.isValid(5));

        Statement st = conn.createStatement();
        show("create table update count", st.executeUpdate(
                "CREATE TABLE jdbc_items (id integer PRIMARY KEY, name text, price numeric(10,2), "
                        + "weight double precision, active boolean, born date, seen timestamp, seen_tz timestamptz, "
                        + "tag uuid, raw bytea, scores integer[])"));

        // Every parameter type, each the way applications set it.
        String insert = "INSERT INTO jdbc_items VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
        try (PreparedStatement ps = conn.prepareStatement(insert)) {
            ps.setInt(1, 1);
            ps.setString(2, "O'Reilly \u2013 caf\u00e9");
            ps.setBigDecimal(3, new BigDecimal("12.5"));
            ps.setDouble(4, 0.1);
            ps.setBoolean(5, true);
            ps.setObject(6, LocalDate.of(2024, 2, 29));
            ps.setObject(7, LocalDateTime.of(2024, 2, 29, 13, 45, 30, 123456000));
            ps.setObject(8, OffsetDateTime.of(2024, 2, 29, 13, 45, 30, 0, ZoneOffset.ofHours(2)));
            ps.setObject(9, UUID.fromString("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"));
            ps.setBytes(10, new byte[] {0, 1, (byte) 0xfe, (byte) 0xff, '\'', '\\'});
            ps.setArray(11, conn.createArrayOf("integer", new Integer[] {3, 1, 2}));
            show("insert all types update count", ps.executeUpdate());

            // The legacy java.sql setters: setDate and setTimestamp send text with the JVM's
            // offset and an unspecified type.
            ps.setInt(1, 2);
            ps.setString(2, "legacy setters");
            ps.setBigDecimal(3, new BigDecimal("-0.01"));
            ps.setDouble(4, 1e100);
            ps.setBoolean(5, false);
            ps.setDate(6, java.sql.Date.valueOf("1999-12-31"));
            ps.setTimestamp(7, Timestamp.valueOf("2000-01-01 00:00:00.5"));
            ps.setTimestamp(8, Timestamp.valueOf("2000-01-01 00:00:00"));
            ps.setObject(9, UUID.fromString("00000000-0000-0000-0000-000000000000"));
            ps.setBytes(10, new byte[0]);
            ps.setArray(11, conn.createArrayOf("int4", new Integer[] {}));
            show("insert legacy setters update count", ps.executeUpdate());

            ps.setInt(1, 3);
            ps.setNull(2, Types.VARCHAR);
            ps.setNull(3, Types.NUMERIC);
            ps.setNull(4, Types.DOUBLE);
            ps.setNull(5, Types.BOOLEAN);
            ps.setNull(6, Types.DATE);
            ps.setNull(7, Types.TIMESTAMP);
            ps.setNull(8, Types.TIMESTAMP_WITH_TIMEZONE);
            ps.setNull(9, Types.OTHER);
            ps.setNull(10, Types.BINARY);
            ps.setNull(11, Types.ARRAY);
            show("insert nulls update count", ps.executeUpdate());
        }

        try (PreparedStatement ps = conn.prepareStatement("INSERT INTO jdbc_items (id, name, price) VALUES (?, ?, ?)")) {
            for (int i = 10; i < 20; i++) {
                ps.setInt(1, i);
                ps.setString(2, "item " + i);
                ps.setBigDecimal(3, new BigDecimal(i).divide(new BigDecimal(4)));
                ps.addBatch();
            }
            show("batch update counts", Arrays.toString(ps.executeBatch()));
        }

        // ResultSetMetaData and every getter.
        try (PreparedStatement ps = conn.prepareStatement("SELECT * FROM jdbc_items WHERE id = ?")) {
            ps.setInt(1, 1);
            ResultSet rs = ps.executeQuery();
            ResultSetMetaData m = rs.getMetaData();
            show("column count", m.getColumnCount());
            for (int i = 1; i <= m.getColumnCount(); i++) {
                show("column " + i, m.getColumnName(i) + " label " + m.getColumnLabel(i) + " type " + m.getColumnType(i)
                        + " " + m.getColumnTypeName(i) + " class " + m.getColumnClassName(i)
                        + " precision " + m.getPrecision(i) + " scale " + m.getScale(i));
            }
            show("row 1 next", rs.next());
            for (int i = 1; i <= m.getColumnCount(); i++) {
                show("row 1 " + m.getColumnName(i), "getString " + rs.getString(i) + " | typed " + typed(rs, i)
                        + " | getObject " + className(rs.getObject(i)));
            }
            show("row 1 more rows", rs.next());
            rs.close();
            for (int id = 2; id <= 3; id++) {
                ps.setInt(1, id);
                rs = ps.executeQuery();
                rs.next();
                List<String> strings = new ArrayList<>();
                for (int i = 1; i <= m.getColumnCount(); i++) {
                    strings.add(str(rs, i));
                }
                show("row " + id + " getString", String.join(" | ", strings));
                show("row " + id + " typed", typedRow(rs));
                rs.close();
            }
        }

        // More than prepareThreshold (5) executions: from the 5th on pgjdbc uses a named
        // statement, from the 6th it asks for binary results of the types it can read.
        try (PreparedStatement ps = conn.prepareStatement(
                "SELECT id, name, price, weight, active, born, seen, seen_tz, tag, raw, scores FROM jdbc_items WHERE id = ?")) {
            org.postgresql.PGStatement pgs = ps.unwrap(org.postgresql.PGStatement.class);
            for (int run = 1; run <= 8; run++) {
                ps.setInt(1, run % 3 == 0 ? 2 : 1);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    show("repeat " + run + " server prepared " + pgs.isUseServerPrepare(), typedRow(rs));
                    List<String> strings = new ArrayList<>();
                    for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                        strings.add(str(rs, i));
                    }
                    show("repeat " + run + " getString", String.join(" | ", strings));
                }
            }
        }
        try (PreparedStatement ps = conn.prepareStatement("UPDATE jdbc_items SET weight = ? WHERE id = ?")) {
            List<Integer> counts = new ArrayList<>();
            for (int run = 1; run <= 7; run++) {
                ps.setDouble(1, run * 1.5);
                ps.setInt(2, 9 + run);
                counts.add(ps.executeUpdate());
            }
            show("repeated update counts", counts);
        }
        try (PreparedStatement ps = conn.prepareStatement(
                "SELECT count(*) AS n, sum(price) AS total, max(weight) AS heaviest FROM jdbc_items WHERE id >= ?")) {
            for (int run = 1; run <= 7; run++) {
                ps.setInt(1, 10 + run);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    show("repeat aggregate " + run, rs.getLong(1) + " " + rs.getBigDecimal(2) + " " + rs.getDouble(3));
                }
            }
        }

        // An optional filter, as JDBC code writes it: DuckDB cannot type "? IS NULL" before the
        // values are bound. Run past prepareThreshold.
        try (PreparedStatement ps = conn.prepareStatement(
                "SELECT id, name, price FROM jdbc_items WHERE (? IS NULL OR id <= ?) AND id < 15 ORDER BY id")) {
            for (int run = 1; run <= 7; run++) {
                if (run % 2 == 0) {
                    ps.setNull(1, Types.INTEGER);
                    ps.setNull(2, Types.INTEGER);
                } else {
                    ps.setInt(1, run);
                    ps.setInt(2, run);
                }
                try (ResultSet rs = ps.executeQuery()) {
                    ResultSetMetaData m = rs.getMetaData();
                    show("optional filter " + run, m.getColumnName(1) + " " + m.getColumnTypeName(1) + ", "
                            + m.getColumnName(3) + " " + m.getColumnTypeName(3) + " " + rows(rs));
                }
            }
        }

        // Parameters read back from the server.
        try (PreparedStatement ps = conn.prepareStatement(
                "SELECT CAST(? AS integer) + 1 AS a, CAST(? AS text) AS b, CAST(? AS timestamp) AS c, ? AS d, CAST(? AS text[]) AS e, CAST(? AS bigint) AS f")) {
            ps.setInt(1, 41);
            ps.setString(2, "hi");
            ps.setTimestamp(3, Timestamp.valueOf("2024-02-29 13:45:30.123456"));
            ps.setBytes(4, new byte[] {0, (byte) 0xff});
            ps.setArray(5, conn.createArrayOf("text", new String[] {"a", null, "c b", "{\"x\"}"}));
            ps.setLong(6, -9007199254740993L);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                show("round trip", typedRow(rs));
            }
        }

        // RETURNING through getGeneratedKeys, as ORMs insert.
        try (PreparedStatement ps = conn.prepareStatement("INSERT INTO jdbc_items (id, name) VALUES (?, ?)", new String[] {"id"})) {
            ps.setInt(1, 30);
            ps.setString(2, "generated");
            show("returning update count", ps.executeUpdate());
            try (ResultSet keys = ps.getGeneratedKeys()) {
                show("generated keys", rows(keys));
            }
        }

        // Plain Statement: update counts, several statements in one string, maxRows, NULLs.
        show("update count", st.executeUpdate("UPDATE jdbc_items SET price = price * 2 WHERE id BETWEEN 10 AND 12"));
        show("delete count", st.executeUpdate("DELETE FROM jdbc_items WHERE id = 30"));
        show("update no rows", st.executeUpdate("UPDATE jdbc_items SET name = 'x' WHERE id = -1"));
        boolean isResult = st.execute("SELECT 1 AS a; SELECT 'two' AS b");
        List<String> multi = new ArrayList<>();
        while (true) {
            if (isResult) {
                multi.add(rows(st.getResultSet()).toString());
            } else if (st.getUpdateCount() == -1) {
                break;
            } else {
                multi.add("count " + st.getUpdateCount());
            }
            isResult = st.getMoreResults();
        }
        show("multi statement results", multi);
        st.setMaxRows(2);
        show("maxRows 2", query(conn, "SELECT id FROM jdbc_items ORDER BY id").size() + " without, "
                + rows(st.executeQuery("SELECT id FROM jdbc_items ORDER BY id")) + " with");
        st.setMaxRows(0);
        try (ResultSet rs = st.executeQuery("SELECT price, weight, active FROM jdbc_items WHERE id = 3")) {
            rs.next();
            BigDecimal p = rs.getBigDecimal(1);
            boolean pNull = rs.wasNull();
            double w = rs.getDouble(2);
            boolean wNull = rs.wasNull();
            boolean a = rs.getBoolean(3);
            boolean aNull = rs.wasNull();
            show("null getters", p + " " + pNull + " " + w + " " + wNull + " " + a + " " + aNull);
        }

        // Transactions.
        conn.setAutoCommit(false);
        show("autocommit off", conn.getAutoCommit());
        show("insert in transaction", st.executeUpdate("INSERT INTO jdbc_items (id, name) VALUES (40, 'committed')"));
        conn.commit();
        show("insert to roll back", st.executeUpdate("INSERT INTO jdbc_items (id, name) VALUES (41, 'rolled back')"));
        show("update to roll back", st.executeUpdate("UPDATE jdbc_items SET name = 'changed' WHERE id = 40"));
        show("seen before rollback", query(conn, "SELECT id, name FROM jdbc_items WHERE id IN (40, 41) ORDER BY id"));
        conn.rollback();
        show("seen after rollback", query(conn, "SELECT id, name FROM jdbc_items WHERE id IN (40, 41) ORDER BY id"));
        conn.commit();
        // Enough commits for pgjdbc to prepare COMMIT as a named statement.
        try (PreparedStatement ps = conn.prepareStatement("INSERT INTO jdbc_items (id, name) VALUES (?, ?)")) {
            for (int i = 50; i < 57; i++) {
                ps.setInt(1, i);
                ps.setString(2, "tx " + i);
                ps.executeUpdate();
                if (i % 2 == 0) {
                    conn.commit();
                } else {
                    conn.rollback();
                }
            }
        }
        show("alternating commit and rollback", query(conn, "SELECT id FROM jdbc_items WHERE id >= 50 ORDER BY id"));
        conn.commit();

        // setFetchSize with autocommit off: a named portal read 3 rows at a time.
        try (Statement fs = conn.createStatement()) {
            fs.setFetchSize(3);
            List<Integer> ids = new ArrayList<>();
            String nested = null;
            try (ResultSet rs = fs.executeQuery("SELECT id FROM jdbc_items ORDER BY id")) {
                while (rs.next()) {
                    ids.add(rs.getInt(1));
                    if (ids.size() == 4) {
                        // Another statement while the portal is suspended.
                        nested = query(conn, "SELECT count(*) AS n FROM jdbc_items").toString();
                    }
                }
            }
            show("fetch size 3 ids", ids);
            show("query during fetch", nested);
            List<Integer> series = new ArrayList<>();
            try (ResultSet rs = fs.executeQuery("SELECT i FROM generate_series(1, 25) AS g(i) ORDER BY i")) {
                while (rs.next()) {
                    series.add(rs.getInt(1));
                }
            }
            show("fetch size 3 series", series);
        }
        try (PreparedStatement ps = conn.prepareStatement("SELECT id, name FROM jdbc_items WHERE id >= ? ORDER BY id")) {
            ps.setFetchSize(4);
            for (int run = 1; run <= 6; run++) {
                ps.setInt(1, 10 + run);
                show("prepared fetch size 4 run " + run, rows(ps.executeQuery()));
            }
        }
        conn.commit();

        // Errors: SQLSTATEs in autocommit mode, then a failed transaction.
        conn.setAutoCommit(true);
        expectError("undefined table", () -> st.executeQuery("SELECT * FROM jdbc_missing_table"));
        expectError("undefined column", () -> st.executeQuery("SELECT no_such_column FROM jdbc_items"));
        expectError("syntax error", () -> st.executeQuery("SELEC 1"));
        expectError("unique violation", () -> st.executeUpdate("INSERT INTO jdbc_items (id, name) VALUES (1, 'duplicate')"));
        expectError("prepared unique violation", () -> {
            try (PreparedStatement ps = conn.prepareStatement("INSERT INTO jdbc_items (id, name) VALUES (?, ?)")) {
                ps.setInt(1, 2);
                ps.setString(2, "duplicate");
                ps.executeUpdate();
            }
        });
        expectError("batch unique violation", () -> {
            try (PreparedStatement ps = conn.prepareStatement("INSERT INTO jdbc_items (id, name) VALUES (?, ?)")) {
                ps.setInt(1, 60);
                ps.setString(2, "batch ok");
                ps.addBatch();
                ps.setInt(1, 1);
                ps.setString(2, "batch duplicate");
                ps.addBatch();
                ps.executeBatch();
            }
        });
        // pgjdbc sends the batch with one Sync: one implicit transaction, so the failure rolls
        // back the row before it.
        show("batch row before the failure", query(conn, "SELECT count(*) AS n FROM jdbc_items WHERE id = 60"));
        show("usable after errors", query(conn, "SELECT 1 AS one"));

        conn.setAutoCommit(false);
        show("insert before failure", st.executeUpdate("INSERT INTO jdbc_items (id, name) VALUES (70, 'doomed')"));
        expectError("error in transaction", () -> st.executeQuery("SELECT * FROM jdbc_missing_table"));
        try {
            st.executeQuery("SELECT 1");
            show("failed transaction", "no error");
        } catch (SQLException e) {
            show("failed transaction", e.getSQLState() + " " + e.getMessage());
        }
        expectError("prepared in failed transaction", () -> {
            try (PreparedStatement ps = conn.prepareStatement("SELECT ? AS x")) {
                ps.setInt(1, 1);
                ps.executeQuery();
            }
        });
        conn.rollback();
        show("after rollback", query(conn, "SELECT count(*) AS n FROM jdbc_items WHERE id = 70"));
        conn.commit();
        conn.setAutoCommit(true);

        // A second connection sees the committed rows.
        try (Connection other = connect(System.getenv("ANKA_PASSWORD"))) {
            show("second connection rows", query(other, "SELECT count(*) AS n, min(id) AS lo, max(id) AS hi FROM jdbc_items"));
            show("second connection sees committed", query(other, "SELECT name FROM jdbc_items WHERE id = 40"));
        }

        try {
            connect("wrong").close();
            show("wrong password 28P01", "connected");
        } catch (SQLException e) {
            show("wrong password 28P01", "28P01".equals(e.getSQLState()));
        }

        if ("ankaflow".equals(TARGET)) {
            try (PreparedStatement ps = conn.prepareStatement("SELECT customer, amount FROM tap('Orders') WHERE amount > ? ORDER BY id")) {
                ps.setDouble(1, 10);
                try (ResultSet rs = ps.executeQuery()) {
                    ResultSetMetaData m = rs.getMetaData();
                    System.out.println("ankaflow tap types: " + m.getColumnTypeName(1) + " " + m.getColumnTypeName(2));
                    List<String> out = new ArrayList<>();
                    while (rs.next()) {
                        out.add(rs.getString("customer") + " " + rs.getDouble("amount"));
                    }
                    System.out.println("ankaflow tap: " + out);
                }
            }
            // DuckDB describes a table function's result only once its argument is bound; run it
            // past prepareThreshold too, so the named statement's binary results are read.
            try (PreparedStatement ps = conn.prepareStatement("SELECT * FROM show_schema(?)")) {
                List<String> runs = new ArrayList<>();
                for (int run = 1; run <= 7; run++) {
                    ps.setString(1, "Orders");
                    try (ResultSet rs = ps.executeQuery()) {
                        ResultSetMetaData m = rs.getMetaData();
                        if (run == 1) {
                            List<String> cols = new ArrayList<>();
                            for (int i = 1; i <= m.getColumnCount(); i++) {
                                cols.add(m.getColumnName(i) + " " + m.getColumnTypeName(i));
                            }
                            System.out.println("ankaflow show_schema columns: " + cols);
                        }
                        List<String> typedRows = new ArrayList<>();
                        while (rs.next()) {
                            typedRows.add("(" + typedRow(rs) + ")");
                        }
                        runs.add(typedRows.toString());
                    }
                }
                System.out.println("ankaflow show_schema rows: " + runs.get(0));
                System.out.println("ankaflow show_schema distinct results in 7 runs: " + runs.stream().distinct().count());
            }
        }

        show("drop table update count", st.executeUpdate("DROP TABLE jdbc_items"));
        st.close();
        conn.close();
    }
}
