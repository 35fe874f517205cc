package cli_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/cmd/cli"
	"github.com/ankaflow/ankaflow/engine"
)

// TestMappingOrderProperty: a random mapping of 1–50 keys keeps its order through a @json
// param (read_csv's columns), a Variable sink and tap, loop_control and | tojson.
func TestMappingOrderProperty(t *testing.T) {
	rng := rand.New(rand.NewSource(9))
	for _, n := range []int{1, 2, 7, 50, 1 + rng.Intn(50)} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			keys := randomKeys(rng, n)
			checkOrder(t, keys)
		})
	}
}

// randomKeys returns n distinct lower-case names in random (unsorted) order.
func randomKeys(rng *rand.Rand, n int) []string {
	seen := map[string]bool{}
	var keys []string
	for len(keys) < n {
		b := make([]byte, 1+rng.Intn(6))
		for i := range b {
			b[i] = byte('a' + rng.Intn(26))
		}
		k := string(b)
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	return keys
}

func checkOrder(t *testing.T, keys []string) {
	root := t.TempDir()
	var cols, header, row, jsonWant []string
	for i, k := range keys {
		cols = append(cols, fmt.Sprintf("%q: \"VARCHAR\"", k))
		header = append(header, k)
		row = append(row, fmt.Sprintf("v%d", i))
		jsonWant = append(jsonWant, fmt.Sprintf("%q: \"v%d\"", k, i))
	}
	require.NoError(t, os.WriteFile(filepath.Join(root, "in.csv"), []byte(strings.Join(header, ",")+"\n"+strings.Join(row, ",")+"\n"), 0o644))
	pipeline := `
- name: Tapped
  kind: tap
  connection:
    kind: CSV
    locator: ` + filepath.Join(root, "in.csv") + `
    params:
      header: true
      columns: '@json{` + strings.Join(cols, ", ") + `}'
- name: Save
  kind: sink
  connection: {kind: Variable, locator: saved}
- name: Back
  kind: tap
  connection: {kind: Variable, locator: saved}
- name: Setup
  kind: internal
  query: CREATE TABLE seen (loop_json VARCHAR, var_json VARCHAR)
- name: Rows
  kind: internal
  query: SELECT * FROM "Back"
- name: Each
  kind: pipeline
  stages:
    - name: Record
      kind: internal
      query: INSERT INTO seen VALUES ('<< variables.loop_control | tojson >>', '<< variables.saved[0] | tojson >>')
`
	p := filepath.Join(root, "pipeline.yaml")
	require.NoError(t, os.WriteFile(p, []byte(pipeline), 0o644))
	dbPath := filepath.Join(root, "run.duckdb")
	var stdout, stderr bytes.Buffer
	code := cli.Run(context.Background(), []string{"run", p, "--db", dbPath}, strings.NewReader(""), &stdout, &stderr)
	require.Equal(t, 0, code, stderr.String())

	db, err := engine.Open(context.Background(), engine.Options{Path: dbPath})
	require.NoError(t, err)
	defer db.Close()
	var wantNames [][]string
	for _, k := range keys {
		wantNames = append(wantNames, []string{k})
	}
	require.Equal(t, wantNames, queryStrings(t, db.SQL(), `SELECT column_name FROM (DESCRIBE "Tapped")`), "@json params")
	require.Equal(t, wantNames, queryStrings(t, db.SQL(), `SELECT column_name FROM (DESCRIBE "Back")`), "Variable sink + tap")
	require.Equal(t, [][]string{row}, queryStrings(t, db.SQL(), `SELECT * FROM "Back"`), "values under their names")
	want := "{" + strings.Join(jsonWant, ", ") + "}"
	require.Equal(t, [][]string{{want, want}}, queryStrings(t, db.SQL(), `SELECT loop_json, var_json FROM seen`), "loop_control and variables through | tojson")
}
