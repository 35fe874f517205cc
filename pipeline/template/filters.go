package template

import (
	"errors"
	"fmt"
	"html"
	"math"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ankaflow/ankaflow/engine/value"
)

type filterFn func(r *renderer, v any, args []any, kw map[string]any) (any, error)

var filters map[string]filterFn

func init() {
	filters = map[string]filterFn{
		"abs":        filterAbs,
		"attr":       filterAttr,
		"batch":      filterBatch,
		"bool":       filterBool,
		"capitalize": strFilter("capitalize", pyCapitalize),
		"center":     filterCenter,
		"count":      filterLength,
		"d":          filterDefault,
		"default":    filterDefault,
		"dictsort":   filterDictSort,
		"e":          filterEscape,
		"escape":     filterEscape,
		"first":      filterFirst,
		"float":      filterFloat,
		"format":     filterFormat,
		"groupby":    filterGroupBy,
		"indent":     filterIndent,
		"int":        filterInt,
		"items":      filterItems,
		"join":       filterJoin,
		"last":       filterLast,
		"length":     filterLength,
		"list":       filterList,
		"lower":      strFilter("lower", strings.ToLower),
		"map":        filterMap,
		"max":        minMax("max", 1),
		"min":        minMax("min", -1),
		"pprint":     func(r *renderer, v any, args []any, kw map[string]any) (any, error) { return repr(v), nil },
		"reject":     selectFilter("reject", false, false),
		"rejectattr": selectFilter("rejectattr", false, true),
		"replace":    filterReplace,
		"reverse":    filterReverse,
		"round":      filterRound,
		"safe":       func(r *renderer, v any, args []any, kw map[string]any) (any, error) { return v, nil },
		"select":     selectFilter("select", true, false),
		"selectattr": selectFilter("selectattr", true, true),
		"slice":      filterSlice,
		"sort":       filterSort,
		"string":     func(r *renderer, v any, args []any, kw map[string]any) (any, error) { return toStr(v) },
		"striptags":  filterStripTags,
		"sum":        filterSum,
		"title":      strFilter("title", pyTitle),
		"tojson":     filterToJSON,
		"trim":       filterTrim,
		"truncate":   filterTruncate,
		"unique":     filterUnique,
		"upper":      strFilter("upper", strings.ToUpper),
		"urlencode":  filterURLEncode,
		"wordcount":  filterWordCount,
	}
}

