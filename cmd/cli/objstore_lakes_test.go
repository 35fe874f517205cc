package cli_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/internal/testazurite"
	"github.com/ankaflow/ankaflow/internal/testgcs"
	"github.com/ankaflow/ankaflow/internal/tests3"
)

// lake is one object store under test, holding the bucket (container) "lake": a run-wide config
// resolving relative locators under <scheme>://lake/data, a way to store an object, and what
// must never be printed.
type lake struct {
	scheme string
	cfg    string
	put    func(key string, data []byte)
	served func() int64 // bytes the server has sent in GET responses so far
	secret string
}

// forEachLake runs fn against a fresh S3, GCS and Azure server (one subtest each; Azure is
// skipped where Azurite is not installed, outside CI).
func forEachLake(t *testing.T, fn func(t *testing.T, l lake)) {
	t.Run("s3", func(t *testing.T) {
		s := tests3.Start(t, tests3.Options{Buckets: []string{"lake"}, Keys: []string{"AKPIPE:pipe-secret"}, Region: "eu-west-1"})
		fn(t, lake{scheme: "s3", cfg: s3Config(t, s, ""), put: func(key string, data []byte) { s.Put(t, "lake", key, data) },
			served: func() int64 { return s.Served(t) }, secret: "pipe-secret"})
	})
	t.Run("gs", func(t *testing.T) {
		s := testgcs.Start(t, testgcs.Options{Buckets: []string{"lake"}, Accounts: []string{gcsAccount}})
		fn(t, lake{scheme: "gs", cfg: gcsConfig(t, s, ""), put: func(key string, data []byte) { s.Put(t, "lake", key, data) },
			served: func() int64 { return s.Served(t) }, secret: "PRIVATE KEY"})
	})
	t.Run("az", func(t *testing.T) {
		s := testazurite.Start(t, "lake").Proxy(t, 0)
		fn(t, lake{scheme: "az", cfg: azConfig(t, s, ""), put: func(key string, data []byte) { s.Put(t, "lake", key, data) },
			served: func() int64 { return s.Served(t) }, secret: testazurite.Key})
	})
}

// writePipeline writes a pipeline file into a fresh temporary directory and returns its path.
func writePipeline(t *testing.T, yaml string) string {
	p := filepath.Join(t.TempDir(), "p.yaml")
	require.NoError(t, os.WriteFile(p, []byte(yaml), 0o644))
	return p
}
