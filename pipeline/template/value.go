package template

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nikolalohinski/gonja/v2/tokens"

	"github.com/ankaflow/ankaflow/engine/value"
)

// The evaluator works on a small closed set of Go types; everything that comes in from the
// caller is converted to them on access by norm, so no Go method of a caller's value is ever
// reachable from a template:
//
//	nil                  None
//	bool                 bool
//	int64                int
//	float64              float
//	string               str
//	[]any, ctxList       list (ctxList: a list reached through context)
//	tuple                tuple
//	map[string]any       dict from the caller's data (variables)
//	*value.Map           ordered dict from the caller's data (rows, JSON, YAML mappings)
//	value.Decimal        an exact number (DECIMAL columns, JSON numbers): prints its digits
//	ctxMap               dict reached through context (read-only)
//	*dict                dict created by the template (ordered)
//	*varsView            the top-level `variables`
//	*DateTime, *Date     API.dt results
//	*function            API functions and bound methods
//	*loopInfo            `loop` inside a for loop
//	apiNS                `API`
//	undefined            a missing name, key or attribute (strict: any use is an error)

type tuple []any

type ctxMap map[string]any

type ctxList []any

// dict is a dictionary created by a template ({...} literal, dict results of filters).
type dict struct {
	keys []string
	m    map[string]any
}

func newDict() *dict { return &dict{m: map[string]any{}} }

func (d *dict) set(k string, v any) {
	if _, ok := d.m[k]; !ok {
		d.keys = append(d.keys, k)
	}
	d.m[k] = v
}

// varsView is `variables`: the caller's live map plus the writes API.setvariable made during
// this render, which reach the caller's map only when the render succeeds.
type varsView struct {
	base map[string]any
	over map[string]any
}

func (v *varsView) get(k string) (any, bool) {
	if x, ok := v.over[k]; ok {
		return x, true
	}
	x, ok := v.base[k]
	return x, ok
}