// FilterNames lists the filters templates can use.
func FilterNames() []string {
	out := make([]string, 0, len(filters))
	for k := range filters {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func strFilter(name string, f func(string) string) filterFn {
	return func(r *renderer, v any, args []any, kw map[string]any) (any, error) {
		if err := noArgs(name, args, kw); err != nil {
			return nil, err
		}
		s, err := toStr(v)
		if err != nil {
			return nil, err
		}
		return f(s), nil
	}
}

func filterAbs(r *renderer, v any, args []any, kw map[string]any) (any, error) {
	switch x := v.(type) {
	case int64:
		if x == math.MinInt64 {
			return nil, errOverflow
		}
		if x < 0 {
			return -x, nil
		}
		return x, nil
	case float64:
		return math.Abs(x), nil
	case bool:
		if x {
			return int64(1), nil
		}
		return int64(0), nil
	}
	return nil, fmt.Errorf("bad operand type for abs(): '%s'", typeName(v))
}

// attrPath resolves "a.b.0" on an item, the way attribute= arguments of filters do.
func (r *renderer) attrPath(item any, path string) (any, error) {
	v := item
	for _, part := range strings.Split(path, ".") {
		if strings.HasPrefix(part, "__") {
			return nil, fmt.Errorf("access to attribute '%s' is not allowed", part)
		}
		if u, ok := v.(undefined); ok {
			return nil, undefErr(u)
		}
		switch {
		case isMap(v):
			e, ok := mapGet(v, part)
			if !ok {
				return undefined{name: path}, nil
			}
			v = e
		default:
			if l, ok := listItems(v); ok && allDigits(part) {
				n := atoi(part)
				if n >= len(l) {
					return undefined{name: path}, nil
				}
				v = l[n]
				continue
			}
			e, ok, err := attribute(v, part)
			if err != nil {
				return nil, err
			}
			if !ok {
				return undefined{name: path}, nil
			}
			v = e
		}
	}
	return v, nil
}

func filterAttr(r *renderer, v any, args []any, kw map[string]any) (any, error) {
	a, err := bind("attr", args, kw, param{"name", required})
	if err != nil {
		return nil, err
	}
	name, err := argString("attr", "name", a[0])
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(name, "__") {
		return nil, fmt.Errorf("access to attribute '%s' is not allowed", name)
	}
	if isMap(v) {
		if e, ok := mapGet(v, name); ok {
			return e, nil
		}
		return undefined{name: name}, nil
	}
	e, ok, err := attribute(v, name)
	if err != nil {
		return nil, err
	}
	if !ok {
		return undefined{name: name}, nil
	}
	return e, nil
}

func (r *renderer) items(v any) ([]any, error) {
	items, err := iterate(v)
	if err != nil {
		return nil, err
	}
	return items, r.growItems(len(items))
}

func filterBatch(r *renderer, v any, args []any, kw map[string]any) (any, error) {
	a, err := bind("batch", args, kw, param{"linecount", required}, param{"fill_with", nil})
	if err != nil {
		return nil, err
	}
	n, err := argInt("batch", "linecount", a[0])
	if err != nil {
		return nil, err
	}
	if n <= 0 {
		return nil, errors.New("batch: linecount must be positive")
	}
	items, err := r.items(v)
	if err != nil {
		return nil, err
	}
	var out []any
	for i := 0; i < len(items); i += n {
		end := i + n
		var row []any
		if end > len(items) {
			row = append(row, items[i:]...)
			if _, has := kw["fill_with"]; has || len(args) > 1 {
				for len(row) < n {
					row = append(row, a[1])
				}
			}
		} else {
			row = append(row, items[i:end]...)
		}
		out = append(out, row)
	}
	if out == nil {
		out = []any{}
	}
	return out, nil
}

// filterBool converts like skip_if (Truthy): "false", "0", "none", "", "[]" ... are False.
func filterBool(r *renderer, v any, args []any, kw map[string]any) (any, error) {
	if err := noArgs("bool", args, kw); err != nil {
		return nil, err
	}
	if _, err := toStr(v); err != nil {
		return nil, err
	}
	return Truthy(plainForTruthy(v)), nil
}

func plainForTruthy(v any) any {
	switch v.(type) {
	case nil, bool:
		return v
	}
	s, _ := toStr(v)
	return s
}

func filterCenter(r *renderer, v any, args []any, kw map[string]any) (any, error) {
	a, err := bind("center", args, kw, param{"width", int64(80)})
	if err != nil {
		return nil, err
	}
	w, err := argInt("center", "width", a[0])
	if err != nil {
		return nil, err
	}
	s, err := toStr(v)
	if err != nil {
		return nil, err
	}
	if err := r.grow(w); err != nil {
		return nil, err
	}
	return justifyString(s, w, " ", "center"), nil
}

func filterDefault(r *renderer, v any, args []any, kw map[string]any) (any, error) {
	a, err := bind("default", args, kw, param{"default_value", ""}, param{"boolean", false})
	if err != nil {
		return nil, err
	}
	if _, ok := v.(undefined); ok {
		return a[0], nil
	}
	if b, _ := a[1].(bool); b {
		if ok, _ := truth(v); !ok {
			return a[0], nil
		}
	}
	return v, nil
}

func filterDictSort(r *renderer, v any, args []any, kw map[string]any) (any, error) {
	a, err := bind("dictsort", args, kw, param{"case_sensitive", false}, param{"by", "key"}, param{"reverse", false})
	if err != nil {
		return nil, err
	}
	if !isMap(v) {
		return nil, fmt.Errorf("dictsort expects a dict, not %s", typeName(v))
	}
	items := dictItems(v)
	idx := 0
	if by, _ := a[1].(string); by == "value" {
		idx = 1
	} else if by != "key" {
		return nil, errors.New("dictsort: by must be 'key' or 'value'")
	}
	cs, _ := a[0].(bool)
	rev, _ := a[2].(bool)
	var sortErr error
	sort.SliceStable(items, func(i, j int) bool {
		x, y := items[i].(tuple)[idx], items[j].(tuple)[idx]
		c, err := compareCase(x, y, cs)
		if err != nil {
			sortErr = err
		}
		if rev {
			return c > 0
		}
		return c < 0
	})
	return items, sortErr
}

func compareCase(a, b any, caseSensitive bool) (int, error) {
	if !caseSensitive {
		if as, ok := a.(string); ok {
			if bs, ok := b.(string); ok {
				return strings.Compare(strings.ToLower(as), strings.ToLower(bs)), nil
			}
		}
	}
	return compare(a, b)
}

func filterEscape(r *renderer, v any, args []any, kw map[string]any) (any, error) {
	s, err := toStr(v)
	if err != nil {
		return nil, err
	}
	out := html.EscapeString(s)
	return out, r.grow(len(out))
}

func filterFirst(r *renderer, v any, args []any, kw map[string]any) (any, error) {
	if s, ok := v.(string); ok {
		if s == "" {
			return undefined{name: "first item of an empty string"}, nil
		}
		c, _ := utf8.DecodeRuneInString(s)
		return string(c), nil
	}
	items, err := iterate(v)
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return undefined{name: "first item of an empty sequence"}, nil
	}
	return items[0], nil
}

func filterLast(r *renderer, v any, args []any, kw map[string]any) (any, error) {
	items, err := iterate(v)
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return undefined{name: "last item of an empty sequence"}, nil
	}
	return items[len(items)-1], nil
}

