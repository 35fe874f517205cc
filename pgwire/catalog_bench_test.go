package pgwire

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/internal/testpg"
)

// benchCatalogTables is how many tables the catalog benchmarks' database holds (the issue's
// "\dt on a database with 1,000 tables").
const benchCatalogTables = 1000

// benchCatalogSchema is the table `\d` describes: a primary key, a unique and a foreign key, a
// default, an index and a comment, so every part of psql's \d queries has rows to find.
const benchCatalogSchema = `CREATE TABLE bench_customers (id integer PRIMARY KEY, email text NOT NULL UNIQUE, score numeric(10,2) DEFAULT 1.5);
CREATE TABLE bench_orders (id bigint PRIMARY KEY, customer_id integer REFERENCES bench_customers (id), placed timestamp with time zone, note text);
CREATE INDEX bench_orders_placed ON bench_orders (placed);
COMMENT ON TABLE bench_orders IS 'orders';
`

// BenchmarkPsqlCatalog times the real psql 15, each run a whole process (connect, startup,
// the meta-command's queries, exit), against `ankaflow serve` ("ours", its own process) and a
// throwaway PostgreSQL 15 ("reference") holding the same 1,002 tables:
//   - describe-table: `\d bench_orders` (columns, indexes, foreign keys; about ten catalog queries)
//   - list-1000-tables: `\dt` listing every table
//   - connect-select-1: `SELECT 1`, psql's connect-to-first-row time
func BenchmarkPsqlCatalog(b *testing.B) {
	psql := testpg.NeedBinary(b, "psql")
	ctx := context.Background()
	ours := startServeProcess(b)
	pg := testpg.Start(b, testpg.Options{Settings: map[string]string{"autovacuum": "off"}})
	var ddl strings.Builder
	ddl.WriteString(benchCatalogSchema)
	for i := 1; i <= benchCatalogTables; i++ {
		fmt.Fprintf(&ddl, "CREATE TABLE t%04d (id integer PRIMARY KEY, name text, amount numeric(12,2));\n", i)
	}
	targets := []struct{ name, url string }{{"ours", ours.url}, {"reference", pg.URL("")}}
	for _, target := range targets {
		c, err := pgx.Connect(ctx, target.url)
		require.NoError(b, err)
		_, err = c.Exec(ctx, ddl.String())
		require.NoError(b, err)
		c.Close(ctx)
	}
	for _, bench := range []struct {
		name, command, want string
	}{
		{"describe-table", `\d bench_orders`, `"bench_orders_customer_id_fkey" FOREIGN KEY (customer_id) REFERENCES bench_customers(id)`},
		{"list-1000-tables", `\dt`, fmt.Sprintf("(%d rows)", benchCatalogTables+2)},
		{"connect-select-1", `SELECT 1`, "(1 row)"},
	} {
		b.Run(bench.name, func(b *testing.B) {
			for _, target := range targets {
				b.Run(target.name, func(b *testing.B) {
					for i := 0; i < b.N; i++ {
						cmd := exec.Command(psql, "-X", "-d", target.url, "-c", bench.command)
						cmd.Env = append(cleanPGEnv(), "COLUMNS=200")
						out, err := cmd.CombinedOutput()
						if err != nil || !strings.Contains(string(out), bench.want) {
							b.Fatalf("psql %s on %s: %v\n%s", bench.command, target.name, err, out)
						}
					}
				})
			}
		})
	}
}
