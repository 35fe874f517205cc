package connectors

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// A sink's temporary file is hidden and ends in .ankaflow-tmp; the next run removes it (and a
// leftover of the earlier tmp_<target> scheme with its mark), and leaves other files alone.
func TestSinkTempLifecycle(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "out.csv")
	write := func(name, body string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644))
	}
	write("out.csv", "old\n")
	write(".out.csv.ankaflow-tmp", "half")
	write("tmp_out.csv", "legacy half")
	write(".tmp_out.csv.ankaflow-sink", "")
	write(".other.csv.tmp", "someone else's")
	write("tmp_mine.csv", "a user's file")
	require.Equal(t, filepath.Join(dir, ".out.csv.ankaflow-tmp"), SinkTempPath(target))

	require.NoError(t, StartSink(target))
	names := func() []string {
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		var out []string
		for _, e := range entries {
			out = append(out, e.Name())
		}
		return out
	}
	require.Equal(t, []string{".other.csv.tmp", "out.csv", "tmp_mine.csv"}, names())

	// A failed COPY: the target keeps its content, the temporary file goes.
	write(".out.csv.ankaflow-tmp", "partial")
	AbortSink(target)
	got, _ := os.ReadFile(target)
	require.Equal(t, "old\n", string(got))
	require.Equal(t, []string{".other.csv.tmp", "out.csv", "tmp_mine.csv"}, names())

	// A complete COPY replaces the target in one rename.
	write(".out.csv.ankaflow-tmp", "new\n")
	require.NoError(t, CommitSink(target))
	got, _ = os.ReadFile(target)
	require.Equal(t, "new\n", string(got))
	require.Equal(t, []string{".other.csv.tmp", "out.csv", "tmp_mine.csv"}, names())

	require.True(t, isOurSinkTemp(filepath.Join(dir, ".x.parquet.ankaflow-tmp")))
	require.False(t, isOurSinkTemp(filepath.Join(dir, "x.parquet.ankaflow-tmp")), "not hidden: not ours")
	require.False(t, isOurSinkTemp(filepath.Join(dir, "tmp_mine.csv")), "no mark: a user's file")
}
