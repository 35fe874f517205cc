package cli_test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/cmd/cli"
	"github.com/ankaflow/ankaflow/internal/testenv"
	"github.com/ankaflow/ankaflow/internal/testgcs"
)

const gcsAccount = "pipeline@ankaflow-test.iam.gserviceaccount.com"

// gcsConfig writes a run-wide config whose gs section points at the test server and signs in
// with a service-account key file; locators are relative to gs://lake/data.
func gcsConfig(t *testing.T, s *testgcs.Server, extra string) string {
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(fmt.Sprintf("gs:\n  bucket: gs://lake\n  data_prefix: data\n  endpoint_url: %s\n  credential_file: %s\n%s",
		s.Endpoint, s.KeyFile(t, gcsAccount), extra)), 0o644))
	return cfg
}

// TestGCSPipeline: Parquet, CSV and JSON sinks write gs:// objects to a real GCS-protocol
// server, and taps of the same formats read them back; the same pipeline as on S3.
func TestGCSPipeline(t *testing.T) {
	s := testgcs.Start(t, testgcs.Options{Buckets: []string{"lake"}, Accounts: []string{gcsAccount}})
	cfg := gcsConfig(t, s, "")
	output := runSeedPipeline(t, cfg, "gs")
	require.Equal(t, "id,name,amount\n0,n0,0.0\n1,n1,1.5\n2,n2,3.0\n3,n3,4.5\n", string(s.Get(t, "lake", "data/out/seed.csv")))
	require.Equal(t, "PAR1", string(s.Get(t, "lake", "data/out/seed.parquet")[:4]))
	require.Equal(t, []byte{0x1f, 0x8b}, s.Get(t, "lake", "data/out/seed.csv.gz")[:2])
	require.NotContains(t, output, "PRIVATE KEY")

	// From SQL: COPY … TO 'stage' (FORMAT ankaflow) replaces the object.
	p := writePipeline(t, strings.ReplaceAll(s3Pipeline, "s3://", "gs://"))
	cliRun(t, "", "sql", "--config", cfg, "-c", "SELECT count(*) FROM load_pipeline('"+p+"')",
		"-c", "COPY (SELECT 42 AS answer) TO 'OutJSON' (FORMAT ankaflow)")
	require.Equal(t, "{\"answer\":42}\n", string(s.Get(t, "lake", "data/out/seed.json")))
}

// runSeedPipeline runs s3Pipeline, its s3:// locators moved to scheme, under cfg and requires
// what its taps read back. It returns both output streams.
func runSeedPipeline(t *testing.T, cfg, scheme string) string {
	t.Helper()
	p := writePipeline(t, strings.ReplaceAll(s3Pipeline, "s3://", scheme+"://"))
	out, errOut := cliRun(t, "", "sql", "--format", "csv", "--config", cfg,
		"-c", "SELECT name, rows FROM run_pipeline('"+p+"') WHERE name LIKE 'Back%'",
		"-c", `SELECT * FROM "BackParquet" ORDER BY id`,
		"-c", `SELECT * FROM "BackCSV" ORDER BY id`,
		"-c", `SELECT * FROM "BackJSON" ORDER BY id`,
		"-c", `SELECT count(*) AS again FROM tap('BackCSV')`,
		"-c", `SELECT column_name, column_type FROM show_schema('BackJSON')`,
	)
	require.Equal(t, "name,rows\nBackParquet,3\nBackCSV,4\nBackJSON,3\nBackGz,2\n"+
		"id,name\n2,n2\n3,n3\n4,n4\n"+
		"id,name,amount\n0,n0,0.0\n1,n1,1.5\n2,n2,3.0\n3,n3,4.5\n"+
		"id,name,amount\n0,n0,0.0\n1,n1,1.5\n2,n2,3.0\n"+
		"again\n4\n"+
		"column_name,column_type\nid,BIGINT\nname,VARCHAR\namount,DOUBLE\n", out)
	return out + errOut
}

