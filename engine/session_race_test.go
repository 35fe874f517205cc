package engine

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// A statement's context may be cancelled while its session is closing or already closed (a
// pipeline's child session closed before the table scan that streams from it releases its
// reader; a wire client that disconnects as its query ends). Interrupt must then be a no-op:
// duckdb_interrupt on a disconnected connection aborts the whole process with SIGABRT.
func TestInterruptAfterCloseIsHarmless(t *testing.T) {
	db := openTest(t)
	for i := 0; i < 200; i++ {
		s, err := db.NewSession(context.Background())
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(context.Background())
		rows, err := s.QueryArrow(ctx, "SELECT * FROM range(100000)")
		require.NoError(t, err)
		require.True(t, rows.Next())
		require.NoError(t, s.Close())
		cancel() // the statement's watcher wakes up after the connection is gone
		s.Interrupt()
		rows.Close()
	}
}

// Cancel, interrupt and close race each other thousands of times; run with -race.
func TestInterruptCloseStress(t *testing.T) {
	db := openTest(t)
	n := 3000
	if testing.Short() {
		n = 300
	}
	for i := 0; i < n; i++ {
		s, err := db.NewSession(context.Background())
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(context.Background())
		rows, err := s.QueryArrow(ctx, "SELECT * FROM range(10000)")
		require.NoError(t, err)
		var wg sync.WaitGroup
		wg.Add(3)
		go func() { defer wg.Done(); cancel() }()
		go func() { defer wg.Done(); s.Interrupt() }()
		go func() { defer wg.Done(); _ = s.Close() }()
		wg.Wait()
		rows.Close()
	}
}
