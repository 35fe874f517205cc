package postgres

import (
	"math/bits"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/ankaflow/ankaflow/internal/freelist"
)

// bufferPool is the Arrow allocator of a tap's builders: it recycles the buffers of batches
// DuckDB is done with. Every batch needs the same few megabytes of fresh buffers, and DuckDB
// releases the previous ones a moment later; taking them from Go's heap each time costs the
// allocation, zeroing, page faults and garbage collections of the whole table's size. Buffers
// are kept by capacity (a power of two, so the sizes of text columns, which vary a little from
// batch to batch, still match) up to poolBytes; beyond that they are left to the collector.
type bufferPool struct {
	free *freelist.List
}

const (
	poolBytes    = 32 << 20
	poolMinClass = 64 // also the alignment Arrow asks for (Go aligns power-of-two sizes to themselves)
)

var _ memory.Allocator = (*bufferPool)(nil)

func newBufferPool() *bufferPool { return &bufferPool{free: freelist.New(poolBytes)} }

// class is the capacity a buffer of size bytes gets: the next power of two.
func class(size int) int {
	if size <= poolMinClass {
		return poolMinClass
	}
	return 1 << bits.Len(uint(size-1))
}

// Allocate returns size zeroed bytes (as Arrow's Go allocator does).
func (p *bufferPool) Allocate(size int) []byte {
	c := class(size)
	if b := p.free.Take(c); b != nil {
		b = b[:size]
		clear(b)
		return b
	}
	return make([]byte, size, c)
}

func (p *bufferPool) Reallocate(size int, b []byte) []byte {
	if size <= cap(b) {
		return b[:size]
	}
	nb := p.Allocate(size)
	copy(nb, b)
	p.Free(b)
	return nb
}

// Free takes b back (Arrow calls it when the last reference to a buffer is released, possibly
// on a DuckDB thread).
func (p *bufferPool) Free(b []byte) {
	c := cap(b)
	if c < poolMinClass || c&(c-1) != 0 {
		return // not one of ours
	}
	p.free.Give(b)
}
