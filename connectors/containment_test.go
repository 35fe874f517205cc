package connectors

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// A locator inside the bucket that is (or passes through) a symbolic link to somewhere else
// is refused, for taps (files and globs) and sinks (the directory the file would go in).
// Links that stay inside the bucket, and a bucket that is itself a link, still work.
func TestLocateRefusesSymlinksOutOfTheBucket(t *testing.T) {
	base := t.TempDir()
	outside := filepath.Join(base, "outside")
	realBucket := filepath.Join(base, "real-bucket")
	for _, d := range []string{outside, filepath.Join(realBucket, "data")} {
		require.NoError(t, os.MkdirAll(d, 0o755))
	}
	require.NoError(t, os.WriteFile(filepath.Join(outside, "secret.csv"), []byte("a\n1\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(realBucket, "data", "ok.csv"), []byte("a\n1\n"), 0o644))
	bucket := filepath.Join(base, "bucket")
	require.NoError(t, os.Symlink(realBucket, bucket)) // the bucket itself may be a link
	require.NoError(t, os.Symlink(filepath.Join(outside, "secret.csv"), filepath.Join(realBucket, "data", "link.csv")))
	require.NoError(t, os.Symlink(outside, filepath.Join(realBucket, "out")))
	require.NoError(t, os.Symlink(filepath.Join(realBucket, "data", "ok.csv"), filepath.Join(realBucket, "inner.csv")))
	cfg := Config{Local: BucketConfig{Bucket: bucket}}

	for _, c := range []struct {
		locator string
		tap     bool
		err     string
	}{
		{"data/ok.csv", true, ""},
		{"inner.csv", true, ""},
		{"data/new.csv", false, ""},
		{"new/dir/file.csv", false, ""},
		{"data/link.csv", true, "leads outside its bucket"},
		{"data/link.csv", false, "leads outside its bucket"},
		{"data/*.csv", true, "leads outside its bucket"},
		{"out/secret.csv", true, "leads outside its bucket"},
		{"out/new.csv", false, "leads outside its bucket"},
		{"out/*.csv", true, "leads outside its bucket"},
	} {
		got, err := cfg.Locate(c.locator, c.tap)
		if c.err == "" {
			require.NoError(t, err, c.locator)
			require.Equal(t, filepath.Join(bucket, c.locator), got)
		} else {
			require.ErrorContains(t, err, c.err, c.locator)
		}
	}
}
