package template

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ankaflow/ankaflow/engine/value"
)

// methodFn is a method of a template value.
type methodFn func(r *renderer, self any, args []any, kw map[string]any) (any, error)

// missing marks a required argument in bind.
type missingArg struct{}

var required any = missingArg{}

type param struct {
	name string
	def  any
}

// bind matches positional and keyword arguments to parameters, Python style.
func bind(fname string, args []any, kw map[string]any, params ...param) ([]any, error) {
	if len(args) > len(params) {
		return nil, fmt.Errorf("%s() takes at most %d arguments (%d given)", fname, len(params), len(args))
	}
	out := make([]any, len(params))
	set := make([]bool, len(params))
	for i, a := range args {
		out[i], set[i] = a, true
	}
	for k, v := range kw {
		found := false
		for i, p := range params {
			if p.name == k {
				if set[i] {
					return nil, fmt.Errorf("%s() got multiple values for argument '%s'", fname, k)
				}
				out[i], set[i], found = v, true, true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("%s() got an unexpected keyword argument '%s'", fname, k)
		}
	}
	for i, p := range params {
		if set[i] {
			continue
		}
		if p.def == required {
			return nil, fmt.Errorf("%s() missing required argument '%s'", fname, p.name)
		}
		out[i] = p.def
	}
	return out, nil
}

func noArgs(fname string, args []any, kw map[string]any) error {
	_, err := bind(fname, args, kw)
	return err
}

func argString(fname, pname string, v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s(): %s must be a string, not %s", fname, pname, typeName(v))
	}
	return s, nil
}

func argInt(fname, pname string, v any) (int, error) {
	i, ok := intOf(v)
	if !ok {
		return 0, fmt.Errorf("%s(): %s must be an integer, not %s", fname, pname, typeName(v))
	}
	if i > math.MaxInt32 || i < math.MinInt32 {
		return 0, fmt.Errorf("%s(): %s is out of range", fname, pname)
	}
	return int(i), nil
}

// methodOf returns obj.name as a bound method, or nil.
func methodOf(obj any, name string) *function {
	var table map[string]methodFn
	var prefix string
	switch obj.(type) {
	case string:
		table, prefix = strMethods, "str"
	case map[string]any, ctxMap, *dict, *varsView, *value.Map:
		table, prefix = mapMethods, "dict"
	case []any, ctxList, tuple:
		table, prefix = listMethods, typeName(obj)
	case *DateTime:
		table, prefix = dtMethods, "datetime"
	case *Date:
		table, prefix = dateMethods, "date"
	case *loopInfo:
		table, prefix = loopMethods, "loop"
	case apiNS:
		table, prefix = apiMethods, "API"
	default:
		return nil
	}
	m, ok := table[name]
	if !ok {
		return nil
	}
	return &function{name: prefix + "." + name, fn: func(r *renderer, args []any, kw map[string]any) (any, error) {
		return m(r, obj, args, kw)
	}}
}

// attribute returns obj.name for objects that are not dicts: data attributes first, then
// bound methods.
func attribute(obj any, name string) (any, bool, error) {
	switch x := obj.(type) {
	case *DateTime:
		if v, ok := dtAttribute(x, name); ok {
			return v, true, nil
		}
	case *Date:
		switch name {
		case "year":
			return int64(x.t.Year()), true, nil
		case "month":
			return int64(x.t.Month()), true, nil
		case "day":
			return int64(x.t.Day()), true, nil
		}
	case *loopInfo:
		if v, ok := x.attribute(name); ok {
			return v, true, nil
		}
	}
	if m := methodOf(obj, name); m != nil {
		return m, true, nil
	}
	return nil, false, nil
}

// ---- str ----

var strMethods map[string]methodFn

