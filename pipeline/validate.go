package pipeline

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/ankaflow/ankaflow/connectors"
	"github.com/ankaflow/ankaflow/engine"
	"github.com/ankaflow/ankaflow/engine/sqlast"
	"github.com/ankaflow/ankaflow/pipeline/template"
)

// ValidateOptions tune checks that depend on the environment of the run.
type ValidateOptions struct {
	// Session, when set, lets validation parse SQL with DuckDB (table references of queries,
	// tap query shapes). Without it those checks are skipped.
	Session *engine.Session
	// PersistentDB is true when the run uses a database file that may already hold tables, so
	// a query naming a table that is not a stage is not an error.
	PersistentDB bool
	// Config is the run's connection configuration: with it, a sink's CREATE statement is
	// tried over taps described where the run will find them (sink_create_check.go).
	Config connectors.Config
}

// hasTemplate reports whether a value still contains template syntax.
func hasTemplate(v any) bool {
	switch x := v.(type) {
	case string:
		return template.HasTemplate(x)
	case []any:
		for _, e := range x {
			if hasTemplate(e) {
				return true
			}
		}
	case *connectors.Map:
		for _, k := range x.Keys {
			if hasTemplate(x.Values[k]) {
				return true
			}
		}
	case map[string]any:
		for _, e := range x {
			if hasTemplate(e) {
				return true
			}
		}
	}
	return false
}

var kindNames = []string{"tap", "source", "transform", "sink", "sql", "internal", "self", "pipeline", "header"}

// Validate checks a loaded pipeline without running it and returns every problem found.
func Validate(ctx context.Context, p *Pipeline, opts ValidateOptions) Problems {
	v := &validator{ctx: ctx, p: p, opts: opts, names: map[string]*Stage{}}
	v.checkStages(p.Stages, 0)
	defer v.closeCreateCheck()
	Walk(p.Stages, func(s *Stage, _ int) {
		v.mayCreateTables = v.mayCreateTables || s.Kind == KindInternal || s.Kind == KindSQL
	})
	v.checkFlow(p.Stages, nil, false)
	v.probs.Sort()
	return v.probs
}

type validator struct {
	ctx   context.Context
	p     *Pipeline
	opts  ValidateOptions
	probs Problems
	names map[string]*Stage
	// order lists stages in execution order, for "defined later" messages.
	order    []*Stage
	allNames []string          // names of order, for suggestions (see stageNames)
	folded   map[string]*Stage // lower-cased stage names (see sameFolded)
	// mayCreateTables: internal or sql stages can create tables no stage is named after, so
	// a query reading an unknown table is not necessarily wrong.
	mayCreateTables bool
	creates         sinkCreates // sink statements tried in a scratch database (sink_create_check.go)
}

func (v *validator) checkStages(stages []*Stage, depth int) {
	for _, s := range stages {
		v.checkStage(s, depth)
	}
}

