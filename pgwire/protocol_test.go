package pgwire

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/stretchr/testify/require"
)

// rawClient drives the server with pgproto3's frontend, message by message.
type rawClient struct {
	t      testing.TB
	nc     net.Conn
	fe     *pgproto3.Frontend
	params map[string]string
	pid    uint32
	secret []byte
}

func (ts *testServer) dial(t testing.TB) net.Conn {
	t.Helper()
	nc, err := net.Dial("tcp", ts.Addr().String())
	require.NoError(t, err)
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(2 * time.Minute))
	return nc
}

// rawConnect opens a session with trust authentication.
func (ts *testServer) rawConnect(t testing.TB, params map[string]string) *rawClient {
	t.Helper()
	nc := ts.dial(t)
	fe := pgproto3.NewFrontend(nc, nc)
	if params == nil {
		params = map[string]string{}
	}
	if params["user"] == "" {
		params["user"] = "tester"
	}
	fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber, Parameters: params})
	require.NoError(t, fe.Flush())
	rc := &rawClient{t: t, nc: nc, fe: fe, params: map[string]string{}}
	for {
		msg, err := fe.Receive()
		require.NoError(t, err)
		switch m := msg.(type) {
		case *pgproto3.AuthenticationOk:
		case *pgproto3.ParameterStatus:
			rc.params[m.Name] = m.Value
		case *pgproto3.BackendKeyData:
			rc.pid = m.ProcessID
			rc.secret = append([]byte(nil), m.SecretKey...)
		case *pgproto3.NoticeResponse:
		case *pgproto3.ReadyForQuery:
			require.Equal(t, byte('I'), m.TxStatus)
			return rc
		case *pgproto3.ErrorResponse:
			t.Fatalf("startup failed: %s %s", m.Code, m.Message)
		default:
			t.Fatalf("unexpected startup message %T", msg)
		}
	}
}

func (rc *rawClient) send(msgs ...pgproto3.FrontendMessage) {
	rc.t.Helper()
	for _, m := range msgs {
		rc.fe.Send(m)
	}
	require.NoError(rc.t, rc.fe.Flush())
}

// describeMsg renders a backend message compactly for assertions.
func describeMsg(msg pgproto3.BackendMessage) string {
	switch m := msg.(type) {
	case *pgproto3.RowDescription:
		var cols []string
		for _, f := range m.Fields {
			cols = append(cols, fmt.Sprintf("%s:%d:%d:%d:%d", f.Name, f.DataTypeOID, f.DataTypeSize, f.TypeModifier, f.Format))
		}
		return "RowDescription[" + strings.Join(cols, " ") + "]"
	case *pgproto3.DataRow:
		var vals []string
		for _, v := range m.Values {
			if v == nil {
				vals = append(vals, "NULL")
			} else {
				vals = append(vals, string(v))
			}
		}
		return "DataRow[" + strings.Join(vals, "|") + "]"
	case *pgproto3.CommandComplete:
		return "CommandComplete[" + string(m.CommandTag) + "]"
	case *pgproto3.ReadyForQuery:
		return "ReadyForQuery[" + string(m.TxStatus) + "]"
	case *pgproto3.ErrorResponse:
		return "Error[" + m.Code + "]"
	case *pgproto3.NoticeResponse:
		return "Notice[" + m.Code + "]"
	case *pgproto3.ParameterDescription:
		return fmt.Sprintf("ParameterDescription%v", m.ParameterOIDs)
	case *pgproto3.ParameterStatus:
		return "ParameterStatus[" + m.Name + "=" + m.Value + "]"
	}
	name := fmt.Sprintf("%T", msg)
	return name[strings.LastIndex(name, ".")+1:]
}

// recvUntilReady reads messages up to and including ReadyForQuery.
func (rc *rawClient) recvUntilReady() []string {
	rc.t.Helper()
	var out []string
	for {
		msg, err := rc.fe.Receive()
		require.NoError(rc.t, err)
		out = append(out, describeMsg(msg))
		if _, ok := msg.(*pgproto3.ReadyForQuery); ok {
			return out
		}
	}
}

// recvError reads until ReadyForQuery and returns the first ErrorResponse's fields.
func (rc *rawClient) query(sql string) []string {
	rc.t.Helper()
	rc.send(&pgproto3.Query{String: sql})
	return rc.recvUntilReady()
}

