package cli_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/cmd/cli"
	"github.com/ankaflow/ankaflow/internal/testazurite"
)

// azConfig writes a run-wide config whose az section holds the emulator's connection string;
// locators are relative to az://lake/data.
func azConfig(t *testing.T, s *testazurite.Server, extra string) string {
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(fmt.Sprintf("az:\n  bucket: az://lake\n  data_prefix: data\n  connection_string: %q\n%s", s.ConnectionString(), extra)), 0o644))
	return cfg
}

// TestAzurePipeline: Parquet, CSV and JSON sinks write blobs to a real Azure-protocol server
// (Azurite), taps of the same formats read them back, also from SQL; a plan shows no secret.
func TestAzurePipeline(t *testing.T) {
	s := testazurite.Start(t, "lake")
	cfg := azConfig(t, s, "")
	p := writePipeline(t, strings.ReplaceAll(s3Pipeline, "s3://", "az://")) // the S3 test's stages
	out, errOut := cliRun(t, "", "sql", "--format", "csv", "--config", cfg,
		"-c", "SELECT name, rows FROM run_pipeline('"+p+"') WHERE name LIKE 'Back%'",
		"-c", `SELECT * FROM "BackParquet" ORDER BY id`,
		"-c", `SELECT * FROM "BackCSV" ORDER BY id`,
		"-c", `SELECT * FROM "BackJSON" ORDER BY id`,
		"-c", `SELECT count(*) AS again FROM tap('BackCSV')`,
		"-c", `SELECT column_name, column_type FROM show_schema('BackJSON')`,
		"-c", `COPY (SELECT id * 10 AS id FROM tap('BackJSON')) TO 'OutCSV' (FORMAT ankaflow)`,
	)
	require.Equal(t, "name,rows\nBackParquet,3\nBackCSV,4\nBackJSON,3\nBackGz,2\n"+
		"id,name\n2,n2\n3,n3\n4,n4\n"+
		"id,name,amount\n0,n0,0.0\n1,n1,1.5\n2,n2,3.0\n3,n3,4.5\n"+
		"id,name,amount\n0,n0,0.0\n1,n1,1.5\n2,n2,3.0\n"+
		"again\n4\n"+
		"column_name,column_type\nid,BIGINT\nname,VARCHAR\namount,DOUBLE\n", out)
	require.Equal(t, "id\n0\n10\n20\n", string(s.Get(t, "lake", "data/out/seed.csv")), "COPY … (FORMAT ankaflow) replaced the blob")
	require.Equal(t, []byte{0x1f, 0x8b}, s.Get(t, "lake", "data/out/seed.csv.gz")[:2], "compressed as its extension says")
	require.Equal(t, "PAR1", string(s.Get(t, "lake", "data/out/seed.parquet")[:4]))
	require.Contains(t, string(s.Get(t, "lake", "data/out/seed.json")), `"name":"n1"`)

	plan, planErr := cliRun(t, "", "plan", p, "--config", cfg)
	require.Contains(t, plan, "tap('BackParquet'")
	conns, _ := cliRun(t, "", "sql", "--format", "csv", "--config", cfg, "-c", "SELECT count(*) FROM load_pipeline('"+p+"')",
		"-c", "SELECT * FROM connections() WHERE name = 'OutJSON'")
	require.Contains(t, conns, "az://lake/data/out/seed.json")
	for _, text := range []string{out, errOut, plan, planErr, conns} {
		require.NotContains(t, text, testazurite.Key)
	}
}

// TestAzureGlobHive: a glob over 100 blobs is listed by prefix and read at once (and in runs),
// exactly as DuckDB reads the same files from local disk, hive partition columns included.
func TestAzureGlobHive(t *testing.T) {
	s := testazurite.Start(t, "lake")
	local := t.TempDir()
	put := func(key, data string) {
		s.Put(t, "lake", "data/"+key, []byte(data))
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(local, key)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(local, key), []byte(data), 0o644))
	}
	for i := range 100 {
		put(fmt.Sprintf("orders/year=2024/month=%02d/part-%03d.json", i%12+1, i), fmt.Sprintf(`{"id":%d,"amount":%d.5,"tag":"t%d"}`+"\n", i, i*10, i%7))
	}
	put("orders/year=2023/month=01/part-000.json", `{"id":-1,"amount":0,"tag":"old"}`+"\n")
	put("orders/year=2024/month=01/extra/part-999.json", `{"id":-2,"amount":0,"tag":"deep"}`+"\n")
	p := writePipeline(t, `
- name: Orders
  kind: tap
  connection: {kind: JSON, locator: "orders/year=2024/month=#/part-#.json", params: {hive_partitioning: true}}
  query: SELECT month, count(*) AS n, sum(id) AS ids, sum(amount) AS amount, string_agg(DISTINCT tag, '|' ORDER BY tag) AS tags, min(year) AS y FROM JSON GROUP BY month ORDER BY month
`)
	run := func(cfg string) string {
		out, _ := cliRun(t, "", "sql", "--format", "csv", "--config", cfg,
			"-c", "SELECT count(*) FROM run_pipeline('"+p+"')",
			"-c", `SELECT * FROM "Orders"`)
		return out
	}
	localCfg := filepath.Join(t.TempDir(), "local.yaml")
	require.NoError(t, os.WriteFile(localCfg, []byte("local:\n  bucket: "+local+"\n  locator_wildcard: ['#', '*']\n"), 0o644))
	want := run(localCfg)
	require.Contains(t, want, "\n01,9,")
	require.Contains(t, want, ",2024\n")
	require.NotContains(t, want, "deep")

	cfg := azConfig(t, s, "  locator_wildcard: ['#', '*']\n")
	require.Equal(t, want, run(cfg), "the same as DuckDB reading the files from local disk")
	t.Setenv("ANKAFLOW_SPILL_BYTES", "200") // read in runs of a few blobs
	require.Equal(t, want, run(cfg), "read in runs")
}

