package pipeline

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/engine"
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

func chainPipeline(n int) []byte {
	var b strings.Builder
	b.WriteString("- name: s0\n  kind: tap\n  connection: {kind: CSV, locator: a.csv}\n")
	for i := 1; i < n; i++ {
		fmt.Fprintf(&b, "- name: s%d\n  kind: transform\n  query: SELECT * FROM s%d\n", i, i-1)
	}
	return []byte(b.String())
}

// Validation grows linearly with the number of stages: it once rebuilt the list of all stage
// names for every query it checked (20,000 stages took 23 s, 40,000 took 85 s). Measured in
// bytes allocated, which doubling the pipeline must not quadruple.
func TestValidateLinearInStages(t *testing.T) {
	ctx := context.Background()
	s := testSession(t)
	alloc := func(n int) uint64 {
		p, probs := Parse("chain.yaml", chainPipeline(n))
		require.Empty(t, probs)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		probs = Validate(ctx, p, ValidateOptions{Session: s})
		runtime.ReadMemStats(&after)
		require.Empty(t, probs.Errors())
		return after.TotalAlloc - before.TotalAlloc
	}
	small, large := alloc(2000), alloc(4000)
	require.Less(t, float64(large)/float64(small), 2.8, "2000 stages: %d bytes, 4000 stages: %d bytes", small, large)
}

// A 1 MB identifier is quoted in a bounded message, with an ellipsis and its size.
func TestValidateClipsQuotedText(t *testing.T) {
	ctx := context.Background()
	s := testSession(t)
	huge := strings.Repeat("é", 1<<19)
	var b strings.Builder
	b.WriteString("- name: s0\n  kind: tap\n  connection: {kind: CSV, locator: a.csv}\n")
	for i := 1; i <= 30; i++ {
		fmt.Fprintf(&b, "- name: s%d\n  kind: transform\n  query: SELECT * FROM s%d\n", i, i-1)
	}
	fmt.Fprintf(&b, "- name: bad\n  kind: transform\n  query: SELECT * FROM %s\n", huge)
	p, probs := Parse("clip.yaml", []byte(b.String()))
	require.Empty(t, probs)
	probs = Validate(ctx, p, ValidateOptions{Session: s})
	require.Len(t, probs, 1)
	msg := probs[0].Msg
	require.Less(t, len(msg), 1000, msg)
	require.Contains(t, msg, "query reads 'éé")
	require.Contains(t, msg, "… (1048576 bytes in all)', which is not a stage of this pipeline")
	require.Contains(t, msg, "stages before this one: 's0', 's1', 's10', ")
	require.Contains(t, msg, ", … (21 more)")
	require.True(t, utf8.ValidString(msg))
}

// Stage names that differ only in (ASCII) case are one DuckDB table: refused, naming both
// places. Non-ASCII letters are distinct to DuckDB and stay allowed.
func TestValidateCaseInsensitiveDuplicateNames(t *testing.T) {
	p, probs := Parse("case.yaml", []byte(`- name: Orders
  kind: tap
  connection: {kind: CSV, locator: a.csv}
- name: orders
  kind: tap
  connection: {kind: CSV, locator: b.csv}
- name: Éa
  kind: tap
  connection: {kind: CSV, locator: c.csv}
- name: éa
  kind: tap
  connection: {kind: CSV, locator: d.csv}
`))
	require.Empty(t, probs)
	probs = Validate(context.Background(), p, ValidateOptions{})
	require.Equal(t, "case.yaml:4:9: stage name 'orders' differs only in case from stage 'Orders' (defined at case.yaml:1): DuckDB table names ignore case, so both would be one table; rename one of them", probs.Errors().String())
}

// testSession is a session on a fresh in-memory database, closed with the test.
func testSession(t *testing.T) *engine.Session {
	t.Helper()
	db, err := engine.Open(context.Background(), engine.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	s, err := db.NewSession(context.Background())
	require.NoError(t, err)
	return s
}
