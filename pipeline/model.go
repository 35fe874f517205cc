// Package pipeline loads YAML pipelines, validates them, lowers them into a SQL plan and runs
// that plan in DuckDB. `ankaflow plan` prints what Lower produces; `ankaflow run` executes the
// very same blocks, so there is one execution path.
package pipeline

import (
	"fmt"

	"github.com/ankaflow/ankaflow/connectors"
)

// Pos is a position in a pipeline file.
type Pos struct {
	File string
	Line int
	Col  int
}

func (p Pos) String() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Short is file:line, as stage errors cite it.
func (p Pos) Short() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d", p.File, p.Line)
}

// Stage kinds after normalisation (`source` → tap, `self` → internal).
const (
	KindTap       = "tap"
	KindTransform = "transform"
	KindSink      = "sink"
	KindSQL       = "sql"
	KindInternal  = "internal"
	KindPipeline  = "pipeline"
	KindHeader    = "header"
)

// kindAliases maps every accepted spelling (lower-cased) to its kind.
var kindAliases = map[string]string{
	"tap": KindTap, "source": KindTap, "transform": KindTransform, "sink": KindSink, "sql": KindSQL,
	"internal": KindInternal, "self": KindInternal, "pipeline": KindPipeline, "header": KindHeader,
}

// Pipeline is a loaded pipeline file.
type Pipeline struct {
	File   string
	Stages []*Stage
}

// Stage is one stage as written in YAML.
type Stage struct {
	Name    string
	Kind    string // normalised; "" when unknown
	RawKind string // as written
	Conn    *Connection
	Query   *string
	SkipIf  any // nil when absent
	Show    int
	// ShowSchema prints the columns and types after the stage.
	ShowSchema bool
	Explain    bool
	Stages     []*Stage
	OnError    string // "fail" or "continue"
	Throttle   float64
	LogLevel   string
	Fields     []connectors.Field
	Locator    string
	// Mode is a tap's table mode: "replace" (default) or "append" (see tap_mode.go).
	Mode string
	// Macros are user Fn macros, allowed on header stages.
	Macros []Macro

	Pos Pos            // position of the stage's mapping
	pos map[string]Pos // position of each key's value
}

// Macro is a user macro declared in a header stage: `macros: [{name: x, body: "(a) AS a * 2"}]`.
type Macro struct {
	Name string
	Body string
	Pos  Pos
}

// At returns the position of a stage key's value (the stage position when absent).
func (s *Stage) At(key string) Pos {
	if p, ok := s.pos[key]; ok {
		return p
	}
	return s.Pos
}

// Label identifies a stage in messages: stage 'clean' (pipeline.yaml:14).
func (s *Stage) Label() string {
	return fmt.Sprintf("stage '%s' (%s)", clipText(s.Name), s.Pos.Short())
}

// Connection is a stage's connection block as written (before rendering).
type Connection struct {
	Kind      string
	Module    string
	Classname string
	Locator   string
	Params    map[string]any // nested mappings are *connectors.Map (ordered)
	// ParamOrder lists the params' keys in the order they were written.
	ParamOrder []string
	Config     map[string]any // raw; decoded into connectors.Config after rendering
	Fields     []connectors.Field
	HasConfig  bool

	Pos          Pos
	pos          map[string]Pos
	paramsPos    map[string]Pos // value positions
	paramsKeyPos map[string]Pos // key positions (for unknown params)
}

// At returns the position of a connection key's value.
func (c *Connection) At(key string) Pos {
	if p, ok := c.pos[key]; ok {
		return p
	}
	return c.Pos
}

// ParamAt returns the position of a param's value.
func (c *Connection) ParamAt(key string) Pos {
	if p, ok := c.paramsPos[key]; ok {
		return p
	}
	return c.At("params")
}

// Walk visits every stage depth-first in execution order.
func Walk(stages []*Stage, visit func(s *Stage, depth int)) {
	var rec func([]*Stage, int)
	rec = func(ss []*Stage, d int) {
		for _, s := range ss {
			visit(s, d)
			rec(s.Stages, d+1)
		}
	}
	rec(stages, 0)
}
