package template

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
)

type testFn func(r *renderer, v any, args []any) (any, error)

// lenientTests accept an undefined value.
var lenientTests = map[string]bool{"defined": true, "undefined": true, "none": true}

var jinjaTests map[string]testFn

func init() {
	is := func(f func(v any) bool) testFn {
		return func(r *renderer, v any, args []any) (any, error) { return f(v), nil }
	}
	cmp := func(f func(c int) bool) testFn {
		return func(r *renderer, v any, args []any) (any, error) {
			if len(args) != 1 {
				return nil, errors.New("the test needs one argument")
			}
			c, err := compare(v, args[0])
			if err != nil {
				return nil, err
			}
			return f(c), nil
		}
	}
	eq := func(r *renderer, v any, args []any) (any, error) {
		if len(args) != 1 {
			return nil, errors.New("the test needs one argument")
		}
		return equal(v, args[0]), nil
	}
	ne := func(r *renderer, v any, args []any) (any, error) {
		if len(args) != 1 {
			return nil, errors.New("the test needs one argument")
		}
		return !equal(v, args[0]), nil
	}
	jinjaTests = map[string]testFn{
		"defined":   is(func(v any) bool { _, u := v.(undefined); return !u }),
		"undefined": is(func(v any) bool { _, u := v.(undefined); return u }),
		"none":      is(func(v any) bool { return v == nil }),
		"boolean":   is(func(v any) bool { _, ok := v.(bool); return ok }),
		"true":      is(func(v any) bool { b, ok := v.(bool); return ok && b }),
		"false":     is(func(v any) bool { b, ok := v.(bool); return ok && !b }),
		"integer":   is(func(v any) bool { _, ok := v.(int64); return ok }),
		"float":     is(func(v any) bool { _, ok := v.(float64); return ok }),
		"number": is(func(v any) bool {
			switch v.(type) {
			case int64, float64, bool:
				return true
			}
			return false
		}),
		"string":  is(func(v any) bool { _, ok := v.(string); return ok }),
		"mapping": is(isMap),
		"sequence": is(func(v any) bool {
			_, ok := listItems(v)
			_, s := v.(string)
			return ok || s || isMap(v)
		}),
		"iterable": is(func(v any) bool { _, err := iterate(v); return err == nil }),
		"callable": is(func(v any) bool { _, ok := v.(*function); return ok }),
		"escaped":  is(func(v any) bool { return false }),
		"lower": is(func(v any) bool {
			s, ok := v.(string)
			return ok && strings.ToLower(s) == s && strings.IndexFunc(s, unicode.IsLetter) >= 0
		}),
		"upper": is(func(v any) bool {
			s, ok := v.(string)
			return ok && strings.ToUpper(s) == s && strings.IndexFunc(s, unicode.IsLetter) >= 0
		}),
		"odd": func(r *renderer, v any, args []any) (any, error) {
			i, ok := v.(int64)
			if !ok {
				return nil, fmt.Errorf("odd needs an integer, not %s", typeName(v))
			}
			return i%2 != 0, nil
		},
		"even": func(r *renderer, v any, args []any) (any, error) {
			i, ok := v.(int64)
			if !ok {
				return nil, fmt.Errorf("even needs an integer, not %s", typeName(v))
			}
			return i%2 == 0, nil
		},
		"divisibleby": func(r *renderer, v any, args []any) (any, error) {
			i, ok := v.(int64)
			if !ok || len(args) != 1 {
				return nil, errors.New("divisibleby needs an integer and one integer argument")
			}
			d, ok := args[0].(int64)
			if !ok || d == 0 {
				return nil, errors.New("divisibleby needs a non-zero integer argument")
			}
			return i%d == 0, nil
		},
		"sameas": func(r *renderer, v any, args []any) (any, error) {
			if len(args) != 1 {
				return nil, errors.New("sameas needs one argument")
			}
			switch v.(type) {
			case nil, bool:
				return v == args[0], nil
			}
			return equal(v, args[0]), nil
		},
		"in": func(r *renderer, v any, args []any) (any, error) {
			if len(args) != 1 {
				return nil, errors.New("'in' needs a container")
			}
			return contains(args[0], v)
		},
		"eq": eq, "equalto": eq, "==": eq,
		"ne": ne, "!=": ne,
		"lt": cmp(func(c int) bool { return c < 0 }), "lessthan": cmp(func(c int) bool { return c < 0 }), "<": cmp(func(c int) bool { return c < 0 }),
		"le": cmp(func(c int) bool { return c <= 0 }), "<=": cmp(func(c int) bool { return c <= 0 }),
		"gt": cmp(func(c int) bool { return c > 0 }), "greaterthan": cmp(func(c int) bool { return c > 0 }), ">": cmp(func(c int) bool { return c > 0 }),
		"ge": cmp(func(c int) bool { return c >= 0 }), ">=": cmp(func(c int) bool { return c >= 0 }),
	}
}

// contains is Python's `x in container`.
func contains(container, x any) (bool, error) {
	switch c := container.(type) {
	case string:
		s, ok := x.(string)
		if !ok {
			return false, fmt.Errorf("'in <string>' requires string as left operand, not %s", typeName(x))
		}
		return strings.Contains(c, s), nil
	case undefined:
		return false, undefErr(c)
	}
	if l, ok := listItems(container); ok {
		for _, e := range l {
			if equal(e, x) {
				return true, nil
			}
		}
		return false, nil
	}
	if isMap(container) {
		k, ok := x.(string)
		if !ok {
			return false, nil
		}
		_, found := mapGet(container, k)
		return found, nil
	}
	return false, fmt.Errorf("argument of type '%s' is not iterable", typeName(container))
}
