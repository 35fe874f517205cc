package pgwire

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ankaflow/ankaflow/internal/testenv"
)

// TestNodePostgresClient runs testdata/clients/node/client.js (node-postgres, the `pg` package
// pinned in its package.json) against this server and PostgreSQL; see clients_test.go.
func TestNodePostgresClient(t *testing.T) {
	node := needProgram(t, "node (Node.js)", "node")
	dir := clientDir(t, "node")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "pg")); err != nil {
		testenv.Missing(t, "node-postgres is not installed: run `npm ci --prefix pgwire/testdata/clients/node` (make test does)")
	}
	testClient(t, dir, node, "client.js")
}
