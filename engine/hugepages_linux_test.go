//go:build linux && cgo

package engine

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// anonHugeKB reads how much of the process's memory is on transparent huge pages.
func anonHugeKB(t *testing.T) int64 { return smapsKB(t, "AnonHugePages:") }

// smapsKB reads one line of the process's memory summary.
func smapsKB(t *testing.T, field string) int64 {
	b, err := os.ReadFile("/proc/self/smaps_rollup")
	require.NoError(t, err)
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) >= 2 && f[0] == field {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			require.NoError(t, err)
			return kb
		}
	}
	t.Fatalf("no %s in smaps_rollup", field)
	return 0
}

// TestHugePagesProbe is the child of TestHugePages: it builds a table of about 160 MB and prints
// how much of the process's memory went onto huge pages meanwhile.
func TestHugePagesProbe(t *testing.T) {
	if os.Getenv("ANKAFLOW_HUGE_PAGES_PROBE") == "" {
		t.Skip("run by TestHugePages")
	}
	ctx := context.Background()
	db, err := Open(ctx, Options{})
	require.NoError(t, err)
	defer db.Close()
	before, rssBefore := anonHugeKB(t), smapsKB(t, "Rss:")
	_, err = db.SQL().ExecContext(ctx, "CREATE TABLE t AS SELECT range AS a, range * 0.5 AS b FROM range(10000000)")
	require.NoError(t, err)
	fmt.Printf("huge-kb=%d\nrss-kb=%d\n", anonHugeKB(t)-before, smapsKB(t, "Rss:")-rssBefore)
}

// TestHugePages checks that DuckDB's table memory lands on huge pages, and that
// ANKAFLOW_HUGE_PAGES=off leaves it on small ones, each in a process of its own (the switch
// applies to mappings made after it, and jemalloc keeps its mappings).
func TestHugePages(t *testing.T) {
	mode, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if err != nil || !strings.Contains(string(mode), "[madvise]") {
		t.Skipf("transparent huge pages are not in madvise mode here (%q): nothing to observe", strings.TrimSpace(string(mode)))
	}
	probe := func(env ...string) (hugeKB, rssKB int64) {
		cmd := exec.Command(os.Args[0], "-test.run", "^TestHugePagesProbe$", "-test.v")
		cmd.Env = append(os.Environ(), append(env, "ANKAFLOW_HUGE_PAGES_PROBE=1")...)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
		at := bytes.Index(out, []byte("huge-kb="))
		require.GreaterOrEqual(t, at, 0, "the probe printed no figures:\n%s", out)
		n, err := fmt.Sscanf(string(out[at:]), "huge-kb=%d\nrss-kb=%d", &hugeKB, &rssKB)
		require.Equal(t, 2, n, "probe output:\n%s\n%v", out, err)
		return hugeKB, rssKB
	}
	on, rssOn := probe()
	off, rssOff := probe("ANKAFLOW_HUGE_PAGES=off")
	t.Logf("a 10M-row table: %d KiB on huge pages and RSS +%d KiB with them, %d KiB and +%d KiB without", on, rssOn, off, rssOff)
	require.Greater(t, on, int64(64<<10), "DuckDB's table memory should be mostly on huge pages")
	require.Less(t, off, int64(8<<10), "ANKAFLOW_HUGE_PAGES=off should leave DuckDB on small pages")
	// Huge pages round each mapping up to 2 MiB; more than a quarter over is bloat.
	require.Less(t, rssOn, rssOff*5/4, "huge pages should not inflate the table's memory")
}
