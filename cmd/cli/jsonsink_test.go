package cli_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestJSONSinkFromSQL: COPY … TO 'Name' (FORMAT ankaflow) into a local JSON connection (DuckDB's
// JSON COPY binds its query twice, which a one-shot Arrow scan cannot serve on its own).
func TestJSONSinkFromSQL(t *testing.T) {
	root := t.TempDir()
	p := filepath.Join(root, "p.yaml")
	out := filepath.Join(root, "out.json")
	require.NoError(t, os.WriteFile(p, []byte("- name: Seed\n  kind: internal\n  query: SELECT 1 AS a\n- name: J\n  kind: sink\n  connection: {kind: JSON, locator: "+out+"}\n"), 0o644))
	cliRun(t, "", "sql", "-c", "SELECT count(*) FROM load_pipeline('"+p+"')",
		"-c", "COPY (SELECT range AS a, 'x' || range AS b FROM range(3)) TO 'J' (FORMAT ankaflow)")
	data, err := os.ReadFile(out)
	require.NoError(t, err)
	require.Equal(t, "{\"a\":0,\"b\":\"x0\"}\n{\"a\":1,\"b\":\"x1\"}\n{\"a\":2,\"b\":\"x2\"}\n", string(data))
}
