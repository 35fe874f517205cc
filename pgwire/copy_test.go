package pgwire

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/stretchr/testify/require"
)

func TestCopyToStdout(t *testing.T) {
	ts := startServer(t, Config{})
	ctx := context.Background()
	c := ts.connect(t)
	_, err := c.Exec(ctx, `CREATE TABLE ct(id INTEGER, s VARCHAR, b BLOB, l INTEGER[]);
		INSERT INTO ct VALUES (1, 'plain', 'ab'::BLOB, [1, 2]), (2, E'tab\there\nnew "q" \\ ,', NULL, []), (3, NULL, NULL, NULL), (4, '', NULL, NULL)`)
	require.NoError(t, err)
	copyTo := func(sql string) string {
		var buf bytes.Buffer
		tag, err := c.PgConn().CopyTo(ctx, &buf, sql)
		require.NoError(t, err, sql)
		require.Equal(t, "COPY 4", tag.String())
		return buf.String()
	}
	require.Equal(t, "1\tplain\t\\\\x6162\t{1,2}\n2\ttab\\there\\nnew \"q\" \\\\ ,\t\\N\t{}\n3\t\\N\t\\N\t\\N\n4\t\t\\N\t\\N\n",
		copyTo("COPY ct TO STDOUT"))
	require.Equal(t, "id,s\n1,plain\n2,\"tab\there\nnew \"\"q\"\" \\ ,\"\n3,\n4,\"\"\n",
		copyTo("COPY (SELECT id, s FROM ct ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER)"))
	require.Equal(t, "1|plain\n2|tab\\there\\nnew \"q\" \\\\ ,\n3|NULL\n4|\n",
		copyTo("COPY ct (id, s) TO STDOUT WITH DELIMITER AS '|' NULL AS 'NULL'"))
	bin := copyTo("COPY ct (id) TO STDOUT (FORMAT binary)")
	require.True(t, strings.HasPrefix(bin, "PGCOPY\n\xff\r\n\x00"))
	require.True(t, strings.HasSuffix(bin, "\xff\xff"))
}

