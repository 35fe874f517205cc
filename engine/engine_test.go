package engine

import (
	"context"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	duckdb "github.com/duckdb/duckdb-go/v2"
	"github.com/stretchr/testify/require"
)

func openTest(t *testing.T) *DB {
	t.Helper()
	db, err := Open(context.Background(), Options{})
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

func TestRawConnection(t *testing.T) {
	db := openTest(t)
	s, err := db.NewSession(context.Background())
	require.NoError(t, err)
	defer s.Close()
	require.NotNil(t, s.Raw().Ptr, "native handle must be found in duckdb-go's driver connection")
	require.Same(t, s, db.SessionByID(s.ID()))
}

func TestQuote(t *testing.T) {
	require.Equal(t, `"a""b; DROP TABLE x"`, QuoteIdent(`a"b; DROP TABLE x`))
	require.Equal(t, `'it''s'`, QuoteLiteral("it's"))
	require.Equal(t, `"s"."t"`, QuoteQualified("s", "t"))

	db := openTest(t)
	ctx := context.Background()
	s, err := db.NewSession(ctx)
	require.NoError(t, err)
	defer s.Close()
	name := `a"b; DROP TABLE x`
	_, err = s.Exec(ctx, "CREATE TABLE "+QuoteIdent(name)+" AS SELECT "+QuoteLiteral("it's")+" AS v")
	require.NoError(t, err)
	var v string
	require.NoError(t, s.QueryRowContext(ctx, "SELECT v FROM "+QuoteIdent(name)).Scan(&v))
	require.Equal(t, "it's", v)
}

func TestSessionsShareTables(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	a, err := db.NewSession(ctx)
	require.NoError(t, err)
	defer a.Close()
	b, err := db.NewSession(ctx)
	require.NoError(t, err)
	defer b.Close()
	require.NotEqual(t, a.ID(), b.ID())
	_, err = a.Exec(ctx, "CREATE TABLE shared AS SELECT 42 AS x")
	require.NoError(t, err)
	var x int
	require.NoError(t, b.QueryRowContext(ctx, "SELECT x FROM shared").Scan(&x))
	require.Equal(t, 42, x)
}

func TestQueryArrowStreams(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	s, err := db.NewSession(ctx)
	require.NoError(t, err)
	defer s.Close()

	rows, err := s.QueryArrow(ctx, "SELECT range AS i, range::VARCHAR AS s FROM range($1)", int64(100000))
	require.NoError(t, err)
	var _ array.RecordReader = rows
	require.Equal(t, "i", rows.Schema().Field(0).Name)
	require.Equal(t, "BIGINT", rows.Columns()[0].Type.SQL())
	var n, batches int64
	var sum int64
	for rows.Next() {
		rec := rows.RecordBatch()
		col := rec.Column(0).(*array.Int64)
		for i := 0; i < col.Len(); i++ {
			sum += col.Value(i)
		}
		n += rec.NumRows()
		batches++
	}
	require.NoError(t, rows.Err())
	require.NoError(t, rows.Close())
	require.Equal(t, int64(100000), n)
	require.Equal(t, int64(100000*99999/2), sum)
	require.Greater(t, batches, int64(10), "result must arrive in several batches, not materialised")

	// The session is usable afterwards.
	var one int
	require.NoError(t, s.QueryRowContext(ctx, "SELECT 1").Scan(&one))
}

func TestQueryArrowErrorsAndCancel(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	s, err := db.NewSession(ctx)
	require.NoError(t, err)
	defer s.Close()

	_, err = s.QueryArrow(ctx, "SELEC 1")
	var de *duckdb.Error
	require.ErrorAs(t, err, &de)
	require.Equal(t, duckdb.ErrorTypeParser, de.Type)

	_, err = s.QueryArrow(ctx, "SELECT * FROM no_such_table")
	require.ErrorAs(t, err, &de)
	require.Equal(t, duckdb.ErrorTypeCatalog, de.Type)

	cctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	rows, err := s.QueryArrow(cctx, "SELECT count(*) FROM range(1000000) a, range(1000000) b")
	if err == nil {
		for rows.Next() {
		}
		err = rows.Err()
		rows.Close()
	}
	require.Error(t, err)
	require.ErrorIs(t, err, context.DeadlineExceeded)

	var one int
	require.NoError(t, s.QueryRowContext(ctx, "SELECT 1").Scan(&one))
}

func TestPreparedDescribe(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	s, err := db.NewSession(ctx)
	require.NoError(t, err)
	defer s.Close()
	p, err := s.Prepare(ctx, "SELECT CAST($1 AS INTEGER) + 1 AS a, $2::DECIMAL(18,4) AS d, [1,2] AS l")
	require.NoError(t, err)
	defer p.Close()
	require.Equal(t, 2, p.NumParams())
	require.Equal(t, StatementSelect, p.StatementType())
	cols := p.Columns()
	require.Equal(t, "a", cols[0].Name)
	require.Equal(t, "INTEGER", cols[0].Type.SQL())
	require.Equal(t, "DECIMAL(18,4)", cols[1].Type.SQL())
	require.Equal(t, "INTEGER[]", cols[2].Type.SQL())
	require.Equal(t, "DECIMAL(18,4)", p.ParamType(1).SQL())
}

func TestCatalogScopes(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	a, _ := db.NewSession(ctx)
	b, _ := db.NewSession(ctx)
	defer b.Close()
	db.Catalog().PutGlobal(&Entry{Name: "g", Kind: "Parquet"})
	db.Catalog().Put(a.ID(), &Entry{Name: "s", Kind: "CSV"})
	_, ok := db.Catalog().Lookup(a.ID(), "s")
	require.True(t, ok)
	_, ok = db.Catalog().Lookup(b.ID(), "s")
	require.False(t, ok, "session connections are private")
	_, ok = db.Catalog().Lookup(b.ID(), "g")
	require.True(t, ok)
	require.Equal(t, []string{"g", "s"}, db.Catalog().Names(a.ID()))
	a.Close()
	_, ok = db.Catalog().Lookup(a.ID(), "s")
	require.False(t, ok, "closing a session drops its connections")
}

func TestClosedSessionLeavesNothingBehind(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	a, err := db.NewSession(ctx)
	require.NoError(t, err)
	_, err = a.Exec(ctx, "CREATE TEMP TABLE private AS SELECT 1 AS x; BEGIN TRANSACTION; CREATE TABLE uncommitted AS SELECT 1 AS y")
	require.NoError(t, err)
	require.NoError(t, a.Close())
	for i := 0; i < 3; i++ { // whichever pooled connection the next sessions get
		b, err := db.NewSession(ctx)
		require.NoError(t, err)
		var n int
		require.NoError(t, b.QueryRowContext(ctx, "SELECT count(*) FROM duckdb_tables() WHERE table_name IN ('private', 'uncommitted')").Scan(&n))
		require.Equal(t, 0, n, "a new session must not inherit temp tables or an open transaction")
		_, err = b.Exec(ctx, "BEGIN TRANSACTION")
		require.NoError(t, err, "no transaction may be left open")
		_, err = b.Exec(ctx, "ROLLBACK")
		require.NoError(t, err)
		b.Close()
	}
}