func (rc *rawClient) lastError(sql string) *pgproto3.ErrorResponse {
	rc.t.Helper()
	rc.send(&pgproto3.Query{String: sql})
	var got *pgproto3.ErrorResponse
	for {
		msg, err := rc.fe.Receive()
		require.NoError(rc.t, err)
		if e, ok := msg.(*pgproto3.ErrorResponse); ok {
			b, _ := json.Marshal(e)
			got = &pgproto3.ErrorResponse{}
			json.Unmarshal(b, got)
			got.Code, got.Message, got.Position, got.Severity = e.Code, e.Message, e.Position, e.Severity
		}
		if _, ok := msg.(*pgproto3.ReadyForQuery); ok {
			return got
		}
	}
}

func TestStartupParameterStatus(t *testing.T) {
	ts := startServer(t, Config{})
	rc := ts.rawConnect(t, map[string]string{
		"database": "anything", "application_name": "myapp", "datestyle": "ISO", "timezone": "Asia/Tokyo",
		"options": `-c extra_float_digits=2 --statement-timeout=5s -c application_name=from\ options`,
	})
	require.True(t, strings.HasPrefix(rc.params["server_version"], "15."), rc.params["server_version"])
	for k, v := range map[string]string{
		"server_encoding": "UTF8", "client_encoding": "UTF8", "DateStyle": "ISO, MDY", "TimeZone": "Asia/Tokyo",
		"integer_datetimes": "on", "standard_conforming_strings": "on", "IntervalStyle": "postgres",
		"application_name": "from options", "session_authorization": "tester", "is_superuser": "on", // trust mode: the local admin
	} {
		require.Equal(t, v, rc.params[k], k)
	}
	require.NotZero(t, rc.pid)
	require.Len(t, rc.secret, 4)
	require.Equal(t, []string{"RowDescription[extra_float_digits:25:-1:-1:0]", "DataRow[2]", "CommandComplete[SHOW]", "ReadyForQuery[I]"},
		rc.query("SHOW extra_float_digits"))
	require.Equal(t, []string{"RowDescription[statement_timeout:25:-1:-1:0]", "DataRow[5s]", "CommandComplete[SHOW]", "ReadyForQuery[I]"},
		rc.query("show STATEMENT_TIMEOUT"))
	// The DuckDB session follows TimeZone.
	require.Contains(t, rc.query("SELECT TIMESTAMPTZ '2024-01-01 00:00:00+00' AS t"), "DataRow[2024-01-01 09:00:00+09]")
	// pgjdbc's startup SETs, and SET/SHOW of parameters DuckDB does not know.
	require.Equal(t, []string{"CommandComplete[SET]", "ReadyForQuery[I]"}, rc.query("SET extra_float_digits = 3"))
	require.Equal(t, []string{"ParameterStatus[application_name=PostgreSQL JDBC Driver]", "CommandComplete[SET]", "ReadyForQuery[I]"},
		rc.query("SET application_name = 'PostgreSQL JDBC Driver'"))
	require.Equal(t, []string{"CommandComplete[SET]", "ReadyForQuery[I]"}, rc.query("SET datestyle TO 'ISO'"))
	require.Equal(t, []string{"ParameterStatus[TimeZone=UTC]", "CommandComplete[SET]", "ReadyForQuery[I]"}, rc.query("SET TIME ZONE 'UTC'"))
	require.Equal(t, []string{"RowDescription[TimeZone:25:-1:-1:0]", "DataRow[UTC]", "CommandComplete[SHOW]", "ReadyForQuery[I]"}, rc.query("SHOW TimeZone"))
	require.Equal(t, []string{"RowDescription[transaction_isolation:25:-1:-1:0]", "DataRow[repeatable read]", "CommandComplete[SHOW]", "ReadyForQuery[I]"},
		rc.query("SHOW TRANSACTION ISOLATION LEVEL"))
	require.Equal(t, "0A000", rc.lastError("SET client_encoding = 'LATIN1'").Code)
	require.Equal(t, "55P02", rc.lastError("SET server_version = '1'").Code)
	// SHOW of a DuckDB setting.
	require.Equal(t, "RowDescription[threads:25:-1:-1:0]", rc.query("SHOW threads")[0])
	require.Contains(t, rc.query("SELECT version()")[1], "DataRow[PostgreSQL 15.")
}