func (v *validator) checkStage(s *Stage, depth int) {
	v.order = append(v.order, s)
	switch k, ok := kindAliases[strings.ToLower(s.RawKind)]; {
	case s.RawKind == "":
		v.probs.add(s.Pos, s.Name, fmt.Sprintf("stage '%s' has no kind: set kind to one of tap, transform, sink, sql, internal, pipeline, header", s.Name))
	case !ok:
		v.probs.add(s.At("kind"), s.Name, fmt.Sprintf("unknown stage kind %q%s; kinds: tap (or source), transform, sink, sql, internal (or self), pipeline, header", s.RawKind, connectors.DidYouMean(s.RawKind, kindNames)))
	default:
		s.Kind = k
	}
	if s.Kind == KindHeader {
		checkHeader(v, s)
		return
	}
	if len(s.Macros) > 0 {
		v.probs.add(s.At("macros"), s.Name, "macros may only be declared on a header stage")
	}
	if strings.TrimSpace(s.Name) == "" {
		v.probs.add(s.Pos, s.Name, "stage has no name: every stage needs a unique name (it becomes the DuckDB table or view name)")
	} else if strings.ContainsRune(s.Name, 0) {
		v.probs.add(s.At("name"), s.Name, "stage name contains a NUL character")
	} else if prev, dup := v.names[s.Name]; dup {
		v.probs.add(s.At("name"), s.Name, fmt.Sprintf("duplicate stage name '%s' (first defined at %s): stage names are table names and must be unique", s.Name, prev.At("name").Short()))
	} else if prev := v.sameFolded(s); prev != nil {
		v.probs.add(s.At("name"), s.Name, fmt.Sprintf("stage name '%s' differs only in case from stage '%s' (defined at %s): DuckDB table names ignore case, so both would be one table; rename one of them", s.Name, prev.Name, prev.At("name").Short()))
	} else {
		v.names[s.Name] = s
	}

	switch s.OnError {
	case "fail", "continue":
	default:
		v.probs.add(s.At("on_error"), s.Name, fmt.Sprintf("on_error must be fail or continue, got %q%s", s.OnError, connectors.DidYouMean(s.OnError, []string{"fail", "continue"})))
	}
	if s.LogLevel != "" {
		switch strings.ToUpper(s.LogLevel) {
		case "DEBUG", "INFO", "WARNING", "ERROR":
		default:
			v.probs.add(s.At("log_level"), s.Name, fmt.Sprintf("log_level must be one of DEBUG, INFO, WARNING, ERROR, got %q", s.LogLevel))
		}
	}
	if s.Throttle < 0 {
		v.probs.add(s.At("throttle"), s.Name, "throttle must not be negative")
	}
	checkTapMode(v, s)
	if s.Kind != KindPipeline && s.Stages != nil {
		v.probs.add(s.At("stages"), s.Name, fmt.Sprintf("stages are only allowed on a pipeline stage, not on a %s stage", s.Kind))
	}

	needsConn := s.Kind == KindTap || s.Kind == KindSink || s.Kind == KindSQL
	switch {
	case needsConn && s.Conn == nil:
		v.probs.add(s.Pos, s.Name, fmt.Sprintf("%s stage '%s' requires a connection (add connection: {kind: …})", s.Kind, s.Name))
	case !needsConn && s.Conn != nil && s.Kind != "":
		v.probs.add(s.At("connection"), s.Name, fmt.Sprintf("a %s stage does not use a connection; remove it or change the kind to tap, sink or sql", s.Kind))
	case s.Conn != nil:
		v.checkConnection(s)
	}

	query := ""
	if s.Query != nil {
		query = *s.Query
	}
	switch s.Kind {
	case KindTransform, KindInternal:
		if strings.TrimSpace(query) == "" {
			v.probs.add(s.Pos, s.Name, fmt.Sprintf("%s stage '%s' needs a query", s.Kind, s.Name))
		}
	case KindSink:
		v.checkSinkQuery(s, query)
	case KindSQL:
		if strings.TrimSpace(query) == "" {
			v.probs.add(s.Pos, s.Name, fmt.Sprintf("sql stage '%s' needs a query: the statement to run on the connection's system", s.Name))
		}
	case KindPipeline:
		if len(s.Stages) == 0 {
			v.probs.add(s.Pos, s.Name, fmt.Sprintf("pipeline stage '%s' needs a non-empty stages list", s.Name))
		}
		if s.Query != nil {
			v.probs.add(s.At("query"), s.Name, "a pipeline stage does not take a query")
		}
	}
	if s.Kind == KindTap && s.Conn != nil && query != "" && !hasTemplate(query) && v.opts.Session != nil {
		if k, err := connectors.Resolve(connDef(s)); err == nil && !k.IsCustom() && k.Name != "Variable" {
			if _, err := connectors.Placeholder(v.ctx, v.opts.Session, query); err != nil {
				v.probs.add(s.At("query"), s.Name, err.Error())
			}
		}
	}
	if s.Kind == KindPipeline {
		v.checkStages(s.Stages, depth+1)
	}
}

func (v *validator) checkMacros(s *Stage) {
	seen := map[string]bool{}
	ident := regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	for _, m := range s.Macros {
		switch {
		case !ident.MatchString(m.Name):
			v.probs.add(m.Pos, s.Name, fmt.Sprintf("macro name %q must be an identifier (letters, digits, _)", m.Name))
		case seen[strings.ToLower(m.Name)]:
			v.probs.add(m.Pos, s.Name, fmt.Sprintf("macro %q is declared twice", m.Name))
		case strings.TrimSpace(m.Body) == "":
			v.probs.add(m.Pos, s.Name, fmt.Sprintf("macro %q has no body (e.g. body: \"(a) AS a * 2\")", m.Name))
		}
		seen[strings.ToLower(m.Name)] = true
		if err := validateMacro(m); err != nil {
			v.probs.add(m.Pos, s.Name, err.Error())
		}
	}
}

