package connectors

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// A sink's leftover temporary file (as after kill -9 mid-write) is never read by a tap whose
// glob would match it, and a DuckDB tmp_ file could be: that is why sinks name their own.
func TestTapSkipsSinkTempFiles(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	require.NoError(t, os.MkdirAll(out, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(out, "a.csv"), []byte("x\n1\n"), 0o644))
	require.NoError(t, os.WriteFile(SinkTempPath(filepath.Join(out, "big.csv")), []byte("x\n2\n3\n"), 0o644))
	require.Equal(t, filepath.Join(out, ".big.csv.ankaflow-tmp"), SinkTempPath(filepath.Join(out, "big.csv")))

	ctx := context.Background()
	env := &Env{Config: Config{Local: BucketConfig{Bucket: dir}}}
	for _, loc := range []string{"out/*", "out/*.csv*", "out/?big.csv.*"} {
		c, err := New(ctx, Definition{Stage: "s", Kind: "CSV", Locator: loc}, env)
		require.NoError(t, err)
		call, err := c.(*FileConnection).ReaderCall()
		require.NoError(t, err)
		require.NotContains(t, call, "ankaflow-tmp", loc)
	}
	c, err := New(ctx, Definition{Stage: "s", Kind: "CSV", Locator: "out/*"}, env)
	require.NoError(t, err)
	call, err := c.(*FileConnection).ReaderCall()
	require.NoError(t, err)
	require.Equal(t, "read_csv(['"+filepath.Join(out, "a.csv")+"'], ignore_errors = TRUE)", call)
}
