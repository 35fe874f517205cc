package engine

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	duckdb "github.com/duckdb/duckdb-go/v2"
	"github.com/stretchr/testify/require"
)

// slowReader hands out its generator's batches with a pause before each: the scan blocks in
// Go, as a tap waiting on the network does.
type slowReader struct {
	*genReader
	pause time.Duration
}

func (r *slowReader) Next() bool {
	time.Sleep(r.pause)
	return r.genReader.Next()
}

// A CREATE TABLE AS fed by a slow parallel table function runs as one task (the insert keeps
// the rows' order), which a DuckDB worker thread holds for the whole statement; the session's
// thread must wait for it without polling DuckDB's task queue in a busy loop (DuckDB's own
// loop polls about a million times here).
func TestExecWaitsWithoutBusyLoop(t *testing.T) {
	f := newBridgeFixture(t)
	require.NoError(t, f.s.RegisterTableFunction(TableFunction{
		Name:     "slow",
		Parallel: true,
		Bind: func(ctx context.Context, _ *Session, _ []any, _ map[string]any) (array.RecordReader, error) {
			return &slowReader{genReader: newGen(ctx, 20*2048, 2048), pause: 15 * time.Millisecond}, nil
		},
	}))
	before := pendingPolls.Load()
	_, err := f.s.Exec(f.ctx, "CREATE TABLE slow_copy AS SELECT * FROM slow()")
	require.NoError(t, err)
	// ~300 ms of waiting: a busy loop polls hundreds of thousands of times, the paced loop
	// a few hundred.
	require.Less(t, pendingPolls.Load()-before, int64(5000))
	var sum int64
	require.NoError(t, f.s.QueryRowContext(f.ctx, "SELECT sum(i) FROM slow_copy").Scan(&sum))
	require.Equal(t, int64(20*2048)*(20*2048-1)/2, sum)
}

func TestExecCancelLeavesNothing(t *testing.T) {
	f := newBridgeFixture(t)
	ctx, cancel := context.WithTimeout(f.ctx, 300*time.Millisecond)
	defer cancel()
	_, err := f.s.Exec(ctx, "CREATE TABLE endless AS SELECT * FROM gen(-1)")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Eventually(t, func() bool { return f.readers[0].released.Load() }, 5*time.Second, 10*time.Millisecond)
	// The session is usable afterwards and the table was never created.
	var n int64
	require.NoError(t, f.s.QueryRowContext(f.ctx, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'endless'").Scan(&n))
	require.Equal(t, int64(0), n)
}

func TestExecStatementsAndErrors(t *testing.T) {
	f := newBridgeFixture(t)
	n, err := f.s.Exec(f.ctx, "CREATE TABLE a (i INTEGER); INSERT INTO a VALUES (1), (2), (3);")
	require.NoError(t, err)
	require.Equal(t, int64(3), n)
	n, err = f.s.Exec(f.ctx, "UPDATE a SET i = i + 1 WHERE i > 1")
	require.NoError(t, err)
	require.Equal(t, int64(2), n)

	_, err = f.s.Exec(f.ctx, "SELEC 1")
	var de *duckdb.Error
	require.True(t, errors.As(err, &de), "%T", err)
	require.Equal(t, duckdb.ErrorTypeParser, de.Type)

	_, err = f.s.Exec(f.ctx, "SELECT * FROM missing_table")
	require.True(t, errors.As(err, &de), "%T", err)
	require.Equal(t, duckdb.ErrorTypeCatalog, de.Type)

	// A failing statement stops the ones after it.
	_, err = f.s.Exec(f.ctx, "INSERT INTO a VALUES (10); SELECT 1/0::INTEGER = 'x'::INTEGER; INSERT INTO a VALUES (20)")
	require.Error(t, err)
	var sum int64
	require.NoError(t, f.s.QueryRowContext(f.ctx, "SELECT sum(i) FROM a").Scan(&sum))
	require.Equal(t, int64(1+3+4+10), sum)

	// Errors raised while the query runs keep DuckDB's (or the table function's) message.
	_, err = f.s.Exec(f.ctx, "CREATE TABLE broken AS SELECT * FROM gen(100000, fail_after := 20000)")
	require.ErrorContains(t, err, "generator broke")
	_, err = f.s.Exec(f.ctx, "CREATE TABLE broken AS SELECT CAST(s AS INTEGER) FROM (VALUES ('1'), ('x')) t(s)")
	require.True(t, errors.As(err, &de), "%T", err)
	require.Equal(t, duckdb.ErrorTypeConversion, de.Type, err.Error())
	_, err = f.s.QueryArrow(f.ctx, "SELECT count(*) FROM gen(100000, fail_after := 20000)")
	require.ErrorContains(t, err, "generator broke")

	_, err = f.s.Exec(f.ctx, "  -- nothing\n")
	require.Error(t, err)

	require.NoError(t, f.s.Close())
	_, err = f.s.Exec(f.ctx, "SELECT 1")
	require.Error(t, err)
}
