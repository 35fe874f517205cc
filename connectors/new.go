package connectors

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ankaflow/ankaflow/engine"
)

// Definition is a connection as a stage declares it, after template rendering.
type Definition struct {
	Stage     string // the stage name: the connection's name in SQL
	Kind      string
	Module    string
	Classname string
	Locator   string
	Params    map[string]any
	// ParamOrder lists the params' keys in the order they were written (connections() shows
	// them so); optional.
	ParamOrder []string
	Config     *Config // the connection's own config, nil when absent
	Fields     []Field
	Query      string
	Origin     string // "pipeline.yaml:12"
}

// Resolve finds the registered kind a definition selects.
func Resolve(def Definition) (*Kind, error) {
	switch def.Kind {
	case CustomKind:
		if def.Module == "" || def.Classname == "" {
			return nil, fmt.Errorf("a CustomConnection needs both `module` and `classname`")
		}
		return LookupCustom(def.Module, def.Classname)
	case DimensionKind:
		if def.Module == "" {
			return nil, fmt.Errorf("a Dimension connection needs `module`")
		}
		return LookupCustom(def.Module, "Dimension")
	}
	if k, ok := Lookup(def.Kind); ok {
		return k, nil
	}
	return nil, fmt.Errorf("unknown connection kind %q%s; kinds: %s", def.Kind, DidYouMean(def.Kind, KindNames()), OneOf(KindNames()))
}

// New constructs a connection: resolve its kind, decode its params into the kind's typed params,
// call the constructor, populate Base, and call Init.
func New(ctx context.Context, def Definition, env *Env) (Connection, error) {
	k, err := Resolve(def)
	if err != nil {
		return nil, err
	}
	p, perrs := k.Params.Decode(def.Params, nil)
	if len(perrs) > 0 {
		msgs := make([]string, len(perrs))
		for i, e := range perrs {
			msgs[i] = e.Error()
		}
		return nil, errors.New(strings.Join(msgs, "; "))
	}
	c := k.create(p)
	if c == nil {
		return nil, fmt.Errorf("constructor of %s returned nil", k.Label())
	}
	b := c.base()
	if env == nil {
		env = &Env{}
	}
	b.self = c
	b.kind = k
	b.name = def.Stage
	b.locator = def.Locator
	b.params = def.Params
	b.paramOrder = def.ParamOrder
	b.fields = def.Fields
	b.query = def.Query
	b.env = env
	b.origin = def.Origin
	b.config = env.Config
	if def.Config != nil {
		b.config = env.Config.Merge(*def.Config)
	}
	if err := c.Init(ctx); err != nil {
		Close(c)
		return nil, fmt.Errorf("%s init: %w", k.Label(), err)
	}
	return c, nil
}

// Close releases a connection's resources (its own Close if it has one, else Base's).
func Close(c Connection) error {
	if cl, ok := c.(interface{ Close() error }); ok {
		return cl.Close()
	}
	return c.base().Close()
}

// KindOf returns the registered kind of a constructed connection.
func KindOf(c Connection) *Kind { return c.base().kind }

// BaseOf exposes a connection's Base (name, locator…) to the engine-side packages.
func BaseOf(c Connection) *Base { return c.base() }

// CatalogEntry describes a constructed connection for the engine's catalog (what
// `connections()` lists): identity, locator and params with secrets redacted.
func CatalogEntry(c Connection) *engine.Entry {
	b := c.base()
	return &engine.Entry{
		Name:      b.name,
		Kind:      b.kind.Name,
		Module:    b.kind.Module,
		Classname: b.kind.Classname,
		Locator:   b.locator,
		Params:    b.kind.Params.Redacted(b.params, b.paramOrder),
		Origin:    b.origin,
		Conn:      c,
	}
}
