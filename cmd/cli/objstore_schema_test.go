package cli_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestObjectStoreSchemaReadsLittle: planning a query over a remote tap (DESCRIBE, EXPLAIN,
// show_schema) describes the objects without downloading them, on S3, GCS and Azure alike: a
// Parquet object's footer is read with ranged reads, a CSV object's first few MiB. The server
// (for Azurite, a proxy in front of it) counts the bytes it serves; the columns are the same as
// from the local files.
func TestObjectStoreSchemaReadsLittle(t *testing.T) {
	local := t.TempDir()
	// About 45 MB each: hashes do not compress.
	gen := "SELECT range AS id, md5(range::VARCHAR) AS h, range * 0.5 AS amount FROM range(1000000)"
	cliRun(t, "", "sql",
		"-c", "COPY ("+gen+") TO '"+filepath.Join(local, "big.parquet")+"' (FORMAT PARQUET)",
		"-c", "COPY ("+gen+") TO '"+filepath.Join(local, "big.csv")+"' (FORMAT CSV)")
	var total int64
	objects := map[string][]byte{}
	for _, name := range []string{"big.parquet", "big.csv"} {
		data, err := os.ReadFile(filepath.Join(local, name))
		require.NoError(t, err)
		require.Greater(t, len(data), 30<<20)
		total += int64(len(data))
		objects[name] = data
	}
	p := writePipeline(t, `
- name: BigParquet
  kind: tap
  connection: {kind: Parquet, locator: big.parquet}
- name: BigCSV
  kind: tap
  connection: {kind: CSV, locator: big.csv}
- name: BigFile
  kind: tap
  connection: {kind: File, locator: big.parquet}
`)
	queries := []string{
		"-c", "SELECT count(*) AS n FROM load_pipeline('" + p + "')",
		"-c", "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM tap('BigParquet', 'SELECT h, id FROM Parquet WHERE id > 5'))",
		"-c", "SELECT column_name, column_type FROM show_schema('BigCSV')",
		"-c", "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM tap('BigCSV'))",
		"-c", "SELECT column_name, column_type FROM show_schema('BigFile')",
	}
	localCfg := filepath.Join(t.TempDir(), "local.yaml")
	require.NoError(t, os.WriteFile(localCfg, []byte("local:\n  bucket: "+local+"\n"), 0o644))
	localOut, _ := cliRun(t, "", append([]string{"sql", "--format", "csv", "--config", localCfg}, queries...)...)
	require.Contains(t, localOut, "column_name,column_type\nh,VARCHAR\nid,BIGINT\n")

	forEachLake(t, func(t *testing.T, l lake) {
		for name, data := range objects {
			l.put("data/"+name, data)
		}
		before := l.served()
		out, _ := cliRun(t, "", append([]string{"sql", "--format", "csv", "--config", l.cfg}, queries...)...)
		explain, _ := cliRun(t, "", "sql", "--config", l.cfg, "-c", queries[1], "-c", "EXPLAIN SELECT sum(amount) FROM tap('BigParquet')")
		require.Contains(t, explain, "UNGROUPED_AGGREGATE")
		served := l.served() - before
		t.Logf("planning served %d bytes of %d", served, total)
		// Two CSV samples of at most 4 MiB, and a few footers of a few KiB.
		require.Less(t, served, int64(9<<20), "planning must not download the objects (%d bytes served)", served)
		require.Equal(t, localOut, out, "the same columns as from the local files")

		// Running the tap downloads the object once (its bind describes it from the footer).
		before = l.served()
		count, _ := cliRun(t, "", "sql", "--format", "csv", "--config", l.cfg, "-c", queries[1], "-c", "SELECT count(*) AS n FROM tap('BigParquet')")
		require.Equal(t, "n\n3\nn\n1000000\n", count)
		served = l.served() - before
		require.Less(t, served, int64(len(objects["big.parquet"]))+1<<20, "one download of the object (%d bytes served)", served)
	})
}
