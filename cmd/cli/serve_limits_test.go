package cli_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/cmd/cli"
	"github.com/ankaflow/ankaflow/internal/testenv"
)

// serveSetting starts `ankaflow serve` with extra flags and returns a DuckDB setting as a
// client sees it.
func serveSetting(t *testing.T, setting string, flags ...string) string {
	t.Helper()
	port, err := testenv.FreePort()
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var serveErr bytes.Buffer
	go func() {
		done <- cli.Run(ctx, append([]string{"serve", "--listen", fmt.Sprintf("127.0.0.1:%d", port)}, flags...), strings.NewReader(""), io.Discard, &serveErr)
	}()
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop")
		}
	}()
	var conn *pgx.Conn
	require.Eventually(t, func() bool {
		select {
		case <-done:
			t.Fatalf("serve ended: %s", serveErr.String())
		default:
		}
		c, err := pgx.Connect(context.Background(), fmt.Sprintf("postgres://dev@127.0.0.1:%d/ankaflow?sslmode=disable", port))
		conn = c
		return err == nil
	}, 20*time.Second, 50*time.Millisecond)
	defer conn.Close(context.Background())
	var v string
	require.NoError(t, conn.QueryRow(context.Background(), "SELECT current_setting('"+setting+"')").Scan(&v))
	return v
}

// `serve` gives DuckDB a memory limit: the one asked for, else half the machine's memory
// (DuckDB's own default, 80%, is meant for a single user's process).
func TestServeMemoryLimit(t *testing.T) {
	require.Equal(t, "953.6 MiB", serveSetting(t, "memory_limit", "--memory-limit", "1GB"))
	half := serveSetting(t, "memory_limit")
	quarter := serveSetting(t, "memory_limit", "--memory-limit", "25%")
	require.InDelta(t, 2.0, mebibytes(t, half)/mebibytes(t, quarter), 0.05, "default %s, 25%% %s", half, quarter)

	require.Equal(t, 2, cli.Run(context.Background(), []string{"serve", "--memory-limit", "150%"}, strings.NewReader(""), io.Discard, io.Discard))
	require.Equal(t, 2, cli.Run(context.Background(), []string{"serve", "--auth-timeout", "soon"}, strings.NewReader(""), io.Discard, io.Discard))
}

// mebibytes reads DuckDB's display of a memory size (953.6 MiB, 11.7 GiB).
func mebibytes(t *testing.T, s string) float64 {
	var v float64
	var unit string
	_, err := fmt.Sscanf(s, "%f %s", &v, &unit)
	require.NoError(t, err, s)
	switch unit {
	case "KiB":
		return v / 1024
	case "MiB":
		return v
	case "GiB":
		return v * 1024
	case "TiB":
		return v * 1024 * 1024
	}
	t.Fatalf("unexpected memory size %q", s)
	return 0
}
