package pipeline

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/connectors"
)

func TestParseShapes(t *testing.T) {
	_, probs := Parse("p.yaml", []byte("name: x\nkind: tap\n"))
	require.Equal(t, "p.yaml:1:1: expected a list of pipeline stages, got a mapping (start each stage with `- name: …`)", probs.String())

	_, probs = Parse("p.yaml", []byte("- name: x\n\tkind: tap\n"))
	require.Equal(t, "p.yaml:2:1: YAML syntax error: found a tab character that violates indentation", probs.String())

	_, probs = Parse("p.yaml", []byte(""))
	require.Equal(t, "p.yaml:1:1: the pipeline is empty: expected a list of stages", probs.String())
}

func TestParseAnchorsMergesAndDuplicates(t *testing.T) {
	p, probs := Parse("p.yaml", []byte(`
- name: defaults
  kind: header
  conn: &csv
    kind: CSV
    params: {delim: ";"}
- name: a
  kind: tap
  connection:
    <<: *csv
    locator: a.csv
- name: b
  kind: tap
  kind: transform
`))
	// A header stage holds anything (its anchors here); other stages are checked for keys.
	require.Equal(t, []string{
		`p.yaml:14:3: key "kind" appears twice in this mapping (YAML would silently keep the last)`,
	}, lines(probs))
	c := p.Stages[1].Conn
	require.Equal(t, "CSV", c.Kind)
	require.Equal(t, "a.csv", c.Locator)
	m := c.Params["delim"]
	require.Equal(t, ";", m)
}

func TestParseOrderedParams(t *testing.T) {
	p, probs := Parse("p.yaml", []byte(`
- name: a
  kind: tap
  connection:
    kind: CSV
    locator: a.csv
    params:
      columns: {zeta: INTEGER, alpha: VARCHAR}
      header: true
      skip: 2
      since: 2024-01-01
`))
	require.Empty(t, probs)
	params := p.Stages[0].Conn.Params
	cols := params["columns"].(*connectors.Map)
	require.Equal(t, []string{"zeta", "alpha"}, cols.Keys, "mapping order is kept")
	require.Equal(t, true, params["header"])
	require.Equal(t, 2, params["skip"])
	require.Equal(t, "2024-01-01", params["since"], "dates stay text, as written")
}

func lines(ps Problems) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.String())
	}
	return out
}
