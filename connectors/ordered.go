package connectors

import "github.com/ankaflow/ankaflow/engine/value"

// Map is a mapping inside params that keeps its key order (a YAML mapping, a @json object):
// DuckDB reader options such as read_csv's `columns` define column order by it. It is the
// project's one ordered mapping, value.Map. Custom connections whose params declare a map
// field receive a plain map[string]any.
type Map = value.Map

// NewMap builds an ordered map.
func NewMap() *Map { return value.NewMap() }

func plainMap(m *Map) map[string]any {
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
		return plainMap(x)
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
