package pgwire

import (
	"context"
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// BenchmarkRowSourcePointQuery: what naming the source table in RowDescription costs a point
// query in the simple protocol (psql, psycopg2). Each op is 500 point queries on a 100,000-row
// indexed table. ours reads a table column (RowDescription carries its table OID and number,
// from the connection's cache); reference computes the column (nothing to look up); uncached
// looks the table up for every query (the catalog generation changes before each), which is
// what the cache saves.
func BenchmarkRowSourcePointQuery(b *testing.B) {
	ts := startServer(b, Config{})
	ctx := context.Background()
	c := ts.connect(b, pgx.QueryExecModeSimpleProtocol)
	defer c.Close(ctx)
	_, err := c.Exec(ctx, "CREATE TABLE points AS SELECT range AS id, 'row ' || range AS s FROM range(100000); CREATE INDEX points_id ON points(id)")
	require.NoError(b, err)
	const perOp = 500
	for _, bc := range []struct {
		name, query string
		bump        bool
	}{
		{"ours", "SELECT s FROM points WHERE id = ", false},
		{"reference", "SELECT s || '' AS s FROM points WHERE id = ", false},
		{"uncached", "SELECT s FROM points WHERE id = ", true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var s string
			for i := 0; i < b.N; i++ {
				for j := 0; j < perOp; j++ {
					if bc.bump {
						noteCatalogChange()
					}
					id := (i*perOp + j) * 7919 % 100000
					rows, err := c.Query(ctx, bc.query+strconv.Itoa(id))
					require.NoError(b, err)
					if bc.name != "reference" {
						if fd := rows.FieldDescriptions(); len(fd) != 1 || fd[0].TableOID == 0 {
							b.Fatalf("no source table in RowDescription: %+v", fd)
						}
					}
					for rows.Next() {
						require.NoError(b, rows.Scan(&s))
					}
					require.NoError(b, rows.Err())
				}
			}
		})
	}
}