func TestSSLAndGSSNegotiation(t *testing.T) {
	ts := startServer(t, Config{})
	// pgx's sslmode=prefer: SSLRequest, read 'N', hang up.
	for _, code := range []uint32{sslRequestCode, gssEncRequestCode} {
		nc := ts.dial(t)
		var pkt [8]byte
		binary.BigEndian.PutUint32(pkt[:], 8)
		binary.BigEndian.PutUint32(pkt[4:], code)
		_, err := nc.Write(pkt[:])
		require.NoError(t, err)
		var resp [1]byte
		_, err = io.ReadFull(nc, resp[:])
		require.NoError(t, err)
		require.Equal(t, byte('N'), resp[0])
		nc.Close()
	}
	// libpq: SSLRequest, 'N', then the StartupMessage on the same socket.
	nc := ts.dial(t)
	var pkt [8]byte
	binary.BigEndian.PutUint32(pkt[:], 8)
	binary.BigEndian.PutUint32(pkt[4:], sslRequestCode)
	nc.Write(pkt[:])
	var resp [1]byte
	io.ReadFull(nc, resp[:])
	fe := pgproto3.NewFrontend(nc, nc)
	fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber, Parameters: map[string]string{"user": "u"}})
	require.NoError(t, fe.Flush())
	for {
		msg, err := fe.Receive()
		require.NoError(t, err)
		if _, ok := msg.(*pgproto3.ReadyForQuery); ok {
			break
		}
	}
	// The server is still fine for everyone.
	var one int
	require.NoError(t, ts.connect(t).QueryRow(t.Context(), "SELECT 1").Scan(&one))
}

func TestUnsupportedProtocolVersion(t *testing.T) {
	ts := startServer(t, Config{})
	nc := ts.dial(t)
	fe := pgproto3.NewFrontend(nc, nc)
	fe.Send(&pgproto3.StartupMessage{ProtocolVersion: 2 << 16, Parameters: map[string]string{"user": "u"}})
	fe.Flush()
	msg, err := fe.Receive()
	require.NoError(t, err)
	e, ok := msg.(*pgproto3.ErrorResponse)
	require.True(t, ok, "%T", msg)
	require.Equal(t, "FATAL", e.Severity)
	require.Equal(t, "0A000", e.Code)
}

func TestSimpleQueryTags(t *testing.T) {
	ts := startServer(t, Config{})
	rc := ts.rawConnect(t, nil)
	require.Equal(t, []string{"EmptyQueryResponse", "ReadyForQuery[I]"}, rc.query(""))
	require.Equal(t, []string{"EmptyQueryResponse", "ReadyForQuery[I]"}, rc.query(" ; -- nothing"))
	got := rc.query(`CREATE TABLE t(a INTEGER PRIMARY KEY, b VARCHAR);
		INSERT INTO t VALUES (1, 'x'), (2, 'y'), (3, NULL);
		UPDATE t SET b = 'z' WHERE a >= 2;
		DELETE FROM t WHERE a = 3;
		SELECT a, b FROM t ORDER BY a;
		CREATE VIEW v AS SELECT * FROM t;
		CREATE TABLE t2 AS SELECT * FROM t;
		DROP VIEW v;
		ALTER TABLE t2 ADD COLUMN c INTEGER;
		COPY t2 TO '` + t.TempDir() + `/t2.csv';
		INSERT INTO t VALUES (4, 'w') RETURNING a;
		CREATE SCHEMA s;
		CREATE MACRO twice(x) AS x * 2;
		SET threads = 2;
		EXPLAIN SELECT 1;
		SELECT 1 WHERE false`)
	require.Equal(t, []string{
		"CommandComplete[CREATE TABLE]",
		"CommandComplete[INSERT 0 3]",
		"CommandComplete[UPDATE 2]",
		"CommandComplete[DELETE 1]",
		"RowDescription[a:23:4:-1:0 b:25:-1:-1:0]", "DataRow[1|x]", "DataRow[2|z]", "CommandComplete[SELECT 2]",
		"CommandComplete[CREATE VIEW]",
		"CommandComplete[SELECT 2]",
		"CommandComplete[DROP VIEW]",
		"CommandComplete[ALTER TABLE]",
		"CommandComplete[COPY 2]",
		"RowDescription[a:23:4:-1:0]", "DataRow[4]", "CommandComplete[INSERT 0 1]",
		"CommandComplete[CREATE SCHEMA]",
		"CommandComplete[CREATE MACRO]",
		"CommandComplete[SET]",
		"RowDescription[explain_key:25:-1:-1:0 explain_value:25:-1:-1:0]", got[len(got)-5], "CommandComplete[EXPLAIN]",
		"RowDescription[?column?:23:4:-1:0]", "CommandComplete[SELECT 0]",
		"ReadyForQuery[I]",
	}, got)
	// The first error stops the rest of a multi-statement query.
	require.Equal(t, []string{"RowDescription[?column?:23:4:-1:0]", "DataRow[1]", "CommandComplete[SELECT 1]", "Error[42P01]", "ReadyForQuery[I]"},
		rc.query("SELECT 1; SELECT * FROM missing; SELECT 2"))
	// A syntax error anywhere stops everything before anything runs.
	require.Equal(t, []string{"Error[42601]", "ReadyForQuery[I]"}, rc.query("INSERT INTO t VALUES (9, 'q'); SELEC 2"))
	require.Equal(t, []string{"RowDescription[count:20:8:-1:0]", "DataRow[3]", "CommandComplete[SELECT 1]", "ReadyForQuery[I]"},
		rc.query("SELECT count(*) FROM t"))
}

