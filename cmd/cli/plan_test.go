package cli_test

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/cmd/cli"
)

// caseCopy copies an e2e case into a fresh directory with the harness's config file.
func caseCopy(t *testing.T, name string) (root, cfg string) {
	root = t.TempDir()
	require.NoError(t, copyDir(filepath.Join("../../testdata/e2e", name), root))
	cfg = filepath.Join(root, "ankaflow-config.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte("local:\n  bucket: "+root+"\n"), 0o644))
	return root, cfg
}

func cliRun(t *testing.T, stdin string, args ...string) (string, string) {
	t.Helper()
	code, out, errOut := cliRunCode(t, stdin, args...)
	require.Equal(t, 0, code, "ankaflow %s\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), out, errOut)
	return out, errOut
}

func cliRunCode(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := cli.Run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

// snapshot reads every table and view of a database file as sorted text rows.
func snapshot(t *testing.T, dbFile string) map[string][]string {
	db, err := sql.Open("duckdb", dbFile)
	require.NoError(t, err)
	defer db.Close()
	names := queryStrings(t, db, "SELECT table_name FROM information_schema.tables WHERE table_catalog = current_database() AND table_schema = 'main' ORDER BY 1")
	out := map[string][]string{}
	for _, n := range names {
		rows := queryStrings(t, db, `SELECT * FROM "`+strings.ReplaceAll(n[0], `"`, `""`)+`"`)
		var lines []string
		for _, r := range rows {
			lines = append(lines, strings.Join(r, "|"))
		}
		sort.Strings(lines)
		out[n[0]] = lines
	}
	return out
}

func fileRows(t *testing.T, path string) []string {
	db, err := sql.Open("duckdb", "")
	require.NoError(t, err)
	defer db.Close()
	var reader string
	switch filepath.Ext(path) {
	case ".parquet":
		reader = "read_parquet"
	case ".csv":
		reader = "read_csv"
	default:
		reader = "read_json_auto"
	}
	var lines []string
	for _, r := range queryStrings(t, db, "SELECT * FROM "+reader+"('"+path+"')") {
		lines = append(lines, strings.Join(r, "|"))
	}
	sort.Strings(lines)
	return lines
}

// TestFilePlanRunsAsWritten: a loop-free plan of file connections, piped into `ankaflow sql`,
// gives the same tables and files as `ankaflow run`. (Not plain DuckDB: a file sink's steps
// around its COPY are calls of ankaflow's ankaflow_sink_begin/commit, which write through a
// hidden temporary file; see sqlfuncs/sinkfile.go.)
func TestFilePlanRunsAsWritten(t *testing.T) {
	runRoot, runCfg := caseCopy(t, "file-connections")
	planRoot, planCfg := caseCopy(t, "file-connections")
	// Creating sink directories is a runner step (a comment in the plan): do it by hand here.
	for _, r := range []string{runRoot, planRoot} {
		require.NoError(t, os.MkdirAll(filepath.Join(r, "out/deep/dir"), 0o755))
	}
	cliRun(t, "", "run", filepath.Join(runRoot, "pipeline.yaml"), "--config", runCfg, "--db", filepath.Join(runRoot, "db.duckdb"))
	plan, _ := cliRun(t, "", "plan", filepath.Join(planRoot, "pipeline.yaml"), "--config", planCfg)

	cliRun(t, plan, "sql", "--db", filepath.Join(planRoot, "db.duckdb"), "-f", "-")

	want := snapshot(t, filepath.Join(runRoot, "db.duckdb"))
	require.NotEmpty(t, want)
	require.Equal(t, want, snapshot(t, filepath.Join(planRoot, "db.duckdb")))
	for _, f := range []string{"out/tallinn.parquet", "out/deep/dir/events.csv", "out/events.ndjson", "out/people-semicolon.csv"} {
		require.Equal(t, fileRows(t, filepath.Join(runRoot, f)), fileRows(t, filepath.Join(planRoot, f)), f)
	}
}

// TestPlanThroughSQLCommand: `ankaflow plan p.yaml | ankaflow sql --pipeline p.yaml -f -` gives
// the same result as `ankaflow run p.yaml` for a pipeline with non-file connections (Variable
// sink and tap go through COPY … (FORMAT ankaflow) and tap()).
func TestPlanThroughSQLCommand(t *testing.T) {
	root := t.TempDir()
	p := filepath.Join(root, "p.yaml")
	require.NoError(t, os.WriteFile(p, []byte(`
- name: Numbers
  kind: internal
  query: SELECT range AS n, 'x' || range AS label FROM range(4)
- name: Save
  kind: sink
  connection: {kind: Variable, locator: saved}
- name: Load
  kind: tap
  connection: {kind: Variable, locator: saved}
- name: Doubled
  kind: transform
  query: SELECT n * 2 AS n2, label FROM "Load"
- name: Out
  kind: sink
  connection: {kind: CSV, locator: `+filepath.Join(root, "out.csv")+`}
`), 0o644))
	cliRun(t, "", "run", p, "--db", filepath.Join(root, "run.duckdb"))
	runFile := fileRows(t, filepath.Join(root, "out.csv"))
	require.NoError(t, os.Remove(filepath.Join(root, "out.csv")))

	plan, _ := cliRun(t, "", "plan", p)
	require.Contains(t, plan, `SELECT * FROM tap('Load')`)
	require.Contains(t, plan, `TO 'Save' (FORMAT ankaflow, USE_TMP_FILE FALSE, SOURCE 'Numbers')`)
	cliRun(t, plan, "sql", "--pipeline", p, "--db", filepath.Join(root, "sql.duckdb"), "-f", "-")

	require.Equal(t, runFile, fileRows(t, filepath.Join(root, "out.csv")))
	require.Equal(t, snapshot(t, filepath.Join(root, "run.duckdb")), snapshot(t, filepath.Join(root, "sql.duckdb")))
}
