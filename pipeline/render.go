package pipeline

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ankaflow/ankaflow/connectors"
	"github.com/ankaflow/ankaflow/pipeline/template"
)

// renderedStage is a stage with its templates rendered, just before it runs (or, for `plan`,
// with the values known before the run). The Stage itself is never modified, so loops and
// re-runs always render from the source (AnkaFlow rendered in place).
type renderedStage struct {
	Query    string
	HasQuery bool
	Skip     bool
	Conn     *connectors.Definition
	// Deferred lists what could not be rendered at plan time ("rendered at run time").
	Deferred []string
}

func (r *Runner) where(st *Stage, field string, pos Pos) template.Where {
	// The stage is not named here: StageError names it once, around the template's error.
	return template.Where{File: pos.File, Line: pos.Line, Col: pos.Col, Field: field}
}

// renderText renders one text field. In plan mode a failure (typically a name only known at
// run time, such as loop_control) keeps the template text and records why.
func (r *Runner) renderText(st *Stage, field string, pos Pos, s string, rs *renderedStage) (string, error) {
	if !template.HasTemplate(s) {
		return s, nil
	}
	out, err := r.tmpl.RenderText(s, r.scope(), r.where(st, field, pos))
	if err != nil && r.planOnly {
		rs.defer_(field, err)
		return s, nil
	}
	return out, err
}

// defer_ records a template that `plan` cannot render (its values exist only at run time).
func (rs *renderedStage) defer_(field string, err error) {
	msg := err.Error()
	var te *template.Error
	if errors.As(err, &te) {
		msg = te.Msg
	}
	rs.Deferred = append(rs.Deferred, field+" ("+firstLine(msg)+")")
}

func (r *Runner) renderValue(st *Stage, field string, pos Pos, v any, rs *renderedStage) (any, error) {
	switch x := v.(type) {
	case string:
		if !template.HasTemplate(x) {
			return x, nil
		}
		out, err := r.tmpl.RenderValue(x, r.scope(), r.where(st, field, pos))
		if err != nil && r.planOnly {
			rs.defer_(field, err)
			return x, nil
		}
		return out, err
	case *connectors.Map:
		out := connectors.NewMap()
		for _, k := range x.Keys {
			rv, err := r.renderValue(st, field+"."+k, pos, x.Values[k], rs)
			if err != nil {
				return nil, err
			}
			out.Set(k, rv)
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for _, k := range sortedKeys(x) {
			rv, err := r.renderValue(st, field+"."+k, pos, x[k], rs)
			if err != nil {
				return nil, err
			}
			out[k] = rv
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			rv, err := r.renderValue(st, fmt.Sprintf("%s[%d]", field, i), pos, e, rs)
			if err != nil {
				return nil, err
			}
			out[i] = rv
		}
		return out, nil
	}
	return v, nil
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// render renders the fields AnkaFlow renders at stage time: skip_if, query and the connection.
func (r *Runner) render(st *Stage) (*renderedStage, error) {
	rs := &renderedStage{}
	// skip_if: only a truthy value is rendered (AnkaFlow: YAML false/0 never renders).
	if st.SkipIf != nil && template.Truthy(st.SkipIf) {
		v, err := r.renderValue(st, "skip_if", st.At("skip_if"), st.SkipIf, rs)
		if err != nil {
			return nil, err
		}
		if s, ok := v.(string); ok && template.HasTemplate(s) && r.planOnly {
			rs.Skip = false // unknown until run time
		} else {
			rs.Skip = template.Truthy(v)
		}
	}
	if rs.Skip {
		return rs, nil
	}
	if st.Query != nil {
		q, err := r.renderText(st, "query", st.At("query"), *st.Query, rs)
		if err != nil {
			return nil, err
		}
		rs.Query, rs.HasQuery = q, strings.TrimSpace(q) != ""
	}
	if st.Conn != nil {
		def, err := r.renderConnection(st, rs)
		if err != nil {
			return nil, err
		}
		rs.Conn = def
	}
	return rs, nil
}

func (r *Runner) renderConnection(st *Stage, rs *renderedStage) (*connectors.Definition, error) {
	c := st.Conn
	def := &connectors.Definition{
		Stage: st.Name, Kind: c.Kind, Module: c.Module, Classname: c.Classname,
		Fields: c.Fields, Query: rs.Query, Origin: st.Pos.Short(),
	}
	loc, err := r.renderText(st, "connection.locator", c.At("locator"), c.Locator, rs)
	if err != nil {
		return nil, err
	}
	def.Locator = loc
	if raw, ok := c.Params[paramsJSONKey]; ok {
		v, err := r.renderValue(st, "connection.params", c.At("params"), raw, rs)
		if err != nil {
			return nil, err
		}
		m, ok := v.(*connectors.Map)
		if !ok {
			if !r.planOnly {
				return nil, fmt.Errorf("connection.params (%s): the @json block must produce a mapping, got %T", c.At("params").Short(), v)
			}
		} else {
			// Top-level keys in a plain map (the connection's params), their order kept
			// aside; nested mappings stay ordered.
			def.Params = make(map[string]any, m.Len())
			for _, k := range m.Keys {
				def.Params[k] = m.Values[k]
			}
			def.ParamOrder = m.Keys
		}
	} else {
		// A param the connection declares as text gets the rendered text as is: type inference
		// would turn a password like "1e3" into the number 1000.
		textParams := map[string]bool{}
		if k, err := connectors.Resolve(*def); err == nil {
			for _, p := range k.Params.Params {
				textParams[p.Name] = p.Type == "string"
			}
		}
		def.Params = map[string]any{}
		def.ParamOrder = c.ParamOrder
		for _, k := range sortedKeys(c.Params) {
			field := "connection.params." + k
			var v any
			var err error
			if s, isText := c.Params[k].(string); isText && textParams[k] {
				v, err = r.renderText(st, field, c.ParamAt(k), s, rs)
			} else {
				v, err = r.renderValue(st, field, c.ParamAt(k), c.Params[k], rs)
			}
			if err != nil {
				return nil, err
			}
			def.Params[k] = v
		}
	}
	if c.HasConfig {
		v, err := r.renderValue(st, "connection.config", c.At("config"), c.Config, rs)
		if err != nil {
			return nil, err
		}
		cfg, err := decodeConfig(connectors.Plain(v).(map[string]any))
		if err != nil {
			return nil, fmt.Errorf("connection.config (%s): %w", c.At("config").Short(), err)
		}
		def.Config = &cfg
	}
	return def, nil
}
