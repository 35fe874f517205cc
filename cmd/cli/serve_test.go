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
	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/cmd/cli"

	"github.com/ankaflow/ankaflow/internal/testenv"
)

// TestServeCommand starts `ankaflow serve` with a pipeline and a users file, then drives it with
// pgx: SCRAM login, the pipeline's connections from SQL, Fn macros, a table visible across
// clients, and a clean stop when the context ends (as on SIGTERM).
func TestServeCommand(t *testing.T) {
	root := t.TempDir()
	p := filepath.Join(root, "p.yaml")
	require.NoError(t, os.WriteFile(p, []byte(storePipeline), 0o644))
	users := filepath.Join(root, "users")
	cliRun(t, "s3cret pass\n", "adduser", "--users", users, "--role", "admin", "analyst") // runs pipeline files: an admin

	// Seed the store the pipeline's connections point at.
	cliRun(t, "", "run", p, "-v", "n=4", "-c", "root="+root)

	port, err := testenv.FreePort()
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var serveErr bytes.Buffer
	go func() {
		done <- cli.Run(ctx, []string{"serve", "--listen", fmt.Sprintf("127.0.0.1:%d", port),
			"--pipeline", p, "-c", "root=" + root, "-v", "n=4", "--users", users}, strings.NewReader(""), io.Discard, &serveErr)
	}()
	dsn := func(pw string) string {
		return fmt.Sprintf("postgres://analyst:%s@127.0.0.1:%d/ankaflow?sslmode=disable", pw, port)
	}
	var conn *pgx.Conn
	require.Eventually(t, func() bool {
		c, err := pgx.Connect(context.Background(), dsn("s3cret%20pass"))
		if err != nil {
			return false
		}
		conn = c
		return true
	}, 20*time.Second, 50*time.Millisecond)
	defer conn.Close(context.Background())

	var n, top int64
	require.NoError(t, conn.QueryRow(context.Background(), "SELECT count(*), max(id) FROM tap('Back')").Scan(&n, &top))
	require.Equal(t, int64(4), n)
	require.Equal(t, int64(3), top)
	var three int64
	require.NoError(t, conn.QueryRow(context.Background(), "SELECT Fn.add(1, 2)").Scan(&three))
	require.Equal(t, int64(3), three)
	_, err = conn.Exec(context.Background(), "CREATE TABLE shared AS SELECT * FROM tap('Back')")
	require.NoError(t, err)

	other, err := pgx.Connect(context.Background(), dsn("s3cret%20pass"))
	require.NoError(t, err)
	require.NoError(t, other.QueryRow(context.Background(), "SELECT count(*) FROM shared").Scan(&n))
	require.Equal(t, int64(4), n)
	other.Close(context.Background())

	_, err = pgx.Connect(context.Background(), dsn("wrong"))
	require.ErrorContains(t, err, "28P01")

	// One Query, and one extended-protocol batch, that run a pipeline and then read the table it
	// made: the reads must see what run_pipeline's own session committed meanwhile.
	runAndRead := "SELECT rows FROM run_pipeline('" + p + "', variables := {'n': '6'}, context := {'root': '" + root + "'}) WHERE name = 'Back'"
	// (The first statement reads the database before the pipeline runs.)
	results, err := conn.PgConn().Exec(context.Background(), `SELECT count(*) FROM shared; `+runAndRead+`; SELECT count(*) FROM "Back"`).ReadAll()
	require.NoError(t, err)
	require.Len(t, results, 3)
	require.Equal(t, string(results[1].Rows[0][0]), string(results[2].Rows[0][0]))
	require.NotEqual(t, "0", string(results[2].Rows[0][0]))
	batch := &pgx.Batch{}
	var made, seen int64
	batch.Queue("SELECT count(*) FROM shared")
	batch.Queue(runAndRead).QueryRow(func(row pgx.Row) error { return row.Scan(&made) })
	batch.Queue(`SELECT count(*) FROM "Back"`).QueryRow(func(row pgx.Row) error { return row.Scan(&seen) })
	require.NoError(t, conn.SendBatch(context.Background(), batch).Close())
	require.Equal(t, made, seen)
	require.NotZero(t, seen)

	cancel()
	select {
	case code := <-done:
		require.Equal(t, 0, code, serveErr.String())
		require.Contains(t, serveErr.String(), "connection registered")
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop after its context ended")
	}
}
