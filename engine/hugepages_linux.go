//go:build linux && cgo

package engine

// DuckDB fills its tables in fresh memory, and on the virtual machines pipelines usually run on a
// first touch of a 4 KiB page is expensive: a 10-million-row table is about 100,000 page faults,
// which took longer than building the table itself (docs/pipelines.md, "Speed"). Transparent huge
// pages make that a few hundred faults, but most Linux systems hand them out only to memory
// marked with madvise(MADV_HUGEPAGE), and DuckDB's bundled jemalloc is built without huge-page
// support (its `thp:always` answers "No THP support"). Its extent hooks are no way in either:
// jemalloc 5.3.0 deadlocks with custom hooks.
//
// So the process's own mmap marks the mappings an allocator makes for its heap: anonymous,
// private, read-write, at least one huge page long, placed by the kernel. That is what jemalloc
// (DuckDB's memory) and glibc's malloc ask for when they grow. The Go heap is not touched (it
// reserves with PROT_NONE and commits with MAP_FIXED), nor are thread stacks (MAP_STACK) or
// file mappings. jemalloc itself runs unchanged: it still returns freed pages with
// MADV_DONTNEED, which splits a huge page back into small ones.
//
// ANKAFLOW_HUGE_PAGES=off (or 0, false, no) turns it off for the process; where the kernel's
// transparent_hugepage setting is "never", the advice is a no-op anyway.

/*
#define _GNU_SOURCE
#include <stddef.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

static int ankaflow_huge_pages = 1;

static void ankaflow_no_huge_pages(void) { __atomic_store_n(&ankaflow_huge_pages, 0, __ATOMIC_RELAXED); }

// mmap replaces libc's for every caller linked into this binary (jemalloc inside DuckDB, the Go
// runtime's cgo hooks); libc's own internal calls use a private alias and never come here.
void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
	void *p = (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
	if (p != MAP_FAILED && __atomic_load_n(&ankaflow_huge_pages, __ATOMIC_RELAXED) &&
	    len >= ((size_t)2 << 20) && prot == (PROT_READ | PROT_WRITE) &&
	    (flags & (MAP_ANONYMOUS | MAP_PRIVATE)) == (MAP_ANONYMOUS | MAP_PRIVATE) &&
	    (flags & (MAP_FIXED | MAP_STACK)) == 0) {
		madvise(p, len, MADV_HUGEPAGE);
	}
	return p;
}
*/
import "C"

import (
	"os"
	"strings"
)

// init runs before any DuckDB database opens, so the switch covers all of DuckDB's memory.
func init() {
	switch strings.ToLower(os.Getenv("ANKAFLOW_HUGE_PAGES")) {
	case "off", "0", "false", "no":
		C.ankaflow_no_huge_pages()
	}
}
