package connectors

import (
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ankaflow/ankaflow/engine/value"
)

// ParamsSpec describes a connection's `params`, derived from the Go struct the constructor
// receives. Struct fields are tagged:
//
//	Host     string `param:"host,required" doc:"server host name"`
//	Port     int    `param:"port" default:"3306"`
//	Password string `param:"password,secret"`
//
// Supported field types: string, bool, int, int64, float64, time.Duration, []string, []any,
// map[string]any, any. A params type of map[string]any means free-form params (passed through,
// e.g. to DuckDB's file readers).
type ParamsSpec struct {
	Free   bool
	Params []Param
	typ    reflect.Type
}

// Param is one declared parameter.
type Param struct {
	Name     string
	Type     string // string, bool, int, float, duration, list, map, any
	Required bool
	Secret   bool
	Default  string
	Doc      string
	index    int
}

var (
	durationType = reflect.TypeOf(time.Duration(0))
	freeType     = reflect.TypeOf(map[string]any{})
)

func paramsSpecOf(t reflect.Type) (*ParamsSpec, error) {
	if t == freeType {
		return &ParamsSpec{Free: true, typ: t}, nil
	}
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("params type %s must be a struct or map[string]any", t)
	}
	ps := &ParamsSpec{typ: t}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag, ok := f.Tag.Lookup("param")
		if !ok || !f.IsExported() {
			continue
		}
		parts := strings.Split(tag, ",")
		p := Param{Name: parts[0], Default: f.Tag.Get("default"), Doc: f.Tag.Get("doc"), index: i}
		if p.Name == "" {
			return nil, fmt.Errorf("%s.%s: empty param name", t, f.Name)
		}
		for _, o := range parts[1:] {
			switch o {
			case "required":
				p.Required = true
			case "secret":
				p.Secret = true
			default:
				return nil, fmt.Errorf("%s.%s: unknown param option %q", t, f.Name, o)
			}
		}
		switch {
		case f.Type == durationType:
			p.Type = "duration"
		case f.Type.Kind() == reflect.String:
			p.Type = "string"
		case f.Type.Kind() == reflect.Bool:
			p.Type = "bool"
		case f.Type.Kind() == reflect.Int || f.Type.Kind() == reflect.Int64:
			p.Type = "int"
		case f.Type.Kind() == reflect.Float64:
			p.Type = "float"
		case f.Type.Kind() == reflect.Slice:
			p.Type = "list"
		case f.Type == freeType:
			p.Type = "map"
		case f.Type.Kind() == reflect.Interface:
			p.Type = "any"
		default:
			return nil, fmt.Errorf("%s.%s: unsupported param type %s", t, f.Name, f.Type)
		}
		if p.Default != "" {
			if _, err := convertParam(p, reflect.New(f.Type).Elem(), p.Default); err != nil {
				return nil, fmt.Errorf("%s.%s: bad default: %v", t, f.Name, err)
			}
		}
		ps.Params = append(ps.Params, p)
	}
	return ps, nil
}

// Names lists the declared param names.
func (ps *ParamsSpec) Names() []string {
	var n []string
	for _, p := range ps.Params {
		n = append(n, p.Name)
	}
	return n
}

// ParamError is a problem with one param key (Key "" for the params block as a whole).
type ParamError struct {
	Key string
	Msg string
}

func (e ParamError) Error() string {
	if e.Key == "" {
		return e.Msg
	}
	return "params." + e.Key + ": " + e.Msg
}

