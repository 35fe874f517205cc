package mysql_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/cmd/cli"
)

// TestPlanDoesNotRunTheTapQuery: EXPLAIN, PREPARE and DESCRIBE of a query with tap('X') learn
// the columns from MySQL without running the tap query. The query calls a function that
// records each call in a table, so every run of it is visible on the server; running the
// query afterwards calls it once per row.
func TestPlanDoesNotRunTheTapQuery(t *testing.T) {
	f := newFixture(t)
	f.exec("CREATE TABLE calls (n INT)",
		"CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(20))",
		"INSERT INTO items VALUES (1, 'one'), (2, 'two')",
		`CREATE FUNCTION bump(x INT) RETURNS INT NOT DETERMINISTIC MODIFIES SQL DATA
		BEGIN INSERT INTO calls VALUES (x); RETURN x; END`)
	p := f.params(nil)
	yaml := fmt.Sprintf(`
- name: Items
  kind: tap
  connection:
    kind: CustomConnection
    module: myapp.connectors.database
    classname: MySQL
    params: {host: %q, port: %d, user: %q, password: %q, database: %q}
  query: SELECT id, bump(id) AS b, name FROM items ORDER BY id
`, p["host"], p["port"], p["user"], p["password"], p["database"])
	file := filepath.Join(t.TempDir(), "p.yaml")
	require.NoError(t, os.WriteFile(file, []byte(yaml), 0o644))

	sqlCLI := func(stmts ...string) string {
		t.Helper()
		args := []string{"sql", "--format", "csv", "--pipeline", file}
		for _, s := range stmts {
			args = append(args, "-c", s)
		}
		var out, errOut bytes.Buffer
		code := cli.Run(context.Background(), args, strings.NewReader(""), &out, &errOut)
		require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
		return out.String()
	}
	out := sqlCLI("EXPLAIN SELECT * FROM tap('Items')",
		"PREPARE q AS SELECT name FROM tap('Items') WHERE id = 2",
		"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM tap('Items'))")
	require.Contains(t, out, "column_name,column_type\nid,INTEGER\nb,INTEGER\nname,VARCHAR\n")
	require.Equal(t, "0", f.scalar("SELECT count(*) FROM calls"), "planning ran the tap query")

	require.Equal(t, "id,b,name\n1,1,one\n2,2,two\n", sqlCLI("SELECT * FROM tap('Items') ORDER BY id"))
	require.Equal(t, "1,2", f.scalar("SELECT group_concat(n ORDER BY n) FROM calls"))
}
