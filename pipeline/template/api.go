package template

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	jmespath "github.com/jmespath-community/go-jmespath"

	"github.com/ankaflow/ankaflow/engine/value"
)

// apiMethods are the functions of the API name: API.dt, API.look, API.sqltuple,
// API.setvariable, API.error, API.int and API.peek.
var apiMethods = map[string]methodFn{
	"dt":          apiDt,
	"look":        apiLook,
	"sqltuple":    apiSQLTuple,
	"setvariable": apiSetVariable,
	"error":       apiError,
	"int":         apiInt,
	"peek": func(r *renderer, self any, args []any, kw map[string]any) (any, error) {
		a, err := bind("API.peek", args, kw, param{"value", required})
		if err != nil {
			return nil, err
		}
		return typeName(a[0]), nil
	},
}

// apiDt is API.dt(datelike=None, tz=None, format=None, default=None).
func apiDt(r *renderer, self any, args []any, kw map[string]any) (any, error) {
	a, err := bind("API.dt", args, kw, param{"datelike", nil}, param{"tz", nil}, param{"format", nil}, param{"default", nil})
	if err != nil {
		return nil, err
	}
	datelike, tzArg, formatArg, def := a[0], a[1], a[2], a[3]
	format := ""
	if formatArg != nil {
		if format, err = argString("API.dt", "format", formatArg); err != nil {
			return nil, err
		}
	}
	// As in AnkaFlow, a missing value (None or NaN) takes the default when there is one.
	if f, ok := datelike.(float64); ok && math.IsNaN(f) || datelike == nil {
		if def != nil {
			datelike = def
		} else if datelike != nil {
			return nil, errors.New("API.dt: value is NaN and there is no default")
		}
	}
	t, err := r.toTime(datelike, format)
	if err != nil {
		if def == nil {
			return nil, fmt.Errorf("API.dt: %v", err)
		}
		if t, err = r.toTime(def, format); err != nil && format != "" {
			t, err = r.toTime(def, "")
		}
		if err != nil {
			// AnkaFlow returns a default that is not itself a date as given
			// (default="none-given" renders none-given), so templates can test for it.
			return def, nil
		}
	}
	if tzArg != nil {
		tz, err := argString("API.dt", "tz", tzArg)
		if err != nil {
			return nil, err
		}
		loc, err := loadZone(tz)
		if err != nil {
			return nil, fmt.Errorf("API.dt: %v", err)
		}
		t = t.In(loc)
	}
	return &DateTime{t: t}, nil
}

// toTime converts a datelike value.
func (r *renderer) toTime(v any, format string) (time.Time, error) {
	switch x := v.(type) {
	case nil:
		return r.e.opts.Now().UTC(), nil
	case *DateTime:
		return x.t, nil
	case *Date:
		return x.t, nil
	case bool:
		return time.Time{}, errors.New("cannot convert a bool to a date")
	case int64:
		if x > 9_999_999_999 {
			return time.Unix(0, x).UTC(), nil // nanoseconds, as AnkaFlow
		}
		return time.Unix(x, 0).UTC(), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) || math.Abs(x) > 1e13 {
			return time.Time{}, fmt.Errorf("cannot convert %s to a date", pyFloat(x))
		}
		sec, frac := math.Modf(x)
		return time.Unix(int64(sec), int64(math.Round(frac*1e6))*1000).UTC(), nil
	case string:
		if format != "" {
			return parseWithFormat(x, format)
		}
		return parseISO(x)
	}
	return time.Time{}, fmt.Errorf("cannot convert a %s to a date", typeName(v))
}

// apiLook is API.look(path, data, default=None): a JMESPath search.
func apiLook(r *renderer, self any, args []any, kw map[string]any) (any, error) {
	a, err := bind("API.look", args, kw, param{"path", required}, param{"data", required}, param{"default", nil})
	if err != nil {
		return nil, err
	}
	path, err := argString("API.look", "path", a[0])
	if err != nil {
		return nil, err
	}
	jp, err := jmespath.Compile(path)
	if err != nil {
		return nil, fmt.Errorf("API.look: invalid JMESPath expression %q: %v", path, err)
	}
	nums := &jpNumbers{ints: map[float64]bool{}, floats: map[float64]bool{}}
	data := nums.toJP(a[1], 0)
	if err := r.checkTime(); err != nil {
		return nil, err
	}
	res, err := jp.Search(data)
	if err != nil {
		return nil, fmt.Errorf("API.look %q: %v", path, err)
	}
	if res == nil {
		return a[2], nil
	}
	return norm(nums.fromJP(res), false), nil
}

