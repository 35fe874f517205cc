package connectors

import (
	"fmt"
	"reflect"
	"sort"
	"sync"
)

// CustomKind is the YAML kind that selects a registered custom connection by module and
// classname; Dimension is its deprecated predecessor (classname always "Dimension").
const (
	CustomKind    = "CustomConnection"
	DimensionKind = "Dimension"
)

// Spec describes a connection kind; it drives validation, documentation and error messages.
type Spec struct {
	// Summary is one line for listings and docs.
	Summary string
	// Ops are the operations the kind supports.
	Ops Ops
	// LocatorRequired makes `locator` mandatory in YAML (file-like kinds).
	LocatorRequired bool
	// ExactRows makes Sink receive, from SQL (COPY … (FORMAT ankaflow)), Arrow that keeps
	// every DuckDB type: UUID, HUGEINT, TIME WITH TIME ZONE, BIT and JSON arrive as DuckDB's
	// Arrow extension types (which DuckDB reads back as the same types) instead of text,
	// decimal or binary. For sinks that hand the rows back to DuckDB, such as Variable.
	ExactRows bool
	// Keys are connection keys of this kind besides the common ones (kind, params, config,
	// fields, locator…), e.g. Rest's `client` and `request`: the loader passes each to the
	// params under its own name, so they are declared, decoded and rendered like params.
	Keys []string
	// Check, when set, checks the params (as written) beyond their declared types — nested
	// blocks such as Rest's client and request — at validate time. deferred reports values
	// that are still templates: they are checked after rendering, at run time.
	Check func(raw map[string]any, deferred func(v any) bool) []ParamError
}

// Kind is a registered connection kind: a built-in kind name, or a custom (module, classname).
type Kind struct {
	Name      string
	Module    string
	Classname string
	Spec
	Params *ParamsSpec
	create func(params any) Connection
}

// Label names the kind in messages.
func (k *Kind) Label() string {
	if k.Module != "" {
		return k.Module + "." + k.Classname
	}
	return k.Name
}

// IsCustom reports whether the kind was registered with RegisterCustom.
func (k *Kind) IsCustom() bool { return k.Module != "" }

var registry = struct {
	sync.Mutex
	kinds  map[string]*Kind
	custom map[string]map[string]*Kind
}{kinds: map[string]*Kind{}, custom: map[string]map[string]*Kind{}}

// Register adds a built-in connection kind. P is the params struct (see ParamsSpec for its
// tags) or map[string]any for free-form params. Registering a name twice panics.
func Register[P any](kind string, spec Spec, ctor func(P) Connection) {
	k := newKind[P](spec, ctor)
	k.Name = kind
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.kinds[kind]; dup || kind == CustomKind || kind == DimensionKind {
		panic("connectors: connection kind registered twice or reserved: " + kind)
	}
	registry.kinds[kind] = k
}

// RegisterCustom adds a custom connection, selected in YAML by
// `kind: CustomConnection`, `module: <module>`, `classname: <classname>`.
func RegisterCustom[P any](module, classname string, spec Spec, ctor func(P) Connection) {
	k := newKind[P](spec, ctor)
	k.Name, k.Module, k.Classname = CustomKind, module, classname
	registry.Lock()
	defer registry.Unlock()
	m := registry.custom[module]
	if m == nil {
		m = map[string]*Kind{}
		registry.custom[module] = m
	}
	if _, dup := m[classname]; dup {
		panic(fmt.Sprintf("connectors: custom connection %s.%s registered twice", module, classname))
	}
	m[classname] = k
}

func newKind[P any](spec Spec, ctor func(P) Connection) *Kind {
	ps, err := paramsSpecOf(reflect.TypeOf((*P)(nil)).Elem())
	if err != nil {
		panic("connectors: " + err.Error())
	}
	return &Kind{
		Spec:   spec,
		Params: ps,
		create: func(p any) Connection { return ctor(p.(P)) },
	}
}

// Lookup finds a built-in kind by its YAML name.
func Lookup(kind string) (*Kind, bool) {
	registry.Lock()
	defer registry.Unlock()
	k, ok := registry.kinds[kind]
	return k, ok
}

// KindNames lists the YAML kinds accepted in `connection.kind`, CustomConnection included.
func KindNames() []string {
	registry.Lock()
	defer registry.Unlock()
	names := []string{CustomKind, DimensionKind}
	for n := range registry.kinds {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Kinds lists built-in kinds sorted by name.
func Kinds() []*Kind {
	registry.Lock()
	defer registry.Unlock()
	var out []*Kind
	for _, k := range registry.kinds {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// CustomKinds lists registered custom connections sorted by module and classname.
func CustomKinds() []*Kind {
	registry.Lock()
	defer registry.Unlock()
	var out []*Kind
	for _, m := range registry.custom {
		for _, k := range m {
			out = append(out, k)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Label() < out[j].Label() })
	return out
}

// LookupCustom finds a custom connection. The error lists what is registered and suggests the
// closest module or class, as `validate` reports it.
func LookupCustom(module, classname string) (*Kind, error) {
	registry.Lock()
	defer registry.Unlock()
	m, ok := registry.custom[module]
	if !ok {
		var mods []string
		for n := range registry.custom {
			mods = append(mods, n)
		}
		if len(mods) == 0 {
			return nil, fmt.Errorf("no custom connection module %q is compiled into this binary; none are registered (build your own binary that imports your connector package, see docs/custom-connection.md)", module)
		}
		return nil, fmt.Errorf("no custom connection module %q is compiled into this binary%s; registered modules: %s", module, DidYouMean(module, mods), OneOf(mods))
	}
	k, ok := m[classname]
	if !ok {
		var classes []string
		for n := range m {
			classes = append(classes, n)
		}
		return nil, fmt.Errorf("module %q has no connection class %q%s; its classes: %s", module, classname, DidYouMean(classname, classes), OneOf(classes))
	}
	return k, nil
}
