package cli_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestObjectStoreFileKind: kind: File taps on s3://, gs:// and az:// locators read what they
// read on local disk — the type from the extension or params.type, compressed forms, a tap
// query, the schema from DESCRIBE — compared with the same pipeline (testdata/e2e/file-kind)
// over the local files. A File sink on an object-store locator is the same validation error as
// on a local path.
func TestObjectStoreFileKind(t *testing.T) {
	caseDir, err := filepath.Abs("../../testdata/e2e/file-kind")
	require.NoError(t, err)
	inputs, err := os.ReadDir(filepath.Join(caseDir, "input"))
	require.NoError(t, err)
	p := filepath.Join(caseDir, "pipeline.yaml")
	queries := []string{
		"-c", "SELECT count(*) AS stages FROM run_pipeline('" + p + "')",
		"-c", `SELECT id, name, src FROM "All" ORDER BY id`,
		"-c", `SELECT column_name, column_type FROM (DESCRIBE "From tsv")`,
		"-c", `SELECT column_name, column_type FROM show_schema('From csv zst')`,
		"-c", `SELECT * FROM tap('From parquet')`,
	}
	localCfg := filepath.Join(t.TempDir(), "local.yaml")
	require.NoError(t, os.WriteFile(localCfg, []byte("local:\n  bucket: "+caseDir+"\n"), 0o644))
	localOut, _ := cliRun(t, "", append([]string{"sql", "--format", "csv", "--config", localCfg}, queries...)...)
	require.Contains(t, localOut, "8,Hal,ndjson.gz\n9,Ivy,csv.zst\n10,Jo,param\n12,Lu,parquet\n")

	forEachLake(t, func(t *testing.T, l lake) {
		for _, e := range inputs {
			data, err := os.ReadFile(filepath.Join(caseDir, "input", e.Name()))
			require.NoError(t, err)
			l.put("data/input/"+e.Name(), data)
		}
		out, errOut := cliRun(t, "", append([]string{"sql", "--format", "csv", "--config", l.cfg}, queries...)...)
		require.Equal(t, localOut, out, "the same as the File connection reading the local files")
		require.NotContains(t, out+errOut, l.secret)

		// A sink: File only taps, wherever its locator points.
		bad := writePipeline(t, "- name: Write file\n  kind: sink\n  query: SELECT 1 AS id\n  connection: {kind: File, locator: "+l.scheme+"://lake/out/people.csv}\n")
		code, vout, verr := cliRunCode(t, "", "validate", bad)
		require.Equal(t, 2, code)
		require.Contains(t, vout+verr, "connection File cannot be used in sink stage 'Write file': it supports tap, show_schema")
	})
}
