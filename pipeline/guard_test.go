package pipeline_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/engine"
	_ "github.com/ankaflow/ankaflow/pipeline"
	_ "github.com/ankaflow/ankaflow/sqlfuncs"
)

// TestRunPipelineNeverReplacesForeignObjects: run_pipeline() does not replace a table or view
// it did not create (names compared case-insensitively, as DuckDB resolves them): the run
// fails naming the object, the user's table keeps its rows and key, and the failed run leaves
// no connections behind. replace := true replaces it; later runs of the same pipeline file
// replace their own objects; another pipeline file may not.
func TestRunPipelineNeverReplacesForeignObjects(t *testing.T) {
	ctx := context.Background()
	db, err := engine.Open(ctx, engine.Options{})
	require.NoError(t, err)
	defer db.Close()
	s, err := db.NewSession(ctx)
	require.NoError(t, err)
	defer s.Close()
	exec := func(q string) error { _, err := s.Exec(ctx, q); return err }
	strings := func(q string) []string {
		t.Helper()
		rows, err := s.QueryContext(ctx, q)
		require.NoError(t, err)
		defer rows.Close()
		var out []string
		for rows.Next() {
			var v sql.NullString
			require.NoError(t, rows.Scan(&v))
			out = append(out, v.String)
		}
		require.NoError(t, rows.Err())
		return out
	}
	dir := t.TempDir()
	csv := filepath.Join(dir, "src.csv")
	require.NoError(t, os.WriteFile(csv, []byte("id\n7\n"), 0o644))
	pipelineFile := func(name, src, stage, kind string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(`
- name: `+src+`
  kind: tap
  connection:
    kind: CSV
    locator: `+csv+`
- name: `+stage+`
  kind: `+kind+`
  query: SELECT id, 'pipeline' AS v FROM `+src+`
`), 0o644))
		return p
	}
	p := pipelineFile("p.yaml", "Src", "Orders", "internal")

	require.NoError(t, exec("CREATE TABLE orders (id INTEGER PRIMARY KEY, v VARCHAR); INSERT INTO orders VALUES (1, 'user'), (2, 'user')"))
	err = exec("SELECT * FROM run_pipeline('" + p + "')")
	require.ErrorContains(t, err, `stage 'Orders' would replace the table "main"."orders", which was not created by this pipeline; rename the stage, drop the table, or run with replace := true`)
	require.Equal(t, []string{"1 user", "2 user"}, strings("SELECT id || ' ' || v FROM orders ORDER BY id"))
	require.Equal(t, []string{"PRIMARY KEY"}, strings("SELECT constraint_type FROM duckdb_constraints() WHERE table_name = 'orders' AND constraint_type = 'PRIMARY KEY'"))
	require.Empty(t, strings("SELECT name FROM connections()"), "a failed run registers no connections")

	// Told to replace: the pipeline's table, and its connections for the session.
	require.NoError(t, exec("SELECT * FROM run_pipeline('"+p+"', replace := true)"))
	require.Equal(t, []string{"7 pipeline"}, strings("SELECT id || ' ' || v FROM orders"))
	require.Equal(t, []string{"Src"}, strings("SELECT name FROM connections()"))
	// Its own objects from an earlier run: replaced without being told.
	require.NoError(t, exec("UPDATE orders SET v = 'changed'"))
	require.NoError(t, exec("SELECT * FROM run_pipeline('"+p+"')"))
	require.Equal(t, []string{"7 pipeline"}, strings("SELECT id || ' ' || v FROM orders"))

	// Another pipeline file does not own them.
	q := pipelineFile("q.yaml", "SrcQ", "ORDERS", "internal")
	err = exec("SELECT * FROM run_pipeline('" + q + "')")
	require.ErrorContains(t, err, `stage 'ORDERS' would replace the table "main"."Orders", which was created by another pipeline (`+p+`)`)

	// Views too, whatever the stage kind.
	require.NoError(t, exec("CREATE VIEW totals AS SELECT 1 AS n"))
	v := pipelineFile("v.yaml", "SrcV", "Totals", "transform")
	err = exec("SELECT * FROM run_pipeline('" + v + "')")
	require.ErrorContains(t, err, `stage 'Totals' would replace the view "main"."totals"`)
	require.Equal(t, []string{"1"}, strings("SELECT n::VARCHAR FROM totals"))
}
