package cli_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// BenchmarkRolePointQuery: the cost of the role user gate (policy.go) on a parameterised
// point query that pgx prepares once and executes b.N times, against the same query from an
// admin session (no gate). One client, one `ankaflow serve` in this process.
func BenchmarkRolePointQuery(b *testing.B) {
	port, _ := rolesServer(b, b.TempDir())
	ctx := context.Background()
	admin := connectAs(b, port, "root")
	_, err := admin.Exec(ctx, "CREATE TABLE points AS SELECT range AS id, 'row ' || range AS s FROM range(100000)")
	require.NoError(b, err)
	_, err = admin.Exec(ctx, "CREATE INDEX points_id ON points(id)")
	require.NoError(b, err)
	for _, user := range []string{"root", "bob"} {
		name := map[string]string{"root": "admin", "bob": "user"}[user]
		b.Run(name, func(b *testing.B) {
			c := connectAs(b, port, user)
			var s string
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := c.QueryRow(ctx, "SELECT s FROM points WHERE id = $1", int64(i%100000)).Scan(&s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
