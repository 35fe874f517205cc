package pgwire

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/internal/testpg"
)

// pgcliSchema is created on both servers for the pgcli comparison.
const pgcliSchema = `CREATE SCHEMA sales;
CREATE TABLE customers (id integer PRIMARY KEY, email text NOT NULL UNIQUE, score numeric(10,2) DEFAULT 1.5);
CREATE TABLE sales.regions (id integer PRIMARY KEY, name text);
CREATE TABLE sales.orders (id bigint PRIMARY KEY, region_id integer REFERENCES sales.regions (id), note text);
INSERT INTO customers VALUES (1, 'a@example.com', 2.5), (2, 'b@example.com', 10);
`

// pgcliRun is what one pgcli session showed and wrote.
type pgcliRun struct {
	output      string // the \o file: results of the queries and meta-commands
	tableMenu   string // the completion menu after `SELECT * FROM cust<Tab>`
	columnMenu  string // the completion menu after `SELECT * FROM customers WHERE em<Tab>`
	stderr, log string
}

// pgcli (Debian's pgcli 3.5, on psycopg 3) connects to ankaflow, runs its startup catalog
// queries (the completion refresher: schemas, tables, columns, functions, types, foreign keys,
// databases) without an error, and shows for a query, \dt, \dn and \d what it shows against a
// PostgreSQL 15 holding the same tables; completing a table and a column name offers the same.
func TestPgcliMatchesPostgres(t *testing.T) {
	bin := needProgram(t, "pgcli (Debian: apt-get install pgcli)", "pgcli")
	pg := testpg.Start(t, testpg.Options{})
	ts := startServer(t, Config{})
	runs := map[string]pgcliRun{}
	for name, port := range map[string]int{"postgres": pg.Port, "ankaflow": ts.port()} {
		r := runPsql(t, port, "postgres", "-v", "ON_ERROR_STOP=1", "-c", pgcliSchema)
		require.Equal(t, 0, r.code, r.stderr)
		runs[name] = runPgcli(t, bin, port)
	}
	want, got := runs["postgres"], runs["ankaflow"]
	assert.Empty(t, got.stderr, "pgcli's standard error (a failed completion refresh prints its traceback there)")
	assert.NotContains(t, got.log, " ERROR ", "pgcli's log")
	assert.Equal(t, want.output, got.output)
	// The menu also offers functions matching the letters; PostgreSQL's built-in functions are
	// not DuckDB's, so only the relations are compared.
	assert.Equal(t, menuEntries(want.tableMenu, "table", "view"), menuEntries(got.tableMenu, "table", "view"))
	assert.Equal(t, want.columnMenu, got.columnMenu)
	require.Contains(t, got.output, "| 2  | b@example.com | 10.00 |")
	require.Contains(t, got.tableMenu, "customers")
	require.Contains(t, got.columnMenu, "email")
}

// runPgcli drives one interactive pgcli session against 127.0.0.1:port, database postgres.
func runPgcli(t *testing.T, bin string, port int) pgcliRun {
	t.Helper()
	dir := t.TempDir()
	outFile, logFile, errFile := filepath.Join(dir, "out"), filepath.Join(dir, "log"), filepath.Join(dir, "stderr")
	rc := filepath.Join(dir, "pgclirc")
	require.NoError(t, os.WriteFile(rc, []byte(fmt.Sprintf(`[main]
log_file = %s
log_level = DEBUG
history_file = %s
keyring = False
multi_line = False
enable_pager = False
table_format = psql
less_chatty = True
`, logFile, filepath.Join(dir, "history"))), 0o600))
	env := append(cleanPGEnv(), "HOME="+dir, "LANG=C.UTF-8", "LC_ALL=C.UTF-8", "PAGER=cat")
	term := startTerminal(t, env, fmt.Sprintf("%s --pgclirc '%s' --prompt 'PGCLI> ' -h 127.0.0.1 -p %d -U tester postgres 2>'%s'",
		bin, rc, port, errFile))
	term.waitFor("pgcli's prompt", time.Minute, func(s string) bool { return strings.Contains(s, "PGCLI>") })

	// Each command ends with pgcli's "Time:" line on the screen (results go to the \o file).
	done := 0
	for _, cmd := range []string{`\o ` + outFile, `SELECT id, email, score FROM customers ORDER BY id`, `\dt`, `\dn`,
		`\d customers`, `\d sales.orders`} {
		term.text(cmd)
		term.keys("Enter")
		done++
		n := done
		term.waitFor(cmd, time.Minute, func(s string) bool { return strings.Count(s, "\nTime: ") >= n })
	}

	run := pgcliRun{}
	run.tableMenu = completionMenu(t, term, "SELECT * FROM cust", "customers")
	run.columnMenu = completionMenu(t, term, "SELECT * FROM customers WHERE em", "email")
	term.text(`\q`)
	term.keys("Enter")
	time.Sleep(500 * time.Millisecond)
	read := func(p string) string {
		b, _ := os.ReadFile(p)
		return string(b)
	}
	run.output, run.stderr, run.log = read(outFile), read(errFile), read(logFile)
	return run
}

var spaces = regexp.MustCompile(`\s+`)

// completionMenu types line, presses Tab until the completion menu offers want (the completion
// refresher runs in the background after connecting), and returns the menu's text with runs of
// blanks made one; the line is then cleared.
func completionMenu(t *testing.T, term *terminal, line, want string) string {
	t.Helper()
	term.text(line)
	var menu string
	deadline := time.Now().Add(time.Minute)
	for menu == "" {
		term.keys("Tab")
		// The menu is under the last prompt (the line itself may have been completed already).
		s := term.waitFor("completion of "+line, 3*time.Second, func(s string) bool { return strings.Contains(s, "PGCLI> "+line[:10]) })
		after := s[strings.LastIndex(s, "PGCLI>"):]
		var lines []string
		for _, l := range strings.Split(after, "\n")[1:] {
			if strings.Contains(l, "[F2]") { // pgcli's bottom toolbar
				break
			}
			if l = strings.TrimSpace(spaces.ReplaceAllString(l, " ")); l != "" {
				lines = append(lines, l)
			}
		}
		if strings.Contains(strings.Join(lines, "\n"), want) {
			menu = strings.Join(lines, "\n")
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pgcli offered no %q for %q; screen:\n%s", want, line, s)
		}
		time.Sleep(time.Second)
	}
	term.keys("C-c") // pgcli clears the line
	term.waitFor("the line to clear", 10*time.Second, func(s string) bool { return !strings.HasSuffix(strings.TrimSpace(s), line) })
	return menu
}

// menuEntries are the lines of a completion menu whose kind (the last word) is one of kinds.
func menuEntries(menu string, kinds ...string) []string {
	var out []string
	for _, l := range strings.Split(menu, "\n") {
		f := strings.Fields(l)
		if len(f) > 0 && slices.Contains(kinds, f[len(f)-1]) {
			out = append(out, l)
		}
	}
	return out
}
