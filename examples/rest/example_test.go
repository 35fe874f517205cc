package rest_test

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/cmd/cli"
	_ "github.com/ankaflow/ankaflow/connectors/rest"
	"github.com/ankaflow/ankaflow/examples/rest/demoapi"
)

// TestExamplePipeline runs examples/rest/pipeline.yaml against the demo API and reads the
// Parquet file it writes.
func TestExamplePipeline(t *testing.T) {
	srv := httptest.NewServer(demoapi.Handler())
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte("local: {bucket: "+dir+"}\n"), 0o644))
	t.Setenv("DEMO_API_TOKEN", demoapi.Token)
	run := func(args ...string) string {
		var out, errOut bytes.Buffer
		code := cli.Run(context.Background(), args, strings.NewReader(""), &out, &errOut)
		require.Equal(t, 0, code, "%s\n%s", out.String(), errOut.String())
		return out.String()
	}
	out := run("run", "pipeline.yaml", "--config", cfg, "-c", "api_url="+srv.URL)
	require.Contains(t, out, "Alvar")
	parquet := filepath.Join(dir, "orders.parquet")
	got := run("sql", "--format", "csv", "-c", "SELECT count(*) AS n, count(DISTINCT customer) AS customers, sum(amount)::VARCHAR AS total, min(placed_at) AS first FROM '"+parquet+"'",
		"-c", "SELECT * FROM '"+parquet+"' WHERE order_id IN (101, 503) ORDER BY order_id")
	require.Equal(t, "n,customers,total,first\n15,5,481.50,2024-01-11 09:30:00\n"+
		"order_id,customer,country,amount,placed_at\n101,Alvar,EE,11.05,2024-01-11 09:30:00\n503,Eino,FI,53.15,2024-03-15 09:30:00\n", got)
}
