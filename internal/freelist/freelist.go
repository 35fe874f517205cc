// Package freelist keeps freed byte slices for reuse, by capacity, up to a budget. Memory taken
// fresh from the heap costs an allocation, zeroing, page faults and garbage collections; where
// the same sizes come back again and again (the Postgres tap's Arrow batches, the test S3
// server's part bodies), handing the freed slices back out saves all of it. Callers choose the
// capacity classes; a slice comes back only to a Take of its exact capacity.
package freelist

import "sync"

// List is safe for concurrent use.
type List struct {
	mu    sync.Mutex
	free  map[int][][]byte
	bytes int
	limit int
}

// New returns a list that keeps at most limit bytes of capacity.
func New(limit int) *List { return &List{free: map[int][][]byte{}, limit: limit} }

// Take returns a kept slice of capacity c, at full length and with its old contents, or nil
// when none is kept.
func (l *List) Take(c int) []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.free[c]
	if len(s) == 0 {
		return nil
	}
	b := s[len(s)-1]
	l.free[c] = s[:len(s)-1]
	l.bytes -= c
	return b[:c]
}

// Give keeps b for a later Take of its capacity, unless that would take the list over its limit
// (then b is left to the garbage collector). b must no longer be used by the caller.
func (l *List) Give(b []byte) {
	c := cap(b)
	l.mu.Lock()
	defer l.mu.Unlock()
	if c == 0 || l.bytes+c > l.limit {
		return
	}
	l.free[c] = append(l.free[c], b[:0])
	l.bytes += c
}

// Bytes is the capacity the list keeps.
func (l *List) Bytes() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.bytes
}
