package engine

import (
	"context"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/stretchr/testify/require"
)

// TestPanicInCallbackIsShort: a panic in a Go callback becomes a short error naming the panic;
// its stack trace is logged, never sent to whoever ran the query (SQL or wire clients).
func TestPanicInCallbackIsShort(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, Options{})
	require.NoError(t, err)
	defer db.Close()
	s, err := db.NewSession(ctx)
	require.NoError(t, err)
	require.NoError(t, s.RegisterTableFunction(TableFunction{
		Name: "boom",
		Bind: func(context.Context, *Session, []any, map[string]any) (array.RecordReader, error) {
			var m map[string]int
			m["x"] = 1 // assignment to a nil map: a runtime panic
			return nil, nil
		},
	}))
	_, err = s.Exec(ctx, "SELECT * FROM boom()")
	require.Error(t, err)
	msg := err.Error()
	require.Contains(t, msg, InternalErrorPrefix+"assignment to entry in nil map")
	require.NotContains(t, msg, "goroutine")
	require.NotContains(t, msg, ".go:")
	require.False(t, strings.Count(msg, "\n") > 3, "no stack trace: %q", msg)
}
