package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// One ours/reference pair of a single run prints that run's ratio; with -count the ratio is the
// median of the pairs measured back to back, with their range.
func TestReportPairsRunsInOrder(t *testing.T) {
	one := report("BenchmarkX", []result{{nsPerOp: 3e9}}, []result{{nsPerOp: 2e9}})
	assert.Contains(t, one, " 1.50  ")
	assert.NotContains(t, one, "pairs")

	// Under a load that changes between pairs, each pair's ratio is 1.2, 1.1, 2.0: the median
	// is 1.2, not the ratio of the median times (3.3 / 3.0 = 1.1).
	ours := []result{{nsPerOp: 2.4e9}, {nsPerOp: 3.3e9}, {nsPerOp: 8e9}}
	refs := []result{{nsPerOp: 2e9}, {nsPerOp: 3e9}, {nsPerOp: 4e9}}
	got := report("BenchmarkX", ours, refs)
	assert.Contains(t, got, " 1.20  ")
	assert.Contains(t, got, "ratio 1.10–2.00 over 3 pairs")
	assert.True(t, strings.HasPrefix(got, "X "), got)
	assert.Contains(t, got, "3.30s") // the median run's time
}
