package cli_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/cmd/cli"
	"github.com/ankaflow/ankaflow/internal/testenv"
	"github.com/ankaflow/ankaflow/pgwire"
)

// lockedBuffer collects the server's log while it runs.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// rolesServer starts `ankaflow serve` with a users file holding an admin ("root"), a user made
// by a plain `adduser` ("bob") and a line written before roles existed ("old"), all with the
// password "pw". It returns the port and the server's log.
func rolesServer(t testing.TB, root string, flags ...string) (int, *lockedBuffer) {
	t.Helper()
	users := filepath.Join(root, "users")
	_, err := pgwire.AddUserRole(users, "root", "pw", pgwire.RoleAdmin)
	require.NoError(t, err)
	require.NoError(t, pgwire.AddUser(users, "bob", "pw"))
	verifier, err := pgwire.HashPassword("pw")
	require.NoError(t, err)
	f, err := os.OpenFile(users, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	fmt.Fprintf(f, "\"old\" \"%s\"\n", verifier)
	require.NoError(t, f.Close())

	port, err := testenv.FreePort()
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	log := &lockedBuffer{}
	go func() {
		done <- cli.Run(ctx, append([]string{"serve", "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--users", users}, flags...),
			strings.NewReader(""), io.Discard, log)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop")
		}
	})
	require.Eventually(t, func() bool {
		select {
		case <-done:
			t.Fatalf("serve ended: %s", log.String())
		default:
		}
		c, err := pgx.Connect(context.Background(), rolesDSN(port, "root"))
		if err == nil {
			c.Close(context.Background())
		}
		return err == nil
	}, 20*time.Second, 50*time.Millisecond)
	return port, log
}

func rolesDSN(port int, user string) string {
	return fmt.Sprintf("postgres://%s:pw@127.0.0.1:%d/ankaflow?sslmode=disable", user, port)
}

func connectAs(t testing.TB, port int, user string) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(context.Background(), rolesDSN(port, user))
	require.NoError(t, err)
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func requireDenied(t *testing.T, err error, what string) {
	t.Helper()
	var pe *pgconn.PgError
	require.True(t, errors.As(err, &pe), "%s: expected a permission error, got %v", what, err)
	require.Equal(t, "42501", pe.Code, "%s: %s", what, pe.Message)
	require.Contains(t, pe.Message, "permission denied for role user", what)
}

// `adduser` makes a user unless --role admin says otherwise, and keeps the role on a
// password change.
func TestAddUserRoles(t *testing.T) {
	users := filepath.Join(t.TempDir(), "users")
	_, errOut := cliRun(t, "pw\n", "adduser", "--users", users, "bob")
	require.Contains(t, errOut, "role user")
	cliRun(t, "pw\n", "adduser", "--users", users, "--role", "admin", "ann")
	cliRun(t, "pw2\n", "adduser", "--users", users, "ann") // new password, role kept
	data, err := os.ReadFile(users)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	require.Len(t, lines, 2)
	require.True(t, strings.HasPrefix(lines[0], `"bob" "SCRAM-SHA-256$`) && strings.HasSuffix(lines[0], `" "user"`), lines[0])
	require.True(t, strings.HasPrefix(lines[1], `"ann" "SCRAM-SHA-256$`) && strings.HasSuffix(lines[1], `" "admin"`), lines[1])
	code, _, errOut := cliRunCode(t, "pw\n", "adduser", "--users", users, "--role", "root", "x")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, `unknown role "root"`)
}