func connDef(s *Stage) connectors.Definition {
	return connectors.Definition{Stage: s.Name, Kind: s.Conn.Kind, Module: s.Conn.Module, Classname: s.Conn.Classname, Locator: s.Conn.Locator}
}

func (v *validator) checkConnection(s *Stage) {
	c := s.Conn
	if c.Kind == "" {
		v.probs.add(c.Pos, s.Name, fmt.Sprintf("connection has no kind; kinds: %s", connectors.OneOf(connectors.KindNames())))
		return
	}
	isCustom := c.Kind == connectors.CustomKind || c.Kind == connectors.DimensionKind
	if !isCustom && (c.Module != "" || c.Classname != "") {
		key := "module"
		if c.Module == "" {
			key = "classname"
		}
		v.probs.add(c.At(key), s.Name, fmt.Sprintf("module and classname only apply to kind: CustomConnection, not %s", c.Kind))
	}
	if c.Kind == connectors.CustomKind {
		if c.Module == "" {
			v.probs.add(c.Pos, s.Name, "a CustomConnection needs module: (the module its class is registered under)")
		}
		if c.Classname == "" {
			v.probs.add(c.Pos, s.Name, "a CustomConnection needs classname:")
		}
		if c.Module == "" || c.Classname == "" {
			return
		}
	}
	k, err := connectors.Resolve(connDef(s))
	if err != nil {
		at := c.At("kind")
		if isCustom {
			at = c.At("module")
			if strings.Contains(err.Error(), "has no connection class") {
				at = c.At("classname")
			}
		}
		v.probs.add(at, s.Name, err.Error())
		return
	}
	if k.LocatorRequired && c.Locator == "" {
		v.probs.add(c.Pos, s.Name, fmt.Sprintf("connection %s needs a locator (the file, path or name it reads and writes)", k.Label()))
	}
	var needed connectors.Ops
	switch s.Kind {
	case KindTap:
		needed = connectors.OpTap
	case KindSink:
		needed = connectors.OpSink
	case KindSQL:
		needed = connectors.OpSQL
	}
	if needed != 0 && !k.Ops.Has(needed) {
		v.probs.add(s.At("kind"), s.Name, fmt.Sprintf("connection %s cannot be used in %s stage '%s': it supports %s", k.Label(), s.Kind, s.Name, k.Ops))
	}
	if s.ShowSchema && s.Kind == KindTap && !k.Ops.Has(connectors.OpShowSchema) {
		v.probs.warn(s.At("show_schema"), s.Name, fmt.Sprintf("connection %s cannot show its schema; show_schema will describe the stage table instead", k.Label()))
	}
	if _, isJSON := c.Params[paramsJSONKey]; isJSON {
		return // checked after rendering
	}
	_, perrs := k.Params.Decode(c.Params, hasTemplate)
	if len(perrs) == 0 && k.Check != nil {
		perrs = k.Check(c.Params, hasTemplate)
	}
	for _, e := range perrs {
		at := c.ParamAt(e.Key)
		if e.Key == "" || strings.HasPrefix(e.Msg, "required") {
			at = c.At("params")
			if _, ok := c.pos["params"]; !ok {
				at = c.Pos
			}
		}
		if strings.HasPrefix(e.Msg, "unknown param") {
			if kp, ok := c.paramsKeyPos[e.Key]; ok {
				at = kp
			}
		}
		text := e.Error()
		if contains(k.Keys, e.Key) {
			text = e.Msg // a kind's own connection key (Rest's client): not under params
		}
		v.probs.add(at, s.Name, fmt.Sprintf("%s: %s", k.Label(), text))
	}
	if c.HasConfig {
		if _, err := decodeConfig(c.Config); err != nil && !hasTemplate(c.Config) {
			v.probs.add(c.At("config"), s.Name, err.Error())
		}
	}
}

