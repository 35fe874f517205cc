package pgwire

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/internal/testpg"
)

// tabCompletions are typed into psql followed by Tab Tab; psql (readline) then completes the
// word or lists the candidates, from the queries of its tab-complete.c.
var tabCompletions = []string{
	"SELECT * FROM cu",                   // a table name
	"SELECT * FROM sales.",               // the tables of a schema
	"SELECT * FROM sa",                   // a schema name
	"\\d sales.o",                        // \d with a schema-qualified name
	"\\dn s",                             // schema names
	"\\dt cu",                            // \dt
	"SELECT * FROM customers WHERE ",     // the columns of the table
	"INSERT INTO customers (",            // column names
	"UPDATE customers SET ",              // column names
	"UPDATE sales.orders SET reg",        // one column name
	"ALTER TABLE customers DROP COLUMN ", // column names
	"SET search_p",                       // a setting name
	"SHOW search_p",                      // a setting name
	"\\df add_o",                         // a function name
	"DROP FUNCTION add_o",                // a function name
	"SELECT * FROM big_",                 // a view name
}

// psql's tab completion, driven at a real terminal, completes and lists the same names against
// ankaflow as against PostgreSQL 15 holding the same schemas, tables, view and function.
func TestPsqlTabCompletionMatchesPostgres(t *testing.T) {
	psql := testpg.NeedBinary(t, "psql")
	pg := testpg.Start(t, testpg.Options{})
	ts := startServer(t, Config{})
	function := map[int]string{
		pg.Port:   `CREATE FUNCTION add_one(x integer) RETURNS integer LANGUAGE sql AS 'SELECT x + 1'`,
		ts.port(): `CREATE MACRO add_one(x) AS x + 1`,
	}
	screens := map[int][]string{}
	for _, port := range []int{pg.Port, ts.port()} {
		r := runPsql(t, port, "postgres", "-v", "ON_ERROR_STOP=1", "-c", pgcliSchema,
			"-c", `CREATE VIEW big_customers AS SELECT id, email FROM customers WHERE score > 10`, "-c", function[port])
		require.Equal(t, 0, r.code, r.stderr)
		env := append(cleanPGEnv(), "PGUSER=tester", "LANG=C.UTF-8", "LC_ALL=C.UTF-8", "HOME="+t.TempDir())
		term := startTerminal(t, env, fmt.Sprintf("%s -X -h 127.0.0.1 -p %d -d postgres", psql, port))
		term.waitFor("psql's prompt", time.Minute, func(s string) bool { return strings.Contains(s, "postgres=") })
		for i, line := range tabCompletions {
			// A comment line marks where this completion's screen starts (psql keeps no query).
			marker := fmt.Sprintf("-- completion %d", i)
			term.text(marker)
			term.keys("Enter")
			term.text(line)
			term.keys("Tab", "Tab")
			screen := settledScreen(term, marker, line)
			screens[port] = append(screens[port], screen)
			term.keys("C-u") // readline: discard the line
		}
	}
	for i, line := range tabCompletions {
		assert.Equal(t, screens[pg.Port][i], screens[ts.port()][i], "completing %q", line)
	}
	if t.Failed() {
		for _, l := range strings.Split(ts.logs.String(), "\n") {
			if strings.Contains(l, "pgwire: statement") {
				t.Log(l)
			}
		}
	}
	// Not only identical, but completing: the table name was completed.
	require.Contains(t, screens[ts.port()][0], "postgres=# SELECT * FROM customers")
}

// settledScreen waits until psql has completed the typed line after the marker (every case
// completes something against PostgreSQL) and the screen has not changed for a second, and
// returns the screen from the line after the marker. After 30 s it returns what is there.
func settledScreen(term *terminal, marker, line string) string {
	term.t.Helper()
	last, since := "", time.Now()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		s := term.screen()
		if i := strings.LastIndex(s, marker+"\n"); i >= 0 {
			s = s[i+len(marker)+1:]
		} else {
			s = ""
		}
		s = strings.TrimRight(s, "\n ")
		if s != last {
			last, since = s, time.Now()
		} else if s != "" && time.Since(since) > time.Second && completed(s, line) {
			return s
		}
		time.Sleep(100 * time.Millisecond)
	}
	return last
}

// completed reports whether psql changed the typed line: completed a word or listed candidates
// (the line is then printed again under the list).
func completed(screen, line string) bool {
	return strings.Contains(screen, "\n") || !strings.HasSuffix(screen, strings.TrimRight(line, " "))
}