// unsetArg marks an optional argument that was not given.
type unsetArg struct{}

var unset any = unsetArg{}

// filterFloat is Python's float(); with a default, failures return the default.
func filterFloat(r *renderer, v any, args []any, kw map[string]any) (any, error) {
	a, err := bind("float", args, kw, param{"default", unset})
	if err != nil {
		return nil, err
	}
	f, err := pyFloatConv(v)
	if err != nil {
		if a[0] != unset {
			return a[0], nil
		}
		return nil, err
	}
	return f, nil
}

// filterInt is Python's int() (float strings like "1.5" are accepted and truncated, as in
// Jinja); with a default, failures return the default.
func filterInt(r *renderer, v any, args []any, kw map[string]any) (any, error) {
	a, err := bind("int", args, kw, param{"default", unset}, param{"base", int64(10)})
	if err != nil {
		return nil, err
	}
	var base any
	if b, _ := a[1].(int64); b != 10 {
		base = a[1]
	}
	n, err := pyInt(v, base)
	if err != nil && base == nil {
		if s, ok := v.(string); ok {
			if f, ferr := pyFloatConv(s); ferr == nil && !math.IsNaN(f) && !math.IsInf(f, 0) && math.Abs(f) < 9.2e18 {
				return int64(f), nil
			}
		}
	}
	if err != nil {
		if a[0] != unset {
			return a[0], nil
		}
		return nil, err
	}
	return n, nil
}

func filterFormat(r *renderer, v any, args []any, kw map[string]any) (any, error) {
	s, err := argString("format", "value", v)
	if err != nil {
		return nil, err
	}
	if len(kw) > 0 {
		if len(args) > 0 {
			return nil, errors.New("format: use either positional or keyword arguments")
		}
		d := newDict()
		for k, e := range kw {
			d.set(k, e)
		}
		return r.percentFormat(s, d)
	}
	return r.percentFormat(s, tuple(args))
}