func (v *varsView) keys() []string {
	seen := make(map[string]bool, len(v.base)+len(v.over))
	out := make([]string, 0, len(v.base)+len(v.over))
	for k := range v.base {
		seen[k] = true
		if !isDunderKey(k) {
			out = append(out, k)
		}
	}
	for k := range v.over {
		if !seen[k] {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

type undefined struct {
	name string
	tok  *tokens.Token
}

type function struct {
	name string
	fn   func(r *renderer, args []any, kw map[string]any) (any, error)
}

type apiNS struct{}

// norm converts a value coming from the caller's data (or stored in a container) to the
// evaluator's types. ro marks data reached through context: its maps and lists stay read-only.
func norm(v any, ro bool) any {
	switch x := v.(type) {
	case nil, bool, string, int64, float64, tuple, *dict, *DateTime, *Date, *function, *loopInfo,
		apiNS, *varsView, ctxMap, ctxList, undefined, value.Decimal:
		return v
	case *value.Map:
		if x == nil {
			return nil
		}
		return v
	case *value.Rows:
		// A Variable sink's rows: a list of ordered records.
		return wrapList(x.Records(), ro)
	case value.MapValue:
		m := value.NewMap()
		for _, p := range x {
			k, ok := p.Key.(string)
			if !ok {
				k = value.Format(p.Key)
			}
			m.Set(k, p.Value)
		}
		return m
	case value.RawJSON:
		return string(x) // a JSON element of a list: its text, as any JSON value
	case value.Date, value.Time, value.Timestamp, value.Interval:
		// Their SQL text form, which pastes back into SQL as it came out of it.
		return value.Format(x)
	case *big.Int:
		if x.IsInt64() {
			return x.Int64()
		}
		return value.Decimal(x.String())
	case map[string]any:
		if ro {
			return ctxMap(x)
		}
		return x
	case []any:
		if ro {
			return ctxList(x)
		}
		return x
	case int:
		return int64(x)
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case uint:
		return uintValue(uint64(x))
	case uint8:
		return int64(x)
	case uint16:
		return int64(x)
	case uint32:
		return int64(x)
	case uint64:
		return uintValue(x)
	case float32:
		return float64(x)
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		if f, err := x.Float64(); err == nil {
			return f
		}
		return x.String()
	case time.Time:
		return &DateTime{t: x}
	case *time.Time:
		if x == nil {
			return nil
		}
		return &DateTime{t: *x}
	case []byte:
		return string(x)
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return wrapList(out, ro)
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[fmt.Sprint(k)] = e
		}
		return wrapMap(m, ro)
	}
	return normReflect(v, ro)
}

func wrapList(l []any, ro bool) any {
	if ro {
		return ctxList(l)
	}
	return l
}

func wrapMap(m map[string]any, ro bool) any {
	if ro {
		return ctxMap(m)
	}
	return m
}

func uintValue(u uint64) any {
	if u > math.MaxInt64 {
		return value.Decimal(strconv.FormatUint(u, 10))
	}
	return int64(u)
}

// normReflect handles the remaining types: named basic types, other slices and maps,
// pointers and structs. Struct values are converted through their JSON form (their exported
// data), or their String form; nothing of them stays reachable.
func normReflect(v any, ro bool) any {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return nil
		}
		return norm(rv.Elem().Interface(), ro)
	case reflect.Bool:
		return rv.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return uintValue(rv.Uint())
	case reflect.Float32, reflect.Float64:
		return rv.Float()
	case reflect.String:
		return rv.String()
	case reflect.Slice, reflect.Array:
		if s, ok := v.(fmt.Stringer); ok && rv.Kind() == reflect.Array {
			return s.String() // e.g. UUIDs
		}
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return nil
		}
		out := make([]any, rv.Len())
		for i := range out {
			out[i] = rv.Index(i).Interface()
		}
		return wrapList(out, ro)
	case reflect.Map:
		if rv.IsNil() {
			return nil
		}
		m := make(map[string]any, rv.Len())
		it := rv.MapRange()
		for it.Next() {
			m[fmt.Sprint(it.Key().Interface())] = it.Value().Interface()
		}
		return wrapMap(m, ro)
	case reflect.Struct:
		if f, ok := v.(interface{ Float64() float64 }); ok { // decimals
			return f.Float64()
		}
		if b, err := json.Marshal(v); err == nil {
			var out any
			d := json.NewDecoder(strings.NewReader(string(b)))
			d.UseNumber()
			if d.Decode(&out) == nil {
				if _, isMap := out.(map[string]any); isMap {
					return norm(out, ro)
				}
			}
		}
		if s, ok := v.(fmt.Stringer); ok {
			return s.String()
		}
		return fmt.Sprintf("%v", v)
	}
	return fmt.Sprintf("%v", v)
}

// typeName is the Python type name used in messages and by API.peek.
func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case int64:
		return "int"
	case float64:
		return "float"
	case value.Decimal:
		return "Decimal"
	case string:
		return "str"
	case []any, ctxList:
		return "list"
	case tuple:
		return "tuple"
	case map[string]any, ctxMap, *dict, *varsView, *value.Map:
		return "dict"
	case *DateTime:
		return "datetime"
	case *Date:
		return "date"
	case *function:
		return "function"
	case *loopInfo:
		return "LoopContext"
	case apiNS:
		return "API"
	case undefined:
		return "undefined"
	}
	return fmt.Sprintf("%T", v)
}

// asList returns the items of a list or tuple.
func asList(v any) ([]any, bool) {
	switch x := v.(type) {
	case []any:
		return x, true
	case ctxList:
		return x, true
	case tuple:
		return x, true
	}
	return nil, false
}

// isMap reports whether v is any kind of dict.
func isMap(v any) bool {
	switch v.(type) {
	case map[string]any, ctxMap, *dict, *varsView, *value.Map:
		return true
	}
	return false
}

// mapKeys returns the keys of a dict: template dicts in insertion order, data maps sorted.
func mapKeys(v any) []string {
	switch x := v.(type) {
	case *dict:
		return append([]string(nil), x.keys...)
	case *varsView:
		return x.keys()
	case *value.Map:
		out := make([]string, 0, len(x.Keys))
		for _, k := range x.Keys {
			if !isDunderKey(k) {
				out = append(out, k)
			}
		}
		return out
	case map[string]any:
		return visibleKeys(x)
	case ctxMap:
		return visibleKeys(x)
	}
	return nil
}

func sortedKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// visibleKeys is sortedKeys without keys starting and ending with "__": templates can neither
// name nor list them (AnkaFlow's safe containers hid them the same way).
func visibleKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		if !isDunderKey(k) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// mapGet looks a key up in any kind of dict; values are normalised.
func mapGet(v any, k string) (any, bool) {
	if isDunderKey(k) {
		return nil, false
	}
	switch x := v.(type) {
	case *dict:
		e, ok := x.m[k]
		return e, ok
	case *varsView:
		e, ok := x.get(k)
		if !ok {
			return nil, false
		}
		return norm(e, false), true
	case map[string]any:
		e, ok := x[k]
		if !ok {
			return nil, false
		}
		return norm(e, false), true
	case *value.Map:
		e, ok := x.Values[k]
		if !ok {
			return nil, false
		}
		return norm(e, false), true
	case ctxMap:
		e, ok := x[k]
		if !ok {
			return nil, false
		}
		return norm(e, true), true
	}
	return nil, false
}

// listItems returns the normalised items of a list or tuple.
func listItems(v any) ([]any, bool) {
	switch x := v.(type) {
	case tuple:
		return x, true
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = norm(e, false)
		}
		return out, true
	case ctxList:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = norm(e, true)
		}
		return out, true
	}
	return nil, false
}

func length(v any) (int, error) {
	switch x := v.(type) {
	case string:
		return utf8.RuneCountInString(x), nil
	case []any:
		return len(x), nil
	case ctxList:
		return len(x), nil
	case tuple:
		return len(x), nil
	case map[string]any:
		return len(visibleKeys(x)), nil
	case ctxMap:
		return len(visibleKeys(x)), nil
	case *value.Map:
		return len(mapKeys(x)), nil
	case *dict:
		return len(x.keys), nil
	case *varsView:
		return len(x.keys()), nil
	}
	return 0, fmt.Errorf("object of type '%s' has no len()", typeName(v))
}

// iterate returns what `for x in v` walks: list items, the characters of a string or the keys
// of a dict.
func iterate(v any) ([]any, error) {
	if l, ok := listItems(v); ok {
		return l, nil
	}
	switch x := v.(type) {
	case string:
		if n := utf8.RuneCountInString(x); n > maxItems {
			return nil, &posError{kind: ErrSize, msg: fmt.Sprintf("iterating over a string of %d characters exceeds the %d-item limit", n, maxItems)}
		}
		out := make([]any, 0, len(x))
		for _, r := range x {
			out = append(out, string(r))
		}
		return out, nil
	}
	if isMap(v) {
		ks := mapKeys(v)
		out := make([]any, len(ks))
		for i, k := range ks {
			out[i] = k
		}
		return out, nil
	}
	if u, ok := v.(undefined); ok {
		return nil, undefErr(u)
	}
	return nil, fmt.Errorf("'%s' object is not iterable", typeName(v))
}

// truth is Python truthiness.
func truth(v any) (bool, error) {
	switch x := v.(type) {
	case nil:
		return false, nil
	case bool:
		return x, nil
	case int64:
		return x != 0, nil
	case float64:
		return x != 0, nil
	case value.Decimal:
		return x.Float64() != 0, nil
	case string:
		return x != "", nil
	case undefined:
		return false, undefErr(x)
	case *DateTime, *Date, *function, *loopInfo, apiNS:
		return true, nil
	}
	n, err := length(v)
	if err != nil {
		return true, nil
	}
	return n > 0, nil
}

func undefErr(u undefined) error {
	return &posError{tok: u.tok, msg: fmt.Sprintf("'%s' is undefined", u.name)}
}

// toStr is Python str(); undefined values are an error (strict undefined).
func toStr(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case nil:
		return "None", nil
	case bool:
		if x {
			return "True", nil
		}
		return "False", nil
	case float64:
		return pyFloat(x), nil
	case value.Decimal:
		return string(x), nil
	case undefined:
		return "", undefErr(x)
	case *DateTime:
		return x.isoformat("T"), nil
	case *Date:
		return x.isoformat(), nil
	}
	return repr(v), nil
}

