package pgwire

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/engine"
)

// syncBuffer is a log sink shared by the server goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type testServer struct {
	*Server
	db     *engine.DB
	logs   *syncBuffer
	cancel context.CancelFunc
	done   chan error
}

// startServer runs a server in-process on a free loopback port. cfg.DB defaults to a fresh
// in-memory database.
func startServer(t testing.TB, cfg Config) *testServer {
	t.Helper()
	if cfg.DB == nil {
		db, err := engine.Open(context.Background(), engine.Options{})
		require.NoError(t, err)
		t.Cleanup(func() { db.Close() })
		cfg.DB = db
	}
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	logs := &syncBuffer{}
	cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := New(cfg)
	require.NoError(t, err)
	srv.authFailDelay = 50 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	ts := &testServer{Server: srv, db: cfg.DB, logs: logs, cancel: cancel, done: make(chan error, 1)}
	go func() { ts.done <- srv.Serve(ctx) }()
	select {
	case <-srv.Ready():
	case err := <-ts.done:
		t.Fatalf("server did not start: %v", err)
	}
	t.Cleanup(func() {
		ts.stop(t)
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	return ts
}

func (ts *testServer) stop(t testing.TB) {
	ts.cancel()
	<-ts.done
}

func (ts *testServer) port() int {
	return ts.Addr().(*net.TCPAddr).Port
}

func (ts *testServer) url(user, password string) string {
	if password != "" {
		return fmt.Sprintf("postgres://%s:%s@%s/ankaflow?sslmode=disable", user, password, ts.Addr())
	}
	return fmt.Sprintf("postgres://%s@%s/ankaflow?sslmode=disable", user, ts.Addr())
}

func (ts *testServer) connect(t testing.TB, mode ...pgx.QueryExecMode) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(ts.url("tester", ""))
	require.NoError(t, err)
	if len(mode) > 0 {
		cfg.DefaultQueryExecMode = mode[0]
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}
