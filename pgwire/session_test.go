package pgwire

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/stretchr/testify/require"
)

// A query DuckDB needs minutes for (10^6 × 10^5 rows joined), to be cancelled.
const slowQuery = "SELECT count(*) FROM range(1000000) a, range(100000) b WHERE a.range + b.range = -1"

func (ts *testServer) waitRunning(t *testing.T, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return ts.runningStatements() >= n }, time.Minute, 5*time.Millisecond)
}

func TestCancelRequest(t *testing.T) {
	ts := startServer(t, Config{})
	ctx := context.Background()
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeCacheStatement} {
		c := ts.connect(t, mode)
		errc := make(chan error, 1)
		go func() {
			var n int64
			errc <- c.QueryRow(ctx, slowQuery).Scan(&n)
		}()
		ts.waitRunning(t, 1)
		require.NoError(t, c.PgConn().CancelRequest(ctx))
		err := <-errc
		pe := requirePGCode(t, err, "57014")
		require.Equal(t, "canceling statement due to user request", pe.Message)
		// The connection stays usable.
		var one int
		require.NoError(t, c.QueryRow(ctx, "SELECT 1").Scan(&one))
		require.Equal(t, 1, one)
	}
	// A cancel with the wrong key, or while idle, does nothing.
	c := ts.connect(t)
	rc := ts.rawConnect(t, nil)
	nc := ts.dial(t)
	fe := pgproto3.NewFrontend(nc, nc)
	fe.Send(&pgproto3.CancelRequest{ProcessID: rc.pid, SecretKey: []byte{1, 2, 3, 4}})
	require.NoError(t, fe.Flush())
	require.NoError(t, c.PgConn().CancelRequest(ctx))
	require.Equal(t, []string{"RowDescription[?column?:23:4:-1:0]", "DataRow[1]", "CommandComplete[SELECT 1]", "ReadyForQuery[I]"}, rc.query("SELECT 1"))
	var one int
	require.NoError(t, c.QueryRow(ctx, "SELECT 1").Scan(&one))
}

func TestStatementTimeout(t *testing.T) {
	ts := startServer(t, Config{})
	c := ts.connect(t)
	ctx := context.Background()
	_, err := c.Exec(ctx, "SET statement_timeout = '50ms'")
	require.NoError(t, err)
	var n int64
	err = c.QueryRow(ctx, slowQuery).Scan(&n)
	require.Equal(t, "canceling statement due to statement timeout", requirePGCode(t, err, "57014").Message)
	_, err = c.Exec(ctx, "RESET statement_timeout")
	require.NoError(t, err)
	require.NoError(t, c.QueryRow(ctx, "SELECT 1").Scan(&n))
}

func TestMaxConnections(t *testing.T) {
	ts := startServer(t, Config{MaxConns: 2})
	ctx := context.Background()
	a := ts.connect(t)
	ts.connect(t)
	_, err := tryConnect(ts, ts.url("tester", ""))
	pe := requirePGCode(t, err, "53300")
	require.Equal(t, "sorry, too many clients already", pe.Message)
	require.NoError(t, a.Close(ctx))
	require.Eventually(t, func() bool { return ts.sessions() < 2 }, time.Minute, 5*time.Millisecond)
	c, err := tryConnect(ts, ts.url("tester", ""))
	require.NoError(t, err)
	c.Close(ctx)
}

func TestSessionsShareTheDatabase(t *testing.T) {
	ts := startServer(t, Config{})
	ctx := context.Background()
	a := ts.connect(t)
	b := ts.connect(t, pgx.QueryExecModeSimpleProtocol)
	_, err := a.Exec(ctx, "CREATE TABLE shared(id INTEGER, name VARCHAR)")
	require.NoError(t, err)
	_, err = a.Exec(ctx, "INSERT INTO shared VALUES ($1, $2)", 1, "one")
	require.NoError(t, err)
	var name string
	require.NoError(t, b.QueryRow(ctx, "SELECT name FROM shared WHERE id = 1").Scan(&name))
	require.Equal(t, "one", name)
	// Uncommitted changes stay private to their session.
	tx, err := a.Begin(ctx)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, "INSERT INTO shared VALUES (2, 'two')")
	require.NoError(t, err)
	var n int
	require.NoError(t, b.QueryRow(ctx, "SELECT count(*) FROM shared").Scan(&n))
	require.Equal(t, 1, n)
	require.NoError(t, tx.Commit(ctx))
	require.NoError(t, b.QueryRow(ctx, "SELECT count(*) FROM shared").Scan(&n))
	require.Equal(t, 2, n)
	// And the database is the engine's: visible to in-process sessions too.
	s, err := ts.db.NewSession(ctx)
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, s.QueryRowContext(ctx, "SELECT count(*) FROM shared").Scan(&n))
	require.Equal(t, 2, n)
	// Temporary objects are per session.
	_, err = a.Exec(ctx, "CREATE TEMP TABLE mine AS SELECT 1 AS x")
	require.NoError(t, err)
	_, err = b.Exec(ctx, "SELECT * FROM mine")
	requirePGCode(t, err, "42P01")
}