// repr is Python repr(), the form lists and dicts print their items in.
func repr(v any) string {
	s, _ := reprCap(v, reprLimit)
	return s
}

// reprLimit bounds the text repr builds; reprCap reports false when it had to stop.
const reprLimit = 64 << 20

func reprCap(v any, limit int) (string, bool) {
	var b strings.Builder
	writeRepr(&b, v, 0, limit)
	if b.Len() > limit {
		return b.String()[:limit], false
	}
	return b.String(), true
}

func writeRepr(b *strings.Builder, v any, depth, limit int) {
	if depth > 100 {
		b.WriteString("...")
		return
	}
	if b.Len() > limit {
		return
	}
	switch x := v.(type) {
	case nil:
		b.WriteString("None")
	case bool:
		if x {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case float64:
		b.WriteString(pyFloat(x))
	case value.Decimal:
		b.WriteString(string(x))
	case string:
		b.WriteString(pyQuote(x))
	case tuple:
		b.WriteByte('(')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			writeRepr(b, e, depth+1, limit)
		}
		if len(x) == 1 {
			b.WriteByte(',')
		}
		b.WriteByte(')')
	case []any, ctxList:
		items, _ := listItems(v)
		b.WriteByte('[')
		for i, e := range items {
			if i > 0 {
				b.WriteString(", ")
			}
			writeRepr(b, e, depth+1, limit)
		}
		b.WriteByte(']')
	case map[string]any, ctxMap, *dict, *varsView, *value.Map:
		b.WriteByte('{')
		for i, k := range mapKeys(v) {
			if i > 0 {
				b.WriteString(", ")
			}
			e, _ := mapGet(v, k)
			b.WriteString(pyQuote(k))
			b.WriteString(": ")
			writeRepr(b, e, depth+1, limit)
		}
		b.WriteByte('}')
	case *DateTime:
		b.WriteString("<Arrow [" + x.isoformat("T") + "]>")
	case *Date:
		fmt.Fprintf(b, "datetime.date(%d, %d, %d)", x.t.Year(), int(x.t.Month()), x.t.Day())
	case *function:
		b.WriteString("<function " + x.name + ">")
	case *loopInfo:
		b.WriteString("<LoopContext>")
	case apiNS:
		b.WriteString("<API>")
	case undefined:
		b.WriteString("Undefined")
	default:
		fmt.Fprintf(b, "%v", x)
	}
}

// pyFloat formats a float as Python's repr does: shortest round-trip digits, always with a
// decimal point or exponent, exponent form below 1e-4 and from 1e16.
func pyFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	abs := math.Abs(f)
	if f != 0 && (abs < 1e-4 || abs >= 1e16) {
		s := strconv.FormatFloat(f, 'e', -1, 64)
		// Go writes e+16 / e-05 already with at least two exponent digits.
		mant, exp, _ := strings.Cut(s, "e")
		return mant + "e" + exp
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".") {
		s += ".0"
	}
	return s
}

