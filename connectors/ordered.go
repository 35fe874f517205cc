package connectors

// Map is a YAML mapping inside params that keeps its key order: DuckDB reader options such as
// read_csv's `columns` define column order by it. Custom connections whose params declare a
// map field receive a plain map[string]any.
type Map struct {
	Keys   []string
	Values map[string]any
}

// NewMap builds an ordered map.
func NewMap() *Map { return &Map{Values: map[string]any{}} }

// Set appends or replaces a key.
func (m *Map) Set(k string, v any) {
	if _, ok := m.Values[k]; !ok {
		m.Keys = append(m.Keys, k)
	}
	m.Values[k] = v
}

// Plain converts the map (recursively) into map[string]any.
func (m *Map) Plain() map[string]any {
	out := make(map[string]any, len(m.Keys))
	for _, k := range m.Keys {
		out[k] = Plain(m.Values[k])
	}
	return out
}

// Plain converts ordered maps anywhere inside v into map[string]any.
func Plain(v any) any {
	switch x := v.(type) {
	case *Map:
		return x.Plain()
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = Plain(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = Plain(e)
		}
		return out
	}
	return v
}