func TestCopyFromStdin(t *testing.T) {
	ts := startServer(t, Config{})
	ctx := context.Background()
	c := ts.connect(t)
	_, err := c.Exec(ctx, `CREATE TABLE cf(id INTEGER, s VARCHAR, ok BOOLEAN, b BLOB, d DATE, ts TIMESTAMP, n DECIMAL(10,2), l INTEGER[], j JSON)`)
	require.NoError(t, err)

	// Text format, delivered one byte per CopyData (boundaries never follow rows).
	text := "1\tplain\tt\t\\\\x00ff\t2024-02-29\t2024-02-29 13:45:30.5\t12.50\t{1,2}\t{\"a\":1}\n" +
		"2\ttab\\there\\nnew \\\\ back\tf\t\\N\t\\N\t\\N\t\\N\t{}\t\\N\n" +
		"3\t\\N\t\\N\t\\N\t\\N\t\\N\t-0.01\t\\N\tnull\n"
	tag, err := c.PgConn().CopyFrom(ctx, iotest.OneByteReader(strings.NewReader(text)), "COPY cf FROM STDIN")
	require.NoError(t, err)
	require.Equal(t, "COPY 3", tag.String())
	var s string
	var b []byte
	var l []int32
	require.NoError(t, c.QueryRow(ctx, "SELECT s, b, l FROM cf WHERE id = 1").Scan(&s, &b, &l))
	require.Equal(t, "plain", s)
	require.Equal(t, []byte{0, 0xff}, b)
	require.Equal(t, []int32{1, 2}, l)
	require.NoError(t, c.QueryRow(ctx, "SELECT s FROM cf WHERE id = 2").Scan(&s))
	require.Equal(t, "tab\there\nnew \\ back", s)

	// CSV with a header, quotes, embedded newlines, and the end marker psql sends.
	csv := "id,s\n10,\"a,b\"\n11,\"multi\nline \"\"quoted\"\"\"\n12,\n13,\"\"\n"
	tag, err = c.PgConn().CopyFrom(ctx, strings.NewReader(csv), "COPY cf (id, s) FROM STDIN WITH (FORMAT csv, HEADER true)")
	require.NoError(t, err)
	require.Equal(t, "COPY 4", tag.String())
	rows, err := c.Query(ctx, "SELECT s FROM cf WHERE id >= 10 ORDER BY id")
	require.NoError(t, err)
	got, err := pgx.CollectRows(rows, pgx.RowTo[*string])
	require.NoError(t, err)
	require.Equal(t, "a,b", *got[0])
	require.Equal(t, "multi\nline \"quoted\"", *got[1])
	require.Nil(t, got[2])
	require.Equal(t, "", *got[3])

	// psycopg2's copy_from: old syntax.
	tag, err = c.PgConn().CopyFrom(ctx, strings.NewReader("20\tx\n\\.\n"), `COPY "cf"("id","s") FROM stdin WITH DELIMITER AS '	' NULL AS '\N'`)
	require.NoError(t, err)
	require.Equal(t, "COPY 1", tag.String())

	// Bad data: an error naming the line, nothing inserted, and the session goes on.
	_, err = c.PgConn().CopyFrom(ctx, strings.NewReader("30\tok\n31\tok\nnot-a-number\tx\n"), "COPY cf (id, s) FROM STDIN")
	requirePGCode(t, err, "22P02")
	_, err = c.PgConn().CopyFrom(ctx, strings.NewReader("32\n"), "COPY cf (id, s) FROM STDIN")
	requirePGCode(t, err, "22P04")
	var n int
	require.NoError(t, c.QueryRow(ctx, "SELECT count(*) FROM cf WHERE id >= 30").Scan(&n))
	require.Equal(t, 0, n)

	// COPY from a missing table fails before CopyInResponse.
	_, err = c.PgConn().CopyFrom(ctx, strings.NewReader("1\n"), "COPY nope FROM STDIN")
	requirePGCode(t, err, "42P01")
	require.NoError(t, c.QueryRow(ctx, "SELECT count(*) FROM cf").Scan(&n))
	require.Equal(t, 8, n)
}

func TestCopyFailAndRaw(t *testing.T) {
	ts := startServer(t, Config{})
	rc := ts.rawConnect(t, nil)
	rc.query("CREATE TABLE r(a INTEGER)")
	rc.send(&pgproto3.Query{String: "COPY r FROM STDIN"})
	msg, err := rc.fe.Receive()
	require.NoError(t, err)
	require.IsType(t, &pgproto3.CopyInResponse{}, msg)
	rc.send(&pgproto3.CopyData{Data: []byte("1\n2")}, &pgproto3.CopyFail{Message: "user gave up"})
	require.Equal(t, []string{"Error[57014]", "ReadyForQuery[I]"}, rc.recvUntilReady())
	// pgx sends CopyData right after the Query without waiting; if COPY fails they are ignored.
	rc.send(&pgproto3.Query{String: "COPY missing FROM STDIN"}, &pgproto3.CopyData{Data: []byte("1\n")}, &pgproto3.CopyDone{})
	require.Equal(t, []string{"Error[42P01]", "ReadyForQuery[I]"}, rc.recvUntilReady())
	rc.send(&pgproto3.Query{String: "COPY r FROM STDIN"})
	_, err = rc.fe.Receive()
	require.NoError(t, err)
	rc.send(&pgproto3.CopyData{Data: []byte("7\n8\n")}, &pgproto3.CopyDone{})
	require.Equal(t, []string{"CommandComplete[COPY 2]", "ReadyForQuery[I]"}, rc.recvUntilReady())
	require.Equal(t, []string{"RowDescription[sum:1700:-1:-1:0]", "DataRow[15]", "CommandComplete[SELECT 1]", "ReadyForQuery[I]"}, rc.query("SELECT sum(a) FROM r"))
}

