package cli_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/cmd/cli"
	"github.com/ankaflow/ankaflow/internal/testenv"
	"github.com/ankaflow/ankaflow/internal/tests3"
)

// s3Config writes a run-wide config whose s3 section points at the test server; locators are
// relative to s3://lake/<prefix>.
func s3Config(t *testing.T, s *tests3.Server, extra string) string {
	id, secret := s.Key(0)
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(fmt.Sprintf("s3:\n  bucket: s3://lake\n  data_prefix: data\n  endpoint_url: %s\n  region: eu-west-1\n  url_style: path\n  access_key_id: %s\n  secret_access_key: %s\n%s", s.Endpoint, id, secret, extra)), 0o644))
	return cfg
}

const s3Pipeline = `
- name: Seed
  kind: internal
  query: SELECT range AS id, 'n' || range AS name, range * 1.5 AS amount FROM range(5)
- name: OutParquet
  kind: sink
  connection: {kind: Parquet, locator: out/seed.parquet}
- name: OutCSV
  kind: sink
  query: SELECT * FROM Seed WHERE id < 4
  connection: {kind: CSV, locator: out/seed.csv}
- name: OutJSON
  kind: sink
  query: SELECT * FROM Seed WHERE id < 3
  connection: {kind: JSON, locator: s3://lake/data/out/seed.json}
- name: OutGz
  kind: sink
  query: SELECT * FROM Seed WHERE id < 2
  connection: {kind: CSV, locator: out/seed.csv.gz}
- name: BackParquet
  kind: tap
  connection: {kind: Parquet, locator: out/seed.parquet}
  query: SELECT id, name FROM Parquet WHERE id >= 2
- name: BackCSV
  kind: tap
  connection: {kind: CSV, locator: out/seed.csv}
- name: BackJSON
  kind: tap
  connection: {kind: JSON, locator: out/seed.json}
- name: BackGz
  kind: tap
  connection: {kind: CSV, locator: out/seed.csv.gz}
`

// TestObjectStorePipeline: Parquet, CSV and JSON sinks write objects to a real S3-protocol
// server, and taps of the same formats read them back (with a tap query for Parquet).
func TestObjectStorePipeline(t *testing.T) {
	s := tests3.Start(t, tests3.Options{Buckets: []string{"lake"}, Keys: []string{"AKPIPE:pipe-secret"}, Region: "eu-west-1"})
	output := runSeedPipeline(t, s3Config(t, s, ""), "s3")
	require.Equal(t, "id,name,amount\n0,n0,0.0\n1,n1,1.5\n2,n2,3.0\n3,n3,4.5\n", string(s.Get(t, "lake", "data/out/seed.csv")))
	require.Equal(t, []byte{0x1f, 0x8b}, s.Get(t, "lake", "data/out/seed.csv.gz")[:2], "compressed as its extension says")
	require.NotContains(t, output, "pipe-secret")
	require.Empty(t, s.OpenUploads(t, "lake"))
}

