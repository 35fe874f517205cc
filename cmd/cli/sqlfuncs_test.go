package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const storePipeline = `
- name: Seed
  kind: internal
  query: SELECT range AS id, 'item ' || range AS name FROM range(<< variables.n >>)
- name: Warehouse
  kind: sink
  connection:
    kind: CustomConnection
    module: ankaflow.testing
    classname: Store
    params: {path: "<< context.root >>/store.duckdb", table: items, password: "p4ss-word"}
- name: Back
  kind: tap
  connection:
    kind: CustomConnection
    module: ankaflow.testing
    classname: Store
    params: {path: "<< context.root >>/store.duckdb", table: items}
`

// TestRunPipelineFromSQL: run_pipeline() runs a whole pipeline file in the session, returns a
// row per stage, and leaves its connections callable from the same session.
func TestRunPipelineFromSQL(t *testing.T) {
	root := t.TempDir()
	p := filepath.Join(root, "p.yaml")
	require.NoError(t, os.WriteFile(p, []byte(storePipeline), 0o644))
	out, _ := cliRun(t, "", "sql", "--format", "csv",
		"-c", "SELECT name, kind, status, rows FROM run_pipeline('"+p+"', variables := {'n': '3'}, context := {'root': '"+root+"'})",
		"-c", "SELECT count(*) AS n FROM \"Back\"",
		"-c", "SELECT count(*) AS again FROM tap('Back')",
		"-c", "SELECT name, kind, module, classname, params->>'password' AS pw FROM connections() ORDER BY name",
	)
	require.Equal(t, "name,kind,status,rows\n"+
		"Seed,internal,ok,3\n"+
		"Warehouse,sink,ok,3\n"+
		"Back,tap,ok,3\n"+
		"n\n3\n"+
		"again\n3\n"+
		"name,kind,module,classname,pw\n"+
		"Back,CustomConnection,ankaflow.testing,Store,NULL\n"+
		"Warehouse,CustomConnection,ankaflow.testing,Store,***\n", out)
}

// TestLoadPipelineFromSQL: load_pipeline() registers connections without running anything;
// COPY … TO '<stage>' (FORMAT ankaflow) and tap('<stage>') then reach them.
func TestLoadPipelineFromSQL(t *testing.T) {
	root := t.TempDir()
	p := filepath.Join(root, "p.yaml")
	require.NoError(t, os.WriteFile(p, []byte(storePipeline), 0o644))
	out, _ := cliRun(t, "", "sql", "--format", "csv",
		"-c", "SELECT name, stage_kind, connection_kind, status FROM load_pipeline('"+p+"', context := {'root': '"+root+"'}) ORDER BY name",
		"-c", "SELECT count(*) AS tables FROM duckdb_tables()",
		"-c", "COPY (SELECT range AS id, 'x' AS name FROM range(7)) TO 'Warehouse' (FORMAT ankaflow)",
		"-c", "SELECT count(*) AS n, max(id) AS top FROM tap('Back')",
		"-c", "SELECT column_name, column_type FROM show_schema('Back')",
	)
	require.Equal(t, "name,stage_kind,connection_kind,status\n"+
		"Back,tap,ankaflow.testing.Store,loaded\n"+
		"Warehouse,sink,ankaflow.testing.Store,loaded\n"+
		"tables\n0\n"+
		"n,top\n7,6\n"+
		"column_name,column_type\nid,BIGINT\nname,VARCHAR\n", out)
}

// TestSQLCommandErrors: a failing statement names itself and exits 1.
func TestSQLCommandErrors(t *testing.T) {
	code, _, errOut := cliRunCode(t, "", "sql", "-c", "SELECT 1", "-c", "SELECT * FROM tap('Nope')")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "error: statement 2: ")
	require.Contains(t, errOut, "tap('Nope')")
}

// TestSQLTableFormat: the aligned table holds rows past their Arrow batch; text must survive.
func TestSQLTableFormat(t *testing.T) {
	out, _ := cliRun(t, "", "sql", "-c", "SELECT 'alpha' || range AS word, range AS n FROM range(3000)")
	lines := strings.Split(out, "\n")
	require.Equal(t, " word      | n", strings.TrimRight(lines[0], " "))
	require.Equal(t, " alpha0    |    0", lines[2])
	require.Equal(t, " alpha2999 | 2999", lines[3001])
	require.Equal(t, "(3000 rows)", lines[3002])
}

// TestFileConnectionsCallableAfterRun: after run_pipeline, a file tap is a connection of the
// session like any other: tap('People') re-reads the file, show_schema('People') describes it.
func TestFileConnectionsCallableAfterRun(t *testing.T) {
	root, cfg := caseCopy(t, "file-connections")
	out, _ := cliRun(t, "", "sql", "--format", "csv", "--config", cfg,
		"-c", "SELECT count(*) AS stages FROM run_pipeline('"+filepath.Join(root, "pipeline.yaml")+"')",
		"-c", "SELECT count(*) AS people FROM tap('People')",
		"-c", "SELECT column_name FROM show_schema('People')",
	)
	require.Equal(t, "stages\n9\npeople\n3\ncolumn_name\nid\nname\ncity\n", out)
}