func init() {
	simple := func(name string, f func(string) any) methodFn {
		return func(r *renderer, self any, args []any, kw map[string]any) (any, error) {
			if err := noArgs(name, args, kw); err != nil {
				return nil, err
			}
			return f(self.(string)), nil
		}
	}
	isAll := func(pred func(rune) bool) func(string) any {
		return func(s string) any {
			if s == "" {
				return false
			}
			for _, c := range s {
				if !pred(c) {
					return false
				}
			}
			return true
		}
	}
	strip := func(name string, left, right bool) methodFn {
		return func(r *renderer, self any, args []any, kw map[string]any) (any, error) {
			a, err := bind(name, args, kw, param{"chars", nil})
			if err != nil {
				return nil, err
			}
			s := self.(string)
			cut := func(c rune) bool { return unicode.IsSpace(c) }
			if a[0] != nil {
				chars, err := argString(name, "chars", a[0])
				if err != nil {
					return nil, err
				}
				cut = func(c rune) bool { return strings.ContainsRune(chars, c) }
			}
			if left {
				s = strings.TrimLeftFunc(s, cut)
			}
			if right {
				s = strings.TrimRightFunc(s, cut)
			}
			return s, nil
		}
	}
	affix := func(name string, test func(s, p string) bool) methodFn {
		return func(r *renderer, self any, args []any, kw map[string]any) (any, error) {
			a, err := bind(name, args, kw, param{"prefix", required})
			if err != nil {
				return nil, err
			}
			cands := []any{a[0]}
			if l, ok := listItems(a[0]); ok {
				cands = l
			}
			for _, c := range cands {
				p, err := argString(name, "prefix", c)
				if err != nil {
					return nil, err
				}
				if test(self.(string), p) {
					return true, nil
				}
			}
			return false, nil
		}
	}
	justify := func(name string) methodFn {
		return func(r *renderer, self any, args []any, kw map[string]any) (any, error) {
			a, err := bind(name, args, kw, param{"width", required}, param{"fillchar", " "})
			if err != nil {
				return nil, err
			}
			w, err := argInt(name, "width", a[0])
			if err != nil {
				return nil, err
			}
			fill, err := argString(name, "fillchar", a[1])
			if err != nil || utf8.RuneCountInString(fill) != 1 {
				return nil, fmt.Errorf("%s(): fillchar must be one character", name)
			}
			if err := r.grow(w); err != nil {
				return nil, err
			}
			return justifyString(self.(string), w, fill, name), nil
		}
	}
	find := func(name string, last, mustFind bool) methodFn {
		return func(r *renderer, self any, args []any, kw map[string]any) (any, error) {
			a, err := bind(name, args, kw, param{"sub", required})
			if err != nil {
				return nil, err
			}
			sub, err := argString(name, "sub", a[0])
			if err != nil {
				return nil, err
			}
			s := self.(string)
			i := strings.Index(s, sub)
			if last {
				i = strings.LastIndex(s, sub)
			}
			if i >= 0 {
				i = utf8.RuneCountInString(s[:i])
			} else if mustFind {
				return nil, errors.New("substring not found")
			}
			return int64(i), nil
		}
	}
	split := func(name string, right bool) methodFn {
		return func(r *renderer, self any, args []any, kw map[string]any) (any, error) {
			a, err := bind(name, args, kw, param{"sep", nil}, param{"maxsplit", int64(-1)})
			if err != nil {
				return nil, err
			}
			max, err := argInt(name, "maxsplit", a[1])
			if err != nil {
				return nil, err
			}
			var sep *string
			if a[0] != nil {
				s, err := argString(name, "sep", a[0])
				if err != nil {
					return nil, err
				}
				if s == "" {
					return nil, errors.New("empty separator")
				}
				sep = &s
			}
			parts := pySplit(self.(string), sep, max, right)
			if err := r.growItems(len(parts)); err != nil {
				return nil, err
			}
			out := make([]any, len(parts))
			for i, p := range parts {
				out[i] = p
			}
			return out, nil
		}
	}
	strMethods = map[string]methodFn{
		"upper":      simple("upper", func(s string) any { return strings.ToUpper(s) }),
		"lower":      simple("lower", func(s string) any { return strings.ToLower(s) }),
		"casefold":   simple("casefold", func(s string) any { return strings.ToLower(s) }),
		"title":      simple("title", func(s string) any { return pyTitle(s) }),
		"capitalize": simple("capitalize", func(s string) any { return pyCapitalize(s) }),
		"swapcase": simple("swapcase", func(s string) any {
			return strings.Map(func(c rune) rune {
				if unicode.IsUpper(c) {
					return unicode.ToLower(c)
				}
				return unicode.ToUpper(c)
			}, s)
		}),
		"isdigit":   simple("isdigit", isAll(unicode.IsDigit)),
		"isdecimal": simple("isdecimal", isAll(unicode.IsDigit)),
		"isnumeric": simple("isnumeric", isAll(unicode.IsNumber)),
		"isalpha":   simple("isalpha", isAll(unicode.IsLetter)),
		"isalnum":   simple("isalnum", isAll(func(c rune) bool { return unicode.IsLetter(c) || unicode.IsNumber(c) })),
		"isspace":   simple("isspace", isAll(unicode.IsSpace)),
		"islower": simple("islower", func(s string) any {
			return strings.ToLower(s) == s && strings.ToUpper(s) != s
		}),
		"isupper": simple("isupper", func(s string) any {
			return strings.ToUpper(s) == s && strings.ToLower(s) != s
		}),
		"splitlines": simple("splitlines", func(s string) any {
			out := []any{}
			for _, l := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
				out = append(out, l)
			}
			if len(out) > 0 && strings.HasSuffix(s, "\n") {
				out = out[:len(out)-1]
			}
			if s == "" {
				out = []any{}
			}
			return out
		}),
		"strip":      strip("strip", true, true),
		"lstrip":     strip("lstrip", true, false),
		"rstrip":     strip("rstrip", false, true),
		"startswith": affix("startswith", strings.HasPrefix),
		"endswith":   affix("endswith", strings.HasSuffix),
		"ljust":      justify("ljust"),
		"rjust":      justify("rjust"),
		"center":     justify("center"),
		"find":       find("find", false, false),
		"rfind":      find("rfind", true, false),
		"index":      find("index", false, true),
		"split":      split("split", false),
		"rsplit":     split("rsplit", true),
		"count": func(r *renderer, self any, args []any, kw map[string]any) (any, error) {
			a, err := bind("count", args, kw, param{"sub", required})
			if err != nil {
				return nil, err
			}
			sub, err := argString("count", "sub", a[0])
			if err != nil {
				return nil, err
			}
			return int64(strings.Count(self.(string), sub)), nil
		},
		"replace": func(r *renderer, self any, args []any, kw map[string]any) (any, error) {
			a, err := bind("replace", args, kw, param{"old", required}, param{"new", required}, param{"count", int64(-1)})
			if err != nil {
				return nil, err
			}
			return r.replace(self.(string), a[0], a[1], a[2])
		},
		"join": func(r *renderer, self any, args []any, kw map[string]any) (any, error) {
			a, err := bind("join", args, kw, param{"iterable", required})
			if err != nil {
				return nil, err
			}
			items, err := iterate(a[0])
			if err != nil {
				return nil, err
			}
			return r.join(items, self.(string))
		},
		"zfill": func(r *renderer, self any, args []any, kw map[string]any) (any, error) {
			a, err := bind("zfill", args, kw, param{"width", required})
			if err != nil {
				return nil, err
			}
			w, err := argInt("zfill", "width", a[0])
			if err != nil {
				return nil, err
			}
			if err := r.grow(w); err != nil {
				return nil, err
			}
			s := self.(string)
			n := w - utf8.RuneCountInString(s)
			if n <= 0 {
				return s, nil
			}
			sign := ""
			if s != "" && (s[0] == '-' || s[0] == '+') {
				sign, s = s[:1], s[1:]
			}
			return sign + strings.Repeat("0", n) + s, nil
		},
		"removeprefix": func(r *renderer, self any, args []any, kw map[string]any) (any, error) {
			a, err := bind("removeprefix", args, kw, param{"prefix", required})
			if err != nil {
				return nil, err
			}
			p, err := argString("removeprefix", "prefix", a[0])
			if err != nil {
				return nil, err
			}
			return strings.TrimPrefix(self.(string), p), nil
		},
		"removesuffix": func(r *renderer, self any, args []any, kw map[string]any) (any, error) {
			a, err := bind("removesuffix", args, kw, param{"suffix", required})
			if err != nil {
				return nil, err
			}
			p, err := argString("removesuffix", "suffix", a[0])
			if err != nil {
				return nil, err
			}
			return strings.TrimSuffix(self.(string), p), nil
		},
		"format": func(r *renderer, self any, args []any, kw map[string]any) (any, error) {
			return r.strFormat(self.(string), args, kw)
		},
	}
}