// pgx's Conn.CopyFrom: binary COPY with the column types from a Describe.
func TestCopyFromBinaryPgx(t *testing.T) {
	ts := startServer(t, Config{})
	ctx := context.Background()
	c := ts.connect(t)
	_, err := c.Exec(ctx, `CREATE TABLE cb(id BIGINT, name VARCHAR, score DOUBLE, ok BOOLEAN, t_at TIMESTAMP, t_tz TIMESTAMPTZ,
		day DATE, raw BLOB, amount DECIMAL(12,3), u UUID, small SMALLINT, tags VARCHAR[])`)
	require.NoError(t, err)
	at := time.Date(2024, 2, 29, 13, 45, 30, 123456000, time.UTC)
	u := pgtype.UUID{Bytes: [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, Valid: true}
	var rows [][]any
	for i := 0; i < 5000; i++ {
		rows = append(rows, []any{int64(i), "name " + strings.Repeat("x", i%7), float64(i) / 4, i%2 == 0, at, at,
			at, []byte{byte(i), 0}, numeric("123.456"), u, int16(i % 100), []string{"a", "b"}})
	}
	rows = append(rows, []any{int64(-1), nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil})
	n, err := c.CopyFrom(ctx, pgx.Identifier{"cb"}, []string{"id", "name", "score", "ok", "t_at", "t_tz", "day", "raw", "amount", "u", "small", "tags"}, pgx.CopyFromRows(rows))
	require.NoError(t, err)
	require.Equal(t, int64(5001), n)
	var (
		name        string
		score       float64
		ok          bool
		gotAt, gotZ time.Time
		day         time.Time
		raw         []byte
		amount      pgtype.Numeric
		gotU        pgtype.UUID
		small       int16
		tags        []string
	)
	require.NoError(t, c.QueryRow(ctx, "SELECT name, score, ok, t_at, t_tz, day, raw, amount, u, small, tags FROM cb WHERE id = 4001").
		Scan(&name, &score, &ok, &gotAt, &gotZ, &day, &raw, &amount, &gotU, &small, &tags))
	require.Equal(t, "name xxxx", name)
	require.Equal(t, 1000.25, score)
	require.False(t, ok)
	require.True(t, at.Equal(gotAt), "%v", gotAt)
	require.True(t, at.Equal(gotZ), "%v", gotZ)
	require.Equal(t, time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), day)
	require.Equal(t, []byte{byte(4001 % 256), 0}, raw)
	require.Equal(t, "123.456", numericString(t, amount))
	require.Equal(t, u, gotU)
	require.Equal(t, int16(1), small)
	require.Equal(t, []string{"a", "b"}, tags)
	var nulls int
	require.NoError(t, c.QueryRow(ctx, "SELECT count(*) FROM cb WHERE name IS NULL AND tags IS NULL").Scan(&nulls))
	require.Equal(t, 1, nulls)
}

// psql's \copy uses COPY … FROM STDIN / TO STDOUT.
func TestPsqlCopy(t *testing.T) {
	ts := startServer(t, Config{})
	dir := t.TempDir()
	in := filepath.Join(dir, "in.csv")
	var sb strings.Builder
	sb.WriteString("id,name\n")
	for i := 0; i < 1000; i++ {
		sb.WriteString(strings.Repeat("1", 1) + "00" + string(rune('0'+i%10)) + ",\"n, " + strings.Repeat("z", i%13) + "\"\n")
	}
	require.NoError(t, os.WriteFile(in, []byte(sb.String()), 0o600))
	out := filepath.Join(dir, "out.csv")
	r := ts.psql(t, nil, "-v", "ON_ERROR_STOP=1",
		"-c", "CREATE TABLE pc(id INTEGER, name VARCHAR)",
		"-c", `\copy pc FROM '`+in+`' WITH (FORMAT csv, HEADER)`,
		"-c", `\copy (SELECT id, name FROM pc) TO '`+out+`' WITH (FORMAT csv, HEADER)`,
		"-c", "SELECT count(*) FROM pc")
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "COPY 1000")
	require.Contains(t, r.stdout, " 1000\n")
	data, err := os.ReadFile(out)
	require.NoError(t, err)
	require.Equal(t, sb.String(), string(data))
}
