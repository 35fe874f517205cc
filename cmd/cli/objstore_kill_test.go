package cli_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/internal/tests3"
)

// ankaflowBinary builds cmd/ankaflow once per source tree: into a fixed path under the temp
// directory, so that a rebuild of unchanged sources is a no-op instead of a DuckDB link.
func ankaflowBinary(t *testing.T) string {
	t.Helper()
	_, here, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(here), "..", "..")
	h := sha256.Sum256([]byte(root))
	bin := filepath.Join(os.TempDir(), "ankaflow-testbin-"+hex.EncodeToString(h[:6]), "ankaflow")
	build := exec.Command("go", "build", "-o", bin, "./cmd/ankaflow")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build ankaflow: %v\n%s", err, out)
	}
	return bin
}

// TestObjectStoreSinkKilled: `ankaflow run` killed with SIGKILL in the middle of a multipart
// upload cannot abort it; the old object stays as it was, and the next run of a sink to the
// same key aborts the upload the killed run left (it is in the upload journal, from a process
// that is gone), while an upload of the same key by another writer is left alone.
func TestObjectStoreSinkKilled(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("needs the go command to build ankaflow")
	}
	bin := ankaflowBinary(t)
	s := tests3.Start(t, tests3.Options{Buckets: []string{"lake"}, Keys: []string{"AKPIPE:pipe-secret"}, Region: "eu-west-1", PartDelay: 400 * time.Millisecond})
	const key = "data/out/big.parquet"
	s.Put(t, "lake", key, []byte("old contents"))
	cfg := s3Config(t, s, "")
	spill := t.TempDir()
	p := filepath.Join(t.TempDir(), "p.yaml")
	// About 80 MB of Parquet (hashes do not compress): five 16 MiB parts.
	require.NoError(t, os.WriteFile(p, []byte(`
- name: Big
  kind: sink
  query: SELECT range AS id, md5(range::VARCHAR) AS h, md5((range + 1)::VARCHAR) AS h2 FROM range(1500000)
  connection: {kind: Parquet, locator: out/big.parquet}
`), 0o644))
	run := func() *exec.Cmd {
		cmd := exec.Command(bin, "run", p, "--config", cfg)
		cmd.Env = append(os.Environ(), "ANKAFLOW_SPILL_DIR="+spill)
		return cmd
	}

	killed := run()
	var stderr strings.Builder
	killed.Stderr = &stderr
	require.NoError(t, killed.Start())
	deadline := time.Now().Add(2 * time.Minute)
	for len(s.OpenUploads(t, "lake")) == 0 {
		if time.Now().After(deadline) {
			killed.Process.Kill()
			killed.Wait()
			t.Fatalf("no multipart upload appeared; ankaflow said:\n%s", stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	require.NoError(t, killed.Process.Signal(os.Kill))
	killed.Wait()
	orphans := s.OpenUploads(t, "lake")
	require.Len(t, orphans, 1, "the killed run's upload is still open")
	require.Equal(t, "old contents", string(s.Get(t, "lake", key)), "the old object is unchanged")

	// Another writer's upload of the same key: not ours, so never aborted.
	foreign, err := s.Client(t).NewMultipartUpload(context.Background(), "lake", key, minio.PutObjectOptions{})
	require.NoError(t, err)

	out, err := run().CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Equal(t, []string{key + " " + foreign}, s.OpenUploads(t, "lake"), "the killed run's upload is aborted, the other writer's is not")
	entries, _ := os.ReadDir(filepath.Join(spill, "ankaflow-uploads"))
	require.Empty(t, entries, "the upload journal is empty again")
	require.NoError(t, s.Client(t).AbortMultipartUpload(context.Background(), "lake", key, foreign))

	back := filepath.Join(t.TempDir(), "back.yaml")
	require.NoError(t, os.WriteFile(back, []byte("- name: Back\n  kind: tap\n  connection: {kind: Parquet, locator: out/big.parquet}\n"), 0o644))
	got, _ := cliRun(t, "", "sql", "--format", "csv", "--config", cfg,
		"-c", "SELECT count(*) AS n FROM load_pipeline('"+back+"')",
		"-c", "SELECT count(*) AS n, sum(id) AS ids, count(DISTINCT h) AS hashes, bool_and(h = md5(id::VARCHAR)) AS ok FROM tap('Back')")
	require.Equal(t, "n\n1\nn,ids,hashes,ok\n1500000,1124999250000,1500000,true\n", got)
}
