package cli_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/internal/tests3"
)

// TestObjectStoreFileKind: kind: File taps on s3:// locators read what they read on local
// disk — the type from the extension or params.type, compressed forms, a tap query, the schema
// from DESCRIBE — compared with the same pipeline (testdata/e2e/file-kind) over the local files.
// A File sink on an s3:// locator is the same validation error as on a local path.
func TestObjectStoreFileKind(t *testing.T) {
	s := tests3.Start(t, tests3.Options{Buckets: []string{"lake"}, Keys: []string{"AKPIPE:pipe-secret"}, Region: "eu-west-1"})
	caseDir, err := filepath.Abs("../../testdata/e2e/file-kind")
	require.NoError(t, err)
	inputs, err := os.ReadDir(filepath.Join(caseDir, "input"))
	require.NoError(t, err)
	for _, e := range inputs {
		data, err := os.ReadFile(filepath.Join(caseDir, "input", e.Name()))
		require.NoError(t, err)
		s.Put(t, "lake", "data/input/"+e.Name(), data)
	}
	p := filepath.Join(caseDir, "pipeline.yaml")
	queries := []string{
		"-c", "SELECT count(*) AS stages FROM run_pipeline('" + p + "')",
		"-c", `SELECT id, name, src FROM "All" ORDER BY id`,
		"-c", `SELECT column_name, column_type FROM (DESCRIBE "From tsv")`,
		"-c", `SELECT column_name, column_type FROM show_schema('From csv zst')`,
		"-c", `SELECT * FROM tap('From parquet')`,
	}
	out, errOut := cliRun(t, "", append([]string{"sql", "--format", "csv", "--config", s3Config(t, s, "")}, queries...)...)
	localCfg := filepath.Join(t.TempDir(), "local.yaml")
	require.NoError(t, os.WriteFile(localCfg, []byte("local:\n  bucket: "+caseDir+"\n"), 0o644))
	localOut, _ := cliRun(t, "", append([]string{"sql", "--format", "csv", "--config", localCfg}, queries...)...)
	require.Equal(t, localOut, out, "the same as the File connection reading the local files")
	require.Contains(t, out, "8,Hal,ndjson.gz\n9,Ivy,csv.zst\n10,Jo,param\n12,Lu,parquet\n")
	require.NotContains(t, out+errOut, "pipe-secret")

	// A sink: File only taps, wherever its locator points.
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("- name: Write file\n  kind: sink\n  query: SELECT 1 AS id\n  connection: {kind: File, locator: s3://lake/out/people.csv}\n"), 0o644))
	code, vout, verr := cliRunCode(t, "", "validate", bad)
	require.Equal(t, 2, code)
	require.Contains(t, vout+verr, "connection File cannot be used in sink stage 'Write file': it supports tap, show_schema")
}
