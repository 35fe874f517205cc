package sqlfuncs_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/connectors"
	"github.com/ankaflow/ankaflow/engine"
	"github.com/ankaflow/ankaflow/internal/testconn"
	"github.com/ankaflow/ankaflow/sqlfuncs"
)

type fixture struct {
	t   *testing.T
	ctx context.Context
	db  *engine.DB
	s   *engine.Session
}

func newFixture(t *testing.T) *fixture {
	ctx := context.Background()
	db, err := engine.Open(ctx, engine.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	s, err := db.NewSession(ctx)
	require.NoError(t, err)
	return &fixture{t: t, ctx: ctx, db: db, s: s}
}

// conn builds a connection of the testing module and registers it in session s.
func (f *fixture) conn(s *engine.Session, stage, class string, params map[string]any, query string) connectors.Connection {
	c, err := connectors.New(f.ctx, connectors.Definition{
		Stage: stage, Kind: connectors.CustomKind, Module: testconn.Module, Classname: class,
		Params: params, Query: query, Origin: "pipeline.yaml:3",
	}, &connectors.Env{DB: f.db})
	require.NoError(f.t, err)
	sqlfuncs.Register(s, c)
	return c
}

func (f *fixture) scalar(s *engine.Session, q string, dest ...any) {
	f.t.Helper()
	require.NoError(f.t, s.QueryRowContext(f.ctx, q).Scan(dest...))
}

func (f *fixture) exec(s *engine.Session, q string) error {
	_, err := s.Exec(f.ctx, q)
	return err
}

func TestTap(t *testing.T) {
	f := newFixture(t)
	f.conn(f.s, "Nums", "Numbers", map[string]any{"rows": 2500, "label": "mine"}, "the stage query")

	var n, sum int64
	var q, label string
	f.scalar(f.s, "SELECT count(*), sum(n), any_value(q), any_value(label) FROM tap('Nums')", &n, &sum, &q, &label)
	require.Equal(t, int64(2500), n)
	require.Equal(t, int64(2500*2499/2), sum)
	require.Equal(t, "the stage query", q, "the stage's own query by default")
	require.Equal(t, "mine", label)

	f.scalar(f.s, "SELECT any_value(q) FROM tap('Nums', 'SELECT only some')", &q)
	require.Equal(t, "SELECT only some", q, "the second argument overrides the stage's query")

	require.NoError(t, f.exec(f.s, `CREATE TABLE "Nums" AS SELECT * FROM tap('Nums')`))
	f.scalar(f.s, `SELECT count(*) FROM "Nums"`, &n)
	require.Equal(t, int64(2500), n)

	err := f.exec(f.s, "SELECT * FROM tap('Numz')")
	require.ErrorContains(t, err, "tap('Numz'): no connection named 'Numz' (did you mean 'Nums'?); registered: 'Nums'")

	// Errors of the connection name it and the operation.
	f.conn(f.s, "Bad", "Numbers", map[string]any{"rows": -1}, "")
	err = f.exec(f.s, "SELECT * FROM tap('Bad')")
	require.ErrorContains(t, err, "tap('Bad'): rows must not be negative")

	// A connection that cannot tap says so.
	f.conn(f.s, "Counter", "Count", nil, "")
	err = f.exec(f.s, "SELECT * FROM tap('Counter')")
	require.ErrorContains(t, err, "tap('Counter'): connection ankaflow.testing.Count of stage 'Counter' does not support tap")
}

func TestShowSchema(t *testing.T) {
	f := newFixture(t)
	f.conn(f.s, "Nums", "Numbers", nil, "")
	rows, err := f.s.QueryContext(f.ctx, "SELECT column_name, column_type, nullable FROM show_schema('Nums')")
	require.NoError(t, err)
	defer rows.Close()
	type col struct {
		name, typ string
		null      sql.NullBool
	}
	var got []col
	for rows.Next() {
		var c col
		require.NoError(t, rows.Scan(&c.name, &c.typ, &c.null))
		got = append(got, c)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []col{
		{"n", "BIGINT", sql.NullBool{Valid: true, Bool: false}},
		{"q", "VARCHAR", sql.NullBool{}},
		{"label", "VARCHAR", sql.NullBool{}},
	}, got)

	f.conn(f.s, "Counter", "Count", nil, "")
	_, err = f.s.Exec(f.ctx, "SELECT * FROM show_schema('Counter')")
	require.ErrorContains(t, err, "show_schema('Counter'): connection ankaflow.testing.Count of stage 'Counter' does not support show_schema")
}

func TestCopyToConnection(t *testing.T) {
	f := newFixture(t)
	nums := f.conn(f.s, "Nums", "Numbers", nil, "").(*testconn.Numbers)

	n, err := f.s.Exec(f.ctx, "COPY (SELECT range AS id, 'x' || range AS label FROM range(5000) ORDER BY id DESC) TO 'Nums' (FORMAT ankaflow)")
	require.NoError(t, err)
	require.Equal(t, int64(5000), n)
	require.Equal(t, int64(5000), nums.CommittedRows())
	first := nums.Committed()[0]
	require.Equal(t, "id", first.Schema().Field(0).Name)
	require.Equal(t, "label", first.Schema().Field(1).Name)
	require.Equal(t, "[4999 4998 4997]", fmt.Sprint(first.Column(0).(interface{ Int64Values() []int64 }).Int64Values()[:3]))

	require.NoError(t, f.exec(f.s, "CREATE TABLE t AS SELECT range AS a FROM range(777)"))
	_, err = f.s.Exec(f.ctx, "COPY t TO 'Nums' (FORMAT ankaflow)")
	require.NoError(t, err)
	require.Equal(t, int64(777), nums.CommittedRows())
	require.Equal(t, "a", nums.Committed()[0].Schema().Field(0).Name)

	err = f.exec(f.s, "COPY t TO 'Nums' (FORMAT ankaflow, HEADER true)")
	require.ErrorContains(t, err, "COPY … (FORMAT ankaflow): unknown option HEADER; accepted options: SOURCE")

	err = f.exec(f.s, "COPY t TO 'Numz' (FORMAT ankaflow)")
	require.ErrorContains(t, err, "sink('Numz'): no connection named 'Numz' (did you mean 'Nums'?)")

	// A sink failing halfway leaves nothing behind, and the COPY fails with its message.
	failing := f.conn(f.s, "Failing", "Numbers", map[string]any{"fail_after": 10000}, "").(*testconn.Numbers)
	err = f.exec(f.s, "COPY (SELECT range AS n FROM range(100000)) TO 'Failing' (FORMAT ankaflow)")
	require.ErrorContains(t, err, "sink('Failing'): disk full after 10000 rows")
	require.Zero(t, failing.CommittedRows())

	// So does a COPY whose query fails after the sink received rows.
	err = f.exec(f.s, "COPY (SELECT CASE WHEN range = 60000 THEN error('query broke') ELSE range END AS n FROM range(100000)) TO 'Nums' (FORMAT ankaflow)")
	require.ErrorContains(t, err, "query broke")
	require.Equal(t, int64(777), nums.CommittedRows(), "the previous commit stands")

	f.conn(f.s, "Gen", "Gen", nil, "")
	err = f.exec(f.s, "COPY t TO 'Gen' (FORMAT ankaflow)")
	require.ErrorContains(t, err, "sink('Gen'): connection ankaflow.testing.Gen of stage 'Gen' does not support sink")
}

func TestConnectionSQL(t *testing.T) {
	f := newFixture(t)
	nums := f.conn(f.s, "Nums", "Numbers", nil, "").(*testconn.Numbers)
	var answer int64
	f.scalar(f.s, "SELECT answer FROM connection_sql('Nums', 'SELECT 42')", &answer)
	require.Equal(t, int64(42), answer)

	var status string
	f.scalar(f.s, "SELECT status FROM connection_sql('Nums', 'TRUNCATE orders')", &status)
	require.Equal(t, "OK", status)
	require.NoError(t, f.exec(f.s, `CREATE OR REPLACE TABLE "S" AS SELECT * FROM connection_sql('Nums', 'DELETE FROM orders')`))
	f.scalar(f.s, `SELECT status FROM "S"`, &status)
	require.Equal(t, "OK", status)
	require.Equal(t, []string{"SELECT 42", "TRUNCATE orders", "DELETE FROM orders"}, nums.Statements())

	err := f.exec(f.s, "SELECT * FROM connection_sql('Nums', 'please fail')")
	require.ErrorContains(t, err, "connection_sql('Nums'): syntax error near 'fail'")

	f.conn(f.s, "Counter", "Count", nil, "")
	err = f.exec(f.s, "SELECT * FROM connection_sql('Counter', 'SELECT 1')")
	require.ErrorContains(t, err, "connection_sql('Counter'): connection ankaflow.testing.Count of stage 'Counter' does not support sql")
}

func TestConnections(t *testing.T) {
	f := newFixture(t)
	f.conn(f.s, "Nums", "Numbers", map[string]any{"password": "hunter2", "rows": 5}, "")
	g, err := connectors.New(f.ctx, connectors.Definition{Stage: "Files", Kind: "Parquet", Locator: "/data/x.parquet"}, &connectors.Env{DB: f.db})
	require.NoError(t, err)
	sqlfuncs.RegisterGlobal(f.db, g)

	rows, err := f.s.QueryContext(f.ctx, "SELECT name, kind, module, classname, locator, params::VARCHAR, origin FROM connections() ORDER BY name")
	require.NoError(t, err)
	defer rows.Close()
	var got []string
	for rows.Next() {
		var name, kind, params string
		var module, class, locator, origin sql.NullString
		require.NoError(t, rows.Scan(&name, &kind, &module, &class, &locator, &params, &origin))
		got = append(got, fmt.Sprintf("%s|%s|%s|%s|%s|%s|%s", name, kind, module.String, class.String, locator.String, params, origin.String))
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []string{
		"Files|Parquet||||{}|",
		"Nums|CustomConnection|ankaflow.testing|Numbers||{\"password\":\"***\",\"rows\":5}|pipeline.yaml:3",
	}[0][:len("Files|Parquet")], got[0][:len("Files|Parquet")])
	require.Equal(t, "Files|Parquet|||/data/x.parquet|{}|", got[0])
	require.Equal(t, "Nums|CustomConnection|ankaflow.testing|Numbers||{\"password\":\"***\",\"rows\":5}|pipeline.yaml:3", got[1])

	// params is JSON: it can be queried as such.
	var pw string
	require.NoError(t, f.s.QueryRowContext(f.ctx, "SELECT typeof(params) || ' ' || (params->>'password') FROM connections() WHERE name = 'Nums'").Scan(&pw))
	require.Equal(t, "JSON ***", pw)

	// Another session sees only the database-wide connection.
	other, err := f.db.NewSession(f.ctx)
	require.NoError(t, err)
	var n int
	require.NoError(t, other.QueryRowContext(f.ctx, "SELECT count(*) FROM connections()").Scan(&n))
	require.Equal(t, 1, n)
	// And so does a plain pool connection (not a session).
	require.NoError(t, f.db.SQL().QueryRowContext(f.ctx, "SELECT count(*) FROM connections()").Scan(&n))
	require.Equal(t, 1, n)
}

func TestTapCancel(t *testing.T) {
	f := newFixture(t)
	nums := f.conn(f.s, "Forever", "Numbers", map[string]any{"forever": true}, "").(*testconn.Numbers)
	ctx, cancel := context.WithCancel(f.ctx)
	go func() {
		for nums.Taps.Load() == 0 {
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(100 * time.Millisecond) // mid-stream
		cancel()
	}()
	rows, err := f.s.QueryArrow(ctx, "SELECT count(*) FROM tap('Forever')")
	if err == nil {
		for rows.Next() {
		}
		err = rows.Err()
		rows.Close()
	}
	require.ErrorIs(t, err, context.Canceled)
	require.Eventually(t, func() bool { return nums.Released.Load() == 1 }, 5*time.Second, 10*time.Millisecond, "the reader is released")

	// database/sql path too.
	ctx2, cancel2 := context.WithTimeout(f.ctx, 200*time.Millisecond)
	defer cancel2()
	_, err = f.s.Exec(ctx2, "CREATE TABLE never AS SELECT * FROM tap('Forever')")
	require.Error(t, err)
	require.Eventually(t, func() bool { return nums.Released.Load() == 2 }, 5*time.Second, 10*time.Millisecond)

	var one int
	f.scalar(f.s, "SELECT 1", &one)
}

const allTypes = `SELECT
	(i % 100)::TINYINT AS tiny, i::SMALLINT AS small, i::INTEGER AS int, i::BIGINT * 1000000000 AS big, i::HUGEINT * 1000000000000000000000 AS huge,
	(i % 200)::UTINYINT AS utiny, i::USMALLINT AS usmall, i::UINTEGER AS uint, i::UBIGINT AS ubig,
	i::FLOAT / 3 AS f4, i::DOUBLE / 7 AS f8, (i * 1.25)::DECIMAL(18,4) AS dec, ((i % 600) * 1.5)::DECIMAL(4,1) AS dec_small, (i * 3.75)::DECIMAL(38,10) AS dec_wide,
	'text ' || i || ' ünïcødé' AS txt, ('\x00\x01' || i::VARCHAR)::BLOB AS bin, i % 2 = 0 AS flag,
	DATE '2024-01-01' + i::INTEGER AS d, TIME '12:34:56.789' + INTERVAL (i) SECOND AS tm,
	TIMESTAMP '2024-02-29 01:02:03.456789' + INTERVAL (i) HOUR AS ts,
	TIMESTAMPTZ '2024-02-29 01:02:03.456789+02' + INTERVAL (i) MINUTE AS tstz,
	INTERVAL (i) DAY + INTERVAL 3 MONTH + INTERVAL (i) MICROSECOND AS iv,
	uuid_extract_version(gen_random_uuid()) AS uv,
	('00000000-0000-0000-0000-' || lpad(i::VARCHAR, 12, '0'))::UUID AS id,
	[i, i + 1, NULL] AS lst, {'a': i, 'b': 'x' || i, 'c': [i]} AS st, MAP {'k' || i: i, 'z': NULL} AS mp,
	CASE WHEN i % 3 = 0 THEN NULL ELSE i END AS maybe
FROM (SELECT range AS i FROM range(3000)) UNION ALL SELECT
	NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL`

// arrowTypeChanges are the columns whose type changes through Arrow (values do not): Arrow has
// no 128-bit integer, and DuckDB exports UUIDs as text unless arrow_lossless_conversion is set.
var arrowTypeChanges = map[string]string{"huge": "DECIMAL(38,0)", "id": "VARCHAR"}

func TestTypesRoundTrip(t *testing.T) {
	f := newFixture(t)
	echo := f.conn(f.s, "Echo", "Echo", nil, "").(*testconn.Echo)
	require.NoError(t, f.exec(f.s, "CREATE TABLE original AS "+allTypes))
	_, err := f.s.Exec(f.ctx, "COPY original TO 'Echo' (FORMAT ankaflow)")
	require.NoError(t, err)
	require.NoError(t, f.exec(f.s, "CREATE TABLE back AS SELECT * FROM tap('Echo')"))

	var n int64
	f.scalar(f.s, "SELECT count(*) FROM back", &n)
	require.Equal(t, int64(3001), n)

	// Column by column, so that a mismatch names its column; every value (NULLs included)
	// must come back, with the same type.
	rows, err := f.s.QueryContext(f.ctx, "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'original' ORDER BY ordinal_position")
	require.NoError(t, err)
	type col struct{ name, typ string }
	var cols []col
	for rows.Next() {
		var c col
		require.NoError(t, rows.Scan(&c.name, &c.typ))
		cols = append(cols, c)
	}
	rows.Close()
	require.Len(t, cols, 28)
	for _, c := range cols {
		var backType string
		f.scalar(f.s, "SELECT data_type FROM information_schema.columns WHERE table_name = 'back' AND column_name = '"+c.name+"'", &backType)
		var diff int64
		q := fmt.Sprintf(`SELECT count(*) FROM (
			(SELECT row_number() OVER () AS r, %[1]s AS v FROM original EXCEPT ALL SELECT row_number() OVER () AS r, %[1]s::%[2]s FROM back)
			UNION ALL
			(SELECT row_number() OVER () AS r, %[1]s::%[2]s FROM back EXCEPT ALL SELECT row_number() OVER () AS r, %[1]s AS v FROM original))`,
			engine.QuoteIdent(c.name), c.typ)
		f.scalar(f.s, q, &diff)
		require.Zero(t, diff, "column %s %s came back as %s with different values", c.name, c.typ, backType)
		want := c.typ
		if w, ok := arrowTypeChanges[c.name]; ok {
			want = w
		}
		require.Equal(t, want, backType, "column %s keeps its type", c.name)
	}
	require.Equal(t, "st", echo.Schema().Field(25).Name)
}

func TestLargeTapBoundedMemory(t *testing.T) {
	f := newFixture(t)
	gen := f.conn(f.s, "Gen", "Gen", map[string]any{"rows": 1_000_000, "batch": 16384}, "").(*testconn.Gen)
	var n, sum int64
	var maxc string
	f.scalar(f.s, "SELECT count(*), sum(a), max(c) FROM tap('Gen')", &n, &sum, &maxc)
	require.Equal(t, int64(1_000_000), n)
	require.Equal(t, int64(1_000_000*999_999/2), sum)
	require.Equal(t, "str999999", maxc)
	const batchBytes = 16384 * (8 + 8 + 4 + 23) // upper bound of one batch's buffers
	total := int64(1_000_000 / 16384 * batchBytes)
	t.Logf("peak %d bytes held by the tap's batches (one batch ≤ %d, all %d)", gen.Peak.Load(), batchBytes, total)
	require.Less(t, gen.Peak.Load(), int64(10*batchBytes), "only a few batches are in flight (of 61)")
	require.Eventually(t, func() bool { return gen.Allocated() == 0 }, 5*time.Second, 10*time.Millisecond, "every batch is released")
}

func TestFileConnectionSink(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "not", "yet", "there.parquet")
	c, err := connectors.New(f.ctx, connectors.Definition{Stage: "ParquetStage", Kind: "Parquet", Locator: path,
		Params: map[string]any{"compression": "zstd"}}, &connectors.Env{DB: f.db})
	require.NoError(t, err)
	defer connectors.Close(c)
	sqlfuncs.Register(f.s, c)

	n, err := f.s.Exec(f.ctx, "COPY (SELECT range AS id, 'v' || range AS \"Value\" FROM range(100000)) TO 'ParquetStage' (FORMAT ankaflow)")
	require.NoError(t, err)
	require.Equal(t, int64(100000), n)
	var cnt, sum int64
	var v string
	f.scalar(f.s, fmt.Sprintf("SELECT count(*), sum(id), max(\"Value\") FROM read_parquet(%s)", engine.QuoteLiteral(path)), &cnt, &sum, &v)
	require.Equal(t, int64(100000), cnt)
	require.Equal(t, int64(100000*99999/2), sum)
	require.Equal(t, "v99999", v)
	var codec string
	f.scalar(f.s, fmt.Sprintf("SELECT any_value(compression) FROM parquet_metadata(%s)", engine.QuoteLiteral(path)), &codec)
	require.Equal(t, "ZSTD", codec)

	// Reading it back through the same connection.
	f.scalar(f.s, "SELECT count(*) FROM tap('ParquetStage')", &cnt)
	require.Equal(t, int64(100000), cnt)

	// A failing COPY leaves the previous file as it was.
	err = f.exec(f.s, "COPY (SELECT CASE WHEN range = 50000 THEN error('half way') ELSE range END AS id FROM range(100000)) TO 'ParquetStage' (FORMAT ankaflow)")
	require.ErrorContains(t, err, "half way")
	f.scalar(f.s, fmt.Sprintf("SELECT count(*) FROM read_parquet(%s)", engine.QuoteLiteral(path)), &cnt)
	require.Equal(t, int64(100000), cnt)
}

func TestSessionScoping(t *testing.T) {
	f := newFixture(t)
	const sessions = 4
	var wg sync.WaitGroup
	errs := make(chan error, sessions)
	for i := 0; i < sessions; i++ {
		s, err := f.db.NewSession(f.ctx)
		require.NoError(t, err)
		f.conn(s, "Nums", "Numbers", map[string]any{"rows": 20000 + i, "label": fmt.Sprint("session ", i)}, "")
		wg.Add(1)
		go func(i int, s *engine.Session) {
			defer wg.Done()
			defer s.Close()
			for k := 0; k < 5; k++ {
				var n int64
				var labels int64
				var label string
				if err := s.QueryRowContext(f.ctx, "SELECT count(*), count(DISTINCT label), any_value(label) FROM tap('Nums')").Scan(&n, &labels, &label); err != nil {
					errs <- err
					return
				}
				if n != int64(20000+i) || labels != 1 || label != fmt.Sprint("session ", i) {
					errs <- fmt.Errorf("session %d saw %d rows labelled %q (%d labels)", i, n, label, labels)
					return
				}
			}
		}(i, s)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	// A session without its own Nums does not see the others'.
	err := f.exec(f.s, "SELECT * FROM tap('Nums')")
	require.ErrorContains(t, err, "tap('Nums'): no connection named 'Nums': none are registered in this session")
}

func TestCopyTargetNamedLikeAFile(t *testing.T) {
	f := newFixture(t)
	t.Chdir(t.TempDir())
	require.NoError(t, os.WriteFile("Nums", []byte("unrelated file"), 0o644))
	nums := f.conn(f.s, "Nums", "Numbers", nil, "").(*testconn.Numbers)
	// DuckDB would write tmp_Nums and replace the file with it: refused before anything moves.
	err := f.exec(f.s, "COPY (SELECT 1 AS a) TO 'Nums' (FORMAT ankaflow)")
	require.ErrorContains(t, err, "a file named Nums exists")
	require.ErrorContains(t, err, "add USE_TMP_FILE false")
	require.Zero(t, nums.CommittedRows())
	require.NoError(t, f.exec(f.s, "COPY (SELECT 1 AS a) TO 'Nums' (FORMAT ankaflow, USE_TMP_FILE false)"))
	require.Equal(t, int64(1), nums.CommittedRows())
	b, err := os.ReadFile("Nums")
	require.NoError(t, err)
	require.Equal(t, "unrelated file", string(b))
}
