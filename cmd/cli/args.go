package cli

import (
	"fmt"
	"strings"
)

// flagSpec declares one command-line flag: its names, how many values it takes (0 for a
// switch), and whether it may repeat.
type flagSpec struct {
	names  []string
	arity  int
	repeat bool
	help   string
	meta   string
}

// parsed holds the result of parsing: values per canonical flag name and positionals.
type parsed struct {
	values map[string][][]string
	args   []string
}

func (p *parsed) has(name string) bool { return len(p.values[name]) > 0 }

func (p *parsed) str(name string) string {
	v := p.values[name]
	if len(v) == 0 || len(v[0]) == 0 {
		return ""
	}
	return v[len(v)-1][0]
}

func (p *parsed) all(name string) []string {
	var out []string
	for _, v := range p.values[name] {
		out = append(out, v...)
	}
	return out
}

// usageError is a command-line mistake (exit code 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// parseArgs accepts flags before and after positionals (`run p.yaml -v a=1`), `--flag=value`,
// and `--` to end flags.
func parseArgs(args []string, specs []flagSpec) (*parsed, error) {
	byName := map[string]*flagSpec{}
	for i := range specs {
		for _, n := range specs[i].names {
			byName[n] = &specs[i]
		}
	}
	p := &parsed{values: map[string][][]string{}}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			p.args = append(p.args, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			p.args = append(p.args, a)
			continue
		}
		name, inline, hasInline := strings.Cut(a, "=")
		spec, ok := byName[name]
		if !ok && (name == "-h" || name == "--help") {
			return nil, errHelp
		}
		if !ok {
			var known []string
			for n := range byName {
				known = append(known, n)
			}
			return nil, usagef("unknown flag %s%s; flags: %s", name, suggestFlag(name, known), flagNames(specs))
		}
		canon := spec.names[0]
		var vals []string
		switch {
		case spec.arity == 0:
			if hasInline {
				return nil, usagef("flag %s takes no value", name)
			}
		case hasInline && spec.arity == 1:
			vals = []string{inline}
		default:
			if hasInline {
				vals = append(vals, inline)
			}
			for len(vals) < spec.arity {
				i++
				if i >= len(args) {
					return nil, usagef("flag %s needs %d value(s): %s %s", name, spec.arity, name, spec.meta)
				}
				vals = append(vals, args[i])
			}
		}
		if !spec.repeat && len(p.values[canon]) > 0 {
			return nil, usagef("flag %s given twice", name)
		}
		p.values[canon] = append(p.values[canon], vals)
	}
	return p, nil
}

func suggestFlag(name string, known []string) string {
	best := ""
	for _, k := range known {
		if strings.TrimLeft(k, "-") == strings.TrimLeft(name, "-") {
			return fmt.Sprintf(" (did you mean %s?)", k)
		}
		if strings.HasPrefix(strings.TrimLeft(k, "-"), strings.TrimLeft(name, "-")) && len(name) > 2 {
			best = k
		}
	}
	if best != "" {
		return fmt.Sprintf(" (did you mean %s?)", best)
	}
	return ""
}

// keyValues parses repeated key=value flags.
func keyValues(flag string, pairs []string) (map[string]any, error) {
	m := map[string]any{}
	for _, kv := range pairs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, usagef("invalid %s %q: expected key=value", flag, kv)
		}
		m[k] = v
	}
	return m, nil
}

func helpText(specs []flagSpec) string {
	var b strings.Builder
	for _, s := range specs {
		left := strings.Join(s.names, ", ")
		if s.meta != "" {
			left += " " + s.meta
		}
		fmt.Fprintf(&b, "  %-28s %s\n", left, s.help)
	}
	return b.String()
}