// Decode turns raw params into the constructor's type. deferred reports values that are still
// unrendered templates (at validation time): their type is checked after rendering, at run time.
func (ps *ParamsSpec) Decode(raw map[string]any, deferred func(v any) bool) (any, []ParamError) {
	if ps.Free {
		out := map[string]any{}
		for k, v := range raw {
			out[k] = v
		}
		return out, nil
	}
	var errs []ParamError
	val := reflect.New(ps.typ).Elem()
	known := map[string]bool{}
	for _, p := range ps.Params {
		known[p.Name] = true
		field := val.Field(p.index)
		v, present := raw[p.Name]
		if !present || v == nil {
			if p.Required {
				errs = append(errs, ParamError{p.Name, fmt.Sprintf("required param %q is missing", p.Name)})
				continue
			}
			if p.Default != "" {
				dv, _ := convertParam(p, field, p.Default)
				field.Set(dv)
			}
			continue
		}
		if deferred != nil && deferred(v) {
			continue
		}
		cv, err := convertParam(p, field, v)
		if err != nil {
			errs = append(errs, ParamError{p.Name, err.Error()})
			continue
		}
		field.Set(cv)
	}
	var unknown []string
	for k := range raw {
		if !known[k] {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		errs = append(errs, ParamError{k, fmt.Sprintf("unknown param %q%s; known params: %s", k, DidYouMean(k, ps.Names()), OneOf(ps.Names()))})
	}
	return val.Interface(), errs
}

func convertParam(p Param, field reflect.Value, v any) (reflect.Value, error) {
	t := field.Type()
	bad := func() (reflect.Value, error) {
		return reflect.Value{}, fmt.Errorf("expected %s, got %s %v", p.Type, describe(v), redactIf(p, v))
	}
	switch p.Type {
	case "string":
		switch x := v.(type) {
		case string:
			return reflect.ValueOf(x).Convert(t), nil
		case int, int64, float64, bool:
			return reflect.ValueOf(fmt.Sprint(x)).Convert(t), nil
		case value.Decimal:
			return reflect.ValueOf(string(x)).Convert(t), nil
		}
		return bad()
	case "bool":
		switch x := v.(type) {
		case bool:
			return reflect.ValueOf(x).Convert(t), nil
		case string:
			switch strings.ToLower(strings.TrimSpace(x)) {
			case "true", "yes", "on", "1":
				return reflect.ValueOf(true).Convert(t), nil
			case "false", "no", "off", "0":
				return reflect.ValueOf(false).Convert(t), nil
			}
		}
		return bad()
	case "int":
		var n int64
		switch x := v.(type) {
		case int:
			n = int64(x)
		case int64:
			n = x
		case float64:
			if x != math.Trunc(x) {
				return bad()
			}
			n = int64(x)
		case string:
			i, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
			if err != nil {
				return bad()
			}
			n = i
		default:
			return bad()
		}
		return reflect.ValueOf(n).Convert(t), nil
	case "float":
		switch x := v.(type) {
		case int:
			return reflect.ValueOf(float64(x)).Convert(t), nil
		case int64:
			return reflect.ValueOf(float64(x)).Convert(t), nil
		case float64:
			return reflect.ValueOf(x).Convert(t), nil
		case value.Decimal:
			return reflect.ValueOf(x.Float64()).Convert(t), nil
		case string:
			f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
			if err != nil {
				return bad()
			}
			return reflect.ValueOf(f).Convert(t), nil
		}
		return bad()
	case "duration":
		switch x := v.(type) {
		case int:
			return reflect.ValueOf(time.Duration(x) * time.Second), nil
		case float64:
			return reflect.ValueOf(time.Duration(x * float64(time.Second))), nil
		case string:
			d, err := time.ParseDuration(strings.TrimSpace(x))
			if err != nil {
				return bad()
			}
			return reflect.ValueOf(d), nil
		}
		return bad()
	case "list":
		items, ok := v.([]any)
		if !ok {
			if s, isStr := v.(string); isStr && t.Elem().Kind() == reflect.String {
				items = []any{s}
			} else {
				return bad()
			}
		}
		out := reflect.MakeSlice(t, 0, len(items))
		for _, it := range items {
			if t.Elem().Kind() == reflect.String {
				s, ok := it.(string)
				if !ok {
					s = value.Format(it)
				}
				out = reflect.Append(out, reflect.ValueOf(s).Convert(t.Elem()))
			} else {
				it = Plain(it)
				out = reflect.Append(out, reflect.ValueOf(&it).Elem())
			}
		}
		return out, nil
	case "map":
		switch m := v.(type) {
		case map[string]any:
			return reflect.ValueOf(Plain(m)), nil
		case *Map:
			return reflect.ValueOf(plainMap(m)), nil
		}
		return bad()
	default:
		v = Plain(v)
		return reflect.ValueOf(&v).Elem(), nil
	}
}

func describe(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case int, int64:
		return "integer"
	case float64, value.Decimal:
		return "number"
	case bool:
		return "boolean"
	case []any:
		return "list"
	case map[string]any, *Map:
		return "mapping"
	}
	return fmt.Sprintf("%T", v)
}

func redactIf(p Param, v any) string {
	if p.Secret {
		return "(value hidden: secret)"
	}
	s := value.Format(v)
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return strconv.Quote(s)
}

// Redacted renders params for listings and logs as a JSON object: keys in the order they were
// written (order lists them; keys it misses follow sorted), values exact, and secrets hidden at
// any depth: declared secret params, and any key that looks like one (password, token…) in
// free-form params and inside nested mappings.
func (ps *ParamsSpec) Redacted(raw map[string]any, order []string) string {
	secret := map[string]bool{}
	for _, p := range ps.Params {
		secret[p.Name] = p.Secret
	}
	out := value.NewMap()
	add := func(k string) {
		v, ok := raw[k]
		if !ok {
			return
		}
		if _, done := out.Values[k]; done {
			return
		}
		if secret[k] || looksSecret(k) {
			out.Set(k, "***")
			return
		}
		out.Set(k, redactDeep(v, 0))
	}
	for _, k := range order {
		add(k)
	}
	rest := make([]string, 0, len(raw))
	for k := range raw {
		rest = append(rest, k)
	}
	sort.Strings(rest)
	for _, k := range rest {
		add(k)
	}
	return string(value.JSON(out))
}

// redactDeep copies v with the values of secret-looking keys replaced by "***".
func redactDeep(v any, depth int) any {
	if depth > 100 {
		return "…"
	}
	switch x := v.(type) {
	case *Map:
		out := value.NewMap()
		for _, k := range x.Keys {
			if looksSecret(k) {
				out.Set(k, "***")
			} else {
				out.Set(k, redactDeep(x.Values[k], depth+1))
			}
		}
		return out
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		out := value.NewMap()
		for _, k := range keys {
			if looksSecret(k) {
				out.Set(k, "***")
			} else {
				out.Set(k, redactDeep(x[k], depth+1))
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = redactDeep(e, depth+1)
		}
		return out
	}
	return v
}

// looksSecret guards free-form params, which have no spec, by name.
func looksSecret(k string) bool {
	k = strings.ToLower(k)
	switch k {
	case "auth", "authorization", "values", "cookie", "key", "sig", "signature":
		return true
	}
	for _, w := range []string{"password", "secret", "token", "apikey", "api_key", "api-key", "credential"} {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}