// TestAzureCredentialsAndErrors: account + key from the environment reach the emulator; a wrong
// key, a missing container and a missing blob each get a message naming the stage and URL.
func TestAzureCredentialsAndErrors(t *testing.T) {
	s := testazurite.Start(t, "lake")
	s.Put(t, "lake", "data/orders.csv", []byte("id,total\n1,9.5\n2,20\n"))
	p := writePipeline(t, `
- name: lake_orders
  kind: tap
  connection: {kind: CSV, locator: az://lake/data/orders.csv, config: {az: {endpoint_url: `+s.Endpoint+`}}}
- name: lake_wrong_key
  kind: tap
  connection: {kind: CSV, locator: az://lake/data/orders.csv, config: {az: {endpoint_url: `+s.Endpoint+`, account_name: devstoreaccount1, account_key: d3Jvbmcgc2VjcmV0IGtleQ==}}}
- name: lake_no_container
  kind: tap
  connection: {kind: Parquet, locator: az://nolake/data/*.parquet, config: {az: {endpoint_url: `+s.Endpoint+`}}}
- name: lake_no_blob
  kind: tap
  connection: {kind: CSV, locator: az://lake/data/missing.csv, config: {az: {endpoint_url: `+s.Endpoint+`}}}
- name: lake_no_match
  kind: tap
  connection: {kind: CSV, locator: az://lake/data/nope/*.csv, config: {az: {endpoint_url: `+s.Endpoint+`}}}
`)
	t.Setenv("AZURE_STORAGE_CONNECTION_STRING", "")
	t.Setenv("AZURE_STORAGE_ACCOUNT", testazurite.Account)
	t.Setenv("AZURE_STORAGE_KEY", testazurite.Key)
	load := "SELECT count(*) AS n FROM load_pipeline('" + p + "')"
	out, _ := cliRun(t, "", "sql", "--format", "csv", "-c", load, "-c", "SELECT * FROM tap('lake_orders') ORDER BY id")
	require.Equal(t, "n\n5\nid,total\n1,9.5\n2,20.0\n", out)

	for stage, want := range map[string]string{
		"lake_wrong_key":    "tap of CSV stage 'lake_wrong_key': list az://lake/data/orders.csv: the store rejected the credentials",
		"lake_no_container": `tap of Parquet stage 'lake_no_container': list az://nolake/data/*.parquet: container "nolake" does not exist (ContainerNotFound); check the container name`,
		"lake_no_blob":      `tap of CSV stage 'lake_no_blob': list az://lake/data/missing.csv: blob "data/missing.csv" does not exist (BlobNotFound); check the key`,
		"lake_no_match":     "tap of CSV stage 'lake_no_match': no object matches az://lake/data/nope/*.csv",
	} {
		code, _, errOut := cliRunCode(t, "", "sql", "-c", load, "-c", "SELECT * FROM tap('"+stage+"')")
		require.Equal(t, 1, code, stage)
		require.Contains(t, errOut, want, stage)
		require.NotContains(t, errOut, testazurite.Key, stage)
		require.NotContains(t, errOut, "d3Jvbmcgc2VjcmV0IGtleQ==", stage)
	}

	// config.az has fixed keys: a typo is caught when the pipeline is loaded, its value unprinted.
	code, _, errOut := cliRunCode(t, "", "plan", writePipeline(t, `
- name: x
  kind: tap
  connection: {kind: CSV, locator: az://lake/a.csv, config: {az: {acount_key: s3cr3t}}}
`))
	require.Equal(t, 2, code, "a pipeline error")
	require.Contains(t, errOut, `unknown key "acount_key" in config.az`)
	require.Contains(t, errOut, "account_key")
	require.NotContains(t, errOut, "s3cr3t")
}

// TestAzureSinkCancelledKeepsBlob: a pipeline whose sink is cancelled while its blocks are
// being staged leaves the existing blob as it was (nothing is committed).
func TestAzureSinkCancelledKeepsBlob(t *testing.T) {
	s := testazurite.Start(t, "lake")
	s.Put(t, "lake", "data/out/big.csv", []byte("old,contents\n"))
	staged := func() bool { return len(s.Uncommitted(t, "lake", "data/out/big.csv")) > 0 }
	// About 120 MB of CSV: eight blocks.
	code, errOut := runCancelledWhen(t, staged, "run", "--config", azConfig(t, s, ""), writePipeline(t, `
- name: Big
  kind: sink
  query: SELECT range AS id, repeat('x', 50) AS pad FROM range(2000000)
  connection: {kind: CSV, locator: out/big.csv}
`))
	require.NotEqual(t, 0, code)
	require.Contains(t, errOut, "interrupted")
	require.Equal(t, "old,contents\n", string(s.Get(t, "lake", "data/out/big.csv")))
	require.True(t, staged(), "blocks were staged, never committed")
	require.NotContains(t, errOut, testazurite.Key)
}

// runCancelledWhen runs the command and cancels it as soon as started reports true.
func runCancelledWhen(t *testing.T, started func() bool, args ...string) (int, string) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for ctx.Err() == nil && !started() {
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
	}()
	var errOut bytes.Buffer
	code := cli.Run(ctx, args, strings.NewReader(""), io.Discard, &errOut)
	return code, errOut.String()
}
