package postgres

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/stretchr/testify/require"
)

func TestBufferPoolRecycles(t *testing.T) {
	p := newBufferPool()
	b := p.Allocate(1000)
	require.Len(t, b, 1000)
	require.Equal(t, 1024, cap(b))
	for i := range b {
		b[i] = 0xff
	}
	p.Free(b)
	c := p.Allocate(700) // same class: the same memory, zeroed again
	require.Equal(t, &b[:1][0], &c[:1][0])
	require.Equal(t, make([]byte, 700), c)
	// Growing within the capacity keeps the memory; beyond it, the contents move.
	c[0] = 7
	d := p.Reallocate(1024, c)
	require.Equal(t, &c[:1][0], &d[:1][0])
	e := p.Reallocate(5000, d)
	require.Equal(t, 8192, cap(e))
	require.Equal(t, byte(7), e[0])
	// The pool keeps at most poolBytes.
	for range poolBytes/(1<<20) + 4 {
		p.Free(make([]byte, 1<<20))
	}
	require.LessOrEqual(t, p.free.Bytes(), poolBytes)
	// Foreign buffers (not a power-of-two capacity) are left alone.
	before := p.free.Bytes()
	p.Free(make([]byte, 100, 100))
	require.Equal(t, before, p.free.Bytes())
}

// Batches built on the pool keep their values after later batches reuse released buffers.
func TestBufferPoolBatches(t *testing.T) {
	p := newBufferPool()
	b := array.NewInt64Builder(p)
	defer b.Release()
	var kept []*array.Int64
	for round := range 5 {
		for i := range 10000 {
			if i%7 == 0 {
				b.AppendNull()
			} else {
				b.Append(int64(round*10000 + i))
			}
		}
		a := b.NewInt64Array()
		if round%2 == 0 {
			kept = append(kept, a)
		} else {
			a.Release()
		}
	}
	for k, a := range kept {
		round := 2 * k
		for i := range 10000 {
			require.Equal(t, i%7 == 0, a.IsNull(i))
			if i%7 != 0 {
				require.Equal(t, int64(round*10000+i), a.Value(i))
			}
		}
		a.Release()
	}
}
