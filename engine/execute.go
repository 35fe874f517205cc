package engine

import (
	"context"
	"database/sql/driver"
	"errors"
	"sync/atomic"
	"time"

	bindings "github.com/duckdb/duckdb-go-bindings"
	duckdb "github.com/duckdb/duckdb-go/v2"
)

// Polling of a running query by the thread that started it (see runPending).
const (
	pendingSpins    = 64                    // polls without a pause once no task is left
	pendingMinPause = 20 * time.Microsecond // first pause after that, doubled on each idle poll
	pendingMaxPause = time.Millisecond      // longest pause: the latency added at the end
)

// pendingPolls counts runPending's polls (tests check that a long query is not busy-waited).
var pendingPolls atomic.Int64

// runPending drives a pending result until its result is ready (or the query failed), then
// fetches it into res, like duckdb_execute_pending but without its busy wait. DuckDB's own loop
// polls the task queue without pause whenever DuckDB's worker threads hold all the query's
// tasks: during a single-threaded pipeline (an INSERT or CREATE TABLE AS fed by a table
// function, an ordered COPY) the calling thread spins on a whole core, taking it from the
// workers doing the job and from everything else on the machine. Here the calling thread still
// runs tasks while there are some, and sleeps for a short, growing pause when there are none.
// ctx is checked on every poll: once it is done, the query is interrupted (again on each poll,
// so an interrupt that DuckDB dropped because it came between two tasks is repeated).
//
// A failed query's error is DuckDB's own message (a pending result that failed while running
// tasks only says "unsuccessful pending query" when asked to execute).
func (s *Session) runPending(ctx context.Context, pending bindings.PendingResult, res *bindings.Result) error {
	idle := 0
	pause := time.Duration(0)
	for {
		pendingPolls.Add(1)
		switch bindings.PendingExecuteTask(pending) {
		case bindings.PendingStateResultReady:
			if bindings.ExecutePending(pending, res) == bindings.StateError {
				return duckError(bindings.ResultError(res), duckdb.ErrorType(bindings.ResultErrorType(res)))
			}
			return nil
		case bindings.PendingStateError:
			return duckError(bindings.PendingError(pending), duckdb.ErrorTypeInvalid)
		case bindings.PendingStateNoTasksAvailable:
			idle++
			if idle > pendingSpins {
				pause = min(max(2*pause, pendingMinPause), pendingMaxPause)
				time.Sleep(pause)
			}
		default:
			idle, pause = 0, 0
		}
		if ctx.Err() != nil {
			s.Interrupt()
		}
	}
}

// execRaw runs one or more statements without parameters on the session's connection through
// runPending, and returns the rows changed by the last one (what duckdb-go's ExecContext
// returns). It holds the database/sql connection for the whole run, as database/sql would, so
// Close waits for it.
func (s *Session) execRaw(ctx context.Context, query string) (driver.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out driver.Result
	err := s.conn.Raw(func(any) error {
		var stmts bindings.ExtractedStatements
		n := bindings.ExtractStatements(s.raw, query, &stmts)
		defer bindings.DestroyExtracted(&stmts)
		if n == 0 {
			if msg := bindings.ExtractStatementsError(stmts); msg != "" {
				return duckError(msg, duckdb.ErrorTypeInvalid)
			}
			return errors.New("empty query")
		}
		stop := s.watch(ctx)
		defer stop()
		for i := bindings.IdxT(0); i < n; i++ {
			if err := ctx.Err(); err != nil {
				return err
			}
			changed, err := s.execExtracted(ctx, stmts, i)
			if err != nil {
				return err
			}
			out = driver.RowsAffected(changed)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// execExtracted prepares and runs statement i of stmts, returning the rows it changed.
func (s *Session) execExtracted(ctx context.Context, stmts bindings.ExtractedStatements, i bindings.IdxT) (int64, error) {
	var stmt bindings.PreparedStatement
	if bindings.PrepareExtractedStatement(s.raw, stmts, i, &stmt) == bindings.StateError {
		msg := bindings.PrepareError(stmt)
		bindings.DestroyPrepare(&stmt)
		return 0, duckError(msg, duckdb.ErrorTypeInvalid)
	}
	defer bindings.DestroyPrepare(&stmt)
	var pending bindings.PendingResult
	if bindings.PendingPrepared(stmt, &pending) == bindings.StateError {
		msg := bindings.PendingError(pending)
		bindings.DestroyPending(&pending)
		return 0, duckError(msg, duckdb.ErrorTypeInvalid)
	}
	defer bindings.DestroyPending(&pending)
	var res bindings.Result
	defer bindings.DestroyResult(&res)
	if err := s.runPending(ctx, pending, &res); err != nil {
		// As duckdb-go reports a failed execution: the context's error first, when it is done.
		return 0, errors.Join(ctx.Err(), err)
	}
	return int64(bindings.RowsChanged(&res)), nil
}