// A `user` cannot reach the server account's files or change the database's configuration,
// whichever way the SQL is dressed; it can still do data work. An admin can do it all. A
// users-file line without a role is a user, and the server says so in its log.
func TestServeRoles(t *testing.T) {
	root := t.TempDir()
	p := filepath.Join(root, "p.yaml")
	require.NoError(t, os.WriteFile(p, []byte(storePipeline), 0o644))
	cliRun(t, "", "run", p, "-v", "n=4", "-c", "root="+root) // seeds the store tap('Back') reads
	secretFile := filepath.Join(root, "secret.csv")
	require.NoError(t, os.WriteFile(secretFile, []byte("hunter2_password,x\n1,2\n"), 0o600))
	csvFile := filepath.Join(root, "in.csv")
	require.NoError(t, os.WriteFile(csvFile, []byte("a\n1\n2\n"), 0o644))
	port, log := rolesServer(t, root, "--pipeline", p, "-c", "root="+root, "-v", "n=4")
	require.Contains(t, log.String(), "users without a role in the users file get role user")
	require.Contains(t, log.String(), "users=old")
	ctx := context.Background()

	admin := connectAs(t, port, "root")
	_, err := admin.Exec(ctx, "CREATE TABLE items AS SELECT range AS id FROM range(5)")
	require.NoError(t, err)
	_, err = admin.Exec(ctx, "CREATE VIEW secret_view AS SELECT * FROM read_csv('"+secretFile+"')")
	require.NoError(t, err)
	_, err = admin.Exec(ctx, "CREATE VIEW passwd AS SELECT * FROM read_csv('/etc/passwd', header = false)")
	require.NoError(t, err)

	for _, name := range []string{"bob", "old"} {
		user := connectAs(t, port, name)
		_, err := user.Exec(ctx, "CREATE OR REPLACE MACRO readall(f) AS TABLE SELECT * FROM read_text(f)")
		require.NoError(t, err)
		out := filepath.Join(root, name+"-out.csv")
		for _, q := range []string{
			"SELECT * FROM read_csv('/etc/passwd')",
			"SELECT * FROM '" + csvFile + "'", // a replacement scan
			"SELECT * FROM readall('/etc/passwd')",
			"SELECT * FROM passwd",
			"SELECT * FROM (SELECT 1) x, (SELECT count(*) FROM read_text('/etc/passwd')) y",
			"WITH f AS (SELECT * FROM read_blob('/etc/passwd')) SELECT * FROM f",
			"SELECT * FROM glob('/etc/*')",
			"DESCRIBE SELECT * FROM read_csv('/etc/passwd')",
			"EXPLAIN SELECT * FROM read_csv('/etc/passwd')",
			"CREATE VIEW mine AS SELECT * FROM read_csv('/etc/passwd')",
			"CREATE TABLE stolen AS SELECT * FROM read_text('/etc/passwd')",
			"INSERT INTO items SELECT length(content) FROM read_text('/etc/passwd')",
			"SET VARIABLE v = (SELECT content FROM read_text('/etc/passwd'))",
			"COPY (SELECT 1 AS a) TO '" + out + "'",
			"COPY items TO '" + out + "' (FORMAT parquet)",
			"COPY items FROM '" + csvFile + "'",
			"ATTACH '" + filepath.Join(root, name+".db") + "'",
			"DETACH memory",
			"INSTALL json",
			"LOAD json",
			"SET enable_external_access = false",
			"SET threads = 1",
			"SET GLOBAL enable_progress_bar = true",
			"RESET threads",
			"SET profiling_output = '" + out + "'",
			"CREATE SECRET s (TYPE s3, KEY_ID 'k', SECRET 'v')",
			"CREATE PERSISTENT SECRET s (TYPE s3, KEY_ID 'k', SECRET 'v')",
			"EXPORT DATABASE '" + filepath.Join(root, "export") + "'",
			"IMPORT DATABASE '" + root + "'",
			"PRAGMA enable_profiling",
			"CALL pragma_version()",
			"CHECKPOINT",
			"PREPARE reader AS SELECT * FROM read_text('/etc/passwd')",
			"SELECT * FROM run_pipeline('" + p + "', variables := {'n': '6'}, context := {'root': '" + root + "'})",
			"SELECT * FROM load_pipeline('" + p + "')",
			"SELECT * FROM parquet_metadata('/etc/passwd')",
			"CALL ankaflow_sink_begin('" + csvFile + "')",
			"CALL ankaflow_sink_commit('" + csvFile + "')",
		} {
			_, err := user.Exec(ctx, q)
			var pe *pgconn.PgError
			if !errors.As(err, &pe) || pe.Code != "42501" || !strings.Contains(pe.Message, "permission denied for role user") {
				t.Errorf("%s: %s: expected a permission error, got %v", name, q, err)
			}
		}
		_, statErr := os.Stat(out)
		require.True(t, os.IsNotExist(statErr), "COPY wrote %s", out)
		// DuckDB's suggestions in a bind error would complete a guess from the file's header.
		for _, q := range []string{
			"SELECT hunter FROM read_csv('" + secretFile + "')",
			"SELECT hunter FROM '" + secretFile + "'",
			"SELECT hunter FROM secret_view",
		} {
			_, err := user.Exec(ctx, q)
			var pe *pgconn.PgError
			require.ErrorAs(t, err, &pe, q)
			require.Equal(t, "42703", pe.Code, q)
			require.NotContains(t, pe.Message+pe.Detail+pe.Hint, "hunter2_password", q)
		}
		// Parameters are checked with their values (extended protocol).
		_, err = user.Exec(ctx, "SELECT * FROM read_text($1)", "/etc/passwd")
		requireDenied(t, err, "read_text($1)")
		// COPY … TO STDOUT runs its query through the same gate.
		_, err = user.PgConn().CopyTo(ctx, io.Discard, "COPY (SELECT * FROM read_text('/etc/passwd')) TO STDOUT")
		requireDenied(t, err, "COPY read_text TO STDOUT")
		// The session is still usable after each refusal.
		var n int64
		require.NoError(t, user.QueryRow(ctx, "SELECT sum(id) FROM items").Scan(&n))
		require.Equal(t, int64(10), n)
	}

	// A statement prepared while harmless is checked again when it runs after the catalog
	// changed: a macro the user replaces, a view an admin replaces (pgx reuses its prepared
	// statement for the same SQL).
	bob := connectAs(t, port, "bob")
	_, err = bob.Exec(ctx, "CREATE OR REPLACE MACRO later() AS TABLE SELECT 'nothing' AS content")
	require.NoError(t, err)
	_, err = admin.Exec(ctx, "CREATE OR REPLACE VIEW shared_view AS SELECT 'nothing' AS content")
	require.NoError(t, err)
	for _, q := range []string{"SELECT content FROM later() WHERE content <> $1", "SELECT content FROM shared_view WHERE content <> $1"} {
		var got []string
		rows, err := bob.Query(ctx, q, "x")
		require.NoError(t, err)
		for rows.Next() {
			var v string
			require.NoError(t, rows.Scan(&v))
			got = append(got, v)
		}
		require.NoError(t, rows.Err())
		require.Equal(t, []string{"nothing"}, got)
	}
	_, err = bob.Exec(ctx, "CREATE OR REPLACE MACRO later() AS TABLE SELECT content FROM read_text('/etc/passwd')")
	require.NoError(t, err)
	_, err = admin.Exec(ctx, "CREATE OR REPLACE VIEW shared_view AS SELECT content FROM read_text('/etc/passwd')")
	require.NoError(t, err)
	for _, q := range []string{"SELECT content FROM later() WHERE content <> $1", "SELECT content FROM shared_view WHERE content <> $1"} {
		rows, err := bob.Query(ctx, q, "x")
		if err == nil {
			for rows.Next() {
				t.Errorf("%s: read a row after the catalog changed", q)
			}
			err = rows.Err()
		}
		requireDenied(t, err, "re-run of "+q)
	}

	// Startup parameters pass the same check: a global setting is ignored with a warning.
	var threads, userThreads string
	require.NoError(t, admin.QueryRow(ctx, "SELECT current_setting('threads')::VARCHAR").Scan(&threads))
	cfg, err := pgx.ParseConfig(rolesDSN(port, "bob"))
	require.NoError(t, err)
	cfg.RuntimeParams["threads"] = "1"
	withParam, err := pgx.ConnectConfig(ctx, cfg)
	require.NoError(t, err)
	require.NoError(t, withParam.QueryRow(ctx, "SELECT current_setting('threads')::VARCHAR").Scan(&userThreads))
	withParam.Close(ctx)
	require.Equal(t, threads, userThreads)
	require.NotEqual(t, "1", threads)

	// What a user may do.
	user := connectAs(t, port, "bob")
	var n, top int64
	require.NoError(t, user.QueryRow(ctx, "SELECT count(*), max(id) FROM tap('Back')").Scan(&n, &top))
	require.Equal(t, []int64{4, 3}, []int64{n, top})
	require.NoError(t, user.QueryRow(ctx, "SELECT count(*), max(id) FROM tap('Back')").Scan(&n, &top)) // again: a cached statement
	require.Equal(t, []int64{4, 3}, []int64{n, top})
	_, err = user.Exec(ctx, "CREATE TABLE mine AS SELECT range AS x FROM range(3)")
	require.NoError(t, err)
	_, err = user.Exec(ctx, "INSERT INTO mine VALUES ($1)", 10)
	require.NoError(t, err)
	_, err = user.Exec(ctx, "UPDATE mine SET x = x + 1 WHERE x = $1", 0)
	require.NoError(t, err)
	require.NoError(t, user.QueryRow(ctx, "SELECT sum(x) FROM mine WHERE x < $1", 100).Scan(&n))
	require.Equal(t, int64(14), n)
	_, err = user.Exec(ctx, "CREATE VIEW big AS SELECT x FROM mine WHERE x > 1")
	require.NoError(t, err)
	require.NoError(t, user.QueryRow(ctx, "SELECT sum(x) FROM big").Scan(&n))
	require.Equal(t, int64(12), n)
	require.NoError(t, user.QueryRow(ctx, "SELECT sum(x) FROM (DESCRIBE items) d, (SELECT 1 AS x) o").Scan(&n))
	_, err = user.Exec(ctx, "SET enable_progress_bar = false") // a LOCAL setting
	require.NoError(t, err)
	var s string
	require.NoError(t, user.QueryRow(ctx, "SELECT current_setting('enable_progress_bar')::VARCHAR").Scan(&s))
	require.Equal(t, "false", s)
	_, err = user.Exec(ctx, "SET search_path = main")
	require.NoError(t, err)
	var buf bytes.Buffer
	_, err = user.PgConn().CopyTo(ctx, &buf, "COPY (SELECT x FROM mine ORDER BY x) TO STDOUT")
	require.NoError(t, err)
	require.Equal(t, "1\n1\n2\n10\n", buf.String())
	rows, err := user.Query(ctx, "EXPLAIN SELECT * FROM items")
	require.NoError(t, err)
	rows.Close()
	require.NoError(t, rows.Err())
	_, err = user.Exec(ctx, "BEGIN; INSERT INTO mine VALUES (100); ROLLBACK")
	require.NoError(t, err)
	_, err = user.Exec(ctx, "DROP VIEW big")
	require.NoError(t, err)
	// COPY … TO a connection the operator configured.
	_, err = user.Exec(ctx, "COPY (SELECT 7 AS id, 'seven' AS name) TO 'Warehouse' (FORMAT ankaflow)")
	require.NoError(t, err)
	require.NoError(t, user.QueryRow(ctx, "SELECT max(id) FROM tap('Back')").Scan(&top))
	require.Equal(t, int64(7), top)
	_, err = user.Exec(ctx, "PREPARE total AS SELECT sum(x) FROM mine WHERE x > $1")
	require.NoError(t, err)
	require.NoError(t, user.QueryRow(ctx, "EXECUTE total(1)").Scan(&n))
	require.Equal(t, int64(12), n)

	// An admin does all of it.
	require.NoError(t, admin.QueryRow(ctx, "SELECT sum(a) FROM read_csv('"+csvFile+"')").Scan(&n))
	require.Equal(t, int64(3), n)
	_, err = admin.Exec(ctx, "COPY (SELECT 42 AS a) TO '"+filepath.Join(root, "admin.csv")+"'")
	require.NoError(t, err)
	_, err = admin.Exec(ctx, "ATTACH '"+filepath.Join(root, "admin.db")+"' AS extra")
	require.NoError(t, err)
	_, err = admin.Exec(ctx, "DETACH extra")
	require.NoError(t, err)
	require.NoError(t, admin.QueryRow(ctx, "SELECT count(*) FROM passwd").Scan(&n))
	require.Greater(t, n, int64(0))
	_, err = admin.Exec(ctx, "SELECT * FROM run_pipeline('"+p+"', variables := {'n': '6'}, context := {'root': '"+root+"'})")
	require.NoError(t, err)
}

