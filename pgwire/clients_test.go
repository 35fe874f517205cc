package pgwire

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/connectors"
	"github.com/ankaflow/ankaflow/engine"
	"github.com/ankaflow/ankaflow/internal/testenv"
	"github.com/ankaflow/ankaflow/internal/testpg"
	"github.com/ankaflow/ankaflow/sqlfuncs"
)

// Real client libraries (psycopg2, pgjdbc, node-postgres) run a script under
// testdata/clients/<client>/ twice: against this server and against a throwaway PostgreSQL 15,
// both with SCRAM passwords. The script prints one line per check ("name: value"); every line
// must be the same from both servers, so the expected output is what PostgreSQL itself gives
// the client, not something written down by hand. Lines starting with "ankaflow " are printed
// only against ankaflow (ANKA_TARGET=ankaflow: its connection functions) and are compared with
// testdata/clients/<client>/ankaflow.expected.

const (
	clientUser     = "tester"
	clientPassword = "s3cret pw"
)

// clientTarget is one server a client script connects to.
type clientTarget struct {
	name string // "ankaflow" or "postgres"
	host string
	port int
}

func (ct clientTarget) env() []string {
	env := []string{
		"ANKA_TARGET=" + ct.name,
		"ANKA_HOST=" + ct.host,
		"ANKA_PORT=" + strconv.Itoa(ct.port),
		"ANKA_USER=" + clientUser,
		"ANKA_PASSWORD=" + clientPassword,
		"ANKA_DATABASE=postgres",
	}
	// The clients must see only what the script passes them (no PGHOST etc. from the caller).
	return append(cleanPGEnv(), env...)
}

// clientTargets starts this server (with a SCRAM user and a CSV connection named Orders, for
// the ankaflow-only checks) and a reference PostgreSQL.
func clientTargets(t *testing.T) []clientTarget {
	t.Helper()
	ctx := context.Background()
	db, err := engine.Open(ctx, engine.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	csv := filepath.Join(t.TempDir(), "orders.csv")
	require.NoError(t, os.WriteFile(csv, []byte("id,customer,amount\n1,ada,12.5\n2,bob,7.25\n3,cy,100\n"), 0o600))
	c, err := connectors.New(ctx, connectors.Definition{Stage: "Orders", Kind: "CSV", Locator: csv}, &connectors.Env{DB: db})
	require.NoError(t, err)
	sqlfuncs.RegisterGlobal(db, c)

	users := filepath.Join(t.TempDir(), "users")
	_, err = AddUserRole(users, clientUser, clientPassword, RoleAdmin) // protocol conformance, not permissions
	require.NoError(t, err)
	ts := startServer(t, Config{DB: db, UsersFile: users})
	pg := testpg.Start(t, testpg.Options{User: clientUser, Password: clientPassword})
	return []clientTarget{
		{name: "ankaflow", host: "127.0.0.1", port: ts.port()},
		{name: "postgres", host: pg.Host, port: pg.Port},
	}
}

// runClient runs a client script against target and returns its output lines.
func runClient(t *testing.T, target clientTarget, dir string, prog string, args ...string) []string {
	t.Helper()
	cmd := exec.Command(prog, args...)
	cmd.Dir = dir
	cmd.Env = target.env()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s against %s: %v\nstdout:\n%s\nstderr:\n%s", filepath.Base(prog), target.name, err, stdout.String(), stderr.String())
	}
	out := strings.TrimRight(stdout.String(), "\n")
	require.NotEmpty(t, out, "%s printed nothing against %s", prog, target.name)
	return strings.Split(out, "\n")
}

// checkClientOutput compares what the client saw from ankaflow with what it saw from
// PostgreSQL, and ankaflow's own lines with the expected file.
func checkClientOutput(t *testing.T, dir string, ours, reference []string) {
	t.Helper()
	var portable, own []string
	for _, line := range ours {
		if strings.HasPrefix(line, "ankaflow ") {
			own = append(own, line)
		} else {
			portable = append(portable, line)
		}
	}
	for _, line := range reference {
		require.False(t, strings.HasPrefix(line, "ankaflow "), "ankaflow-only line printed against PostgreSQL: %s", line)
	}
	require.Equal(t, strings.Join(reference, "\n"), strings.Join(portable, "\n"),
		"the client must see from ankaflow exactly what it sees from PostgreSQL")
	require.Greater(t, len(portable), 10, "the script checks too little")

	path := filepath.Join(dir, "ankaflow.expected")
	expected, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("%v; the client printed:\n%s", err, strings.Join(own, "\n"))
		return
	}
	require.Equal(t, strings.TrimRight(string(expected), "\n"), strings.Join(own, "\n"), "compared with %s", path)
}

// clientDir is the absolute path of testdata/clients/<client>.
func clientDir(t *testing.T, client string) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("testdata", "clients", client))
	require.NoError(t, err)
	return dir
}

// testClient runs one client script (in dir) against both servers and compares.
func testClient(t *testing.T, dir string, prog string, args ...string) {
	t.Helper()
	targets := clientTargets(t)
	var outputs [][]string
	for _, target := range targets {
		outputs = append(outputs, runClient(t, target, dir, prog, args...))
	}
	checkClientOutput(t, dir, outputs[0], outputs[1])
}

// needProgram finds a client runtime; missing ones skip locally and fail under CI=true.
func needProgram(t *testing.T, name string, candidates ...string) string {
	t.Helper()
	for _, c := range candidates {
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	testenv.Missing(t, fmt.Sprintf("%s not found (tried %s)", name, strings.Join(candidates, ", ")))
	return ""
}

func TestPsycopg2Client(t *testing.T) {
	// Debian's python3-psycopg2 installs for the system interpreter, which may not be the
	// first python3 on PATH.
	python := needProgram(t, "python3 with psycopg2", "/usr/bin/python3")
	if out, err := exec.Command(python, "-c", "import psycopg2").CombinedOutput(); err != nil {
		testenv.Missing(t, fmt.Sprintf("psycopg2 is not importable by %s (Debian package python3-psycopg2): %s", python, out))
	}
	testClient(t, clientDir(t, "psycopg2"), python, "client.py")
}

func TestSQLAlchemyClient(t *testing.T) {
	python := needProgram(t, "python3 with SQLAlchemy", "/usr/bin/python3")
	if out, err := exec.Command(python, "-c", "import sqlalchemy, pandas, psycopg2").CombinedOutput(); err != nil {
		testenv.Missing(t, fmt.Sprintf("SQLAlchemy, pandas or psycopg2 is not importable by %s (Debian packages python3-sqlalchemy, python3-pandas, python3-psycopg2): %s", python, out))
	}
	testClient(t, clientDir(t, "sqlalchemy"), python, "client.py")
}