func TestClientDisconnectStopsQuery(t *testing.T) {
	ts := startServer(t, Config{})
	// Mid-stream: the client reads a few rows of an endless result and hangs up.
	rc := ts.rawConnect(t, nil)
	rc.send(&pgproto3.Query{String: "SELECT range FROM range(1000000000000)"})
	for i := 0; i < 10; i++ {
		_, err := rc.fe.Receive()
		require.NoError(t, err)
	}
	rc.nc.Close()
	// While the query runs without output: the client sends it and hangs up.
	rc2 := ts.rawConnect(t, nil)
	rc2.send(&pgproto3.Query{String: slowQuery})
	ts.waitRunning(t, 1)
	rc2.nc.Close()
	require.Eventually(t, func() bool { return ts.sessions() == 0 }, time.Minute, 10*time.Millisecond)
	require.Eventually(t, func() bool { return strings.Count(ts.logs.String(), "msg=\"pgwire: connection closed\"") == 2 }, time.Minute, 10*time.Millisecond, ts.logs.String())
}

func TestGracefulShutdown(t *testing.T) {
	t.Run("running statements finish", func(t *testing.T) {
		ts := startServer(t, Config{ShutdownTimeout: time.Hour})
		ctx := context.Background()
		idle := ts.rawConnect(t, nil)
		c := ts.connect(t)
		errc := make(chan error, 1)
		var n int64
		go func() {
			errc <- c.QueryRow(ctx, "SELECT count(*) FROM range(20000) a, range(10000) b WHERE a.range + b.range = -1").Scan(&n)
		}()
		ts.waitRunning(t, 1)
		ts.cancel()
		// Idle sessions are told at once.
		msg, err := idle.fe.Receive()
		require.NoError(t, err)
		e, ok := msg.(*pgproto3.ErrorResponse)
		require.True(t, ok, "%T", msg)
		require.Equal(t, "57P01", e.Code)
		require.Equal(t, "FATAL", e.Severity)
		// The running statement completes normally.
		require.NoError(t, <-errc)
		require.Equal(t, int64(0), n)
		require.NoError(t, <-ts.done)
		ts.done <- nil
		// New connections are refused.
		_, err = tryConnect(ts, ts.url("tester", ""))
		require.Error(t, err)
	})
	t.Run("timeout cancels", func(t *testing.T) {
		ts := startServer(t, Config{ShutdownTimeout: 100 * time.Millisecond})
		c := ts.connect(t)
		errc := make(chan error, 1)
		go func() {
			var n int64
			errc <- c.QueryRow(context.Background(), slowQuery).Scan(&n)
		}()
		ts.waitRunning(t, 1)
		ts.cancel()
		err := <-errc
		var pe *pgconn.PgError
		if errors.As(err, &pe) {
			require.Equal(t, "57P01", pe.Code)
		} else {
			require.Error(t, err) // the socket may close before the client reads the error
		}
		require.NoError(t, <-ts.done)
		ts.done <- nil
		require.Contains(t, ts.logs.String(), "shutdown timeout reached")
	})
}

func TestReadAheadBudget(t *testing.T) {
	b := newByteBudget(100)
	require.True(t, b.acquire(60))
	require.True(t, b.acquire(40))
	got := make(chan bool)
	go func() { got <- b.acquire(10) }() // over budget: waits
	select {
	case <-got:
		t.Fatal("acquire beyond the budget did not wait")
	case <-time.After(20 * time.Millisecond):
	}
	b.release(60)
	require.True(t, <-got)
	b.release(50)
	require.True(t, b.acquire(1000)) // a message larger than the budget alone is allowed
	go func() { got <- b.acquire(1) }()
	b.close()
	require.False(t, <-got)
}

// A session leaves nothing behind for the next client: temporary tables, an open transaction
// and session settings go with it (DuckDB connections are not reused across clients).
func TestSessionEndsClean(t *testing.T) {
	ts := startServer(t, Config{MaxConns: 1})
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		a, err := tryConnect(ts, ts.url("tester", ""))
		require.NoError(t, err)
		_, err = a.Exec(ctx, "CREATE TEMP TABLE private_"+strconv.Itoa(i)+" AS SELECT 1 AS x")
		require.NoError(t, err)
		_, err = a.Exec(ctx, "SET search_path = 'temp'")
		require.NoError(t, err)
		_, err = a.Exec(ctx, "BEGIN")
		require.NoError(t, err)
		require.NoError(t, a.Close(ctx))
		require.Eventually(t, func() bool { return ts.sessions() == 0 }, time.Minute, 5*time.Millisecond)

		b, err := tryConnect(ts, ts.url("tester", ""))
		require.NoError(t, err)
		var n int
		require.NoError(t, b.QueryRow(ctx, "SELECT count(*) FROM duckdb_tables() WHERE temporary").Scan(&n))
		require.Equal(t, 0, n)
		var sp string
		require.NoError(t, b.QueryRow(ctx, "SELECT current_setting('search_path')").Scan(&sp))
		require.NotEqual(t, "temp", sp)
		_, err = b.Exec(ctx, "BEGIN") // would fail if a transaction had been left open
		require.NoError(t, err)
		_, err = b.Exec(ctx, "ROLLBACK")
		require.NoError(t, err)
		require.NoError(t, b.Close(ctx))
		require.Eventually(t, func() bool { return ts.sessions() == 0 }, time.Minute, 5*time.Millisecond)
	}
}