func filterGroupBy(r *renderer, v any, args []any, kw map[string]any) (any, error) {
	a, err := bind("groupby", args, kw, param{"attribute", required}, param{"default", nil}, param{"case_sensitive", false})
	if err != nil {
		return nil, err
	}
	attr, err := toStr(a[0])
	if err != nil {
		return nil, err
	}
	items, err := r.items(v)
	if err != nil {
		return nil, err
	}
	type group struct {
		key   any
		items []any
	}
	var groups []*group
	for _, it := range items {
		k, err := r.attrPath(it, attr)
		if err != nil {
			return nil, err
		}
		if _, ok := k.(undefined); ok {
			if a[1] == nil {
				return nil, fmt.Errorf("groupby: item %s has no attribute '%s'", repr(it), attr)
			}
			k = a[1]
		}
		if err := r.tick(); err != nil {
			return nil, err
		}
		found := false
		for _, g := range groups {
			if equal(g.key, k) {
				g.items = append(g.items, it)
				found = true
				break
			}
		}
		if !found {
			groups = append(groups, &group{key: k, items: []any{it}})
		}
	}
	cs, _ := a[2].(bool)
	var sortErr error
	sort.SliceStable(groups, func(i, j int) bool {
		c, err := compareCase(groups[i].key, groups[j].key, cs)
		if err != nil {
			sortErr = err
		}
		return c < 0
	})
	out := make([]any, len(groups))
	for i, g := range groups {
		out[i] = tuple{g.key, g.items}
	}
	return out, sortErr
}

func filterIndent(r *renderer, v any, args []any, kw map[string]any) (any, error) {
	a, err := bind("indent", args, kw, param{"width", int64(4)}, param{"first", false}, param{"blank", false})
	if err != nil {
		return nil, err
	}
	s, err := toStr(v)
	if err != nil {
		return nil, err
	}
	var pad string
	if ps, ok := a[0].(string); ok {
		pad = ps
	} else {
		w, err := argInt("indent", "width", a[0])
		if err != nil {
			return nil, err
		}
		if err := r.grow(w); err != nil {
			return nil, err
		}
		pad = strings.Repeat(" ", w)
	}
	lines := strings.Split(s, "\n")
	if err := r.grow(len(s) + len(lines)*len(pad)); err != nil {
		return nil, err
	}
	first, _ := a[1].(bool)
	blank, _ := a[2].(bool)
	for i, l := range lines {
		if i == 0 && !first {
			continue
		}
		if strings.TrimSpace(l) == "" && !blank {
			continue
		}
		lines[i] = pad + l
	}
	return strings.Join(lines, "\n"), nil
}

func filterItems(r *renderer, v any, args []any, kw map[string]any) (any, error) {
	if v == nil {
		return []any{}, nil
	}
	if !isMap(v) {
		return nil, fmt.Errorf("items expects a dict, not %s", typeName(v))
	}
	return dictItems(v), nil
}

func filterJoin(r *renderer, v any, args []any, kw map[string]any) (any, error) {
	a, err := bind("join", args, kw, param{"d", ""}, param{"attribute", nil})
	if err != nil {
		return nil, err
	}
	sep, err := toStr(a[0])
	if err != nil {
		return nil, err
	}
	items, err := iterate(v)
	if err != nil {
		return nil, err
	}
	if a[1] != nil {
		path, err := toStr(a[1])
		if err != nil {
			return nil, err
		}
		for i, it := range items {
			if items[i], err = r.attrPath(it, path); err != nil {
				return nil, err
			}
		}
	}
	return r.join(items, sep)
}

func filterLength(r *renderer, v any, args []any, kw map[string]any) (any, error) {
	n, err := length(v)
	if err != nil {
		return nil, err
	}
	return int64(n), nil
}

func filterList(r *renderer, v any, args []any, kw map[string]any) (any, error) {
	items, err := r.items(v)
	if err != nil {
		return nil, err
	}
	return append([]any{}, items...), nil
}

func filterMap(r *renderer, v any, args []any, kw map[string]any) (any, error) {
	items, err := r.items(v)
	if err != nil {
		return nil, err
	}
	out := make([]any, 0, len(items))
	if attr, ok := kw["attribute"]; ok {
		path, err := toStr(attr)
		if err != nil {
			return nil, err
		}
		def, hasDef := kw["default"]
		for k := range kw {
			if k != "attribute" && k != "default" {
				return nil, fmt.Errorf("map() got an unexpected keyword argument '%s'", k)
			}
		}
		for _, it := range items {
			e, err := r.attrPath(it, path)
			if err != nil {
				return nil, err
			}
			if _, ok := e.(undefined); ok && hasDef {
				e = def
			}
			out = append(out, e)
		}
		return out, nil
	}
	if len(args) == 0 {
		return nil, errors.New("map needs a filter name or attribute=")
	}
	name, err := argString("map", "filter", args[0])
	if err != nil {
		return nil, err
	}
	f, ok := filters[name]
	if !ok {
		return nil, fmt.Errorf("no filter named '%s'", name)
	}
	for _, it := range items {
		if err := r.tick(); err != nil {
			return nil, err
		}
		e, err := f(r, it, args[1:], kw)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
		out = append(out, e)
	}
	return out, nil
}