// TestGCSGlobMatchesLocal: a glob over 100 Parquet objects (with hive partitions and the
// locator_wildcard rule) reads the same as DuckDB reading the same files on local disk.
func TestGCSGlobMatchesLocal(t *testing.T) {
	s := testgcs.Start(t, testgcs.Options{Buckets: []string{"lake"}, Accounts: []string{gcsAccount}})
	// DuckDB writes the Parquet files locally; the same bytes go to the bucket.
	local := t.TempDir()
	var sql []string
	for i := range 100 {
		dir := filepath.Join(local, fmt.Sprintf("orders/year=2024/month=%02d", i%12+1))
		require.NoError(t, os.MkdirAll(dir, 0o755))
		sql = append(sql, "-c", fmt.Sprintf("COPY (SELECT %d + range AS id, (%d + range) * 2.5 AS amount, 'c' || (range %% 3) AS cust FROM range(50)) TO '%s/part-%03d.parquet' (FORMAT parquet)", i*50, i*50, dir, i))
	}
	cliRun(t, "", append([]string{"sql"}, sql...)...)
	require.NoError(t, filepath.WalkDir(local, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		require.NoError(t, err)
		rel, _ := filepath.Rel(local, p)
		s.Put(t, "lake", "data/"+filepath.ToSlash(rel), data)
		return nil
	}))
	s.Put(t, "lake", "data/orders/year=2023/month=01/part-000.parquet", s.Get(t, "lake", "data/orders/year=2024/month=01/part-000.parquet"))

	p := writePipeline(t, `
- name: Orders
  kind: tap
  connection: {kind: Parquet, locator: "orders/year=2024/month=#/part-#.parquet", params: {hive_partitioning: true}}
  query: SELECT cust, month, count(*) AS n, sum(id) AS ids, sum(amount) AS amount FROM Parquet GROUP BY ALL ORDER BY ALL
`)
	queries := []string{"-c", "SELECT count(*) FROM run_pipeline('" + p + "')", "-c", `SELECT * FROM "Orders"`,
		"-c", `SELECT sum(n) AS n, sum(ids) AS ids FROM "Orders"`}
	out, _ := cliRun(t, "", append([]string{"sql", "--format", "csv", "--config", gcsConfig(t, s, "  locator_wildcard: ['#', '*']\n")}, queries...)...)
	localCfg := filepath.Join(t.TempDir(), "local.yaml")
	require.NoError(t, os.WriteFile(localCfg, []byte("local:\n  bucket: "+local+"\n  locator_wildcard: ['#', '*']\n"), 0o644))
	localOut, _ := cliRun(t, "", append([]string{"sql", "--format", "csv", "--config", localCfg}, queries...)...)
	require.Equal(t, localOut, out, "the same as DuckDB reading the files from local disk")
	require.Equal(t, 2+1+36+2, strings.Count(out, "\n"), "3 customers × 12 months")
	require.Contains(t, out, "c0,01,")
	require.True(t, strings.HasSuffix(out, "\nn,ids\n5000,12497500\n"), "every row of 2024 once, none of 2023: %s", out)
}

// TestGCSErrorsInPipeline: errors name the stage, the URL and what to check.
func TestGCSErrorsInPipeline(t *testing.T) {
	s := testgcs.Start(t, testgcs.Options{Buckets: []string{"lake"}, Accounts: []string{gcsAccount}})
	cfg := gcsConfig(t, s, "")
	p := writePipeline(t, `
- name: lake_missing
  kind: tap
  connection: {kind: Parquet, locator: nope.parquet}
- name: other_bucket
  kind: tap
  connection: {kind: CSV, locator: "gs://elsewhere/*.csv"}
`)
	load := "SELECT count(*) AS n FROM load_pipeline('" + p + "')"
	code, _, errOut := cliRunCode(t, "", "sql", "--config", cfg, "-c", load, "-c", "SELECT * FROM tap('lake_missing')")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, `tap of Parquet stage 'lake_missing': list gs://lake/data/nope.parquet: object "data/nope.parquet" does not exist (NoSuchKey); check the key`)
	code, _, errOut = cliRunCode(t, "", "sql", "--config", cfg, "-c", load, "-c", "SELECT * FROM tap('other_bucket')")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, `tap of CSV stage 'other_bucket': list gs://elsewhere/*.csv: bucket "elsewhere" does not exist (NoSuchBucket)`)
	require.NotContains(t, errOut, "PRIVATE KEY")
}

// TestGCSSinkCancelled: a pipeline whose gs:// sink is cancelled mid-upload (resumable upload,
// chunks slowed by the server) leaves the existing object as it was.
func TestGCSSinkCancelled(t *testing.T) {
	s := testgcs.Start(t, testgcs.Options{Buckets: []string{"lake"}, Accounts: []string{gcsAccount}, ChunkDelay: 500 * time.Millisecond})
	s.Put(t, "lake", "data/out/big.csv", []byte("old,contents\n"))
	errOut := runCancelledSink(t, gcsConfig(t, s, ""), func() bool { return s.Chunks(t) > 0 })
	time.Sleep(time.Second) // a late chunk must not finalise the upload either
	require.Equal(t, "old,contents\n", string(s.Get(t, "lake", "data/out/big.csv")))
	require.Equal(t, []string{"data/out/big.csv"}, s.Keys(t, "lake"))
	require.NotContains(t, errOut, "PRIVATE KEY")
}

// runCancelledSink runs a pipeline that writes about 60 MB of CSV to out/big.csv and cancels it
// as soon as started reports the upload under way; the run must fail as interrupted. It
// returns the run's stderr.
func runCancelledSink(t *testing.T, cfg string, started func() bool) string {
	t.Helper()
	p := writePipeline(t, `
- name: Big
  kind: sink
  query: SELECT range AS id, repeat('x', 50) AS pad FROM range(1000000)
  connection: {kind: CSV, locator: out/big.csv}
`)
	ctx, cancel := testenv.CancelWhen(started)
	defer cancel()
	var errOut bytes.Buffer
	code := cli.Run(ctx, []string{"run", p, "--config", cfg}, strings.NewReader(""), io.Discard, &errOut)
	require.NotEqual(t, 0, code)
	require.Contains(t, errOut.String(), "interrupted")
	return errOut.String()
}
