package main

import (
	"sync/atomic"

	"github.com/ankaflow/ankaflow/internal/freelist"
)

// buffer is the memory of a part or an object body, shared by the upload, the objects and the
// GETs holding it. The last holder to let go gives it back to the pool, and the next upload of
// the same size reuses it: a fresh 16 MiB buffer costs the kernel a page fault and a zeroing
// per page, and on the 2 CPUs of a CI machine that work competed with the sink under test on
// every benchmark round, which a real S3 server, on machines of its own, never does.
type buffer struct {
	b    []byte
	refs atomic.Int32
}

// getBuffer returns a buffer of n bytes held once. Its bytes are not zeroed: every caller fills
// the whole of it or releases it.
func getBuffer(n int64) *buffer {
	buf := &buffer{b: poolGet(n)}
	buf.refs.Store(1)
	return buf
}

// retain adds a holder.
func (b *buffer) retain() {
	if b.refs.Add(1) <= 1 {
		panic("tests3: retain of a released buffer")
	}
}

// release drops a holder; the last one returns the memory to the pool.
func (b *buffer) release() {
	switch n := b.refs.Add(-1); {
	case n == 0:
		poolPut(b.b)
		b.b = nil
	case n < 0:
		panic("tests3: buffer released twice")
	}
}

func releaseAll(bufs []*buffer) {
	for _, b := range bufs {
		b.release()
	}
}

// The pool keeps freed buffers by capacity, rounded up to a MiB so that tails of nearly the same
// size share a class, up to poolLimit bytes in all; smaller bodies are not worth keeping.
const (
	poolGrain = 1 << 20
	poolLimit = 1 << 30
)

var pool = freelist.New(poolLimit)

func poolGet(n int64) []byte {
	if n < poolGrain {
		return make([]byte, n)
	}
	c := (n + poolGrain - 1) &^ (poolGrain - 1)
	if b := pool.Take(int(c)); b != nil {
		return b[:n]
	}
	return newBuffer(c)[:n]
}

func poolPut(b []byte) {
	if c := cap(b); c >= poolGrain && c%poolGrain == 0 {
		pool.Give(b)
	}
}
