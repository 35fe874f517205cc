package main

import (
	"syscall"
	"unsafe"
)

// newBuffer returns a zeroed buffer for the pool (pool.go), asking the kernel to back it with huge
// pages: filling 16 MiB of fresh memory 4 KiB at a time takes 4,096 page faults, and on the
// virtual machines CI runs on a fault costs 10-15 µs, so the server spent more time faulting
// than copying. The advice covers the buffer's whole 2 MiB pages only (the rest of the
// mapping may hold other objects); Go's heap is anonymous memory, which the advice applies to.
func newBuffer(n int64) []byte {
	b := make([]byte, n)
	const huge = 2 << 20
	if n < 2*huge {
		return b
	}
	start := (uintptr(unsafe.Pointer(&b[0])) + huge - 1) &^ (huge - 1)
	end := (uintptr(unsafe.Pointer(&b[0])) + uintptr(n)) &^ (huge - 1)
	if end > start {
		syscall.Syscall(syscall.SYS_MADVISE, start, end-start, 14 /* MADV_HUGEPAGE */)
	}
	return b
}
