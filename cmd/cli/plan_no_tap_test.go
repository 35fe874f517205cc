package cli_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/internal/testconn"
)

// TestPlanDoesNotTapCustomConnection: `ankaflow plan` and `validate` of a pipeline whose custom
// connection has show_schema but no TapSchema, and EXPLAIN and PREPARE of a query tapping it,
// never tap it; running the query and the pipeline do.
func TestPlanDoesNotTapCustomConnection(t *testing.T) {
	root := t.TempDir()
	file := filepath.Join(root, "pipeline.yaml")
	require.NoError(t, os.WriteFile(file, []byte(`
- name: Desc
  kind: tap
  connection:
    kind: CustomConnection
    module: ankaflow.testing
    classname: Described
  query: the query
- name: Sum
  kind: transform
  query: SELECT sum(n) AS s FROM tap('Desc')
- name: Keep
  kind: sink
  connection:
    kind: Variable
    locator: kept
  query: SELECT n, label FROM tap('Desc')
`), 0o644))
	before := testconn.DescribedTaps.Load()
	out, _ := cliRun(t, "", "plan", file)
	require.Contains(t, out, "tap('Desc')")
	cliRun(t, "", "validate", file)
	cliRun(t, "", "sql", "--pipeline", file, "-c", "EXPLAIN SELECT * FROM tap('Desc'); PREPARE q AS SELECT sum(n) FROM tap('Desc')")
	require.Equal(t, before, testconn.DescribedTaps.Load(), "plan, validate, EXPLAIN and PREPARE must not tap")
	out, _ = cliRun(t, "", "sql", "--pipeline", file, "--format", "csv", "-c", "SELECT sum(n) AS s, any_value(label) AS l FROM tap('Desc')")
	require.Equal(t, "s,l\n3,the query\n", out)
	require.Equal(t, before+1, testconn.DescribedTaps.Load(), "running the query taps once")
	cliRun(t, "", "run", file)
	require.Greater(t, testconn.DescribedTaps.Load(), before, "run taps")
}
