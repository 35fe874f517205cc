package cli_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// In strict mode (ignore_errors: false) a malformed row fails the stage, and the error names
// the row's real line in the file (counted here from the file itself, header included) and the
// stage. The row sits past DuckDB's sniffing sample, so it is the reader, not the sniffer, that
// meets it; nothing is written to the stage's table.
func TestCSVStrictModeNamesTheLine(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("id,name\n")
	for i := 1; i < 40000; i++ {
		if i == 31234 {
			fmt.Fprintf(&b, "%d,bad,extra\n", i)
			continue
		}
		fmt.Fprintf(&b, "%d,n%d\n", i, i)
	}
	data := filepath.Join(dir, "data.csv")
	require.NoError(t, os.WriteFile(data, []byte(b.String()), 0o644))
	badLine := 0
	for i, l := range strings.Split(b.String(), "\n") {
		if strings.Contains(l, "bad") {
			badLine = i + 1
		}
	}
	pipeline := filepath.Join(dir, "pipeline.yaml")
	require.NoError(t, os.WriteFile(pipeline, []byte(fmt.Sprintf(`- name: Strict
  kind: tap
  connection:
    kind: CSV
    locator: %s
    params:
      ignore_errors: false
`, data)), 0o644))
	db := filepath.Join(dir, "out.duckdb")
	code, _, errOut := runCLI("run", "--db", db, pipeline)
	require.Equal(t, 1, code, errOut)
	require.Contains(t, errOut, "FAIL tap       'Strict'")
	require.Contains(t, errOut, fmt.Sprintf("error: stage 'Strict' (%s:1): Invalid Input Error: CSV Error on Line: %d\nOriginal Line: 31234,bad,extra", pipeline, badLine))
	require.Contains(t, errOut, "file = "+data)
	require.NotContains(t, errOut, "malformed rows skipped")
}
