package pipeline

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// maxExpandedNodes bounds the YAML nodes that aliases add to a pipeline file once expanded
// (nodes written out count as the file's own size). yaml.v3 keeps an alias as one node
// pointing at its anchor, but the loader copies the anchored value at every use, so nested
// anchors (`&b [*a, *a, …]`, `&c [*b, *b, …]`) grow exponentially: 470 bytes made 6 GB.
// A million nodes is about 100 MB once loaded; 100,000 stages sharing a 10-key anchor fit.
const maxExpandedNodes = 1_000_000

// checkAliasExpansion walks the document in order, adding up the nodes every alias expands to
// (each anchor's size computed once), and reports the alias at which the total passes the
// bound, before anything is expanded.
func checkAliasExpansion(file string, root *yaml.Node) *Problem {
	sizes := map[*yaml.Node]int{}
	var size func(n *yaml.Node) int
	size = func(n *yaml.Node) int {
		if n.Kind == yaml.AliasNode {
			n = n.Alias
			if n == nil {
				return 1
			}
		}
		if s, ok := sizes[n]; ok {
			return s
		}
		sizes[n] = 1 // a node reached again while being sized (yaml.v3 rejects such cycles)
		s := 1
		for _, c := range n.Content {
			s = min(s+size(c), maxExpandedNodes+1)
		}
		sizes[n] = s
		return s
	}
	total := 0
	var walk func(n *yaml.Node) *Problem
	walk = func(n *yaml.Node) *Problem {
		if n.Kind == yaml.AliasNode {
			total = min(total+size(n), maxExpandedNodes+1)
			if total > maxExpandedNodes {
				return &Problem{Pos: Pos{File: file, Line: n.Line, Col: n.Column},
					Msg: fmt.Sprintf("YAML alias expansion exceeds %d nodes at alias *%s: nested anchors repeat their content exponentially; write the values out or use fewer levels of aliases", maxExpandedNodes, n.Value)}
			}
			return nil
		}
		for _, c := range n.Content {
			if p := walk(c); p != nil {
				return p
			}
		}
		return nil
	}
	return walk(root)
}
