package value

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// JSON writes v as JSON: mappings keep their key order, integers and decimals keep their
// exact digits, dates, times and intervals are strings in DuckDB's text form. NaN and
// infinities, which JSON cannot hold, are null.
func JSON(v any) []byte {
	var b bytes.Buffer
	writeJSON(&b, v, "", "", 0)
	return b.Bytes()
}

// JSONIndent is JSON with each element on its own line, indented by indent per level.
func JSONIndent(v any, indent string) []byte {
	var b bytes.Buffer
	writeJSON(&b, v, "\n", indent, 0)
	return b.Bytes()
}

func writeJSON(b *bytes.Buffer, v any, nl, indent string, depth int) {
	newline := func(d int) {
		if nl != "" {
			b.WriteString(nl)
			b.WriteString(strings.Repeat(indent, d))
		}
	}
	colon := ":"
	if nl != "" {
		colon = ": "
	}
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case string:
		writeJSONString(b, x)
	case float64:
		writeJSONFloat(b, x, 64)
	case float32:
		writeJSONFloat(b, float64(x), 32)
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, *big.Int, Decimal:
		b.WriteString(Format(x))
	case json.Number:
		b.WriteString(string(x))
	case []any:
		if len(x) == 0 {
			b.WriteString("[]")
			return
		}
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			newline(depth + 1)
			writeJSON(b, e, nl, indent, depth+1)
		}
		newline(depth)
		b.WriteByte(']')
	case []string:
		items := make([]any, len(x))
		for i, s := range x {
			items[i] = s
		}
		writeJSON(b, items, nl, indent, depth)
	case *Map:
		if x == nil {
			b.WriteString("null")
			return
		}
		if len(x.Keys) == 0 {
			b.WriteString("{}")
			return
		}
		b.WriteByte('{')
		for i, k := range x.Keys {
			if i > 0 {
				b.WriteByte(',')
			}
			newline(depth + 1)
			writeJSONString(b, k)
			b.WriteString(colon)
			writeJSON(b, x.Values[k], nl, indent, depth+1)
		}
		newline(depth)
		b.WriteByte('}')
	case MapValue:
		m := NewMap()
		for _, p := range x {
			k, ok := p.Key.(string)
			if !ok {
				k = Format(p.Key)
			}
			m.Set(k, p.Value)
		}
		writeJSON(b, m, nl, indent, depth)
	case map[string]any:
		writeJSON(b, sortedMap(x), nl, indent, depth)
	case time.Time:
		writeJSONString(b, x.Format(time.RFC3339Nano)) // ISO 8601, as JSON tools expect
	default:
		writeJSONString(b, Format(x))
	}
}

func writeJSONFloat(b *bytes.Buffer, f float64, bits int) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		b.WriteString("null")
		return
	}
	b.WriteString(strconv.FormatFloat(f, 'g', -1, bits))
}

func writeJSONString(b *bytes.Buffer, s string) {
	// encoding/json's string escaping, without its HTML escaping of <, > and &.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	b.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

// DecodeJSON parses one JSON document: objects become *Map with their keys in document order
// (a repeated key keeps its first place and its last value), integers int64 (Decimal when
// they do not fit), other numbers Decimal, so no digit is lost.
func DecodeJSON(text []byte) (any, error) {
	if !json.Valid(text) {
		// encoding/json's own error, whose offset points at the offending byte.
		var x any
		if err := json.Unmarshal(text, &x); err != nil {
			return nil, err
		}
	}
	d := json.NewDecoder(bytes.NewReader(text))
	d.UseNumber()
	v, err := decodeValue(d, 0)
	if err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		if err == nil {
			return nil, fmt.Errorf("unexpected data after the JSON value at offset %d", d.InputOffset())
		}
		return nil, err
	}
	return v, nil
}

// maxDepth bounds nesting so hostile input cannot exhaust the stack.
const maxDepth = 1000

func decodeValue(d *json.Decoder, depth int) (any, error) {
	if depth > maxDepth {
		return nil, errors.New("JSON nests too deeply")
	}
	tok, err := d.Token()
	if err != nil {
		if err == io.EOF {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			m := NewMap()
			for d.More() {
				kt, err := d.Token()
				if err != nil {
					return nil, err
				}
				k, _ := kt.(string)
				v, err := decodeValue(d, depth+1)
				if err != nil {
					return nil, err
				}
				m.Set(k, v)
			}
			if _, err := d.Token(); err != nil { // '}'
				return nil, err
			}
			return m, nil
		case '[':
			out := []any{}
			for d.More() {
				v, err := decodeValue(d, depth+1)
				if err != nil {
					return nil, err
				}
				out = append(out, v)
			}
			if _, err := d.Token(); err != nil { // ']'
				return nil, err
			}
			return out, nil
		}
		return nil, fmt.Errorf("unexpected %v", t)
	case json.Number:
		return Number(string(t)), nil
	}
	return tok, nil
}

// Number converts the text of a JSON or YAML number: int64 when it is an integer that fits;
// a Decimal when it is plain decimal text with more significant digits than a float64 holds
// (so 123456789012345678.12 is never rounded); otherwise a float64.
func Number(s string) any {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return i
	}
	if NeedsDecimal(s) {
		return Decimal(strings.TrimPrefix(s, "+"))
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(f, 0) {
		return f
	}
	return s
}

// NeedsDecimal reports whether s is plain decimal text that a float64 would not keep exactly:
// more than 15 significant digits.
func NeedsDecimal(s string) bool {
	if !IsDecimalText(s) {
		return false
	}
	s = strings.TrimLeft(strings.TrimLeft(s, "+-"), "0.")
	if strings.Contains(s, ".") {
		s = strings.TrimRight(s, "0")
	}
	return len(strings.ReplaceAll(s, ".", "")) > 15
}