func justifyString(s string, w int, fill, how string) string {
	n := w - utf8.RuneCountInString(s)
	if n <= 0 {
		return s
	}
	switch how {
	case "ljust":
		return s + strings.Repeat(fill, n)
	case "rjust":
		return strings.Repeat(fill, n) + s
	}
	left := n / 2
	if n%2 == 1 && w%2 == 1 {
		left++
	}
	return strings.Repeat(fill, left) + s + strings.Repeat(fill, n-left)
}

func pyTitle(s string) string {
	var b strings.Builder
	prevLetter := false
	for _, c := range s {
		if unicode.IsLetter(c) {
			if prevLetter {
				b.WriteRune(unicode.ToLower(c))
			} else {
				b.WriteRune(unicode.ToUpper(c))
			}
			prevLetter = true
		} else {
			b.WriteRune(c)
			prevLetter = false
		}
	}
	return b.String()
}

func pyCapitalize(s string) string {
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + strings.ToLower(s[n:])
}

// pySplit implements str.split / str.rsplit.
func pySplit(s string, sep *string, max int, right bool) []string {
	if sep == nil {
		fields := strings.Fields(s)
		if max < 0 || max >= len(fields)-1 {
			return fields
		}
		if right {
			// Keep the leading part intact.
			out := fields[len(fields)-max:]
			rest := strings.TrimRightFunc(s, unicode.IsSpace)
			for i := 0; i < max; i++ {
				rest = strings.TrimRightFunc(rest, unicode.IsSpace)
				j := strings.LastIndexFunc(rest, unicode.IsSpace)
				rest = rest[:j+1]
			}
			return append([]string{strings.TrimSpace(rest)}, out...)
		}
		var out []string
		rest := strings.TrimLeftFunc(s, unicode.IsSpace)
		for i := 0; i < max && rest != ""; i++ {
			j := strings.IndexFunc(rest, unicode.IsSpace)
			if j < 0 {
				break
			}
			out = append(out, rest[:j])
			rest = strings.TrimLeftFunc(rest[j:], unicode.IsSpace)
		}
		if rest != "" {
			out = append(out, rest)
		}
		return out
	}
	if max < 0 {
		return strings.Split(s, *sep)
	}
	if !right {
		return strings.SplitN(s, *sep, max+1)
	}
	var out []string
	rest := s
	for i := 0; i < max; i++ {
		j := strings.LastIndex(rest, *sep)
		if j < 0 {
			break
		}
		out = append([]string{rest[j+len(*sep):]}, out...)
		rest = rest[:j]
	}
	return append([]string{rest}, out...)
}