// TestObjectStoreGlobHive: a glob over 100 objects is listed by prefix and read at once, hive
// partition segments become columns when asked, and the locator_wildcard rule applies to taps.
func TestObjectStoreGlobHive(t *testing.T) {
	s := tests3.Start(t, tests3.Options{Buckets: []string{"lake"}, Keys: []string{"AKPIPE:pipe-secret"}, Region: "eu-west-1"})
	// The same files in the lake and on local disk: the tap must read them alike.
	local := t.TempDir()
	put := func(key, data string) {
		s.Put(t, "lake", "data/"+key, []byte(data))
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(local, key)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(local, key), []byte(data), 0o644))
	}
	for i := range 100 {
		put(fmt.Sprintf("orders/year=2024/month=%02d/part-%03d.csv", i%12+1, i), fmt.Sprintf("id,amount\n%d,%d\n", i, i*10))
	}
	put("orders/year=2023/month=01/part-000.csv", "id,amount\n-1,0\n")
	cfg := s3Config(t, s, "  locator_wildcard: ['#', '*']\n")
	p := writePipeline(t, `
- name: Orders
  kind: tap
  connection: {kind: CSV, locator: "orders/year=2024/month=#/part-#.csv", params: {hive_partitioning: true}}
  query: SELECT count(*) AS n, sum(id) AS ids, sum(amount) AS amount, min(month) AS lo, max(month) AS hi, min(year) AS y FROM CSV
`)
	out, _ := cliRun(t, "", "sql", "--format", "csv", "--config", cfg,
		"-c", "SELECT count(*) FROM run_pipeline('"+p+"')",
		"-c", `SELECT * FROM "Orders"`)
	require.Equal(t, "count_star()\n1\nn,ids,amount,lo,hi,y\n100,4950,49500,01,12,2024\n", out)
	localCfg := filepath.Join(t.TempDir(), "local.yaml")
	require.NoError(t, os.WriteFile(localCfg, []byte("local:\n  bucket: "+local+"\n  locator_wildcard: ['#', '*']\n"), 0o644))
	localOut, _ := cliRun(t, "", "sql", "--format", "csv", "--config", localCfg,
		"-c", "SELECT count(*) FROM run_pipeline('"+p+"')",
		"-c", `SELECT * FROM "Orders"`)
	require.Equal(t, localOut, out, "the same as DuckDB reading the files from local disk")

	// The same glob read in runs (a spill budget of a few objects): every row exactly once.
	t.Setenv("ANKAFLOW_SPILL_BYTES", "100")
	out, _ = cliRun(t, "", "sql", "--format", "csv", "--config", cfg,
		"-c", "SELECT count(*) FROM run_pipeline('"+p+"')",
		"-c", `SELECT * FROM "Orders"`)
	require.Equal(t, "count_star()\n1\nn,ids,amount,lo,hi,y\n100,4950,49500,01,12,2024\n", out)
}

// TestObjectStoreFromSQL: tap('lake_orders') and COPY … TO 'lake_out' (FORMAT ankaflow) reach
// object storage from SQL; errors name the stage, the URL and what to check.
func TestObjectStoreFromSQL(t *testing.T) {
	s := tests3.Start(t, tests3.Options{Buckets: []string{"lake"}, Keys: []string{"AKPIPE:pipe-secret"}, Region: "eu-west-1"})
	s.Put(t, "lake", "data/orders.json", []byte(`{"id":1,"total":9.5}`+"\n"+`{"id":2,"total":20}`+"\n"))
	cfg := s3Config(t, s, "")
	p := writePipeline(t, `
- name: lake_orders
  kind: tap
  connection: {kind: JSON, locator: orders.json}
- name: lake_out
  kind: sink
  connection: {kind: Parquet, locator: out/orders.parquet}
- name: lake_back
  kind: tap
  connection: {kind: Parquet, locator: out/orders.parquet}
- name: lake_missing
  kind: tap
  connection: {kind: Parquet, locator: nope/*.parquet}
- name: lake_wrong_key
  kind: tap
  connection: {kind: JSON, locator: orders.json, config: {s3: {access_key_id: AKNOPE, secret_access_key: other-secret}}}
`)
	load := "SELECT count(*) AS n FROM load_pipeline('" + p + "')"
	out, _ := cliRun(t, "", "sql", "--format", "csv", "--config", cfg,
		"-c", load,
		"-c", "SELECT * FROM tap('lake_orders') ORDER BY id",
		"-c", "COPY (SELECT id * 10 AS id, total FROM tap('lake_orders')) TO 'lake_out' (FORMAT ankaflow)",
		"-c", "SELECT * FROM tap('lake_back') ORDER BY id",
	)
	require.Equal(t, "n\n5\nid,total\n1,9.5\n2,20.0\nid,total\n10,9.5\n20,20.0\n", out)

	code, _, errOut := cliRunCode(t, "", "sql", "--config", cfg, "-c", load, "-c", "SELECT * FROM tap('lake_missing')")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "tap of Parquet stage 'lake_missing': no object matches s3://lake/data/nope/*.parquet")
	code, _, errOut = cliRunCode(t, "", "sql", "--config", cfg, "-c", load, "-c", "SELECT * FROM tap('lake_wrong_key')")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "tap of JSON stage 'lake_wrong_key': list s3://lake/data/orders.json: the store rejected the credentials (InvalidAccessKeyId)")
	require.NotContains(t, errOut, "other-secret")
	require.NotContains(t, errOut, "pipe-secret")
}