// jpNumbers converts data for JMESPath, which only knows float64 numbers, and converts the
// result back: a whole number that was an int in the data becomes an int again.
type jpNumbers struct {
	ints, floats map[float64]bool
}

func (n *jpNumbers) toJP(v any, depth int) any {
	if depth > 200 {
		return nil
	}
	switch x := v.(type) {
	case nil, bool, string:
		return x
	case int64:
		f := float64(x)
		n.ints[f] = true
		return f
	case float64:
		n.floats[x] = true
		return x
	case value.Decimal:
		f := x.Float64()
		n.floats[f] = true
		return f
	case *DateTime:
		return x.isoformat("T")
	case *Date:
		return x.isoformat()
	case undefined:
		return nil
	}
	if l, ok := listItems(v); ok {
		out := make([]any, len(l))
		for i, e := range l {
			out[i] = n.toJP(e, depth+1)
		}
		return out
	}
	if isMap(v) {
		ks := mapKeys(v)
		out := make(map[string]any, len(ks))
		for _, k := range ks {
			e, _ := mapGet(v, k)
			out[k] = n.toJP(e, depth+1)
		}
		return out
	}
	return repr(v)
}

func (n *jpNumbers) fromJP(v any) any {
	switch x := v.(type) {
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 && !n.floats[x] && (n.ints[x] || len(n.floats) == 0) {
			return int64(x)
		}
		return x
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = n.fromJP(e)
		}
		return out
	case map[string]any:
		// JMESPath gives Go maps: their keys are sorted so results are at least stable.
		out := value.NewMap()
		for _, k := range sortedKeys(x) {
			out.Set(k, n.fromJP(x[k]))
		}
		return out
	}
	return v
}

// apiSQLTuple is API.sqltuple(iterable, mode="string").
func apiSQLTuple(r *renderer, self any, args []any, kw map[string]any) (any, error) {
	a, err := bind("API.sqltuple", args, kw, param{"iterable", required}, param{"mode", "string"})
	if err != nil {
		return nil, err
	}
	items, ok := listItems(a[0])
	if !ok {
		return nil, fmt.Errorf("API.sqltuple expects a list or tuple, not %s", typeName(a[0]))
	}
	mode, err := argString("API.sqltuple", "mode", a[1])
	if err != nil {
		return nil, err
	}
	if mode != "string" && mode != "number" {
		return nil, fmt.Errorf("API.sqltuple: unknown mode '%s' (use 'string' or 'number')", mode)
	}
	if len(items) == 0 {
		return "(NULL)", nil
	}
	parts := make([]string, len(items))
	total := 0
	for i, it := range items {
		switch mode {
		case "string":
			if it == nil {
				parts[i] = "NULL"
				break
			}
			s, err := toStr(it)
			if err != nil {
				return nil, err
			}
			parts[i] = "'" + strings.ReplaceAll(s, "'", "''") + "'"
		case "number":
			switch x := it.(type) {
			case int64:
				parts[i] = strconv.FormatInt(x, 10)
			case float64:
				if math.IsNaN(x) || math.IsInf(x, 0) {
					return nil, fmt.Errorf("API.sqltuple: item %d is %s, not a finite number", i, pyFloat(x))
				}
				parts[i] = pyFloat(x)
			default:
				return nil, fmt.Errorf("API.sqltuple(mode='number'): item %d is %s (%s), not a number", i, repr(it), typeName(it))
			}
		}
		total += len(parts[i]) + 2
		if err := r.grow(total); err != nil {
			return nil, err
		}
	}
	if mode == "number" {
		return "(" + strings.Join(parts, ", ") + ")", nil
	}
	return "(" + strings.Join(parts, ",") + ")", nil
}

// apiSetVariable is API.setvariable(collection, key, value).
func apiSetVariable(r *renderer, self any, args []any, kw map[string]any) (any, error) {
	a, err := bind("API.setvariable", args, kw, param{"collection", required}, param{"key", required}, param{"value", required})
	if err != nil {
		return nil, err
	}
	key, ok := a[1].(string)
	if !ok {
		return nil, fmt.Errorf("API.setvariable: key must be a string, not %s", typeName(a[1]))
	}
	if isDunderKey(key) {
		return nil, fmt.Errorf("API.setvariable: keys like '%s' (starting and ending with '__') are not allowed", key)
	}
	value := a[2]
	switch c := a[0].(type) {
	case *varsView:
		if c != r.vars {
			return nil, errors.New("API.setvariable: unknown variables collection")
		}
		c.over[key] = plain(value)
		return value, nil
	case *dict:
		c.set(key, value)
		return value, nil
	case ctxMap, ctxList:
		return nil, errors.New("'context' is read-only: API.setvariable cannot write to it")
	case map[string]any:
		return nil, errors.New("API.setvariable can only set top-level pipeline variables: use API.setvariable(variables, key, value)")
	}
	return nil, fmt.Errorf("API.setvariable: collection must be variables (or a dict made in the template), not %s", typeName(a[0]))
}