func minMax(name string, sign int) filterFn {
	return func(r *renderer, v any, args []any, kw map[string]any) (any, error) {
		a, err := bind(name, args, kw, param{"case_sensitive", false}, param{"attribute", nil})
		if err != nil {
			return nil, err
		}
		items, err := iterate(v)
		if err != nil {
			return nil, err
		}
		if len(items) == 0 {
			return undefined{name: name + " of an empty sequence"}, nil
		}
		cs, _ := a[0].(bool)
		key := func(it any) (any, error) {
			if a[1] == nil {
				return it, nil
			}
			p, err := toStr(a[1])
			if err != nil {
				return nil, err
			}
			return r.attrPath(it, p)
		}
		best := items[0]
		bk, err := key(best)
		if err != nil {
			return nil, err
		}
		for _, it := range items[1:] {
			k, err := key(it)
			if err != nil {
				return nil, err
			}
			c, err := compareCase(k, bk, cs)
			if err != nil {
				return nil, err
			}
			if c*sign > 0 {
				best, bk = it, k
			}
		}
		return best, nil
	}
}

// selectFilter implements select, reject, selectattr and rejectattr.
func selectFilter(name string, keep, byAttr bool) filterFn {
	return func(r *renderer, v any, args []any, kw map[string]any) (any, error) {
		if len(kw) > 0 {
			return nil, fmt.Errorf("%s() takes no keyword arguments", name)
		}
		items, err := r.items(v)
		if err != nil {
			return nil, err
		}
		attr := ""
		if byAttr {
			if len(args) == 0 {
				return nil, fmt.Errorf("%s() needs an attribute name", name)
			}
			if attr, err = argString(name, "attribute", args[0]); err != nil {
				return nil, err
			}
			args = args[1:]
		}
		var test testFn
		var testArgs []any
		if len(args) > 0 {
			tname, err := argString(name, "test", args[0])
			if err != nil {
				return nil, err
			}
			t, ok := jinjaTests[tname]
			if !ok {
				return nil, fmt.Errorf("no test named '%s'", tname)
			}
			test, testArgs = t, args[1:]
		}
		out := []any{}
		for _, it := range items {
			if err := r.tick(); err != nil {
				return nil, err
			}
			val := it
			if byAttr {
				if val, err = r.attrPath(it, attr); err != nil {
					return nil, err
				}
			}
			var ok bool
			if test == nil {
				if _, isU := val.(undefined); isU {
					ok = false
				} else if ok, err = truth(val); err != nil {
					return nil, err
				}
			} else {
				if u, isU := val.(undefined); isU && test != nil {
					if _, lenient := lenientTests[firstString(args)]; !lenient {
						return nil, undefErr(u)
					}
				}
				res, err := test(r, val, testArgs)
				if err != nil {
					return nil, err
				}
				ok, _ = res.(bool)
			}
			if ok == keep {
				out = append(out, it)
			}
		}
		return out, nil
	}
}

func firstString(args []any) string {
	if len(args) > 0 {
		if s, ok := args[0].(string); ok {
			return s
		}
	}
	return ""
}

func filterReplace(r *renderer, v any, args []any, kw map[string]any) (any, error) {
	a, err := bind("replace", args, kw, param{"old", required}, param{"new", required}, param{"count", nil})
	if err != nil {
		return nil, err
	}
	s, err := toStr(v)
	if err != nil {
		return nil, err
	}
	return r.replace(s, a[0], a[1], a[2])
}

func filterReverse(r *renderer, v any, args []any, kw map[string]any) (any, error) {
	if s, ok := v.(string); ok {
		rs := []rune(s)
		for i, j := 0, len(rs)-1; i < j; i, j = i+1, j-1 {
			rs[i], rs[j] = rs[j], rs[i]
		}
		return string(rs), nil
	}
	items, err := r.items(v)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(items))
	for i, it := range items {
		out[len(items)-1-i] = it
	}
	return out, nil
}