func (r *renderer) replace(s string, oldV, newV, countV any) (any, error) {
	old, err := argString("replace", "old", oldV)
	if err != nil {
		return nil, err
	}
	nw, err := argString("replace", "new", newV)
	if err != nil {
		return nil, err
	}
	count := -1
	if countV != nil {
		if count, err = argInt("replace", "count", countV); err != nil {
			return nil, err
		}
	}
	n := strings.Count(s, old)
	if old == "" {
		n = utf8.RuneCountInString(s) + 1
	}
	if count >= 0 && count < n {
		n = count
	}
	if err := r.grow(len(s) + n*(len(nw)-len(old))); err != nil {
		return nil, err
	}
	return strings.Replace(s, old, nw, count), nil
}

func (r *renderer) join(items []any, sep string) (any, error) {
	total := 0
	parts := make([]string, len(items))
	for i, it := range items {
		s, err := toStr(it)
		if err != nil {
			return nil, err
		}
		parts[i] = s
		total += len(s) + len(sep)
		if total > r.e.opts.MaxOutput {
			return nil, r.grow(total)
		}
	}
	if err := r.grow(total); err != nil {
		return nil, err
	}
	return strings.Join(parts, sep), nil
}

// strFormat implements str.format: {} {0} {name} {name.attr} {name[key]}, !r / !s and a
// format spec [[fill]align][sign][0][width][,][.precision][type].
func (r *renderer) strFormat(f string, args []any, kw map[string]any) (any, error) {
	var b strings.Builder
	auto := 0
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c == '}' {
			if i+1 < len(f) && f[i+1] == '}' {
				b.WriteByte('}')
				i++
				continue
			}
			return nil, errors.New("single '}' encountered in format string")
		}
		if c != '{' {
			b.WriteByte(c)
			continue
		}
		if i+1 < len(f) && f[i+1] == '{' {
			b.WriteByte('{')
			i++
			continue
		}
		end := strings.IndexByte(f[i:], '}')
		if end < 0 {
			return nil, errors.New("single '{' encountered in format string")
		}
		field := f[i+1 : i+end]
		i += end
		spec := ""
		if j := strings.IndexByte(field, ':'); j >= 0 {
			field, spec = field[:j], field[j+1:]
		}
		conv := byte(0)
		if j := strings.IndexByte(field, '!'); j >= 0 && j+1 < len(field) {
			conv = field[j+1]
			field = field[:j]
		}
		// First part: index, name or empty (automatic numbering).
		head := field
		rest := ""
		if j := strings.IndexAny(field, ".["); j >= 0 {
			head, rest = field[:j], field[j:]
		}
		var v any
		switch {
		case head == "":
			if auto >= len(args) {
				return nil, fmt.Errorf("format: replacement index %d out of range", auto)
			}
			v = args[auto]
			auto++
		case allDigits(head):
			n := atoi(head)
			if n >= len(args) {
				return nil, fmt.Errorf("format: replacement index %d out of range", n)
			}
			v = args[n]
		default:
			var ok bool
			if v, ok = kw[head]; !ok {
				return nil, fmt.Errorf("format: no argument named '%s'", head)
			}
		}
		for rest != "" {
			if rest[0] == '.' {
				j := strings.IndexAny(rest[1:], ".[")
				name := rest[1:]
				if j >= 0 {
					name, rest = rest[1:j+1], rest[j+1:]
				} else {
					rest = ""
				}
				if strings.HasPrefix(name, "__") {
					return nil, fmt.Errorf("access to attribute '%s' is not allowed", name)
				}
				var found bool
				if isMap(v) {
					v, found = mapGet(v, name)
				} else {
					var err error
					if v, found, err = attribute(v, name); err != nil {
						return nil, err
					}
				}
				if !found {
					return nil, fmt.Errorf("format: no attribute '%s'", name)
				}
				continue
			}
			j := strings.IndexByte(rest, ']')
			if j < 0 {
				return nil, errors.New("format: missing ']'")
			}
			key := rest[1:j]
			rest = rest[j+1:]
			if isDunderKey(key) {
				return nil, fmt.Errorf("access to key '%s' is not allowed", key)
			}
			var found bool
			if l, ok := listItems(v); ok && allDigits(key) {
				if n := atoi(key); n < len(l) {
					v, found = l[n], true
				}
			} else {
				v, found = mapGet(v, key)
			}
			if !found {
				return nil, fmt.Errorf("format: no item '%s'", key)
			}
		}
		switch conv {
		case 'r', 'a':
			v = repr(v)
		case 's':
			s, err := toStr(v)
			if err != nil {
				return nil, err
			}
			v = s
		}
		s, err := formatSpec(v, spec, r.e.opts.MaxOutput)
		if err != nil {
			return nil, err
		}
		if err := r.grow(b.Len() + len(s)); err != nil {
			return nil, err
		}
		b.WriteString(s)
	}
	return b.String(), nil
}

