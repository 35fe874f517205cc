package template

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/nikolalohinski/gonja/v2/tokens"
)

var errOverflow = errors.New("integer overflow (values are limited to 64 bits)")

func unary(v any, negative bool) (any, error) {
	switch x := v.(type) {
	case int64:
		if negative {
			if x == math.MinInt64 {
				return nil, errOverflow
			}
			return -x, nil
		}
		return x, nil
	case float64:
		if negative {
			return -x, nil
		}
		return x, nil
	case bool:
		i := int64(0)
		if x {
			i = 1
		}
		if negative {
			i = -i
		}
		return i, nil
	}
	op := "+"
	if negative {
		op = "-"
	}
	return nil, fmt.Errorf("bad operand type for unary %s: '%s'", op, typeName(v))
}

// intOf returns ints and bools as int64.
func intOf(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

func addInt(a, b int64) (int64, error) {
	c := a + b
	if (c > a) != (b > 0) {
		return 0, errOverflow
	}
	return c, nil
}

func mulInt(a, b int64) (int64, error) {
	if a == 0 || b == 0 {
		return 0, nil
	}
	c := a * b
	if c/b != a || (a == -1 && b == math.MinInt64) || (b == -1 && a == math.MinInt64) {
		return 0, errOverflow
	}
	return c, nil
}

func opError(op string, a, b any) error {
	return fmt.Errorf("unsupported operand type(s) for %s: '%s' and '%s'", op, typeName(a), typeName(b))
}

func (r *renderer) binop(op *tokens.Token, a, b any) (any, error) {
	switch op.Type {
	case tokens.Equals:
		return equal(a, b), nil
	case tokens.Ne:
		return !equal(a, b), nil
	case tokens.LowerThan, tokens.LowerThanOrEqual, tokens.GreaterThan, tokens.GreaterThanOrEqual:
		c, err := compare(a, b)
		if err != nil {
			return nil, err
		}
		switch op.Type {
		case tokens.LowerThan:
			return c < 0, nil
		case tokens.LowerThanOrEqual:
			return c <= 0, nil
		case tokens.GreaterThan:
			return c > 0, nil
		}
		return c >= 0, nil
	case tokens.Tilde:
		sa, err := toStr(a)
		if err != nil {
			return nil, err
		}
		sb, err := toStr(b)
		if err != nil {
			return nil, err
		}
		if err := r.grow(len(sa) + len(sb)); err != nil {
			return nil, err
		}
		return sa + sb, nil
	case tokens.Addition:
		return r.add(a, b)
	case tokens.Subtraction:
		if ai, ok := intOf(a); ok {
			if bi, ok := intOf(b); ok {
				return addIntNeg(ai, bi)
			}
		}
		if af, bf, ok := floats(a, b); ok {
			return af - bf, nil
		}
		return nil, opError("-", a, b)
	case tokens.Multiply:
		return r.mul(a, b)
	case tokens.Division:
		af, bf, ok := floats(a, b)
		if !ok {
			return nil, opError("/", a, b)
		}
		if bf == 0 {
			return nil, errors.New("division by zero")
		}
		return af / bf, nil
	case tokens.FloorDivision:
		if ai, ok := intOf(a); ok {
			if bi, ok := intOf(b); ok {
				if bi == 0 {
					return nil, errors.New("integer division by zero")
				}
				if ai == math.MinInt64 && bi == -1 {
					return nil, errOverflow
				}
				q := ai / bi
				if (ai%bi != 0) && ((ai < 0) != (bi < 0)) {
					q--
				}
				return q, nil
			}
		}
		af, bf, ok := floats(a, b)
		if !ok {
			return nil, opError("//", a, b)
		}
		if bf == 0 {
			return nil, errors.New("float floor division by zero")
		}
		return math.Floor(af / bf), nil
	case tokens.Modulo:
		if s, ok := a.(string); ok {
			return r.percentFormat(s, b)
		}
		if ai, ok := intOf(a); ok {
			if bi, ok := intOf(b); ok {
				if bi == 0 {
					return nil, errors.New("integer modulo by zero")
				}
				if bi == -1 {
					return int64(0), nil
				}
				m := ai % bi
				if m != 0 && (m < 0) != (bi < 0) {
					m += bi
				}
				return m, nil
			}
		}
		af, bf, ok := floats(a, b)
		if !ok {
			return nil, opError("%", a, b)
		}
		if bf == 0 {
			return nil, errors.New("float modulo")
		}
		m := math.Mod(af, bf)
		if m != 0 && (m < 0) != (bf < 0) {
			m += bf
		}
		return m, nil
	case tokens.Power:
		if ai, ok := intOf(a); ok {
			if bi, ok := intOf(b); ok && bi >= 0 {
				return powInt(ai, bi)
			}
		}
		af, bf, ok := floats(a, b)
		if !ok {
			return nil, opError("**", a, b)
		}
		if af == 0 && bf < 0 {
			return nil, errors.New("0.0 cannot be raised to a negative power")
		}
		res := math.Pow(af, bf)
		if math.IsInf(res, 0) && !math.IsInf(af, 0) {
			return nil, errors.New("numerical result out of range")
		}
		return res, nil
	}
	return nil, fmt.Errorf("unsupported operator %s", op.Val)
}

func addIntNeg(a, b int64) (any, error) {
	if b == math.MinInt64 {
		return nil, errOverflow
	}
	return addInt(a, -b)
}

func floats(a, b any) (float64, float64, bool) {
	af, aok := number(a)
	bf, bok := number(b)
	return af, bf, aok && bok
}

func powInt(base, exp int64) (any, error) {
	result := int64(1)
	for exp > 0 {
		if exp&1 == 1 {
			var err error
			if result, err = mulInt(result, base); err != nil {
				return nil, err
			}
		}
		exp >>= 1
		if exp > 0 {
			var err error
			if base, err = mulInt(base, base); err != nil {
				return nil, err
			}
		}
	}
	return result, nil
}

func (r *renderer) add(a, b any) (any, error) {
	if ai, ok := intOf(a); ok {
		if bi, ok := intOf(b); ok {
			return addInt(ai, bi)
		}
	}
	if af, bf, ok := floats(a, b); ok {
		return af + bf, nil
	}
	switch x := a.(type) {
	case string:
		if y, ok := b.(string); ok {
			if err := r.grow(len(x) + len(y)); err != nil {
				return nil, err
			}
			return x + y, nil
		}
	case tuple:
		if y, ok := b.(tuple); ok {
			if err := r.growItems(len(x) + len(y)); err != nil {
				return nil, err
			}
			return append(append(tuple{}, x...), y...), nil
		}
	}
	if _, isTuple := a.(tuple); !isTuple {
		if al, ok := listItems(a); ok {
			if _, bt := b.(tuple); !bt {
				if bl, ok := listItems(b); ok {
					if err := r.growItems(len(al) + len(bl)); err != nil {
						return nil, err
					}
					return append(append([]any{}, al...), bl...), nil
				}
			}
		}
	}
	return nil, opError("+", a, b)
}

func (r *renderer) mul(a, b any) (any, error) {
	if ai, ok := intOf(a); ok {
		if bi, ok := intOf(b); ok {
			return mulInt(ai, bi)
		}
	}
	if af, bf, ok := floats(a, b); ok {
		return af * bf, nil
	}
	// sequence * int, int * sequence
	seq, n := a, b
	if _, ok := intOf(a); ok {
		seq, n = b, a
	}
	count, ok := intOf(n)
	if !ok {
		return nil, opError("*", a, b)
	}
	if count < 0 {
		count = 0
	}
	switch x := seq.(type) {
	case string:
		if count > 0 && int64(len(x)) > int64(r.e.opts.MaxOutput)/count {
			return nil, &posError{kind: ErrSize, msg: fmt.Sprintf("string repetition would build %.0f bytes; the limit is %d (Options.MaxOutput)",
				float64(len(x))*float64(count), r.e.opts.MaxOutput)}
		}
		if err := r.grow(len(x) * int(count)); err != nil {
			return nil, err
		}
		return strings.Repeat(x, int(count)), nil
	}
	if l, ok := listItems(seq); ok {
		if count > 0 && int64(len(l)) > int64(maxItems)/count {
			return nil, &posError{kind: ErrSize, msg: fmt.Sprintf("list repetition would build %.0f items; the limit is %d",
				float64(len(l))*float64(count), maxItems)}
		}
		if err := r.growItems(len(l) * int(count)); err != nil {
			return nil, err
		}
		out := make([]any, 0, len(l)*int(count))
		for i := int64(0); i < count; i++ {
			out = append(out, l...)
		}
		if _, isTuple := seq.(tuple); isTuple {
			return tuple(out), nil
		}
		return out, nil
	}
	return nil, opError("*", a, b)
}

// percentFormat implements Python's "format" % args.
func (r *renderer) percentFormat(format string, args any) (any, error) {
	var positional []any
	var mapping any
	if t, ok := args.(tuple); ok {
		positional = t
	} else if isMap(args) {
		mapping = args
		positional = []any{args}
	} else {
		positional = []any{args}
	}
	var b strings.Builder
	next := 0
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		i++
		if i >= len(format) {
			return nil, errors.New("incomplete format")
		}
		if format[i] == '%' {
			b.WriteByte('%')
			continue
		}
		var arg any
		haveArg := false
		if format[i] == '(' {
			end := strings.IndexByte(format[i:], ')')
			if end < 0 {
				return nil, errors.New("incomplete format key")
			}
			key := format[i+1 : i+end]
			if mapping == nil {
				return nil, errors.New("format requires a mapping")
			}
			v, ok := mapGet(mapping, key)
			if !ok {
				return nil, fmt.Errorf("format key '%s' not found", key)
			}
			arg, haveArg = v, true
			i += end + 1
		}
		spec := fmtSpec{width: -1, prec: -1}
		for ; i < len(format) && strings.IndexByte("-+ 0#", format[i]) >= 0; i++ {
			switch format[i] {
			case '-':
				spec.left = true
			case '+':
				spec.plus = true
			case ' ':
				spec.space = true
			case '0':
				spec.zero = true
			case '#':
				spec.alt = true
			}
		}
		w := 0
		for ; i < len(format) && format[i] >= '0' && format[i] <= '9'; i++ {
			w = w*10 + int(format[i]-'0')
			if w > r.e.opts.MaxOutput {
				return nil, r.grow(w)
			}
			spec.width = w
		}
		if i < len(format) && format[i] == '.' {
			i++
			p := 0
			for ; i < len(format) && format[i] >= '0' && format[i] <= '9'; i++ {
				p = p*10 + int(format[i]-'0')
				if p > 1000 {
					return nil, errors.New("format precision too large")
				}
			}
			spec.prec = p
		}
		if i >= len(format) {
			return nil, errors.New("incomplete format")
		}
		spec.verb = format[i]
		if !haveArg {
			if next >= len(positional) {
				return nil, errors.New("not enough arguments for format string")
			}
			arg = positional[next]
			next++
		}
		s, err := spec.format(arg)
		if err != nil {
			return nil, err
		}
		if err := r.grow(b.Len() + len(s)); err != nil {
			return nil, err
		}
		b.WriteString(s)
	}
	if mapping == nil && next < len(positional) {
		return nil, errors.New("not all arguments converted during string formatting")
	}
	return b.String(), nil
}