func filterRound(r *renderer, v any, args []any, kw map[string]any) (any, error) {
	a, err := bind("round", args, kw, param{"precision", int64(0)}, param{"method", "common"})
	if err != nil {
		return nil, err
	}
	x, ok := number(v)
	if !ok {
		return nil, fmt.Errorf("round expects a number, not %s", typeName(v))
	}
	p, err := argInt("round", "precision", a[0])
	if err != nil {
		return nil, err
	}
	if p > 15 || p < -15 {
		return nil, errors.New("round: precision out of range")
	}
	m := math.Pow(10, float64(p))
	switch a[1] {
	case "common":
		return math.Round(x*m) / m, nil
	case "ceil":
		return math.Ceil(x*m) / m, nil
	case "floor":
		return math.Floor(x*m) / m, nil
	}
	return nil, errors.New("round: method must be 'common', 'ceil' or 'floor'")
}

func filterSlice(r *renderer, v any, args []any, kw map[string]any) (any, error) {
	a, err := bind("slice", args, kw, param{"slices", required}, param{"fill_with", nil})
	if err != nil {
		return nil, err
	}
	n, err := argInt("slice", "slices", a[0])
	if err != nil {
		return nil, err
	}
	if n <= 0 || n > maxItems {
		return nil, errors.New("slice: slices must be positive")
	}
	items, err := r.items(v)
	if err != nil {
		return nil, err
	}
	per, extra := len(items)/n, len(items)%n
	fill := len(args) > 1
	if _, ok := kw["fill_with"]; ok {
		fill = true
	}
	out := make([]any, 0, n)
	offset := 0
	for i := 0; i < n; i++ {
		start := offset + i*per
		if i < extra {
			offset++
		}
		end := offset + (i+1)*per
		part := append([]any{}, items[start:end]...)
		if fill && a[1] != nil && i >= extra {
			part = append(part, a[1])
		}
		out = append(out, part)
	}
	return out, nil
}

func minInt(a, b int) int {
	if a < b {
		return a
	}
	return b
}

func filterSort(r *renderer, v any, args []any, kw map[string]any) (any, error) {
	a, err := bind("sort", args, kw, param{"reverse", false}, param{"case_sensitive", false}, param{"attribute", nil})
	if err != nil {
		return nil, err
	}
	items, err := r.items(v)
	if err != nil {
		return nil, err
	}
	rev, _ := a[0].(bool)
	cs, _ := a[1].(bool)
	keys := make([]any, len(items))
	for i, it := range items {
		keys[i] = it
		if a[2] != nil {
			p, err := toStr(a[2])
			if err != nil {
				return nil, err
			}
			if keys[i], err = r.attrPath(it, p); err != nil {
				return nil, err
			}
		}
	}
	idx := make([]int, len(items))
	for i := range idx {
		idx[i] = i
	}
	var sortErr error
	sort.SliceStable(idx, func(i, j int) bool {
		c, err := compareCase(keys[idx[i]], keys[idx[j]], cs)
		if err != nil && sortErr == nil {
			sortErr = err
		}
		if rev {
			return c > 0
		}
		return c < 0
	})
	if sortErr != nil {
		return nil, sortErr
	}
	out := make([]any, len(items))
	for i, k := range idx {
		out[i] = items[k]
	}
	return out, nil
}

var (
	tagRe   = regexp.MustCompile(`(?s)<!--.*?-->|<[^>]*>`)
	spaceRe = regexp.MustCompile(`\s+`)
)

func filterStripTags(r *renderer, v any, args []any, kw map[string]any) (any, error) {
	s, err := toStr(v)
	if err != nil {
		return nil, err
	}
	s = tagRe.ReplaceAllString(s, "")
	s = spaceRe.ReplaceAllString(s, " ")
	return html.UnescapeString(strings.TrimSpace(s)), nil
}

