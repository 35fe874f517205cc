package pipeline

import (
	"strings"

	"gopkg.in/yaml.v3"
)

// A header stage is documentation and the idiomatic home of YAML anchors (`shared_sql: &q …`,
// `shared_conn: &csv {…}`), as in AnkaFlow: it accepts any keys, and is never rendered or run.
// Only its name, kind and macros mean something to ankaflow.

// isHeader reports whether a stage mapping's kind is header (in any case, as the other kinds).
func (l *loader) isHeader(ps []pair) bool {
	for _, p := range ps {
		if p.key == "kind" && p.value.Kind == yaml.ScalarNode && kindAliases[strings.ToLower(p.value.Value)] == KindHeader {
			return true
		}
	}
	return false
}

// header loads a header stage: name, kind and macros; every other key is left alone (it may hold
// anything, typically anchors that later stages refer to).
func (l *loader) header(s *Stage, ps []pair) {
	for _, p := range ps {
		s.pos[p.key] = l.pos(p.value)
		switch p.key {
		case "kind":
			s.RawKind = l.str(p.value, s.Name)
		case "macros":
			s.Macros = l.macros(p.value, s.Name)
		}
	}
}

// checkHeader validates what a header stage means: its name (it names the stage in messages;
// a header creates no table, so its name is not checked for uniqueness) and its macros. Its
// kind was checked with every other stage's.
func checkHeader(v *validator, s *Stage) {
	if strings.TrimSpace(s.Name) == "" {
		v.probs.add(s.Pos, s.Name, "header stage has no name: every stage needs a name")
	}
	v.checkMacros(s)
}