// TestObjectStoreOverTheWire: `ankaflow serve --pipeline` with s3:// connections; a client
// taps the lake and writes to it with COPY … (FORMAT ankaflow).
func TestObjectStoreOverTheWire(t *testing.T) {
	s := tests3.Start(t, tests3.Options{Buckets: []string{"lake"}, Keys: []string{"AKPIPE:pipe-secret"}, Region: "eu-west-1"})
	s.Put(t, "lake", "data/orders.json", []byte(`{"id":1,"total":9.5}`+"\n"+`{"id":2,"total":20}`+"\n"))
	cfg := s3Config(t, s, "")
	root := t.TempDir()
	p := filepath.Join(root, "p.yaml")
	require.NoError(t, os.WriteFile(p, []byte(`
- name: lake_orders
  kind: tap
  connection: {kind: JSON, locator: orders.json}
- name: lake_out
  kind: sink
  connection: {kind: CSV, locator: out/orders.csv}
`), 0o644))
	port, err := testenv.FreePort()
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- cli.Run(ctx, []string{"serve", "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--auth", "trust",
			"--pipeline", p, "--config", cfg}, strings.NewReader(""), io.Discard, io.Discard)
	}()
	defer func() {
		cancel()
		<-done
	}()
	var conn *pgx.Conn
	require.Eventually(t, func() bool {
		c, err := pgx.Connect(context.Background(), fmt.Sprintf("postgres://analyst@127.0.0.1:%d/ankaflow?sslmode=disable", port))
		if err != nil {
			return false
		}
		conn = c
		return true
	}, 20*time.Second, 50*time.Millisecond)
	defer conn.Close(context.Background())

	rows, err := conn.Query(context.Background(), "SELECT id, total FROM tap('lake_orders') ORDER BY id")
	require.NoError(t, err)
	var got []string
	for rows.Next() {
		var id int64
		var total float64
		require.NoError(t, rows.Scan(&id, &total))
		got = append(got, fmt.Sprintf("%d:%g", id, total))
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []string{"1:9.5", "2:20"}, got)

	_, err = conn.Exec(context.Background(), "COPY (SELECT id, total * 2 AS double FROM tap('lake_orders') ORDER BY id) TO 'lake_out' (FORMAT ankaflow)")
	require.NoError(t, err)
	require.Equal(t, "id,double\n1,19.0\n2,40.0\n", string(s.Get(t, "lake", "data/out/orders.csv")))
}

// TestObjectStoreSinkCancelled: a pipeline whose sink is cancelled mid-upload (multipart, parts
// slowed by the server) leaves the existing object as it was and no multipart upload open.
func TestObjectStoreSinkCancelled(t *testing.T) {
	s := tests3.Start(t, tests3.Options{Buckets: []string{"lake"}, Keys: []string{"AKPIPE:pipe-secret"}, Region: "eu-west-1", PartDelay: 500 * time.Millisecond})
	s.Put(t, "lake", "data/out/big.csv", []byte("old,contents\n"))
	errOut := runCancelledSink(t, s3Config(t, s, ""), func() bool { return len(s.OpenUploads(t, "lake")) > 0 })
	// The run returns only after the upload's abort has finished: checked at once, no waiting.
	// The cancellation comes as soon as the server shows the upload, often before the client
	// has read the answer to its initiation (an upload the sink must still learn and abort).
	require.Empty(t, s.OpenUploads(t, "lake"))
	require.Equal(t, "old,contents\n", string(s.Get(t, "lake", "data/out/big.csv")))
	require.NotContains(t, errOut, "pipe-secret")
}
