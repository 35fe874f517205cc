package pipeline_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/engine"
	_ "github.com/ankaflow/ankaflow/pipeline"
)

// TestExplainRunPipelineRunsNothing: planning run_pipeline() neither runs the pipeline nor
// writes its sink file; executing it does.
func TestExplainRunPipelineRunsNothing(t *testing.T) {
	ctx := context.Background()
	db, err := engine.Open(ctx, engine.Options{})
	require.NoError(t, err)
	defer db.Close()
	s, err := db.NewSession(ctx)
	require.NoError(t, err)
	exec := func(q string) error { _, err := s.Exec(ctx, q); return err }
	dir := t.TempDir()
	out := filepath.Join(dir, "out.csv")
	p := filepath.Join(dir, "p.yaml")
	require.NoError(t, os.WriteFile(p, []byte(`
- name: Data
  kind: internal
  query: SELECT 42 AS answer
- name: Out
  kind: sink
  connection:
    kind: CSV
    locator: `+out+`
`), 0o644))
	call := "SELECT name, status FROM run_pipeline('" + p + "')"
	require.NoError(t, exec("EXPLAIN "+call))
	pr, err := s.Prepare(ctx, call)
	require.NoError(t, err)
	require.Len(t, pr.Columns(), 2)
	pr.Close()
	require.NoError(t, exec("EXPLAIN SELECT * FROM load_pipeline('"+p+"')"))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "only the pipeline file: nothing written while planning")
	var tables int64
	require.NoError(t, s.QueryRowContext(ctx, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'Data'").Scan(&tables))
	require.Equal(t, int64(0), tables, "the pipeline did not run")

	var name, status string
	require.NoError(t, s.QueryRowContext(ctx, call+" WHERE name = 'Out'").Scan(&name, &status))
	require.Equal(t, "ok", status)
	_, err = os.Stat(out)
	require.NoError(t, err, "executing runs the pipeline")
}