// checkFlow follows the run order to check previous-stage rules and table references.
// known holds the stage names that exist (as tables or views) when a stage runs.
func (v *validator) checkFlow(stages []*Stage, known map[string]bool, nested bool) map[string]bool {
	if known == nil {
		known = map[string]bool{}
	}
	prevKnown := !nested // false when a skip_if may have skipped the stage that set prev
	prev := ""
	for _, s := range stages {
		switch s.Kind {
		case KindHeader, "":
			continue
		}
		skippable := s.SkipIf != nil && template.Truthy(s.SkipIf)
		query := ""
		if s.Query != nil {
			query = *s.Query
		}
		switch s.Kind {
		case KindSink:
			if query == "" && prev == "" && prevKnown && !skippable {
				v.probs.add(s.Pos, s.Name, fmt.Sprintf("sink '%s' has nothing to write: no stage before it produces data; add a query or put a tap/transform before it", s.Name))
			}
		}
		if query != "" && !hasTemplate(query) && (s.Kind == KindTransform || s.Kind == KindSink || s.Kind == KindInternal) && !v.mayCreateTables && !v.opts.PersistentDB {
			v.checkReferences(s, query, known)
		}
		v.replayStage(s)
		switch s.Kind {
		case KindTap, KindTransform, KindSQL, KindInternal:
			known[s.Name] = true
			if skippable {
				prevKnown = false
			}
			prev = s.Name
		case KindSink:
			if query != "" {
				known[s.Name] = true
			}
		case KindPipeline:
			inner := v.checkFlow(s.Stages, copySet(known), true)
			for n := range inner {
				known[n] = true
			}
		}
	}
	return known
}

func copySet(m map[string]bool) map[string]bool {
	out := make(map[string]bool, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// checkReferences reports tables a query reads that no earlier stage produces.
func (v *validator) checkReferences(s *Stage, query string, known map[string]bool) {
	if v.opts.Session == nil {
		return
	}
	names, err := tableNames(v.ctx, v.opts.Session, query)
	if err != nil {
		return // DuckDB will report syntax errors with its own message at run time
	}
	for _, n := range names {
		if known[n] {
			continue
		}
		if st, ok := v.names[n]; ok {
			v.probs.add(s.At("query"), s.Name, fmt.Sprintf("query reads '%s', which is defined later (%s): stages run in order", n, st.At("name").Short()))
			continue
		}
		before := sortedKeys(known)
		hint := connectors.DidYouMean(n, v.stageNames())
		v.probs.add(s.At("query"), s.Name, fmt.Sprintf("query reads '%s', which is not a stage of this pipeline%s; stages before this one: %s", clipText(n), hint, listSome(quoteAll(before))))
	}
}

// sameFolded returns an earlier stage whose name equals s's ignoring case (DuckDB resolves
// identifiers case-insensitively: `Orders` and `orders` are one table), and remembers s.
func (v *validator) sameFolded(s *Stage) *Stage {
	if v.folded == nil {
		v.folded = map[string]*Stage{}
	}
	key := asciiLower(s.Name)
	if prev, ok := v.folded[key]; ok {
		return prev
	}
	v.folded[key] = s
	return nil
}

// asciiLower folds ASCII letters only, as DuckDB compares identifiers ("É" and "é" are two
// tables to it).
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// stageNames lists every stage name in run order, built once: a pipeline of n stages with
// unknown references must not rebuild it n times.
func (v *validator) stageNames() []string {
	if len(v.allNames) != len(v.order) {
		v.allNames = v.allNames[:0]
		for _, st := range v.order {
			v.allNames = append(v.allNames, st.Name)
		}
	}
	return v.allNames
}

func quoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = "'" + x + "'"
	}
	if len(out) == 0 {
		return []string{"(none)"}
	}
	return out
}

// tableNames lists the unqualified tables a query reads, using DuckDB's parser (CTE names and
// table functions are not tables).
func tableNames(ctx context.Context, s *engine.Session, query string) ([]string, error) {
	js, err := sqlast.Serialize(ctx, s, query)
	if err != nil {
		return nil, err
	}
	return sqlast.BaseTables(js)
}