// With `serve --allow-dir`, DuckDB confines files for the whole database, so a user may read
// and write files there (and run pipelines from there), and still nowhere else; the rest of
// the gate stays.
func TestServeRolesAllowDir(t *testing.T) {
	root, allowed := t.TempDir(), t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(allowed, "in.csv"), []byte("a\n1\n2\n"), 0o644))
	pl := "- name: t\n  kind: internal\n  query: SELECT 1 AS one\n"
	require.NoError(t, os.WriteFile(filepath.Join(allowed, "p.yaml"), []byte(pl), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(root, "p.yaml"), []byte(pl), 0o644))
	port, _ := rolesServer(t, root, "--allow-dir", allowed)
	ctx := context.Background()
	user := connectAs(t, port, "bob")
	var n int64
	require.NoError(t, user.QueryRow(ctx, "SELECT sum(a) FROM read_csv('"+filepath.Join(allowed, "in.csv")+"')").Scan(&n))
	require.Equal(t, int64(3), n)
	_, err := user.Exec(ctx, "COPY (SELECT 5 AS a) TO '"+filepath.Join(allowed, "out.csv")+"'")
	require.NoError(t, err)
	data, err := os.ReadFile(filepath.Join(allowed, "out.csv"))
	require.NoError(t, err)
	require.Equal(t, "a\n5\n", string(data))
	var one int64
	require.NoError(t, user.QueryRow(ctx, "SELECT rows FROM run_pipeline('"+filepath.Join(allowed, "p.yaml")+"') WHERE name = 't'").Scan(&one))
	require.Equal(t, int64(1), one)
	for _, q := range []string{
		"SELECT * FROM read_csv('/etc/passwd')",
		"SELECT * FROM run_pipeline('" + filepath.Join(root, "p.yaml") + "')",
	} {
		_, err := user.Exec(ctx, q)
		var pe *pgconn.PgError
		require.ErrorAs(t, err, &pe, q)
		require.Contains(t, pe.Message+pe.Detail, "disabled by configuration", q)
	}
	_, err = user.Exec(ctx, "ATTACH '"+filepath.Join(allowed, "x.db")+"'")
	requireDenied(t, err, "ATTACH in an allowed directory")
}