type fmtSpec struct {
	left, plus, space, zero, alt bool
	width, prec                  int
	verb                         byte
}

func (f fmtSpec) format(arg any) (string, error) {
	var body string
	numeric := false
	switch f.verb {
	case 's', 'r', 'a':
		var s string
		if f.verb == 's' {
			var err error
			if s, err = toStr(arg); err != nil {
				return "", err
			}
		} else {
			s = repr(arg)
		}
		if f.prec >= 0 && utf8.RuneCountInString(s) > f.prec {
			s = string([]rune(s)[:f.prec])
		}
		body = s
	case 'd', 'i', 'u':
		numeric = true
		n, err := toIntForFormat(arg)
		if err != nil {
			return "", err
		}
		body = strconv.FormatInt(n, 10)
	case 'x', 'X', 'o':
		numeric = true
		n, err := toIntForFormat(arg)
		if err != nil {
			return "", err
		}
		base := 16
		if f.verb == 'o' {
			base = 8
		}
		neg := n < 0
		if neg {
			n = -n
		}
		body = strconv.FormatInt(n, base)
		if f.verb == 'X' {
			body = strings.ToUpper(body)
		}
		if f.alt {
			body = "0" + map[byte]string{'x': "x", 'X': "X", 'o': "o"}[f.verb] + body
		}
		if neg {
			body = "-" + body
		}
	case 'f', 'F', 'e', 'E', 'g', 'G':
		numeric = true
		x, ok := number(arg)
		if !ok {
			return "", fmt.Errorf("%%%c format: a real number is required, not %s", f.verb, typeName(arg))
		}
		prec := f.prec
		if prec < 0 {
			prec = 6
		}
		verb := f.verb
		if verb == 'F' {
			verb = 'f'
		}
		body = strconv.FormatFloat(x, verb, prec, 64)
		if verb == 'e' || verb == 'E' {
			body = fixExponent(body)
		}
	case 'c':
		switch x := arg.(type) {
		case int64:
			body = string(rune(x))
		case string:
			if utf8.RuneCountInString(x) != 1 {
				return "", errors.New("%c requires int or char")
			}
			body = x
		default:
			return "", errors.New("%c requires int or char")
		}
	default:
		return "", fmt.Errorf("unsupported format character '%c'", f.verb)
	}
	if numeric && !strings.HasPrefix(body, "-") {
		if f.plus {
			body = "+" + body
		} else if f.space {
			body = " " + body
		}
	}
	pad := f.width - utf8.RuneCountInString(body)
	if pad > 0 {
		switch {
		case f.left:
			body += strings.Repeat(" ", pad)
		case f.zero && numeric:
			sign := ""
			if body != "" && (body[0] == '-' || body[0] == '+' || body[0] == ' ') {
				sign, body = body[:1], body[1:]
			}
			body = sign + strings.Repeat("0", pad) + body
		default:
			body = strings.Repeat(" ", pad) + body
		}
	}
	return body, nil
}

// fixExponent writes Go's e+06 as Python's e+06 (same) and keeps at least two digits.
func fixExponent(s string) string {
	i := strings.LastIndexAny(s, "eE")
	if i < 0 || i+2 >= len(s) {
		return s
	}
	exp := s[i+2:]
	if len(exp) < 2 {
		exp = "0" + exp
	}
	return s[:i+2] + exp
}

func toIntForFormat(arg any) (int64, error) {
	switch x := arg.(type) {
	case int64:
		return x, nil
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return 0, errors.New("cannot convert float NaN or infinity to integer")
		}
		return int64(x), nil
	}
	return 0, fmt.Errorf("%%d format: a real number is required, not %s", typeName(arg))
}