// formatSpec applies a Python format spec to one value.
func formatSpec(v any, spec string, maxWidth int) (string, error) {
	if d, ok := v.(*DateTime); ok && spec != "" {
		return d.t.Format(spec), nil
	}
	fill, align := " ", byte(0)
	if len(spec) >= 2 && strings.IndexByte("<>^=", spec[1]) >= 0 {
		fill, align, spec = spec[:1], spec[1], spec[2:]
	} else if len(spec) >= 1 && strings.IndexByte("<>^=", spec[0]) >= 0 {
		align, spec = spec[0], spec[1:]
	}
	sign := byte('-')
	if spec != "" && strings.IndexByte("+- ", spec[0]) >= 0 {
		sign, spec = spec[0], spec[1:]
	}
	zero := false
	if spec != "" && spec[0] == '0' {
		zero, spec = true, spec[1:]
	}
	width := 0
	for spec != "" && spec[0] >= '0' && spec[0] <= '9' {
		width = width*10 + int(spec[0]-'0')
		spec = spec[1:]
		if width > maxWidth {
			return "", &posError{kind: ErrSize, msg: fmt.Sprintf("format width %d exceeds the output limit", width)}
		}
	}
	comma := false
	if spec != "" && (spec[0] == ',' || spec[0] == '_') {
		comma, spec = true, spec[1:]
	}
	prec := -1
	if spec != "" && spec[0] == '.' {
		spec = spec[1:]
		p := 0
		for spec != "" && spec[0] >= '0' && spec[0] <= '9' {
			p = p*10 + int(spec[0]-'0')
			spec = spec[1:]
		}
		if p > 1000 {
			return "", errors.New("format precision too large")
		}
		prec = p
	}
	typ := byte(0)
	if len(spec) == 1 {
		typ = spec[0]
	} else if spec != "" {
		return "", fmt.Errorf("invalid format specifier '%s'", spec)
	}
	var body string
	numeric := false
	switch typ {
	case 0, 's':
		if n, ok := v.(float64); ok && typ == 0 && prec >= 0 {
			body = strconv.FormatFloat(n, 'g', prec, 64)
			numeric = true
			break
		}
		if _, isNum := number(v); isNum && typ == 0 {
			if _, isBool := v.(bool); !isBool {
				numeric = true
			}
		}
		s, err := toStr(v)
		if err != nil {
			return "", err
		}
		if i, isInt := v.(int64); isInt && comma {
			s = groupThousands(strconv.FormatInt(i, 10))
		}
		if prec >= 0 && !numeric && utf8.RuneCountInString(s) > prec {
			s = string([]rune(s)[:prec])
		}
		body = s
	case 'd', 'x', 'X', 'o', 'b':
		numeric = true
		n, ok := v.(int64)
		if !ok {
			if bv, isBool := v.(bool); isBool {
				n = map[bool]int64{false: 0, true: 1}[bv]
			} else {
				return "", fmt.Errorf("unknown format code '%c' for object of type '%s'", typ, typeName(v))
			}
		}
		base := map[byte]int{'d': 10, 'x': 16, 'X': 16, 'o': 8, 'b': 2}[typ]
		body = strconv.FormatInt(n, base)
		if typ == 'X' {
			body = strings.ToUpper(body)
		}
		if comma && typ == 'd' {
			body = groupThousands(body)
		}
	case 'f', 'F', 'e', 'E', 'g', 'G', '%':
		numeric = true
		x, ok := number(v)
		if !ok {
			return "", fmt.Errorf("unknown format code '%c' for object of type '%s'", typ, typeName(v))
		}
		if prec < 0 {
			prec = 6
		}
		switch typ {
		case '%':
			body = strconv.FormatFloat(x*100, 'f', prec, 64) + "%"
		case 'F':
			body = strconv.FormatFloat(x, 'f', prec, 64)
		case 'e', 'E':
			body = fixExponent(strconv.FormatFloat(x, typ, prec, 64))
		default:
			body = strconv.FormatFloat(x, typ, prec, 64)
		}
		if comma && (typ == 'f' || typ == 'F') {
			ip, fp, _ := strings.Cut(body, ".")
			body = groupThousands(ip)
			if fp != "" {
				body += "." + fp
			}
		}
	default:
		return "", fmt.Errorf("unknown format code '%c'", typ)
	}
	if numeric && !strings.HasPrefix(body, "-") {
		switch sign {
		case '+':
			body = "+" + body
		case ' ':
			body = " " + body
		}
	}
	if zero && align == 0 {
		fill, align = "0", '='
	}
	if align == 0 {
		align = '<'
		if numeric {
			align = '>'
		}
	}
	n := width - utf8.RuneCountInString(body)
	if n > 0 {
		switch align {
		case '<':
			body += strings.Repeat(fill, n)
		case '>':
			body = strings.Repeat(fill, n) + body
		case '^':
			body = strings.Repeat(fill, n/2) + body + strings.Repeat(fill, n-n/2)
		case '=':
			s := ""
			if body != "" && strings.IndexByte("+- ", body[0]) >= 0 {
				s, body = body[:1], body[1:]
			}
			body = s + strings.Repeat(fill, n) + body
		}
	}
	return body, nil
}

