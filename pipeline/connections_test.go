package pipeline_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/engine"
	"github.com/ankaflow/ankaflow/internal/testconn"
	"github.com/ankaflow/ankaflow/pipeline"
	_ "github.com/ankaflow/ankaflow/sqlfuncs"
)

// TestLoopConnectionsClosedOnce: a connection built per loop iteration is closed exactly once —
// by the session catalog when the next iteration replaces it, or when the run's session ends.
func TestLoopConnectionsClosedOnce(t *testing.T) {
	ctx := context.Background()
	store := filepath.Join(t.TempDir(), "store.duckdb")
	p, probs := pipeline.Parse("loop.yaml", []byte(`
- name: Rows
  kind: internal
  query: SELECT * FROM range(3) t(i)
- name: Each
  kind: pipeline
  stages:
    - name: Write
      kind: sink
      query: SELECT << variables.loop_control.i >> AS i
      connection:
        kind: CustomConnection
        module: ankaflow.testing
        classname: Store
        params: {path: "`+store+`", table: "t<< variables.loop_control.i >>"}
`))
	require.Empty(t, probs)
	db, err := engine.Open(ctx, engine.Options{})
	require.NoError(t, err)
	defer db.Close()
	inits, closes := testconn.StoreInits.Load(), testconn.StoreCloses.Load()
	_, err = pipeline.Run(ctx, p, pipeline.Options{DB: db})
	require.NoError(t, err)
	require.Equal(t, int64(3), testconn.StoreInits.Load()-inits)
	require.Equal(t, int64(3), testconn.StoreCloses.Load()-closes, "each iteration's connection closed exactly once")
}
