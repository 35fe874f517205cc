package pgwire

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/internal/testpg"
)

type psqlResult struct {
	stdout, stderr string
	code           int
}

// psql runs the real psql against the server (skipped locally without psql, failing under
// CI=true).
func (ts *testServer) psql(t *testing.T, env []string, args ...string) psqlResult {
	t.Helper()
	return runPsqlEnv(t, ts.port(), "ankaflow", env, args...)
}

func TestPsql(t *testing.T) {
	ts := startServer(t, Config{})
	// Several statements in one -c: psql 15 prints every result.
	r := ts.psql(t, nil, "-At", "-c", "SELECT 1 AS a; SELECT 'x' AS b, NULL AS c", "-c", "SELECT * FROM range(3)")
	require.Equal(t, 0, r.code, r.stderr)
	require.Equal(t, "1\nx|\n0\n1\n2\n", r.stdout)

	// Errors: message, LINE and caret from the Position field, exit status.
	r = ts.psql(t, nil, "-v", "ON_ERROR_STOP=1", "-c", "SELECT 1,\n  nope FROM range(1)")
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, `ERROR:  Referenced column "nope" not found in FROM clause!`)
	require.Contains(t, r.stderr, "LINE 2:   nope FROM range(1)\n          ^")

	// A script: command tags as psql prints them, and transactions.
	script := filepath.Join(t.TempDir(), "s.sql")
	require.NoError(t, os.WriteFile(script, []byte(`BEGIN;
CREATE TABLE p(id INTEGER, name VARCHAR);
INSERT INTO p VALUES (1, 'a'), (2, 'b');
UPDATE p SET name = 'z' WHERE id = 2;
COMMIT;
SELECT name FROM p ORDER BY id;
BEGIN;
SELEC 1;
SELECT 1;
ROLLBACK;
`), 0o600))
	r = ts.psql(t, nil, "-f", script)
	require.Equal(t, 0, r.code, r.stderr)
	require.Equal(t, "BEGIN\nCREATE TABLE\nINSERT 0 2\nUPDATE 1\nCOMMIT\n name \n------\n a\n z\n(2 rows)\n\nBEGIN\nROLLBACK\n", r.stdout)
	require.Contains(t, r.stderr, "ERROR:  current transaction is aborted, commands ignored until end of transaction block")

	// libpq environment: PGOPTIONS, PGTZ, PGAPPNAME and PGDATESTYLE become startup parameters.
	r = ts.psql(t, []string{"PGOPTIONS=-c statement_timeout=5000", "PGTZ=Asia/Tokyo", "PGAPPNAME=myapp", "PGDATESTYLE=ISO"},
		"-At", "-c", "SHOW statement_timeout", "-c", "SHOW timezone", "-c", "SHOW application_name", "-c", "SELECT TIMESTAMPTZ '2024-01-01 00:00:00+00'")
	require.Equal(t, 0, r.code, r.stderr)
	require.Equal(t, "5s\nAsia/Tokyo\nmyapp\n2024-01-01 09:00:00+09\n", r.stdout)
}

func TestPsqlPasswordAuth(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users")
	require.NoError(t, AddUser(path, "alice", "pw"))
	ts := startServer(t, Config{UsersFile: path})
	r := ts.psql(t, []string{"PGUSER=alice", "PGPASSWORD=pw"}, "-At", "-c", "SELECT current_setting('TimeZone') IS NOT NULL")
	require.Equal(t, 0, r.code, r.stderr)
	require.Equal(t, "t\n", r.stdout)
	r = ts.psql(t, []string{"PGUSER=alice", "PGPASSWORD=bad"}, "-At", "-c", "SELECT 1")
	require.Equal(t, 2, r.code)
	require.Contains(t, r.stderr, `password authentication failed for user "alice"`)
}

// SIGINT in psql sends a CancelRequest; the statement fails with 57014.
func TestPsqlCancel(t *testing.T) {
	ts := startServer(t, Config{})
	bin := testpg.NeedBinary(t, "psql")
	cmd := exec.Command(bin, "-X", "-h", "127.0.0.1", "-p", strconv.Itoa(ts.port()), "-U", "tester", "-c", slowQuery)
	cmd.Env = cleanPGEnv()
	var errb bytes.Buffer
	cmd.Stderr = &errb
	require.NoError(t, cmd.Start())
	ts.waitRunning(t, 1)
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	err := cmd.Wait()
	require.Error(t, err)
	require.Contains(t, errb.String(), "canceling statement due to user request")
	require.True(t, strings.Contains(errb.String(), "Cancel request sent"), errb.String())
}

// cleanPGEnv is the environment without libpq's PG* variables, so the caller's settings do not
// leak into tests.
func cleanPGEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") {
			env = append(env, kv)
		}
	}
	return env
}
