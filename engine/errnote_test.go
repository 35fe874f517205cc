package engine

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// A noted Go error is found again by its text inside the DuckDB message that carried it, once;
// a message that does not contain it finds nothing; other sessions do not see it.
func TestNotedErrors(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, Options{})
	require.NoError(t, err)
	defer db.Close()
	a, err := db.NewSession(ctx)
	require.NoError(t, err)
	b, err := db.NewSession(ctx)
	require.NoError(t, err)
	defer b.Close()

	cause := fmt.Errorf("tap('X'): %w", errors.New("remote failed"))
	require.Same(t, cause, a.NoteError(cause))
	require.Nil(t, b.NotedError("Binder Error: tap('X'): remote failed"))
	require.Nil(t, a.NotedError("Binder Error: something else"))
	require.Nil(t, a.NotedError("Binder Error: tap('X'): remote failed"), "forgotten after the failed statement")

	a.NoteError(cause)
	require.Same(t, cause, a.NotedError("Invalid Input Error: tap('X'): remote failed\nLINE 1: ..."))
	var nilSession *Session
	require.Equal(t, cause, nilSession.NoteError(cause))
	require.Nil(t, nilSession.NotedError("anything"))

	a.NoteError(cause)
	require.NoError(t, a.Close())
	notedErrors.Lock()
	_, kept := notedErrors.m[a]
	notedErrors.Unlock()
	require.False(t, kept, "a closed session's errors are dropped")
}