func filterSum(r *renderer, v any, args []any, kw map[string]any) (any, error) {
	a, err := bind("sum", args, kw, param{"attribute", nil}, param{"start", int64(0)})
	if err != nil {
		return nil, err
	}
	items, err := iterate(v)
	if err != nil {
		return nil, err
	}
	total := a[1]
	for _, it := range items {
		if a[0] != nil {
			p, err := toStr(a[0])
			if err != nil {
				return nil, err
			}
			if it, err = r.attrPath(it, p); err != nil {
				return nil, err
			}
		}
		if u, ok := it.(undefined); ok {
			return nil, undefErr(u)
		}
		if total, err = r.add(total, it); err != nil {
			return nil, err
		}
	}
	return total, nil
}

// filterToJSON writes plain JSON like Python's json.dumps (", " and ": " separators, non-ASCII
// escaped, no HTML escaping); indent= pretty-prints.
func filterToJSON(r *renderer, v any, args []any, kw map[string]any) (any, error) {
	a, err := bind("tojson", args, kw, param{"indent", nil})
	if err != nil {
		return nil, err
	}
	indent := -1
	if a[0] != nil {
		if indent, err = argInt("tojson", "indent", a[0]); err != nil {
			return nil, err
		}
		if indent > 64 {
			return nil, errors.New("tojson: indent too large")
		}
	}
	var b strings.Builder
	if err := r.writeJSON(&b, v, indent, 0); err != nil {
		return nil, err
	}
	return b.String(), nil
}

func (r *renderer) writeJSON(b *strings.Builder, v any, indent, depth int) error {
	if depth > 200 {
		return errors.New("tojson: value nests too deeply")
	}
	if b.Len() > r.e.opts.MaxOutput {
		return r.grow(b.Len())
	}
	nl := func(d int) {
		if indent >= 0 {
			b.WriteByte('\n')
			b.WriteString(strings.Repeat(" ", indent*d))
		}
	}
	itemSep, keySep := ", ", ": "
	if indent >= 0 {
		itemSep = ","
	}
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if x {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case value.Decimal:
		b.WriteString(string(x))
	case float64:
		switch {
		case math.IsNaN(x):
			b.WriteString("NaN")
		case math.IsInf(x, 1):
			b.WriteString("Infinity")
		case math.IsInf(x, -1):
			b.WriteString("-Infinity")
		default:
			b.WriteString(pyFloat(x))
		}
	case string:
		writeJSONString(b, x)
	case *DateTime:
		writeJSONString(b, x.isoformat("T"))
	case *Date:
		writeJSONString(b, x.isoformat())
	case undefined:
		return undefErr(x)
	default:
		if l, ok := listItems(v); ok {
			if len(l) == 0 {
				b.WriteString("[]")
				return nil
			}
			b.WriteByte('[')
			for i, e := range l {
				if i > 0 {
					b.WriteString(itemSep)
				}
				nl(depth + 1)
				if err := r.writeJSON(b, e, indent, depth+1); err != nil {
					return err
				}
			}
			nl(depth)
			b.WriteByte(']')
			return nil
		}
		if isMap(v) {
			ks := mapKeys(v)
			if len(ks) == 0 {
				b.WriteString("{}")
				return nil
			}
			b.WriteByte('{')
			for i, k := range ks {
				if i > 0 {
					b.WriteString(itemSep)
				}
				nl(depth + 1)
				writeJSONString(b, k)
				b.WriteString(keySep)
				e, _ := mapGet(v, k)
				if err := r.writeJSON(b, e, indent, depth+1); err != nil {
					return err
				}
			}
			nl(depth)
			b.WriteByte('}')
			return nil
		}
		s, err := toStr(v)
		if err != nil {
			return err
		}
		writeJSONString(b, s)
	}
	return nil
}

// writeJSONString quotes like Python's json.dumps with ensure_ascii=True.
func writeJSONString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, c := range s {
		switch c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			switch {
			case c < 0x20 || c > 0x7e && c < 0x10000:
				fmt.Fprintf(b, `\u%04x`, c)
			case c >= 0x10000:
				c -= 0x10000
				fmt.Fprintf(b, `\u%04x\u%04x`, 0xd800+(c>>10), 0xdc00+(c&0x3ff))
			default:
				b.WriteRune(c)
			}
		}
	}
	b.WriteByte('"')
}