func groupThousands(digits string) string {
	neg := strings.HasPrefix(digits, "-")
	if neg {
		digits = digits[1:]
	}
	var b strings.Builder
	for i, c := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// ---- dict and list ----

func readOnlyError(self any, method string) error {
	if _, ok := self.(ctxMap); ok {
		return fmt.Errorf("'context' is read-only: templates cannot modify it (dict.%s)", method)
	}
	if _, ok := self.(ctxList); ok {
		return fmt.Errorf("'context' is read-only: templates cannot modify it (list.%s)", method)
	}
	return fmt.Errorf("%s() cannot change values in templates: use API.setvariable(variables, key, value) to set a pipeline variable", method)
}

func mutator(name string) methodFn {
	return func(r *renderer, self any, args []any, kw map[string]any) (any, error) {
		return nil, readOnlyError(self, name)
	}
}

var mapMethods = map[string]methodFn{
	"keys": func(r *renderer, self any, args []any, kw map[string]any) (any, error) {
		if err := noArgs("keys", args, kw); err != nil {
			return nil, err
		}
		ks := mapKeys(self)
		out := make([]any, len(ks))
		for i, k := range ks {
			out[i] = k
		}
		return out, nil
	},
	"values": func(r *renderer, self any, args []any, kw map[string]any) (any, error) {
		if err := noArgs("values", args, kw); err != nil {
			return nil, err
		}
		ks := mapKeys(self)
		out := make([]any, len(ks))
		for i, k := range ks {
			out[i], _ = mapGet(self, k)
		}
		return out, nil
	},
	"items": func(r *renderer, self any, args []any, kw map[string]any) (any, error) {
		if err := noArgs("items", args, kw); err != nil {
			return nil, err
		}
		return dictItems(self), nil
	},
	"get": func(r *renderer, self any, args []any, kw map[string]any) (any, error) {
		a, err := bind("get", args, kw, param{"key", required}, param{"default", nil})
		if err != nil {
			return nil, err
		}
		k, ok := a[0].(string)
		if !ok {
			return a[1], nil
		}
		if isDunderKey(k) {
			return nil, fmt.Errorf("access to key '%s' is not allowed", k)
		}
		if v, ok := mapGet(self, k); ok {
			return v, nil
		}
		return a[1], nil
	},
	"copy": func(r *renderer, self any, args []any, kw map[string]any) (any, error) {
		if err := noArgs("copy", args, kw); err != nil {
			return nil, err
		}
		d := newDict()
		for _, k := range mapKeys(self) {
			v, _ := mapGet(self, k)
			d.set(k, v)
		}
		return d, nil
	},
	"update":     mutator("update"),
	"pop":        mutator("pop"),
	"popitem":    mutator("popitem"),
	"setdefault": mutator("setdefault"),
	"clear":      mutator("clear"),
}

func dictItems(self any) []any {
	ks := mapKeys(self)
	out := make([]any, len(ks))
	for i, k := range ks {
		v, _ := mapGet(self, k)
		out[i] = tuple{k, v}
	}
	return out
}

var listMethods = map[string]methodFn{
	"index": func(r *renderer, self any, args []any, kw map[string]any) (any, error) {
		a, err := bind("index", args, kw, param{"value", required})
		if err != nil {
			return nil, err
		}
		l, _ := listItems(self)
		for i, e := range l {
			if equal(e, a[0]) {
				return int64(i), nil
			}
		}
		return nil, fmt.Errorf("%s is not in list", repr(a[0]))
	},
	"count": func(r *renderer, self any, args []any, kw map[string]any) (any, error) {
		a, err := bind("count", args, kw, param{"value", required})
		if err != nil {
			return nil, err
		}
		l, _ := listItems(self)
		n := int64(0)
		for _, e := range l {
			if equal(e, a[0]) {
				n++
			}
		}
		return n, nil
	},
	"copy": func(r *renderer, self any, args []any, kw map[string]any) (any, error) {
		l, _ := listItems(self)
		return append([]any{}, l...), nil
	},
	"append":  mutator("append"),
	"extend":  mutator("extend"),
	"insert":  mutator("insert"),
	"remove":  mutator("remove"),
	"pop":     mutator("pop"),
	"sort":    mutator("sort"),
	"reverse": mutator("reverse"),
	"clear":   mutator("clear"),
}

// ---- loop ----

func (l *loopInfo) attribute(name string) (any, bool) {
	switch name {
	case "index":
		return int64(l.index0 + 1), true
	case "index0":
		return int64(l.index0), true
	case "revindex":
		return int64(l.length - l.index0), true
	case "revindex0":
		return int64(l.length - l.index0 - 1), true
	case "first":
		return l.index0 == 0, true
	case "last":
		return l.index0 == l.length-1, true
	case "length":
		return int64(l.length), true
	case "depth":
		return int64(l.depth), true
	case "depth0":
		return int64(l.depth - 1), true
	case "previtem":
		if l.index0 == 0 {
			return undefined{name: "loop.previtem"}, true
		}
		return l.items[l.index0-1], true
	case "nextitem":
		if l.index0 >= l.length-1 {
			return undefined{name: "loop.nextitem"}, true
		}
		return l.items[l.index0+1], true
	}
	return nil, false
}

var loopMethods = map[string]methodFn{
	"cycle": func(r *renderer, self any, args []any, kw map[string]any) (any, error) {
		if len(kw) > 0 || len(args) == 0 {
			return nil, errors.New("loop.cycle() needs at least one positional argument")
		}
		l := self.(*loopInfo)
		return args[l.index0%len(args)], nil
	},
	"changed": func(r *renderer, self any, args []any, kw map[string]any) (any, error) {
		l := self.(*loopInfo)
		var cur any = tuple(args)
		if l.hasLast && equal(cur, l.lastSeen) {
			return false, nil
		}
		l.lastSeen, l.hasLast = cur, true
		return true, nil
	},
}

// ---- DateTime and Date ----

func dtAttribute(d *DateTime, name string) (any, bool) {
	t := d.t
	switch name {
	case "year":
		return int64(t.Year()), true
	case "month":
		return int64(t.Month()), true
	case "day":
		return int64(t.Day()), true
	case "hour":
		return int64(t.Hour()), true
	case "minute":
		return int64(t.Minute()), true
	case "second":
		return int64(t.Second()), true
	case "microsecond":
		return int64(t.Nanosecond() / 1000), true
	case "week":
		_, w := t.ISOWeek()
		return int64(w), true
	case "quarter":
		return int64((int(t.Month())-1)/3 + 1), true
	case "tzinfo", "tz":
		return zoneName(t), true
	case "int_timestamp":
		return t.Unix(), true
	case "float_timestamp":
		return float64(t.UnixMicro()) / 1e6, true
	case "datetime":
		return d, true
	case "naive":
		return &DateTime{t: wall(t)}, true
	}
	return nil, false
}

func zoneName(t time.Time) string {
	if name := t.Location().String(); name != "" && name != "Local" {
		return name
	}
	return offsetString(t, true)
}

func fmtArg(name string, args []any, kw map[string]any, def string) (string, error) {
	a, err := bind(name, args, kw, param{"fmt", def}, param{"locale", "en-us"})
	if err != nil {
		return "", err
	}
	return argString(name, "fmt", a[0])
}

var dtMethods = map[string]methodFn{
	"isoformat": func(r *renderer, self any, args []any, kw map[string]any) (any, error) {
		a, err := bind("isoformat", args, kw, param{"sep", "T"})
		if err != nil {
			return nil, err
		}
		sep, err := argString("isoformat", "sep", a[0])
		if err != nil {
			return nil, err
		}
		return self.(*DateTime).isoformat(sep), nil
	},
	"format": func(r *renderer, self any, args []any, kw map[string]any) (any, error) {
		f, err := fmtArg("format", args, kw, "YYYY-MM-DD HH:mm:ssZZ")
		if err != nil {
			return nil, err
		}
		return formatItems(self.(*DateTime).t, tokenizeArrow(f)), nil
	},
	"shift": func(r *renderer, self any, args []any, kw map[string]any) (any, error) {
		if len(args) > 0 {
			return nil, errors.New("shift() takes keyword arguments only, like shift(days=-1)")
		}
		t, err := shiftTime(self.(*DateTime).t, kw, false)
		if err != nil {
			return nil, err
		}
		return &DateTime{t: t}, nil
	},
	"replace": func(r *renderer, self any, args []any, kw map[string]any) (any, error) {
		if len(args) > 0 {
			return nil, errors.New("replace() takes keyword arguments only, like replace(day=1)")
		}
		t, err := replaceTime(self.(*DateTime).t, kw, false)
		if err != nil {
			return nil, err
		}
		return &DateTime{t: t}, nil
	},
	"floor": func(r *renderer, self any, args []any, kw map[string]any) (any, error) {
		a, err := bind("floor", args, kw, param{"frame", required})
		if err != nil {
			return nil, err
		}
		frame, err := argString("floor", "frame", a[0])
		if err != nil {
			return nil, err
		}
		t, err := floorTime(self.(*DateTime).t, frame)
		if err != nil {
			return nil, err
		}
		return &DateTime{t: t}, nil
	},
	"ceil": func(r *renderer, self any, args []any, kw map[string]any) (any, error) {
		a, err := bind("ceil", args, kw, param{"frame", required})
		if err != nil {
			return nil, err
		}
		frame, err := argString("ceil", "frame", a[0])
		if err != nil {
			return nil, err
		}
		t, err := ceilTime(self.(*DateTime).t, frame)
		if err != nil {
			return nil, err
		}
		return &DateTime{t: t}, nil
	},
	"to":         dtTo("to"),
	"astimezone": dtTo("astimezone"),
	"date": func(r *renderer, self any, args []any, kw map[string]any) (any, error) {
		if err := noArgs("date", args, kw); err != nil {
			return nil, err
		}
		t := self.(*DateTime).t
		return &Date{t: time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)}, nil
	},
	"time": func(r *renderer, self any, args []any, kw map[string]any) (any, error) {
		if err := noArgs("time", args, kw); err != nil {
			return nil, err
		}
		t := self.(*DateTime).t
		s := t.Format("15:04:05")
		if us := t.Nanosecond() / 1000; us != 0 {
			s += fmt.Sprintf(".%06d", us)
		}
		return s, nil
	},
	"timestamp": func(r *renderer, self any, args []any, kw map[string]any) (any, error) {
		if err := noArgs("timestamp", args, kw); err != nil {
			return nil, err
		}
		return float64(self.(*DateTime).t.UnixMicro()) / 1e6, nil
	},
	"clone": func(r *renderer, self any, args []any, kw map[string]any) (any, error) {
		return &DateTime{t: self.(*DateTime).t}, noArgs("clone", args, kw)
	},
	"for_json": func(r *renderer, self any, args []any, kw map[string]any) (any, error) {
		return self.(*DateTime).isoformat("T"), noArgs("for_json", args, kw)
	},
}