// apiError is API.error(condition, message): a truthy condition fails the render with the
// message; otherwise it returns the condition.
func apiError(r *renderer, self any, args []any, kw map[string]any) (any, error) {
	a, err := bind("API.error", args, kw, param{"condition", required}, param{"message", "API.error"})
	if err != nil {
		return nil, err
	}
	ok, err := truth(a[0])
	if err != nil {
		return nil, err
	}
	if !ok {
		return a[0], nil
	}
	msg, err := toStr(a[1])
	if err != nil {
		return nil, err
	}
	return nil, &posError{kind: ErrUser, msg: msg}
}

// apiInt is API.int(x, base=10): Python's int().
func apiInt(r *renderer, self any, args []any, kw map[string]any) (any, error) {
	a, err := bind("API.int", args, kw, param{"x", required}, param{"base", nil})
	if err != nil {
		return nil, err
	}
	return pyInt(a[0], a[1])
}

// pyInt is Python's int(x[, base]).
func pyInt(x, baseArg any) (int64, error) {
	base := 10
	if baseArg != nil {
		b, ok := baseArg.(int64)
		if !ok || b != 0 && (b < 2 || b > 36) {
			return 0, errors.New("int() base must be >= 2 and <= 36, or 0")
		}
		base = int(b)
		if _, isStr := x.(string); !isStr {
			return 0, errors.New("int() can't convert non-string with explicit base")
		}
	}
	switch v := x.(type) {
	case int64:
		return v, nil
	case bool:
		if v {
			return 1, nil
		}
		return 0, nil
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, fmt.Errorf("cannot convert float %s to integer", pyFloat(v))
		}
		if math.Abs(v) >= 9.2e18 {
			return 0, errOverflow
		}
		return int64(v), nil
	case string:
		s := strings.TrimSpace(v)
		t := s
		neg := false
		if t != "" && (t[0] == '+' || t[0] == '-') {
			neg = t[0] == '-'
			t = t[1:]
		}
		b := base
		if b == 0 || b == 16 || b == 8 || b == 2 {
			lower := strings.ToLower(t)
			switch {
			case strings.HasPrefix(lower, "0x") && (b == 0 || b == 16):
				t, b = t[2:], 16
			case strings.HasPrefix(lower, "0o") && (b == 0 || b == 8):
				t, b = t[2:], 8
			case strings.HasPrefix(lower, "0b") && (b == 0 || b == 2):
				t, b = t[2:], 2
			case b == 0:
				b = 10
			}
		}
		if t == "" || t[0] == '_' || t[len(t)-1] == '_' || strings.Contains(t, "__") {
			return 0, fmt.Errorf("invalid literal for int() with base %d: %s", base, pyQuote(v))
		}
		n, err := strconv.ParseInt(strings.ReplaceAll(t, "_", ""), b, 64)
		if err != nil {
			if errors.Is(err, strconv.ErrRange) {
				return 0, errOverflow
			}
			return 0, fmt.Errorf("invalid literal for int() with base %d: %s", base, pyQuote(v))
		}
		if neg {
			n = -n
		}
		return n, nil
	}
	return 0, fmt.Errorf("int() argument must be a string or a number, not '%s'", typeName(x))
}

// pyFloatConv is Python's float(x).
func pyFloatConv(x any) (float64, error) {
	switch v := x.(type) {
	case float64:
		return v, nil
	case int64:
		return float64(v), nil
	case bool:
		if v {
			return 1, nil
		}
		return 0, nil
	case string:
		s := strings.TrimSpace(v)
		switch strings.ToLower(strings.TrimLeft(s, "+-")) {
		case "nan", "inf", "infinity":
			f, _ := strconv.ParseFloat(s, 64)
			return f, nil
		}
		if s == "" || strings.Contains(s, "__") || strings.HasPrefix(s, "_") || strings.HasSuffix(s, "_") ||
			strings.ContainsAny(strings.ToLower(s), "xp") {
			return 0, fmt.Errorf("could not convert string to float: %s", pyQuote(v))
		}
		f, err := strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return 0, fmt.Errorf("could not convert string to float: %s", pyQuote(v))
		}
		return f, nil
	}
	return 0, fmt.Errorf("float() argument must be a string or a number, not '%s'", typeName(x))
}