func TestErrorsSQLSTATEAndPosition(t *testing.T) {
	ts := startServer(t, Config{})
	rc := ts.rawConnect(t, nil)
	rc.query("CREATE TABLE u(a INTEGER PRIMARY KEY, b VARCHAR NOT NULL)")
	rc.query("INSERT INTO u VALUES (1, 'x')")
	for _, tc := range []struct {
		sql  string
		code string
		pos  int32
	}{
		{"SELEC 1", "42601", 1},
		{"SELECT * FROM nope", "42P01", 15},
		{"SELECT nope FROM u", "42703", 8},
		{"SELECT\n  a,\n  nope\nFROM u", "42703", 15},
		{"SELECT nofunc(1)", "42883", 8},
		{"SELECT * FROM nofunc_table(1)", "42883", 0},
		{"INSERT INTO u VALUES (1, 'dup')", "23505", 0},
		{"INSERT INTO u VALUES (2, NULL)", "23502", 0},
		{"SELECT 'abc'::INTEGER", "22P02", 0},
		{"SELECT 10::TINYINT * 100::TINYINT", "22003", 0},
		{"SELECT * FROM read_csv('/nonexistent/file.csv')", "58", 0},
	} {
		e := rc.lastError(tc.sql)
		require.NotNil(t, e, tc.sql)
		require.True(t, strings.HasPrefix(e.Code, tc.code), "%s: got %s %s", tc.sql, e.Code, e.Message)
		if tc.pos != 0 {
			require.Equal(t, tc.pos, e.Position, "%s: %s", tc.sql, e.Message)
		}
		require.Equal(t, "ERROR", e.Severity)
		require.NotContains(t, e.Message, "LINE 1")
	}
	// The session stays usable after errors.
	require.Equal(t, []string{"RowDescription[a:23:4:-1:0]", "DataRow[1]", "CommandComplete[SELECT 1]", "ReadyForQuery[I]"}, rc.query("SELECT a FROM u"))
}