// The same promises through psql, the client operators use by hand.
func TestServeRolesPsql(t *testing.T) {
	psql, err := exec.LookPath("psql")
	if err != nil {
		testenv.Missing(t, "psql is not installed")
		return
	}
	root := t.TempDir()
	port, _ := rolesServer(t, root)
	run := func(user, sql string) (string, error) {
		cmd := exec.Command(psql, "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", fmt.Sprint(port), "-U", user, "-d", "ankaflow", "-c", sql)
		cmd.Env = append(os.Environ(), "PGPASSWORD=pw", "PGSSLMODE=disable")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run("bob", "SELECT * FROM read_csv('/etc/passwd')")
	require.Error(t, err)
	require.Contains(t, out, "permission denied for role user: the file function read_csv() is not allowed")
	require.NotContains(t, out, "root:")
	out, err = run("bob", "ATTACH '"+filepath.Join(root, "a.db")+"'")
	require.Error(t, err)
	require.Contains(t, out, "permission denied for role user: ATTACH is not allowed")
	out, err = run("bob", `\copy (SELECT 1) TO '`+filepath.Join(root, "client.csv")+`'`)
	require.NoError(t, err, out) // \copy writes on the client's side: the server only sends rows
	out, err = run("bob", "CREATE TABLE listed (a int)")
	require.NoError(t, err, out)
	out, err = run("bob", `\dt`) // psql's catalog queries pass the gate
	require.NoError(t, err, out)
	require.Contains(t, out, "listed")
	out, err = run("bob", "SELECT sum(range) FROM range(4)")
	require.NoError(t, err, out)
	require.Equal(t, "6\n", out)
	out, err = run("root", "SELECT count(*) > 0 FROM read_csv('/etc/passwd', header = false)")
	require.NoError(t, err, out)
	require.Equal(t, "t\n", out)
}
