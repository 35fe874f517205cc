package pipeline

import (
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/ankaflow/ankaflow/connectors"
	"github.com/ankaflow/ankaflow/engine/value"
)

var stageKeys = []string{"name", "kind", "connection", "query", "skip_if", "show", "show_schema", "explain",
	"stages", "on_error", "throttle", "log_level", "fields", "locator", "macros", "mode"}

var connectionKeys = []string{"kind", "module", "classname", "params", "config", "fields", "locator",
	"create_statement", "show_schema", "raw_dispatch", "version", "key"}

// Keys AnkaFlow declares on connections but never uses; accepted with a warning.
var ignoredConnectionKeys = map[string]string{
	"create_statement": "create_statement is not used (AnkaFlow declares it but never used it either)",
	"show_schema":      "connection-level show_schema is not used: set show_schema on the stage",
	"raw_dispatch":     "raw_dispatch only applies to Deltatable, which this build does not have",
	"version":          "version/key de-duplication only applies to Deltatable, ClickHouse and BigQuery taps, which this build does not have",
	"key":              "version/key de-duplication only applies to Deltatable, ClickHouse and BigQuery taps, which this build does not have",
}

var bucketKeys = []string{"bucket", "data_prefix", "locator_wildcard", "region", "access_key_id",
	"secret_access_key", "hmac_key", "hmac_secret", "credential_file", "endpoint_url", "url_style",
	"connection_string", "account_name", "account_key"}

// LoadFile reads and parses a pipeline file. Problems holds every shape error found (the model
// is still returned, as complete as the input allows, so validation can go on in one pass).
func LoadFile(path string) (*Pipeline, Problems) {
	data, err := os.ReadFile(path)
	if err != nil {
		return &Pipeline{File: path}, Problems{{Pos: Pos{File: path}, Msg: "cannot read pipeline: " + err.Error()}}
	}
	return Parse(path, data)
}

var yamlLine = regexp.MustCompile(`line (\d+)(?:, column (\d+))?: (.*)`)

// Parse parses pipeline YAML. file names the source in positions.
func Parse(file string, data []byte) (*Pipeline, Problems) {
	p := &Pipeline{File: file}
	var probs Problems
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		pos := Pos{File: file}
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			pos.Line, _ = strconv.Atoi(m[1])
			pos.Col, _ = strconv.Atoi(m[2])
			if pos.Col == 0 {
				pos.Col = 1
			}
			msg = m[3]
		}
		probs.add(pos, "", "YAML syntax error: "+msg)
		return p, probs
	}
	if pr := checkAliasExpansion(file, &root); pr != nil {
		probs = append(probs, *pr)
		return p, probs
	}
	l := &loader{file: file, probs: &probs}
	if root.Kind == 0 || len(root.Content) == 0 {
		probs.add(Pos{File: file, Line: 1, Col: 1}, "", "the pipeline is empty: expected a list of stages")
		return p, probs
	}
	doc := resolve(root.Content[0])
	if doc.Kind != yaml.SequenceNode {
		probs.add(l.pos(doc), "", fmt.Sprintf("expected a list of pipeline stages, got %s (start each stage with `- name: …`)", kindName(doc)))
		return p, probs
	}
	p.Stages = l.stages(doc)
	return p, probs
}

type loader struct {
	file  string
	probs *Problems
}

func (l *loader) pos(n *yaml.Node) Pos { return Pos{File: l.file, Line: n.Line, Col: n.Column} }

func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing (null)"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "an unexpected YAML node"
}

type pair struct {
	key   string
	kpos  *yaml.Node
	value *yaml.Node
}

// pairs lists a mapping's entries, expanding YAML merge keys (`<<: *anchor`) and reporting
// duplicate keys (YAML would silently keep the last one).
func (l *loader) pairs(n *yaml.Node, stage string) []pair {
	var out []pair
	seen := map[string]bool{}
	var merged []pair
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Value == "<<" && k.Tag == "!!merge" {
			src := resolve(v)
			var srcs []*yaml.Node
			if src.Kind == yaml.SequenceNode {
				for _, c := range src.Content {
					srcs = append(srcs, resolve(c))
				}
			} else {
				srcs = []*yaml.Node{src}
			}
			for _, m := range srcs {
				if m.Kind != yaml.MappingNode {
					l.probs.add(l.pos(v), stage, "a YAML merge (<<) must refer to a mapping")
					continue
				}
				merged = append(merged, l.pairs(m, stage)...)
			}
			continue
		}
		if seen[k.Value] {
			l.probs.add(l.pos(k), stage, fmt.Sprintf("key %q appears twice in this mapping (YAML would silently keep the last)", k.Value))
		}
		seen[k.Value] = true
		out = append(out, pair{k.Value, k, resolve(v)})
	}
	for _, m := range merged {
		if !seen[m.key] {
			seen[m.key] = true
			out = append(out, m)
		}
	}
	return out
}