func filterTrim(r *renderer, v any, args []any, kw map[string]any) (any, error) {
	a, err := bind("trim", args, kw, param{"chars", nil})
	if err != nil {
		return nil, err
	}
	s, err := toStr(v)
	if err != nil {
		return nil, err
	}
	if a[0] == nil {
		return strings.TrimSpace(s), nil
	}
	chars, err := argString("trim", "chars", a[0])
	if err != nil {
		return nil, err
	}
	return strings.Trim(s, chars), nil
}

func filterTruncate(r *renderer, v any, args []any, kw map[string]any) (any, error) {
	a, err := bind("truncate", args, kw, param{"length", int64(255)}, param{"killwords", false},
		param{"end", "..."}, param{"leeway", int64(5)})
	if err != nil {
		return nil, err
	}
	s, err := toStr(v)
	if err != nil {
		return nil, err
	}
	n, err := argInt("truncate", "length", a[0])
	if err != nil {
		return nil, err
	}
	end, err := toStr(a[2])
	if err != nil {
		return nil, err
	}
	leeway, err := argInt("truncate", "leeway", a[3])
	if err != nil {
		return nil, err
	}
	rs := []rune(s)
	if len(rs) <= n+leeway {
		return s, nil
	}
	cut := n - utf8.RuneCountInString(end)
	if cut < 0 {
		cut = 0
	}
	if kill, _ := a[1].(bool); kill {
		return string(rs[:cut]) + end, nil
	}
	head := string(rs[:cut])
	if i := strings.LastIndexFunc(head, unicode.IsSpace); i >= 0 {
		head = head[:i]
	}
	return head + end, nil
}

func filterUnique(r *renderer, v any, args []any, kw map[string]any) (any, error) {
	a, err := bind("unique", args, kw, param{"case_sensitive", false}, param{"attribute", nil})
	if err != nil {
		return nil, err
	}
	items, err := r.items(v)
	if err != nil {
		return nil, err
	}
	cs, _ := a[0].(bool)
	var seen []any
	seenScalar := map[string]bool{}
	out := []any{}
	for _, it := range items {
		if err := r.tick(); err != nil {
			return nil, err
		}
		k := it
		if a[1] != nil {
			p, err := toStr(a[1])
			if err != nil {
				return nil, err
			}
			if k, err = r.attrPath(it, p); err != nil {
				return nil, err
			}
		}
		if s, ok := k.(string); ok && !cs {
			k = strings.ToLower(s)
		}
		// Scalars are compared through a map (numbers by value: 1 and 1.0 are equal).
		if key, ok := scalarKey(k); ok {
			if !seenScalar[key] {
				seenScalar[key] = true
				out = append(out, it)
			}
			continue
		}
		dup := false
		for _, sk := range seen {
			if equal(sk, k) {
				dup = true
				break
			}
		}
		if !dup {
			seen = append(seen, k)
			out = append(out, it)
		}
	}
	return out, nil
}

func scalarKey(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "n", true
	case string:
		return "s" + x, true
	}
	if n, ok := number(v); ok {
		return "f" + strconv.FormatFloat(n, 'g', -1, 64), true
	}
	return "", false
}

func filterURLEncode(r *renderer, v any, args []any, kw map[string]any) (any, error) {
	quote := func(s string) string {
		return strings.ReplaceAll(url.QueryEscape(s), "%2F", "/")
	}
	if isMap(v) {
		var parts []string
		for _, k := range mapKeys(v) {
			e, _ := mapGet(v, k)
			s, err := toStr(e)
			if err != nil {
				return nil, err
			}
			parts = append(parts, url.QueryEscape(k)+"="+url.QueryEscape(s))
		}
		return strings.Join(parts, "&"), nil
	}
	s, err := toStr(v)
	if err != nil {
		return nil, err
	}
	return strings.ReplaceAll(quote(s), "+", "%20"), nil
}

func filterWordCount(r *renderer, v any, args []any, kw map[string]any) (any, error) {
	s, err := toStr(v)
	if err != nil {
		return nil, err
	}
	return int64(len(strings.FieldsFunc(s, func(c rune) bool {
		return !unicode.IsLetter(c) && !unicode.IsNumber(c) && c != '_'
	}))), nil
}
