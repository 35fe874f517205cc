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

// bigSink is a pipeline writing about 80 MB of Parquet (hashes do not compress: five 16 MiB
// parts, chunks or blocks) to out/big.parquet, run by `ankaflow run` as its own process, so
// that a test can kill it outright.
type bigSink struct {
	bin, cfg, spill, pipeline string
}

const bigSinkKey = "data/out/big.parquet"

func newBigSink(t *testing.T, cfg string) *bigSink {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("needs the go command to build ankaflow")
	}
	return &bigSink{bin: ankaflowBinary(t), cfg: cfg, spill: t.TempDir(), pipeline: writePipeline(t, `
- name: Big
  kind: sink
  query: SELECT range AS id, md5(range::VARCHAR) AS h, md5((range + 1)::VARCHAR) AS h2 FROM range(1500000)
  connection: {kind: Parquet, locator: out/big.parquet}
`)}
}

func (b *bigSink) command() *exec.Cmd {
	cmd := exec.Command(b.bin, "run", b.pipeline, "--config", b.cfg)
	cmd.Env = append(os.Environ(), "ANKAFLOW_SPILL_DIR="+b.spill)
	return cmd
}

// kill runs the sink and kills it with SIGKILL as soon as started reports its upload under way.
func (b *bigSink) kill(t *testing.T, started func() bool) {
	t.Helper()
	killed := b.command()
	var stderr strings.Builder
	killed.Stderr = &stderr
	require.NoError(t, killed.Start())
	deadline := time.Now().Add(2 * time.Minute)
	for !started() {
		if time.Now().After(deadline) {
			killed.Process.Kill()
			killed.Wait()
			t.Fatalf("the upload did not start; ankaflow said:\n%s", stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	require.NoError(t, killed.Process.Signal(os.Kill))
	killed.Wait()
}

// run runs the sink to completion.
func (b *bigSink) run(t *testing.T) {
	t.Helper()
	out, err := b.command().CombinedOutput()
	require.NoError(t, err, "%s", out)
}

// requireWritten reads the object back through a tap and compares its values.
func (b *bigSink) requireWritten(t *testing.T) {
	t.Helper()
	back := writePipeline(t, "- name: Back\n  kind: tap\n  connection: {kind: Parquet, locator: out/big.parquet}\n")
	got, _ := cliRun(t, "", "sql", "--format", "csv", "--config", b.cfg,
		"-c", "SELECT count(*) AS n FROM load_pipeline('"+back+"')",
		"-c", "SELECT count(*) AS n, sum(id) AS ids, count(DISTINCT h) AS hashes, bool_and(h = md5(id::VARCHAR)) AS ok FROM tap('Back')")
	require.Equal(t, "n\n1\nn,ids,hashes,ok\n1500000,1124999250000,1500000,true\n", got)
}

// TestObjectStoreSinkKilled: `ankaflow run` killed with SIGKILL in the middle of a multipart
// upload cannot abort it; the old object stays as it was, and the next run of a sink to the
// same key aborts the upload the killed run left (it is in the upload journal, from a process
// that is gone), while an upload of the same key by another writer is left alone.
func TestObjectStoreSinkKilled(t *testing.T) {
	s := tests3.Start(t, tests3.Options{Buckets: []string{"lake"}, Keys: []string{"AKPIPE:pipe-secret"}, Region: "eu-west-1", PartDelay: 400 * time.Millisecond})
	s.Put(t, "lake", bigSinkKey, []byte("old contents"))
	b := newBigSink(t, s3Config(t, s, ""))
	// Killed once the run has journalled its upload: the store creates the upload before the
	// client learns its id, and an upload killed in between has no journal entry to clean up by.
	b.kill(t, func() bool {
		entries, _ := os.ReadDir(filepath.Join(b.spill, "ankaflow-uploads"))
		return len(s.OpenUploads(t, "lake")) > 0 && len(entries) > 0
	})
	orphans := s.OpenUploads(t, "lake")
	require.Len(t, orphans, 1, "the killed run's upload is still open")
	require.Equal(t, "old contents", string(s.Get(t, "lake", bigSinkKey)), "the old object is unchanged")

	// Another writer's upload of the same key: not ours, so never aborted.
	foreign, err := s.Client(t).NewMultipartUpload(context.Background(), "lake", bigSinkKey, minio.PutObjectOptions{})
	require.NoError(t, err)

	b.run(t)
	require.Equal(t, []string{bigSinkKey + " " + foreign}, s.OpenUploads(t, "lake"), "the killed run's upload is aborted, the other writer's is not")
	entries, _ := os.ReadDir(filepath.Join(b.spill, "ankaflow-uploads"))
	require.Empty(t, entries, "the upload journal is empty again")
	require.NoError(t, s.Client(t).AbortMultipartUpload(context.Background(), "lake", bigSinkKey, foreign))
	b.requireWritten(t)
}
