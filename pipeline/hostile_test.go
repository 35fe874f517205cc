package pipeline

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// aliasBomb is the "billion laughs" document: each level is a list of nine aliases of the
// level before, so ten levels of 470 bytes stand for 9^10 strings.
func aliasBomb() string {
	var b strings.Builder
	b.WriteString("- name: x\n  kind: tap\n  connection:\n    kind: CSV\n    params:\n      a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n")
	prev := "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g", "h", "i", "j"} {
		fmt.Fprintf(&b, "      %s: &%s [%s]\n", n, n, strings.TrimSuffix(strings.Repeat("*"+prev+",", 9), ","))
		prev = n
	}
	return b.String()
}

// The alias bomb is refused at the alias that passes the bound, before anything is expanded.
func TestParseYAMLAliasBomb(t *testing.T) {
	_, probs := Parse("bomb.yaml", []byte(aliasBomb()))
	require.Len(t, probs, 1)
	require.True(t, strings.HasPrefix(probs.String(), "bomb.yaml:12:"), probs.String())
	require.Contains(t, probs.String(), "YAML alias expansion exceeds 1000000 nodes at alias *f")
}

// Ordinary anchors stay allowed, also when used many times.
func TestParseYAMLManyAliasesAllowed(t *testing.T) {
	var b strings.Builder
	b.WriteString("- name: defaults\n  kind: header\n  connection: &c {kind: CSV, params: {delim: \";\"}}\n")
	for i := 0; i < 2000; i++ {
		fmt.Fprintf(&b, "- name: t%d\n  kind: tap\n  connection:\n    <<: *c\n    locator: f%d.csv\n", i, i)
	}
	p, probs := Parse("many.yaml", []byte(b.String()))
	require.Empty(t, probs.Errors(), probs.String())
	require.Len(t, p.Stages, 2001)
	require.Equal(t, ";", p.Stages[2000].Conn.Params["delim"])
}