func (l *loader) stages(seq *yaml.Node) []*Stage {
	var out []*Stage
	for _, item := range seq.Content {
		item = resolve(item)
		if item.Kind != yaml.MappingNode {
			l.probs.add(l.pos(item), "", fmt.Sprintf("a stage must be a mapping with name and kind, got %s", kindName(item)))
			continue
		}
		out = append(out, l.stage(item))
	}
	return out
}

func (l *loader) stage(n *yaml.Node) *Stage {
	s := &Stage{Pos: l.pos(n), pos: map[string]Pos{}, OnError: "fail"}
	ps := l.pairs(n, "")
	// Name first, so that every later problem can name the stage.
	for _, p := range ps {
		if p.key == "name" {
			s.Name = l.str(p.value, "")
		}
	}
	if l.isHeader(ps) {
		l.header(s, ps)
		return s
	}
	for _, p := range ps {
		s.pos[p.key] = l.pos(p.value)
		v := p.value
		switch p.key {
		case "name":
		case "kind":
			s.RawKind = l.str(v, s.Name)
		case "connection":
			if v.Kind != yaml.MappingNode {
				l.probs.add(l.pos(v), s.Name, fmt.Sprintf("connection must be a mapping with a kind, got %s", kindName(v)))
				continue
			}
			s.Conn = l.connection(v, s.Name)
		case "query":
			if v.Tag == "!!null" {
				continue
			}
			q := l.str(v, s.Name)
			s.Query = &q
		case "skip_if":
			s.SkipIf = l.value(v, false)
		case "show":
			s.Show = l.int(v, s.Name, "show")
		case "show_schema":
			s.ShowSchema = l.bool(v, s.Name, "show_schema")
		case "explain":
			s.Explain = l.bool(v, s.Name, "explain")
		case "stages":
			if v.Kind != yaml.SequenceNode {
				l.probs.add(l.pos(v), s.Name, fmt.Sprintf("stages must be a list of stages, got %s", kindName(v)))
				continue
			}
			s.Stages = l.stages(v)
		case "on_error":
			s.OnError = l.str(v, s.Name)
		case "throttle":
			s.Throttle = l.number(v, s.Name, "throttle")
		case "log_level":
			s.LogLevel = l.str(v, s.Name)
		case "fields":
			s.Fields = l.fields(v, s.Name)
		case "locator":
			s.Locator = l.str(v, s.Name)
		case "macros":
			s.Macros = l.macros(v, s.Name)
		case "mode":
			s.Mode = l.str(v, s.Name)
		default:
			l.probs.add(l.pos(p.kpos), s.Name, fmt.Sprintf("unknown stage key %q%s", p.key, connectors.DidYouMean(p.key, stageKeys)))
		}
	}
	return s
}

