package cli_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/ankaflow/ankaflow/cmd/cli"
	"github.com/ankaflow/ankaflow/engine"
	_ "github.com/ankaflow/ankaflow/internal/testconn" // custom connections of module ankaflow.testing
)

// expectation is a case's expect.yaml.
type expectation struct {
	Command string   `yaml:"command"` // run (default), plan, validate
	Args    []string `yaml:"args"`    // after the pipeline file
	Exit    int      `yaml:"exit"`
	// Stdout is compared exactly (after $ROOT substitution) when set.
	Stdout         *string  `yaml:"stdout"`
	StdoutContains []string `yaml:"stdout_contains"`
	StderrContains []string `yaml:"stderr_contains"`
	StderrLacks    []string `yaml:"stderr_lacks"`
	// Checks run SQL on the run's database afterwards.
	Checks []check `yaml:"checks"`
	// Files must exist; their check SQL may use $FILE.
	Files []fileCheck `yaml:"files"`
	// Absent files must not exist after the run.
	Absent []string `yaml:"absent"`
	// Unchanged files must have the same bytes as before the run.
	Unchanged []string `yaml:"unchanged"`
	// Listing gives the exact entries of directories after the run (no temp files left over).
	Listing map[string][]string `yaml:"listing"`
}

type check struct {
	SQL  string     `yaml:"sql"`
	Rows [][]string `yaml:"rows"`
}

type fileCheck struct {
	Path string     `yaml:"path"`
	SQL  string     `yaml:"sql"`
	Rows [][]string `yaml:"rows"`
}

// TestEndToEnd runs every case under testdata/e2e through the CLI entry point: each case is a
// directory with pipeline.yaml, expect.yaml and optionally input files. The case directory is
// copied to a temp dir, which is the bucket (root) of relative locators.
func TestEndToEnd(t *testing.T) {
	cases, err := filepath.Glob("../../testdata/e2e/*/expect.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, cases)
	for _, exp := range cases {
		dir := filepath.Dir(exp)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			t.Parallel()
			runCase(t, dir)
		})
	}
}

func runCase(t *testing.T, src string) {
	var ex expectation
	data, err := os.ReadFile(filepath.Join(src, "expect.yaml"))
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(data, &ex))

	root := t.TempDir()
	require.NoError(t, copyDir(src, root))
	before := map[string][]byte{}
	for _, f := range ex.Unchanged {
		b, err := os.ReadFile(filepath.Join(root, f))
		require.NoError(t, err, "unchanged file must exist before the run")
		before[f] = b
	}
	sub := func(s string) string { return strings.ReplaceAll(s, "$ROOT", root) }

	cfg := filepath.Join(root, "ankaflow-config.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte("local:\n  bucket: "+root+"\n"), 0o644))
	dbPath := filepath.Join(root, "run.duckdb")
	cmd := ex.Command
	if cmd == "" {
		cmd = "run"
	}
	args := []string{cmd, filepath.Join(root, "pipeline.yaml")}
	switch cmd {
	case "run":
		args = append(args, "--config", cfg, "--db", dbPath)
	case "plan":
		args = append(args, "--config", cfg)
	}
	for _, a := range ex.Args {
		args = append(args, sub(a))
	}
	var stdout, stderr bytes.Buffer
	code := cli.Run(context.Background(), args, strings.NewReader(""), &stdout, &stderr)
	out := strings.ReplaceAll(stdout.String(), root, "$ROOT")
	errOut := strings.ReplaceAll(stderr.String(), root, "$ROOT")
	t.Logf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	require.Equal(t, ex.Exit, code, "exit code")
	if ex.Stdout != nil {
		require.Equal(t, *ex.Stdout, out, "stdout")
	}
	for _, s := range ex.StdoutContains {
		require.Contains(t, out, s)
	}
	for _, s := range ex.StderrContains {
		require.Contains(t, errOut, s)
	}
	for _, s := range ex.StderrLacks {
		require.NotContains(t, errOut, s)
	}
	for f, b := range before {
		now, err := os.ReadFile(filepath.Join(root, f))
		require.NoError(t, err)
		require.Equal(t, b, now, "file %s must be unchanged", f)
	}
	for _, f := range ex.Absent {
		_, err := os.Stat(filepath.Join(root, f))
		require.True(t, os.IsNotExist(err), "%s must not exist", f)
	}
	for dir, want := range ex.Listing {
		entries, err := os.ReadDir(filepath.Join(root, dir))
		require.NoError(t, err)
		got := []string{}
		for _, e := range entries {
			got = append(got, e.Name())
		}
		require.Equal(t, want, got, "entries of %s", dir)
	}
	if len(ex.Checks) == 0 && len(ex.Files) == 0 {
		return
	}
	db, err := engine.Open(context.Background(), engine.Options{Path: dbPathIfExists(dbPath)})
	require.NoError(t, err)
	defer db.Close()
	for _, c := range ex.Checks {
		require.Equal(t, c.Rows, queryStrings(t, db.SQL(), sub(c.SQL)), c.SQL)
	}
	for _, f := range ex.Files {
		path := filepath.Join(root, f.Path)
		_, err := os.Stat(path)
		require.NoError(t, err, "file %s must exist", f.Path)
		if f.SQL != "" {
			q := strings.ReplaceAll(sub(f.SQL), "$FILE", path)
			require.Equal(t, f.Rows, queryStrings(t, db.SQL(), q), q)
		}
	}
}

func dbPathIfExists(p string) string {
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return ""
}

func queryStrings(t *testing.T, db *sql.DB, q string) [][]string {
	rows, err := db.Query(q)
	require.NoError(t, err, q)
	defer rows.Close()
	cols, _ := rows.Columns()
	out := [][]string{}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		require.NoError(t, rows.Scan(ptrs...))
		row := make([]string, len(cols))
		for i, v := range vals {
			row[i] = sqlText(v)
		}
		out = append(out, row)
	}
	require.NoError(t, rows.Err())
	return out
}

// sqlText renders a scanned value the way expect.yaml writes it.
func sqlText(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case []byte:
		return string(x)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(x), 'g', -1, 32)
	case time.Time:
		return x.Format("2006-01-02 15:04:05.999999")
	case fmt.Stringer:
		return x.String()
	}
	return fmt.Sprint(v)
}

func copyDir(src, dst string) error {
	return filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
}
