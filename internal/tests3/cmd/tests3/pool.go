package main

import (
	"sync"
	"sync/atomic"
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
	buf := &buffer{b: pool.get(n)}
	buf.refs.Store(1)
	return buf
}

// retain adds a holder.
func (b *buffer) retain() *buffer {
	if b.refs.Add(1) <= 1 {
		panic("tests3: retain of a released buffer")
	}
	return b
}

// release drops a holder; the last one returns the memory to the pool.
func (b *buffer) release() {
	switch n := b.refs.Add(-1); {
	case n == 0:
		pool.put(b.b)
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

// bufferPool keeps freed buffers by capacity, rounded up to a MiB so that tails of nearly the
// same size share a class, up to poolLimit bytes in all; smaller bodies are not worth keeping.
type bufferPool struct {
	mu    sync.Mutex
	free  map[int64][][]byte
	bytes int64
}

const (
	poolGrain = 1 << 20
	poolLimit = 1 << 30
)

var pool = bufferPool{free: map[int64][][]byte{}}

func (p *bufferPool) get(n int64) []byte {
	if n < poolGrain {
		return make([]byte, n)
	}
	c := (n + poolGrain - 1) &^ (poolGrain - 1)
	p.mu.Lock()
	if l := p.free[c]; len(l) > 0 {
		b := l[len(l)-1]
		p.free[c] = l[:len(l)-1]
		p.bytes -= c
		p.mu.Unlock()
		return b[:n]
	}
	p.mu.Unlock()
	return newBuffer(c)[:n]
}

func (p *bufferPool) put(b []byte) {
	c := int64(cap(b))
	if c < poolGrain || c%poolGrain != 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bytes+c > poolLimit {
		return
	}
	p.free[c] = append(p.free[c], b[:c])
	p.bytes += c
}