func (l *loader) connection(n *yaml.Node, stage string) *Connection {
	c := &Connection{Pos: l.pos(n), pos: map[string]Pos{}, paramsPos: map[string]Pos{}, paramsKeyPos: map[string]Pos{}}
	var paramNodes map[string]*yaml.Node
	defer func() { textParams(c, paramNodes) }()
	for _, p := range l.pairs(n, stage) {
		c.pos[p.key] = l.pos(p.value)
		v := p.value
		switch p.key {
		case "kind":
			c.Kind = l.str(v, stage)
		case "module":
			c.Module = l.str(v, stage)
		case "classname":
			c.Classname = l.str(v, stage)
		case "locator":
			c.Locator = l.str(v, stage)
		case "params":
			switch {
			case v.Kind == yaml.MappingNode:
				c.Params = map[string]any{}
				paramNodes = map[string]*yaml.Node{}
				for _, pp := range l.pairs(v, stage) {
					if _, seen := c.Params[pp.key]; !seen {
						c.ParamOrder = append(c.ParamOrder, pp.key)
					}
					c.Params[pp.key] = l.value(pp.value, true)
					paramNodes[pp.key] = pp.value
					c.paramsPos[pp.key] = l.pos(pp.value)
					c.paramsKeyPos[pp.key] = l.pos(pp.kpos)
				}
			case v.Kind == yaml.ScalarNode && v.Tag == "!!null":
			case v.Kind == yaml.ScalarNode && (strings.HasPrefix(v.Value, "@json") || strings.HasPrefix(v.Value, "JSON>")):
				// A whole params block given as @json: rendered and parsed at run time.
				c.Params = map[string]any{paramsJSONKey: v.Value}
			default:
				l.probs.add(l.pos(v), stage, fmt.Sprintf("params must be a mapping (or an @json string), got %s", kindName(v)))
			}
		case "config":
			if v.Kind != yaml.MappingNode {
				l.probs.add(l.pos(v), stage, fmt.Sprintf("config must be a mapping of stores (local, s3, gs, …), got %s", kindName(v)))
				continue
			}
			c.HasConfig = true
			c.Config = l.config(v, stage)
		case "fields":
			c.Fields = l.fields(v, stage)
		default:
			if kindTakesKey(n, p.key) {
				// A kind's own connection key (Rest's client, request) is one of its params.
				if c.Params == nil {
					c.Params = map[string]any{}
				}
				c.Params[p.key] = l.value(v, true)
				c.paramsPos[p.key] = l.pos(v)
				c.paramsKeyPos[p.key] = l.pos(p.kpos)
				continue
			}
			if msg, ok := ignoredConnectionKeys[p.key]; ok {
				l.probs.warn(l.pos(p.kpos), stage, msg)
				continue
			}
			l.probs.add(l.pos(p.kpos), stage, fmt.Sprintf("unknown connection key %q%s", p.key, connectors.DidYouMean(p.key, connectionKeys)))
		}
	}
	return c
}

// textParams gives each param the connection declares as text its scalar exactly as written:
// YAML would read `password: 0123` as the number 83 and `version: 1.10` as 1.1.
func textParams(c *Connection, nodes map[string]*yaml.Node) {
	if len(nodes) == 0 {
		return
	}
	k, err := connectors.Resolve(connectors.Definition{Kind: c.Kind, Module: c.Module, Classname: c.Classname})
	if err != nil {
		return
	}
	for _, p := range k.Params.Params {
		n := resolve(nodes[p.Name])
		if p.Type == "string" && n != nil && n.Kind == yaml.ScalarNode && n.Tag != "!!null" {
			c.Params[p.Name] = n.Value
		}
	}
}

// kindTakesKey reports whether the connection mapping n selects a registered kind that declares
// key among its own connection keys (connectors.Spec.Keys).
func kindTakesKey(n *yaml.Node, key string) bool {
	n = resolve(n)
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value != "kind" {
			continue
		}
		k, ok := connectors.Lookup(n.Content[i+1].Value)
		return ok && contains(k.Keys, key)
	}
	return false
}

// paramsJSONKey holds a whole-params @json string until it is rendered.
const paramsJSONKey = "\x00@json"

// config checks a connection configuration's shape: stores local/s3/gs have fixed keys; other
// sections (bigquery, clickhouse, llm, or a custom connection's own) are free mappings.
func (l *loader) config(n *yaml.Node, stage string) map[string]any {
	out := map[string]any{}
	for _, p := range l.pairs(n, stage) {
		v := p.value
		if v.Kind != yaml.MappingNode {
			l.probs.add(l.pos(p.kpos), stage, fmt.Sprintf("config.%s must be a mapping; config holds stores (local, s3, gs, az) and system sections (clickhouse, bigquery, …): did you mean params.%s or config.local.%s?", p.key, p.key, p.key))
			continue
		}
		switch p.key {
		case "local", "s3", "gs", "az":
			for _, b := range l.pairs(v, stage) {
				if !contains(bucketKeys, b.key) {
					l.probs.add(l.pos(b.kpos), stage, fmt.Sprintf("unknown key %q in config.%s%s", b.key, p.key, connectors.DidYouMean(b.key, bucketKeys)))
				}
			}
		}
		out[p.key] = connectors.Plain(l.value(v, false))
	}
	return out
}