// pyQuote quotes a string like Python's repr: single quotes unless the string contains a
// single quote and no double quote.
func pyQuote(s string) string {
	q := byte('\'')
	if strings.ContainsRune(s, '\'') && !strings.ContainsRune(s, '"') {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == rune(q):
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
	return b.String()
}

// equal is Python ==.
func equal(a, b any) bool { return equalDepth(a, b, 0) }

func equalDepth(a, b any, depth int) bool {
	if depth > 200 {
		return false
	}
	if an, aok := number(a); aok {
		if bn, bok := number(b); bok {
			return an == bn
		}
		return false
	}
	switch x := a.(type) {
	case nil:
		return b == nil
	case string:
		y, ok := b.(string)
		return ok && x == y
	case *DateTime:
		y, ok := b.(*DateTime)
		return ok && x.t.Equal(y.t)
	case *Date:
		y, ok := b.(*Date)
		return ok && x.t.Equal(y.t)
	case undefined:
		return false
	}
	if al, ok := listItems(a); ok {
		bl, ok := listItems(b)
		if !ok || len(al) != len(bl) {
			return false
		}
		_, at := a.(tuple)
		_, bt := b.(tuple)
		if at != bt {
			return false
		}
		for i := range al {
			if !equalDepth(al[i], bl[i], depth+1) {
				return false
			}
		}
		return true
	}
	if isMap(a) {
		if !isMap(b) {
			return false
		}
		ak, bk := mapKeys(a), mapKeys(b)
		if len(ak) != len(bk) {
			return false
		}
		for _, k := range ak {
			av, _ := mapGet(a, k)
			bv, ok := mapGet(b, k)
			if !ok || !equalDepth(av, bv, depth+1) {
				return false
			}
		}
		return true
	}
	return a == b
}

// number returns a numeric value (bool counts, as in Python) as float64 for comparisons.
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case value.Decimal:
		return x.Float64(), true
	case float64:
		return x, true
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

// compare is Python ordering (<, >): numbers, strings, lists, dates.
func compare(a, b any) (int, error) { return compareDepth(a, b, 0) }

func compareDepth(a, b any, depth int) (int, error) {
	if depth > 200 {
		return 0, fmt.Errorf("values nest too deeply to compare")
	}
	if ai, ok := a.(int64); ok {
		if bi, ok := b.(int64); ok {
			switch {
			case ai < bi:
				return -1, nil
			case ai > bi:
				return 1, nil
			}
			return 0, nil
		}
	}
	if an, ok := number(a); ok {
		if bn, ok := number(b); ok {
			switch {
			case an < bn:
				return -1, nil
			case an > bn:
				return 1, nil
			}
			return 0, nil
		}
	}
	switch x := a.(type) {
	case string:
		if y, ok := b.(string); ok {
			return strings.Compare(x, y), nil
		}
	case *DateTime:
		if y, ok := b.(*DateTime); ok {
			return x.t.Compare(y.t), nil
		}
	case *Date:
		if y, ok := b.(*Date); ok {
			return x.t.Compare(y.t), nil
		}
	case undefined:
		return 0, undefErr(x)
	}
	if u, ok := b.(undefined); ok {
		return 0, undefErr(u)
	}
	if al, ok := listItems(a); ok {
		if bl, ok := listItems(b); ok {
			for i := 0; i < len(al) && i < len(bl); i++ {
				c, err := compareDepth(al[i], bl[i], depth+1)
				if err != nil {
					return 0, err
				}
				if c != 0 {
					return c, nil
				}
			}
			return compareInts(len(al), len(bl)), nil
		}
	}
	return 0, fmt.Errorf("'<' not supported between instances of '%s' and '%s'", typeName(a), typeName(b))
}

func compareInts(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// plain converts an evaluator value back to plain Go data for the caller (variables set by
// API.setvariable) and for JSON and JMESPath.
func plain(v any) any { return plainDepth(v, 0) }

func plainDepth(v any, depth int) any {
	if depth > 200 {
		return nil
	}
	switch x := v.(type) {
	case nil, bool, int64, float64, string, value.Decimal:
		return x
	case *DateTime:
		return x.t
	case *Date:
		return x.isoformat()
	case undefined:
		return nil
	case *function:
		return repr(x)
	case *loopInfo, apiNS:
		return repr(x)
	}
	if l, ok := listItems(v); ok {
		out := make([]any, len(l))
		for i, e := range l {
			out[i] = plainDepth(e, depth+1)
		}
		return out
	}
	if isMap(v) {
		// Ordered: a dict made in a template keeps its insertion order, data its own order.
		ks := mapKeys(v)
		out := &value.Map{Keys: make([]string, 0, len(ks)), Values: make(map[string]any, len(ks))}
		for _, k := range ks {
			e, _ := mapGet(v, k)
			out.Set(k, plainDepth(e, depth+1))
		}
		return out
	}
	return fmt.Sprintf("%v", v)
}

// fromPlain converts plain data (decoded JSON, JMESPath results) into evaluator values.
func fromPlain(v any) any {
	return norm(v, false)
}