func TestFailedTransaction(t *testing.T) {
	ts := startServer(t, Config{})
	rc := ts.rawConnect(t, nil)
	rc.query("CREATE TABLE f(a INTEGER)")
	require.Equal(t, []string{"CommandComplete[BEGIN]", "ReadyForQuery[T]"}, rc.query("BEGIN"))
	require.Equal(t, []string{"CommandComplete[INSERT 0 1]", "ReadyForQuery[T]"}, rc.query("INSERT INTO f VALUES (1)"))
	require.Equal(t, []string{"Error[42703]", "ReadyForQuery[E]"}, rc.query("SELECT nope FROM f"))
	// Nothing runs until ROLLBACK: not DuckDB statements, not intercepted ones.
	require.Equal(t, []string{"Error[25P02]", "ReadyForQuery[E]"}, rc.query("INSERT INTO f VALUES (2)"))
	require.Equal(t, []string{"Error[25P02]", "ReadyForQuery[E]"}, rc.query("SET application_name = 'x'"))
	require.Equal(t, []string{"Error[25P02]", "ReadyForQuery[E]"}, rc.query("SELECT 1"))
	// COMMIT of a failed transaction rolls back.
	require.Equal(t, []string{"CommandComplete[ROLLBACK]", "ReadyForQuery[I]"}, rc.query("COMMIT"))
	require.Equal(t, []string{"RowDescription[count:20:8:-1:0]", "DataRow[0]", "CommandComplete[SELECT 1]", "ReadyForQuery[I]"}, rc.query("SELECT count(*) FROM f"))

	// BEGIN inside a block and COMMIT outside one warn, as in PostgreSQL.
	require.Equal(t, []string{"CommandComplete[COMMIT]", "ReadyForQuery[I]"}, rc.query("COMMIT")[1:])
	require.Equal(t, "Notice[25P01]", rc.query("ROLLBACK")[0])
	require.Equal(t, []string{"CommandComplete[BEGIN]", "Notice[25001]", "CommandComplete[BEGIN]", "ReadyForQuery[T]"}, rc.query("begin; BEGIN"))
	require.Equal(t, []string{"CommandComplete[INSERT 0 1]", "CommandComplete[COMMIT]", "ReadyForQuery[I]"}, rc.query("INSERT INTO f VALUES (5); COMMIT"))
	require.Contains(t, rc.query("SELECT a FROM f"), "DataRow[5]")

	// A failing statement in a multi-statement query inside a block: E, then ROLLBACK works.
	require.Equal(t, []string{"CommandComplete[START TRANSACTION]", "CommandComplete[INSERT 0 1]", "Error[22P02]", "ReadyForQuery[E]"},
		rc.query("START TRANSACTION; INSERT INTO f VALUES (6); SELECT 'x'::INTEGER; SELECT 1"))
	require.Equal(t, []string{"CommandComplete[ROLLBACK]", "ReadyForQuery[I]"}, rc.query("ROLLBACK"))
	require.NotContains(t, rc.query("SELECT a FROM f"), "DataRow[6]")

	// PostgreSQL transaction modes DuckDB cannot parse.
	require.Equal(t, []string{"CommandComplete[BEGIN]", "ReadyForQuery[T]"}, rc.query("begin isolation level serializable"))
	require.Equal(t, []string{"CommandComplete[SET]", "ReadyForQuery[T]"}, rc.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
	require.Equal(t, []string{"CommandComplete[ROLLBACK]", "ReadyForQuery[I]"}, rc.query("ABORT"))
}

func TestExtendedProtocol(t *testing.T) {
	ts := startServer(t, Config{})
	rc := ts.rawConnect(t, nil)
	rc.query("CREATE TABLE e AS SELECT range AS i, 'v' || range AS s FROM range(10)")

	// pgx's cache-statement flow: Parse + Describe S + Sync, then Bind/Execute/Sync.
	rc.send(
		&pgproto3.Parse{Name: "s1", Query: "SELECT CAST($1 AS INTEGER) + 1 AS x, CAST($2 AS TEXT) AS t, CAST($3 AS TIMESTAMP) AS ts, CAST($4 AS BYTEA) AS b"},
		&pgproto3.Describe{ObjectType: 'S', Name: "s1"},
		&pgproto3.Sync{},
	)
	require.Equal(t, []string{"ParseComplete", "ParameterDescription[23 25 1114 17]",
		"RowDescription[x:23:4:-1:0 t:25:-1:-1:0 ts:1114:8:-1:0 b:17:-1:-1:0]", "ReadyForQuery[I]"}, rc.recvUntilReady())
	rc.send(
		&pgproto3.Bind{PreparedStatement: "s1", ParameterFormatCodes: []int16{1, 0, 0, 1},
			Parameters:        [][]byte{{0, 0, 0, 41}, []byte("hi"), []byte("2024-02-29 13:45:30.123456+00"), {0, 0xff}},
			ResultFormatCodes: []int16{0}},
		&pgproto3.Execute{},
		&pgproto3.Sync{},
	)
	require.Equal(t, []string{"BindComplete", `DataRow[42|hi|2024-02-29 13:45:30.123456|\x00ff]`, "CommandComplete[SELECT 1]", "ReadyForQuery[I]"}, rc.recvUntilReady())

	// Named portal with a row limit: PortalSuspended, then resume (inside a transaction, as
	// pgjdbc's fetchSize does).
	rc.send(
		&pgproto3.Query{String: "BEGIN"},
	)
	rc.recvUntilReady()
	rc.send(
		&pgproto3.Parse{Query: "SELECT i FROM e WHERE i < $1 ORDER BY i"},
		&pgproto3.Bind{DestinationPortal: "C_1", Parameters: [][]byte{[]byte("7")}},
		&pgproto3.Describe{ObjectType: 'P', Name: "C_1"},
		&pgproto3.Execute{Portal: "C_1", MaxRows: 3},
		&pgproto3.Sync{},
	)
	require.Equal(t, []string{"ParseComplete", "BindComplete", "RowDescription[i:20:8:-1:0]", "DataRow[0]", "DataRow[1]", "DataRow[2]", "PortalSuspended", "ReadyForQuery[T]"}, rc.recvUntilReady())
	// Another statement while the portal is suspended.
	rc.send(&pgproto3.Query{String: "SELECT count(*) FROM e"})
	require.Equal(t, "DataRow[10]", rc.recvUntilReady()[1])
	rc.send(&pgproto3.Execute{Portal: "C_1", MaxRows: 3}, &pgproto3.Sync{})
	require.Equal(t, []string{"DataRow[3]", "DataRow[4]", "DataRow[5]", "PortalSuspended", "ReadyForQuery[T]"}, rc.recvUntilReady())
	rc.send(&pgproto3.Execute{Portal: "C_1", MaxRows: 3}, &pgproto3.Sync{})
	require.Equal(t, []string{"DataRow[6]", "CommandComplete[SELECT 7]", "ReadyForQuery[T]"}, rc.recvUntilReady())
	rc.send(&pgproto3.Close{ObjectType: 'P', Name: "C_1"}, &pgproto3.Sync{})
	require.Equal(t, []string{"CloseComplete", "ReadyForQuery[T]"}, rc.recvUntilReady())
	rc.send(&pgproto3.Query{String: "COMMIT"})
	require.Equal(t, []string{"CommandComplete[COMMIT]", "ReadyForQuery[I]"}, rc.recvUntilReady())

	// Skip to Sync: after the failing Bind nothing runs until Sync, and the next batch is fine.
	rc.send(
		&pgproto3.Parse{Name: "bad", Query: "SELECT nope"},
		&pgproto3.Bind{PreparedStatement: "bad"},
		&pgproto3.Execute{},
		&pgproto3.Parse{Query: "SELECT 1"},
		&pgproto3.Bind{},
		&pgproto3.Execute{},
		&pgproto3.Sync{},
		&pgproto3.Parse{Query: "SELECT 2"},
		&pgproto3.Bind{},
		&pgproto3.Execute{},
		&pgproto3.Sync{},
	)
	require.Equal(t, []string{"Error[42703]", "ReadyForQuery[I]"}, rc.recvUntilReady())
	require.Equal(t, []string{"ParseComplete", "BindComplete", "DataRow[2]", "CommandComplete[SELECT 1]", "ReadyForQuery[I]"}, rc.recvUntilReady())

	// pgjdbc pipelines BEGIN and the first statement with one Sync; an error there fails the block.
	rc.send(
		&pgproto3.Parse{Query: "BEGIN"}, &pgproto3.Bind{}, &pgproto3.Execute{},
		&pgproto3.Parse{Query: "INSERT INTO e VALUES (100, 'x')"}, &pgproto3.Bind{}, &pgproto3.Execute{},
		&pgproto3.Parse{Query: "INSERT INTO e VALUES ('bad', 'x')"}, &pgproto3.Bind{}, &pgproto3.Execute{},
		&pgproto3.Sync{},
	)
	require.Equal(t, []string{"ParseComplete", "BindComplete", "CommandComplete[BEGIN]", "ParseComplete", "BindComplete", "CommandComplete[INSERT 0 1]", "Error[22P02]", "ReadyForQuery[E]"}, rc.recvUntilReady())
	rc.send(&pgproto3.Parse{Query: "SELECT 1"}, &pgproto3.Sync{})
	require.Equal(t, []string{"Error[25P02]", "ReadyForQuery[E]"}, rc.recvUntilReady())
	rc.send(&pgproto3.Parse{Name: "S_3", Query: "ROLLBACK"}, &pgproto3.Bind{PreparedStatement: "S_3"}, &pgproto3.Execute{}, &pgproto3.Sync{})
	require.Equal(t, []string{"ParseComplete", "BindComplete", "CommandComplete[ROLLBACK]", "ReadyForQuery[I]"}, rc.recvUntilReady())

	// Unnamed statement without parameter types: DuckDB infers them.
	rc.send(&pgproto3.Parse{Query: "SELECT s FROM e WHERE i = $1"}, &pgproto3.Describe{ObjectType: 'S'}, &pgproto3.Sync{})
	require.Equal(t, []string{"ParseComplete", "ParameterDescription[20]", "RowDescription[s:25:-1:-1:0]", "ReadyForQuery[I]"}, rc.recvUntilReady())
	// Declared types win (pgjdbc declares int4 for setInt).
	rc.send(&pgproto3.Parse{Query: "SELECT s FROM e WHERE i = $1", ParameterOIDs: []uint32{23}}, &pgproto3.Describe{ObjectType: 'S'},
		&pgproto3.Bind{ParameterFormatCodes: []int16{1}, Parameters: [][]byte{{0, 0, 0, 3}}, ResultFormatCodes: []int16{1}},
		&pgproto3.Execute{}, &pgproto3.Sync{})
	require.Equal(t, []string{"ParseComplete", "ParameterDescription[23]", "RowDescription[s:25:-1:-1:0]", "BindComplete", "DataRow[v3]", "CommandComplete[SELECT 1]", "ReadyForQuery[I]"}, rc.recvUntilReady())

	// Empty query, statements without rows, multiple statements in a Parse, duplicate names.
	rc.send(&pgproto3.Parse{Name: "empty", Query: " "}, &pgproto3.Describe{ObjectType: 'S', Name: "empty"}, &pgproto3.Bind{PreparedStatement: "empty"}, &pgproto3.Execute{}, &pgproto3.Sync{})
	require.Equal(t, []string{"ParseComplete", "ParameterDescription[]", "NoData", "BindComplete", "EmptyQueryResponse", "ReadyForQuery[I]"}, rc.recvUntilReady())
	rc.send(&pgproto3.Parse{Query: "SET extra_float_digits = 3"}, &pgproto3.Bind{}, &pgproto3.Describe{ObjectType: 'P'}, &pgproto3.Execute{MaxRows: 1}, &pgproto3.Sync{})
	require.Equal(t, []string{"ParseComplete", "BindComplete", "NoData", "CommandComplete[SET]", "ReadyForQuery[I]"}, rc.recvUntilReady())
	rc.send(&pgproto3.Parse{Query: "SELECT 1; SELECT 2"}, &pgproto3.Sync{})
	require.Equal(t, []string{"Error[42601]", "ReadyForQuery[I]"}, rc.recvUntilReady())
	rc.send(&pgproto3.Parse{Name: "empty", Query: "SELECT 1"}, &pgproto3.Sync{})
	require.Equal(t, []string{"Error[42P05]", "ReadyForQuery[I]"}, rc.recvUntilReady())
	rc.send(&pgproto3.Close{ObjectType: 'S', Name: "empty"}, &pgproto3.Bind{PreparedStatement: "empty"}, &pgproto3.Sync{})
	require.Equal(t, []string{"CloseComplete", "Error[26000]", "ReadyForQuery[I]"}, rc.recvUntilReady())
	rc.send(&pgproto3.Execute{Portal: "nope"}, &pgproto3.Sync{})
	require.Equal(t, []string{"Error[34000]", "ReadyForQuery[I]"}, rc.recvUntilReady())

	// Flush delivers results without a Sync.
	rc.send(&pgproto3.Parse{Query: "SELECT 7"}, &pgproto3.Bind{}, &pgproto3.Execute{}, &pgproto3.Flush{})
	for _, want := range []string{"ParseComplete", "BindComplete", "DataRow[7]", "CommandComplete[SELECT 1]"} {
		msg, err := rc.fe.Receive()
		require.NoError(t, err)
		require.Equal(t, want, describeMsg(msg))
	}
	rc.send(&pgproto3.Sync{})
	require.Equal(t, []string{"ReadyForQuery[I]"}, rc.recvUntilReady())

	// CopyData after a failed COPY is ignored, as PostgreSQL does (pgx sends it unprompted).
	rc.send(&pgproto3.Query{String: "COPY e FROM STDIN (FORMAT nonsense)"}, &pgproto3.CopyData{Data: []byte("1\tx\n")}, &pgproto3.CopyDone{})
	require.Equal(t, []string{"Error[42601]", "ReadyForQuery[I]"}, rc.recvUntilReady())
	require.Equal(t, []string{"RowDescription[?column?:23:4:-1:0]", "DataRow[1]", "CommandComplete[SELECT 1]", "ReadyForQuery[I]"}, rc.query("SELECT 1"))
}

func TestResultTypeChangedSinceDescribe(t *testing.T) {
	ts := startServer(t, Config{})
	rc := ts.rawConnect(t, nil)
	rc.query("CREATE TABLE c(a INTEGER)")
	rc.send(&pgproto3.Parse{Name: "q", Query: "SELECT a FROM c"}, &pgproto3.Describe{ObjectType: 'S', Name: "q"}, &pgproto3.Sync{})
	rc.recvUntilReady()
	rc.query("DROP TABLE c; CREATE TABLE c(a DATE)")
	rc.send(&pgproto3.Bind{PreparedStatement: "q"}, &pgproto3.Execute{}, &pgproto3.Sync{})
	require.Equal(t, []string{"BindComplete", "Error[0A000]", "ReadyForQuery[I]"}, rc.recvUntilReady())
}

// psycopg2's named cursors: DECLARE / FETCH FORWARD n / CLOSE.
func TestSQLCursors(t *testing.T) {
	ts := startServer(t, Config{})
	rc := ts.rawConnect(t, nil)
	require.Equal(t, []string{"Error[25P01]", "ReadyForQuery[I]"}, rc.query(`DECLARE "c1" CURSOR WITHOUT HOLD FOR SELECT 1`))
	require.Equal(t, []string{"CommandComplete[BEGIN]", "ReadyForQuery[T]"}, rc.query("BEGIN"))
	require.Equal(t, []string{"CommandComplete[DECLARE CURSOR]", "ReadyForQuery[T]"},
		rc.query(`DECLARE "mycur" CURSOR WITHOUT HOLD FOR SELECT range AS i FROM range(10)`))
	require.Equal(t, []string{"RowDescription[i:20:8:-1:0]", "DataRow[0]", "DataRow[1]", "DataRow[2]", "DataRow[3]", "CommandComplete[FETCH 4]", "ReadyForQuery[T]"},
		rc.query(`FETCH FORWARD 4 FROM "mycur"`))
	// Another statement in between: the cursor's rest is kept.
	require.Equal(t, "DataRow[42]", rc.query("SELECT 42")[1])
	require.Equal(t, []string{"RowDescription[i:20:8:-1:0]", "DataRow[4]", "DataRow[5]", "DataRow[6]", "DataRow[7]", "CommandComplete[FETCH 4]", "ReadyForQuery[T]"},
		rc.query(`FETCH FORWARD 4 FROM "mycur"`))
	require.Equal(t, []string{"RowDescription[i:20:8:-1:0]", "DataRow[8]", "DataRow[9]", "CommandComplete[FETCH 2]", "ReadyForQuery[T]"},
		rc.query(`FETCH 4 IN mycur`))
	require.Equal(t, []string{"RowDescription[i:20:8:-1:0]", "CommandComplete[FETCH 0]", "ReadyForQuery[T]"}, rc.query(`FETCH NEXT FROM mycur`))
	require.Equal(t, []string{"CommandComplete[CLOSE CURSOR]", "ReadyForQuery[T]"}, rc.query(`CLOSE "mycur"`))
	require.Equal(t, []string{"Error[34000]", "ReadyForQuery[E]"}, rc.query(`FETCH 1 FROM mycur`))
	rc.query("ROLLBACK")
	// Cursors close with their transaction unless WITH HOLD.
	rc.query("BEGIN")
	rc.query("DECLARE a CURSOR FOR SELECT 1 AS x")
	rc.query("DECLARE b CURSOR WITH HOLD FOR SELECT 2 AS y")
	rc.query("COMMIT")
	require.Equal(t, "Error[34000]", rc.query("FETCH ALL FROM a")[0])
	require.Equal(t, []string{"RowDescription[y:23:4:-1:0]", "DataRow[2]", "CommandComplete[FETCH 1]", "ReadyForQuery[I]"}, rc.query("FETCH ALL FROM b"))
	require.Equal(t, []string{"CommandComplete[CLOSE CURSOR ALL]", "ReadyForQuery[I]"}, rc.query("CLOSE ALL"))
}

// A client asking for protocol 3.2 (libpq 18 can) is told the server speaks 3.0, and goes on.
func TestNegotiateProtocolVersion(t *testing.T) {
	ts := startServer(t, Config{})
	nc := ts.dial(t)
	fe := pgproto3.NewFrontend(nc, nc)
	fe.Send(&pgproto3.StartupMessage{ProtocolVersion: 3<<16 | 2, Parameters: map[string]string{"user": "u", "_pq_.test": "x"}})
	require.NoError(t, fe.Flush())
	msg, err := fe.Receive()
	require.NoError(t, err)
	npv, ok := msg.(*pgproto3.NegotiateProtocolVersion)
	require.True(t, ok, "%T", msg)
	require.Equal(t, uint32(0), npv.NewestMinorProtocol)
	require.Equal(t, []string{"_pq_.test"}, npv.UnrecognizedOptions)
	for {
		msg, err := fe.Receive()
		require.NoError(t, err)
		if _, ok := msg.(*pgproto3.ReadyForQuery); ok {
			break
		}
	}
}
