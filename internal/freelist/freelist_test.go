package freelist

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTakeGive(t *testing.T) {
	l := New(10 << 10)
	require.Nil(t, l.Take(1024), "an empty list has nothing to hand out")

	a := make([]byte, 10, 1024)
	a[0] = 7
	l.Give(a)
	require.Equal(t, 1024, l.Bytes())
	require.Nil(t, l.Take(2048), "only a Take of the same capacity gets it")
	b := l.Take(1024)
	require.Len(t, b, 1024)
	require.Equal(t, &a[0], &b[0], "the same memory, contents and all")
	require.Equal(t, byte(7), b[0])
	require.Zero(t, l.Bytes())
	require.Nil(t, l.Take(1024), "handed out once only")

	// The budget: the eleventh KiB is not kept.
	for range 11 {
		l.Give(make([]byte, 1024))
	}
	require.Equal(t, 10<<10, l.Bytes())
	for range 10 {
		require.NotNil(t, l.Take(1024))
	}
	require.Nil(t, l.Take(1024))
	l.Give(nil)
	require.Zero(t, l.Bytes())
}