func (l *loader) fields(n *yaml.Node, stage string) []connectors.Field {
	if n.Kind != yaml.SequenceNode {
		l.probs.add(l.pos(n), stage, fmt.Sprintf("fields must be a list of {name, type}, got %s", kindName(n)))
		return nil
	}
	var out []connectors.Field
	for _, item := range n.Content {
		item = resolve(item)
		if item.Kind != yaml.MappingNode {
			l.probs.add(l.pos(item), stage, "each field must be a mapping with name and type")
			continue
		}
		var f connectors.Field
		for _, p := range l.pairs(item, stage) {
			switch p.key {
			case "name":
				f.Name = l.str(p.value, stage)
			case "type":
				f.Type = l.str(p.value, stage)
			default:
				l.probs.add(l.pos(p.kpos), stage, fmt.Sprintf("unknown field key %q%s", p.key, connectors.DidYouMean(p.key, []string{"name", "type"})))
			}
		}
		if f.Name == "" {
			l.probs.add(l.pos(item), stage, "a field needs a name")
		}
		out = append(out, f)
	}
	return out
}

func (l *loader) macros(n *yaml.Node, stage string) []Macro {
	if n.Kind != yaml.SequenceNode {
		l.probs.add(l.pos(n), stage, "macros must be a list of {name, body}")
		return nil
	}
	var out []Macro
	for _, item := range n.Content {
		item = resolve(item)
		if item.Kind != yaml.MappingNode {
			l.probs.add(l.pos(item), stage, "each macro must be a mapping with name and body")
			continue
		}
		m := Macro{Pos: l.pos(item)}
		for _, p := range l.pairs(item, stage) {
			switch p.key {
			case "name":
				m.Name = l.str(p.value, stage)
			case "body":
				m.Body = l.str(p.value, stage)
			default:
				l.probs.add(l.pos(p.kpos), stage, fmt.Sprintf("unknown macro key %q%s", p.key, connectors.DidYouMean(p.key, []string{"name", "body"})))
			}
		}
		out = append(out, m)
	}
	return out
}

func (l *loader) str(n *yaml.Node, stage string) string {
	if n.Kind != yaml.ScalarNode {
		l.probs.add(l.pos(n), stage, fmt.Sprintf("expected a text value, got %s", kindName(n)))
		return ""
	}
	if n.Tag == "!!null" {
		return ""
	}
	return n.Value
}

func (l *loader) int(n *yaml.Node, stage, key string) int {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!int" {
		v, err := strconv.Atoi(strings.ReplaceAll(n.Value, "_", ""))
		if err == nil {
			return v
		}
	}
	l.probs.add(l.pos(n), stage, fmt.Sprintf("%s must be a whole number, got %s", key, kindName(n)))
	return 0
}

func (l *loader) number(n *yaml.Node, stage, key string) float64 {
	if n.Kind == yaml.ScalarNode && (n.Tag == "!!int" || n.Tag == "!!float") {
		v, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
		if err == nil {
			return v
		}
	}
	l.probs.add(l.pos(n), stage, fmt.Sprintf("%s must be a number of seconds, got %s", key, kindName(n)))
	return 0
}

func (l *loader) bool(n *yaml.Node, stage, key string) bool {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!bool" {
		var b bool
		if n.Decode(&b) == nil {
			return b
		}
	}
	l.probs.add(l.pos(n), stage, fmt.Sprintf("%s must be true or false, got %s", key, kindName(n)))
	return false
}

// value converts a YAML node into plain Go values; mappings become *connectors.Map when
// ordered (params: reader options such as read_csv's columns depend on key order).
func (l *loader) value(n *yaml.Node, ordered bool) any {
	n = resolve(n)
	switch n.Kind {
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!timestamp", "!!str", "!!binary", "!!merge":
			return n.Value
		case "!!int", "!!float":
			if value.NeedsDecimal(strings.ReplaceAll(n.Value, "_", "")) {
				// More digits than a float64 keeps: exact (e.g. a DECIMAL bound).
				return value.Decimal(strings.TrimPrefix(strings.ReplaceAll(n.Value, "_", ""), "+"))
			}
		}
		var v any
		if err := n.Decode(&v); err != nil {
			return n.Value
		}
		return v
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			out = append(out, l.value(c, ordered))
		}
		return out
	case yaml.MappingNode:
		if ordered {
			m := connectors.NewMap()
			for _, p := range l.pairs(n, "") {
				m.Set(p.key, l.value(p.value, ordered))
			}
			return m
		}
		m := map[string]any{}
		for _, p := range l.pairs(n, "") {
			m[p.key] = l.value(p.value, ordered)
		}
		return m
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// sortedKeys is used where map iteration order would make output unstable.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
