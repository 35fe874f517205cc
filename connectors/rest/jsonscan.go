package rest

import (
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// scanner reads JSON straight from a response body. Records are decoded into Arrow builders
// without building a Go value per record (see appendRecord); parseAny builds generic values
// for the rest (nested values, JMESPath). Errors carry the byte offset in the body.
type scanner struct {
	buf []byte
	pos int
	str []byte // scratch for strings with escapes
}

// syntaxError is malformed JSON at a byte offset of the body.
type syntaxError struct {
	offset int
	msg    string
}

func (e *syntaxError) Error() string {
	return fmt.Sprintf("malformed JSON at byte offset %d: %s", e.offset, e.msg)
}

func (s *scanner) errf(format string, args ...any) error {
	return &syntaxError{offset: s.pos, msg: fmt.Sprintf(format, args...)}
}

func (s *scanner) ws() {
	for s.pos < len(s.buf) {
		switch s.buf[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// peek returns the next non-space byte (0 at the end).
func (s *scanner) peek() byte {
	s.ws()
	if s.pos >= len(s.buf) {
		return 0
	}
	return s.buf[s.pos]
}

func (s *scanner) expect(c byte) error {
	if s.peek() != c {
		return s.unexpected(fmt.Sprintf("expected %q", c))
	}
	s.pos++
	return nil
}

func (s *scanner) unexpected(want string) error {
	if s.pos >= len(s.buf) {
		return s.errf("unexpected end of input, %s", want)
	}
	return s.errf("unexpected %q, %s", s.buf[s.pos], want)
}

// stringBytes reads a string at pos (which must be '"'). The result aliases the body or the
// scratch buffer: valid until the next call.
func (s *scanner) stringBytes() ([]byte, error) {
	if s.peek() != '"' {
		return nil, s.unexpected("expected a string")
	}
	start := s.pos + 1
	i := start
	for i < len(s.buf) {
		c := s.buf[i]
		if c == '"' {
			s.pos = i + 1
			return s.buf[start:i], nil
		}
		if c == '\\' {
			return s.escaped(start, i)
		}
		if c < 0x20 {
			s.pos = i
			return nil, s.errf("control character in string")
		}
		i++
	}
	s.pos = len(s.buf)
	return nil, s.errf("unterminated string")
}

func (s *scanner) escaped(start, i int) ([]byte, error) {
	out := append(s.str[:0], s.buf[start:i]...)
	for i < len(s.buf) {
		c := s.buf[i]
		switch {
		case c == '"':
			s.pos = i + 1
			s.str = out
			return out, nil
		case c < 0x20:
			s.pos = i
			return nil, s.errf("control character in string")
		case c != '\\':
			out = append(out, c)
			i++
			continue
		}
		if i+1 >= len(s.buf) {
			break
		}
		e := s.buf[i+1]
		i += 2
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, n := s.hex4(i)
			if n < 0 {
				s.pos = i
				return nil, s.errf("bad \\u escape")
			}
			i += 4
			if utf16.IsSurrogate(r) {
				if r2, n2 := s.hex4(i + 2); n2 > 0 && i+1 < len(s.buf) && s.buf[i] == '\\' && s.buf[i+1] == 'u' {
					if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
						r = d
						i += 6
					}
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			s.pos = i - 1
			return nil, s.errf("bad escape \\%c", e)
		}
	}
	s.pos = len(s.buf)
	return nil, s.errf("unterminated string")
}

func (s *scanner) hex4(i int) (rune, int) {
	if i+4 > len(s.buf) {
		return 0, -1
	}
	var r rune
	for _, c := range s.buf[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, -1
		}
	}
	return r, 4
}

// number reads a number's text and whether it is integral.
func (s *scanner) number() ([]byte, bool, error) {
	start := s.pos
	i := s.pos
	if i < len(s.buf) && s.buf[i] == '-' {
		i++
	}
	digits := i
	for i < len(s.buf) && s.buf[i] >= '0' && s.buf[i] <= '9' {
		i++
	}
	if i == digits {
		s.pos = i
		return nil, false, s.unexpected("expected a digit")
	}
	integral := true
	if i < len(s.buf) && s.buf[i] == '.' {
		integral = false
		i++
		d := i
		for i < len(s.buf) && s.buf[i] >= '0' && s.buf[i] <= '9' {
			i++
		}
		if i == d {
			s.pos = i
			return nil, false, s.unexpected("expected a digit after the decimal point")
		}
	}
	if i < len(s.buf) && (s.buf[i] == 'e' || s.buf[i] == 'E') {
		integral = false
		i++
		if i < len(s.buf) && (s.buf[i] == '+' || s.buf[i] == '-') {
			i++
		}
		d := i
		for i < len(s.buf) && s.buf[i] >= '0' && s.buf[i] <= '9' {
			i++
		}
		if i == d {
			s.pos = i
			return nil, false, s.unexpected("expected a digit in the exponent")
		}
	}
	s.pos = i
	return s.buf[start:i], integral, nil
}

func (s *scanner) literal(word string) error {
	if len(s.buf)-s.pos < len(word) || string(s.buf[s.pos:s.pos+len(word)]) != word {
		return s.unexpected("expected a JSON value")
	}
	s.pos += len(word)
	return nil
}

// skip passes over one value and returns its raw text.
func (s *scanner) skip() ([]byte, error) {
	c := s.peek()
	start := s.pos
	switch c {
	case '{', '[':
		depth := 0
		for s.pos < len(s.buf) {
			switch s.buf[s.pos] {
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					s.pos++
					return s.buf[start:s.pos], nil
				}
			case '"':
				if _, err := s.stringBytes(); err != nil {
					return nil, err
				}
				continue
			}
			s.pos++
		}
		return nil, s.errf("unterminated %s", map[byte]string{'{': "object", '[': "array"}[c])
	case '"':
		_, err := s.stringBytes()
		return s.buf[start:s.pos], err
	case 't':
		return s.buf[start : start+4], s.literal("true")
	case 'f':
		return s.buf[start : start+5], s.literal("false")
	case 'n':
		return s.buf[start : start+4], s.literal("null")
	}
	b, _, err := s.number()
	return b, err
}

// parseAny builds a generic value: nil, bool, string, int64 (float64 when it does not fit),
// float64, []any, map[string]any.
func (s *scanner) parseAny(depth int) (any, error) {
	if depth > 500 {
		return nil, s.errf("nesting deeper than 500 levels")
	}
	switch c := s.peek(); c {
	case '{':
		s.pos++
		m := map[string]any{}
		if s.peek() == '}' {
			s.pos++
			return m, nil
		}
		for {
			k, err := s.stringBytes()
			if err != nil {
				return nil, err
			}
			key := string(k)
			if err := s.expect(':'); err != nil {
				return nil, err
			}
			v, err := s.parseAny(depth + 1)
			if err != nil {
				return nil, err
			}
			m[key] = v
			switch s.peek() {
			case ',':
				s.pos++
			case '}':
				s.pos++
				return m, nil
			default:
				return nil, s.unexpected("expected ',' or '}' after an object member")
			}
		}
	case '[':
		s.pos++
		out := []any{}
		if s.peek() == ']' {
			s.pos++
			return out, nil
		}
		for {
			v, err := s.parseAny(depth + 1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
			switch s.peek() {
			case ',':
				s.pos++
			case ']':
				s.pos++
				return out, nil
			default:
				return nil, s.unexpected("expected ',' or ']' after an array element")
			}
		}
	case '"':
		b, err := s.stringBytes()
		return string(b), err
	case 't':
		return true, s.literal("true")
	case 'f':
		return false, s.literal("false")
	case 'n':
		return nil, s.literal("null")
	default:
		b, integral, err := s.number()
		if err != nil {
			return nil, err
		}
		if integral {
			if n, err := strconv.ParseInt(string(b), 10, 64); err == nil {
				return n, nil
			}
		}
		f, _ := strconv.ParseFloat(string(b), 64)
		return f, nil
	}
}

// end checks that only white space follows the document.
func (s *scanner) end() error {
	if s.peek() != 0 {
		return s.errf("unexpected data after the JSON document")
	}
	return nil
}

// descend moves into the value at a simple dotted path (a.b.c) of object keys; false when a
// key is missing or an intermediate value is not an object (the position is then undefined).
func (s *scanner) descend(path []string) (bool, error) {
	for _, seg := range path {
		if s.peek() != '{' {
			_, err := s.skip()
			return false, err
		}
		s.pos++
		found := false
		if s.peek() == '}' {
			s.pos++
			return false, nil
		}
		for !found {
			k, err := s.stringBytes()
			if err != nil {
				return false, err
			}
			match := string(k) == seg
			if err := s.expect(':'); err != nil {
				return false, err
			}
			if match {
				found = true
				break
			}
			if _, err := s.skip(); err != nil {
				return false, err
			}
			switch s.peek() {
			case ',':
				s.pos++
			case '}':
				s.pos++
				return false, nil
			default:
				return false, s.unexpected("expected ',' or '}' after an object member")
			}
		}
	}
	return true, nil
}
