package cli_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/cmd/cli"
	"github.com/ankaflow/ankaflow/internal/testenv"
)

// serveSetting starts `ankaflow serve` with extra flags and returns a DuckDB setting as a
// client sees it.
func serveSetting(t *testing.T, setting string, flags ...string) string {
	t.Helper()
	var v string
	require.NoError(t, serveClient(t, flags...).QueryRow(context.Background(), "SELECT current_setting('"+setting+"')").Scan(&v))
	return v
}

// serveClient starts `ankaflow serve` (trust, loopback) with extra flags until the test ends
// and returns a connected client.
func serveClient(t *testing.T, flags ...string) *pgx.Conn {
	t.Helper()
	port, err := testenv.FreePort()
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var serveErr bytes.Buffer
	go func() {
		done <- cli.Run(ctx, append([]string{"serve", "--listen", fmt.Sprintf("127.0.0.1:%d", port)}, flags...), strings.NewReader(""), io.Discard, &serveErr)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop")
		}
	})
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
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
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

// With --allow-dir, clients reach files under the allowed directories only (DuckDB refuses
// the rest), and cannot switch the restriction off.
func TestServeAllowDir(t *testing.T) {
	allowed, other := t.TempDir(), t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(allowed, "in.csv"), []byte("a\n1\n2\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(other, "secret.csv"), []byte("a\n3\n"), 0o644))
	c := serveClient(t, "--allow-dir", allowed)
	ctx := context.Background()
	var n int64
	require.NoError(t, c.QueryRow(ctx, "SELECT sum(a) FROM read_csv('"+filepath.Join(allowed, "in.csv")+"')").Scan(&n))
	require.Equal(t, int64(3), n)
	_, err := c.Exec(ctx, "COPY (SELECT 42 AS a) TO '"+filepath.Join(allowed, "out.csv")+"'")
	require.NoError(t, err)
	for _, q := range []string{
		"SELECT * FROM read_csv('" + filepath.Join(other, "secret.csv") + "')",
		"SELECT * FROM read_csv('" + allowed + "/../" + filepath.Base(other) + "/secret.csv')",
		"COPY (SELECT 1) TO '" + filepath.Join(other, "x.csv") + "'",
		"SELECT * FROM read_csv('/etc/passwd')",
	} {
		_, err := c.Exec(ctx, q)
		require.ErrorContains(t, err, "disabled by configuration", q)
	}
	_, err = c.Exec(ctx, "SET enable_external_access = true")
	require.ErrorContains(t, err, "Cannot enable external access")
	_, err = c.Exec(ctx, "SET allowed_directories = ['/']")
	require.ErrorContains(t, err, "Cannot change allowed_directories")
	// Pipeline files given to run_pipeline() are read under the same rule.
	pl := "- name: t\n  kind: internal\n  query: SELECT 1 AS one\n"
	require.NoError(t, os.WriteFile(filepath.Join(allowed, "p.yaml"), []byte(pl), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(other, "p.yaml"), []byte(pl), 0o644))
	_, err = c.Exec(ctx, "SELECT * FROM run_pipeline('"+filepath.Join(allowed, "p.yaml")+"')")
	require.NoError(t, err)
	_, err = c.Exec(ctx, "SELECT * FROM run_pipeline('"+filepath.Join(other, "p.yaml")+"')")
	var pe *pgconn.PgError
	require.ErrorAs(t, err, &pe)
	require.Contains(t, pe.Message+pe.Detail, "disabled by configuration")
	// Sessions still set their own parameters.
	_, err = c.Exec(ctx, "SET TimeZone = 'Asia/Tokyo'")
	require.NoError(t, err)
}

// `run --memory-limit` gives the run's database DuckDB's memory limit (beyond it, DuckDB keeps
// tables in its temp directory); without the flag DuckDB's default stays; a value that is not
// a size is a usage error before anything runs.
func TestRunMemoryLimit(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "p.yaml")
	require.NoError(t, os.WriteFile(p, []byte("- name: Limit\n  kind: transform\n  query: SELECT current_setting('memory_limit') AS m\n"), 0o644))
	out := filepath.Join(dir, "out.csv")
	cliRun(t, "", "run", "--memory-limit", "1GB", "-o", "csv", out, p)
	data, err := os.ReadFile(out)
	require.NoError(t, err)
	require.Equal(t, "m\n953.6 MiB\n", string(data))

	cliRun(t, "", "run", "-o", "csv", out, p)
	data, err = os.ReadFile(out)
	require.NoError(t, err)
	require.NotEqual(t, "m\n953.6 MiB\n", string(data))

	for _, bad := range []string{"lots", "10", "150%", "1e3GB"} {
		code, _, errOut := cliRunCode(t, "", "run", "--memory-limit", bad, "-o", "csv", out, p)
		require.Equal(t, 2, code, bad)
		require.Contains(t, errOut, "--memory-limit", bad)
	}
}