// The methods a DateTime and a Date share: they only read the calendar day (and time).
func init() {
	for name, fn := range calendarMethods(func(self any) time.Time { return self.(*DateTime).t }) {
		dtMethods[name] = fn
	}
	for name, fn := range calendarMethods(func(self any) time.Time { return self.(*Date).t }) {
		dateMethods[name] = fn
	}
}

func calendarMethods(at func(self any) time.Time) map[string]methodFn {
	return map[string]methodFn{
		"strftime": func(r *renderer, self any, args []any, kw map[string]any) (any, error) {
			a, err := bind("strftime", args, kw, param{"fmt", required})
			if err != nil {
				return nil, err
			}
			f, err := argString("strftime", "fmt", a[0])
			if err != nil {
				return nil, err
			}
			items, err := tokenizeStrftime(f)
			if err != nil {
				return nil, err
			}
			return formatItems(at(self), items), nil
		},
		"weekday": func(r *renderer, self any, args []any, kw map[string]any) (any, error) {
			return int64(isoWeekday(at(self)) - 1), noArgs("weekday", args, kw)
		},
		"isoweekday": func(r *renderer, self any, args []any, kw map[string]any) (any, error) {
			return int64(isoWeekday(at(self))), noArgs("isoweekday", args, kw)
		},
		"isocalendar": func(r *renderer, self any, args []any, kw map[string]any) (any, error) {
			t := at(self)
			y, w := t.ISOWeek()
			return tuple{int64(y), int64(w), int64(isoWeekday(t))}, noArgs("isocalendar", args, kw)
		},
	}
}

