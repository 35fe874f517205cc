package sqlfuncs_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/engine"
)

// The plan's file steps: planning them touches nothing, begin removes only the target's own
// leftover, commit renames the complete temporary file onto the target, and a database whose
// file access is restricted refuses targets outside its allowed directories.
func TestSinkFileSteps(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	target := filepath.Join(dir, "out.csv")
	tmp := filepath.Join(dir, ".out.csv.ankaflow-tmp")
	require.NoError(t, os.WriteFile(target, []byte("old\n"), 0o644))
	require.NoError(t, os.WriteFile(tmp, []byte("half"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "other.csv"), []byte("x\n"), 0o644))

	require.NoError(t, f.exec(f.s, "EXPLAIN CALL ankaflow_sink_begin("+engine.QuoteLiteral(target)+")"))
	require.FileExists(t, tmp, "planning removed the leftover")

	var file string
	f.scalar(f.s, "SELECT * FROM ankaflow_sink_begin("+engine.QuoteLiteral(target)+")", &file)
	require.Equal(t, target, file)
	require.NoFileExists(t, tmp)

	require.NoError(t, f.exec(f.s, "COPY (SELECT 42 AS answer) TO "+engine.QuoteLiteral(tmp)+" (FORMAT CSV)"))
	got, _ := os.ReadFile(target)
	require.Equal(t, "old\n", string(got), "the target changes only at the commit")
	require.NoError(t, f.exec(f.s, "CALL ankaflow_sink_commit("+engine.QuoteLiteral(target)+")"))
	got, _ = os.ReadFile(target)
	require.Equal(t, "answer\n42\n", string(got))
	require.NoFileExists(t, tmp)

	require.ErrorContains(t, f.exec(f.s, "CALL ankaflow_sink_commit("+engine.QuoteLiteral(target)+")"), "replace "+target+" with the rows just written")
	require.ErrorContains(t, f.exec(f.s, "CALL ankaflow_sink_begin('out.csv')"), "absolute file path")

	allowed := t.TempDir()
	require.NoError(t, f.exec(f.s, "SET allowed_directories = ["+engine.QuoteLiteral(allowed)+"]; SET enable_external_access = false"))
	require.ErrorContains(t, f.exec(f.s, "CALL ankaflow_sink_begin("+engine.QuoteLiteral(target)+")"), "outside the directories this server may write")
	require.NoError(t, f.exec(f.s, "CALL ankaflow_sink_begin("+engine.QuoteLiteral(filepath.Join(allowed, "x.csv"))+")"))
}
