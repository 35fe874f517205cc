package connectors

import (
	"strings"
	"testing"
)

func TestEditDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"abc", "", 3}, {"", "ab", 2}, {"kitten", "sitting", 3},
		{"pramas", "params", 2}, {"teh", "the", 1}, {"ca", "abc", 3}, {"parquett", "parquet", 1},
		// Long runs of one character: the old recursive transposition step took exponential
		// time here (24 underscores against 23: 45 s).
		{strings.Repeat("_", 24), strings.Repeat("_", 23), 1},
		{strings.Repeat("_", 120), strings.Repeat("_", 100), 20},
		{strings.Repeat("ab", 60), strings.Repeat("ba", 60), 2},
	} {
		if got := editDistance(c.a, c.b); got != c.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
	// Words longer than the bound get no suggestion (and cost nothing).
	if s := Suggest(strings.Repeat("x", maxSuggestLen+1), []string{strings.Repeat("x", maxSuggestLen)}); s != "" {
		t.Errorf("over-long word got suggestion %q", s)
	}
}