func dtTo(name string) methodFn {
	return func(r *renderer, self any, args []any, kw map[string]any) (any, error) {
		a, err := bind(name, args, kw, param{"tz", required})
		if err != nil {
			return nil, err
		}
		tz, err := argString(name, "tz", a[0])
		if err != nil {
			return nil, err
		}
		loc, err := loadZone(tz)
		if err != nil {
			return nil, err
		}
		return &DateTime{t: self.(*DateTime).t.In(loc)}, nil
	}
}

var dateMethods = map[string]methodFn{
	"isoformat": func(r *renderer, self any, args []any, kw map[string]any) (any, error) {
		return self.(*Date).isoformat(), noArgs("isoformat", args, kw)
	},
	"format": func(r *renderer, self any, args []any, kw map[string]any) (any, error) {
		f, err := fmtArg("format", args, kw, "YYYY-MM-DD")
		if err != nil {
			return nil, err
		}
		return formatItems(self.(*Date).t, tokenizeArrow(f)), nil
	},
	"replace": func(r *renderer, self any, args []any, kw map[string]any) (any, error) {
		if len(args) > 0 {
			return nil, errors.New("replace() takes keyword arguments only, like replace(day=1)")
		}
		t, err := replaceTime(self.(*Date).t, kw, true)
		if err != nil {
			return nil, err
		}
		return &Date{t: t}, nil
	},
	"shift": func(r *renderer, self any, args []any, kw map[string]any) (any, error) {
		if len(args) > 0 {
			return nil, errors.New("shift() takes keyword arguments only, like shift(days=-1)")
		}
		t, err := shiftTime(self.(*Date).t, kw, true)
		if err != nil {
			return nil, err
		}
		return &Date{t: t}, nil
	},
}
