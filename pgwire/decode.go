package pgwire

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	bindings "github.com/duckdb/duckdb-go-bindings"

	"github.com/ankaflow/ankaflow/engine"
)

// decodeParam converts one Bind parameter into a value for engine.Prepared.Bind, or an
// engine.ListArg for arrays (bound with BindList). oid is the parameter's type as the client
// knows it (declared in Parse, or announced by us in ParameterDescription); duck is DuckDB's
// inferred type, used when the client left the type unspecified.
func decodeParam(oid uint32, format int16, data []byte, duck engine.TypeInfo) (any, error) {
	if data == nil {
		return nil, nil
	}
	if oid == 0 || oid == oidUnknown {
		oid = paramOID(duck)
	}
	if format == 1 {
		return decodeBinary(oid, data)
	}
	if err := checkUTF8(data); err != nil {
		return nil, err
	}
	return decodeText(oid, string(data), duck)
}

func decodeText(oid uint32, s string, duck engine.TypeInfo) (any, error) {
	switch oid {
	case oidBool:
		return parseBool(s)
	case oidBytea:
		return parseByteaText(s)
	case oidInt2, oidInt4, oidInt8:
		v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return nil, newError(codeInvalidTextRepr, "invalid input syntax for type %s: %q", pgTypes[oid].name, s)
		}
		switch oid {
		case oidInt2:
			if v != int64(int16(v)) {
				return nil, newError("22003", "value %q is out of range for type smallint", s)
			}
		case oidInt4:
			if v != int64(int32(v)) {
				return nil, newError("22003", "value %q is out of range for type integer", s)
			}
		}
		return v, nil
	case oidFloat4, oidFloat8:
		v, err := parseFloatText(s)
		if err != nil {
			return nil, newError(codeInvalidTextRepr, "invalid input syntax for type %s: %q", pgTypes[oid].name, s)
		}
		return v, nil
	}
	if t, ok := pgTypes[oid]; ok && t.elem != 0 {
		elems, err := parseArrayText(s)
		if err != nil {
			return nil, err
		}
		vals := make([]any, len(elems))
		for i, e := range elems {
			if e == nil {
				continue
			}
			v, err := decodeText(t.elem, *e, engine.TypeInfo{})
			if err != nil {
				return nil, err
			}
			vals[i] = v
		}
		return listOf(t.elem, vals), nil
	}
	// Everything else goes to DuckDB as text and is cast to the parameter's type there.
	return s, nil
}

// listOf builds a ListArg whose element type suits the decoded Go values.
func listOf(elemOID uint32, vals []any) engine.ListArg {
	var t engine.Type
	switch elemOID {
	case oidBool:
		t = bindings.TypeBoolean
	case oidInt2:
		t = bindings.TypeSmallInt
	case oidInt4:
		t = bindings.TypeInteger
	case oidInt8:
		t = bindings.TypeBigInt
	case oidFloat4:
		t = bindings.TypeFloat
	case oidFloat8:
		t = bindings.TypeDouble
	case oidBytea:
		t = bindings.TypeBlob
	case oidDate:
		t = bindings.TypeDate
	case oidTime:
		t = bindings.TypeTime
	case oidTimestamp:
		t = bindings.TypeTimestamp
	case oidTSTZ:
		t = bindings.TypeTimestampTZ
	case oidInterval:
		t = bindings.TypeInterval
	default:
		t = bindings.TypeVarchar
	}
	// Values decoded from text that DuckDB should cast (numeric, uuid, …) are strings; make the
	// element type match what was decoded.
	for i, v := range vals {
		switch x := v.(type) {
		case int64:
			switch t {
			case bindings.TypeSmallInt:
				vals[i] = int16(x)
			case bindings.TypeInteger:
				vals[i] = int32(x)
			}
		case float64:
			if t == bindings.TypeFloat {
				vals[i] = float32(x)
			}
		case string:
			t = bindings.TypeVarchar
		}
	}
	return engine.ListArg{Elem: t, Values: vals}
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "t", "true", "yes", "y", "on", "1":
		return true, nil
	case "f", "false", "no", "n", "off", "0":
		return false, nil
	}
	return false, newError(codeInvalidTextRepr, "invalid input syntax for type boolean: %q", s)
}

func parseFloatText(s string) (float64, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "nan":
		return math.NaN(), nil
	case "infinity", "inf", "+infinity", "+inf":
		return math.Inf(1), nil
	case "-infinity", "-inf":
		return math.Inf(-1), nil
	}
	return strconv.ParseFloat(strings.TrimSpace(s), 64)
}

// parseByteaText decodes PostgreSQL's bytea text input: hex (\x…) or escape format.
func parseByteaText(s string) ([]byte, error) {
	if strings.HasPrefix(s, `\x`) || strings.HasPrefix(s, `\X`) {
		h := strings.Map(func(r rune) rune {
			if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
				return -1
			}
			return r
		}, s[2:])
		b, err := hex.DecodeString(h)
		if err != nil {
			return nil, newError(codeInvalidTextRepr, "invalid hexadecimal data in bytea input")
		}
		return b, nil
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		if i+1 < len(s) && s[i+1] == '\\' {
			out = append(out, '\\')
			i++
			continue
		}
		if i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
			v, _ := strconv.ParseUint(s[i+1:i+4], 8, 8)
			out = append(out, byte(v))
			i += 3
			continue
		}
		return nil, newError(codeInvalidTextRepr, "invalid input syntax for type bytea")
	}
	return out, nil
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// parseArrayText parses a one-dimensional PostgreSQL array literal ({a,"b c",NULL}); nil
// elements are NULLs.
func parseArrayText(s string) ([]*string, error) {
	s = strings.TrimSpace(s)
	if i := strings.Index(s, "="); i > 0 && strings.HasPrefix(s, "[") { // [1:3]={…} bounds
		s = s[i+1:]
	}
	if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' {
		return nil, newError(codeInvalidTextRepr, "malformed array literal: %q", s)
	}
	body := s[1 : len(s)-1]
	var out []*string
	if strings.TrimSpace(body) == "" {
		return out, nil
	}
	for i := 0; i <= len(body); {
		for i < len(body) && body[i] == ' ' {
			i++
		}
		var elem strings.Builder
		quoted := false
		if i < len(body) && body[i] == '{' {
			return nil, newError(codeFeatureNotSupported, "multidimensional array parameters are not supported")
		}
		if i < len(body) && body[i] == '"' {
			quoted = true
			i++
			for i < len(body) && body[i] != '"' {
				if body[i] == '\\' && i+1 < len(body) {
					i++
				}
				elem.WriteByte(body[i])
				i++
			}
			i++ // closing quote
			for i < len(body) && body[i] == ' ' {
				i++
			}
		} else {
			for i < len(body) && body[i] != ',' {
				if body[i] == '\\' && i+1 < len(body) {
					i++
				}
				elem.WriteByte(body[i])
				i++
			}
		}
		v := elem.String()
		if !quoted {
			v = strings.TrimRight(v, " ")
		}
		if !quoted && strings.EqualFold(v, "NULL") {
			out = append(out, nil)
		} else {
			out = append(out, &v)
		}
		if i < len(body) && body[i] != ',' {
			return nil, newError(codeInvalidTextRepr, "malformed array literal: %q", s)
		}
		i++
	}
	return out, nil
}

func decodeBinary(oid uint32, b []byte) (any, error) {
	need := func(n int) error {
		if len(b) != n {
			return newError(codeInvalidBinaryRepr, "incorrect binary data format in bind parameter: %s needs %d bytes, got %d", pgTypes[oid].name, n, len(b))
		}
		return nil
	}
	switch oid {
	case oidBool:
		if err := need(1); err != nil {
			return nil, err
		}
		return b[0] != 0, nil
	case oidInt2:
		if err := need(2); err != nil {
			return nil, err
		}
		return int16(binary.BigEndian.Uint16(b)), nil
	case oidInt4:
		if err := need(4); err != nil {
			return nil, err
		}
		return int32(binary.BigEndian.Uint32(b)), nil
	case oidOID:
		if err := need(4); err != nil {
			return nil, err
		}
		return int64(binary.BigEndian.Uint32(b)), nil
	case oidInt8:
		if err := need(8); err != nil {
			return nil, err
		}
		return int64(binary.BigEndian.Uint64(b)), nil
	case oidFloat4:
		if err := need(4); err != nil {
			return nil, err
		}
		return math.Float32frombits(binary.BigEndian.Uint32(b)), nil
	case oidFloat8:
		if err := need(8); err != nil {
			return nil, err
		}
		return math.Float64frombits(binary.BigEndian.Uint64(b)), nil
	case oidNumeric:
		return decodeNumericBinary(b)
	case oidText, oidVarchar, oidBPChar, oidName, oidJSON, oidUnknown:
		if err := checkUTF8(b); err != nil {
			return nil, err
		}
		return string(b), nil
	case oidJSONB:
		if len(b) == 0 || b[0] != 1 {
			return nil, newError(codeInvalidBinaryRepr, "unsupported jsonb version number")
		}
		if err := checkUTF8(b[1:]); err != nil {
			return nil, err
		}
		return string(b[1:]), nil
	case oidBytea:
		return b, nil
	case oidDate:
		if err := need(4); err != nil {
			return nil, err
		}
		d := int32(binary.BigEndian.Uint32(b))
		switch d {
		case math.MaxInt32:
			return "infinity", nil
		case math.MinInt32:
			return "-infinity", nil
		}
		if d < minPGDate || d >= endPGDate {
			return nil, newError(codeDatetimeOverflow, "date out of range")
		}
		return engine.TypedValue{Type: bindings.TypeDate, Time: time.Unix((int64(d)+pgEpochDays)*86400, 0).UTC()}, nil
	case oidTime:
		if err := need(8); err != nil {
			return nil, err
		}
		us := int64(binary.BigEndian.Uint64(b))
		if us < 0 || us > 86400*1e6 {
			return nil, newError(codeDatetimeOverflow, "time out of range")
		}
		return engine.TypedValue{Type: bindings.TypeTime, Micros: us}, nil
	case oidTimestamp, oidTSTZ:
		if err := need(8); err != nil {
			return nil, err
		}
		us := int64(binary.BigEndian.Uint64(b))
		switch us {
		case math.MaxInt64:
			return "infinity", nil
		case math.MinInt64:
			return "-infinity", nil
		}
		if us < minPGTimestamp || us >= endPGTimestamp {
			return nil, newError(codeDatetimeOverflow, "timestamp out of range")
		}
		t := time.UnixMicro(us + pgEpochMicros).UTC()
		if oid == oidTSTZ {
			return t, nil
		}
		return engine.TypedValue{Type: bindings.TypeTimestamp, Time: t}, nil
	case oidInterval:
		if err := need(16); err != nil {
			return nil, err
		}
		return engine.TypedValue{
			Type:   bindings.TypeInterval,
			Micros: int64(binary.BigEndian.Uint64(b)),
			Days:   int32(binary.BigEndian.Uint32(b[8:])),
			Months: int32(binary.BigEndian.Uint32(b[12:])),
		}, nil
	case oidUUID:
		if err := need(16); err != nil {
			return nil, err
		}
		return string(appendUUIDText(nil, b)), nil
	}
	if t, ok := pgTypes[oid]; ok && t.elem != 0 {
		return decodeArrayBinary(t.elem, b)
	}
	return nil, newError(codeFeatureNotSupported, "binary format for parameters of type %d is not supported", oid)
}

// decodeNumericBinary converts PostgreSQL's binary numeric to its decimal text, which DuckDB
// casts to the parameter's type.
func decodeNumericBinary(b []byte) (any, error) {
	if len(b) < 8 {
		return nil, newError(codeInvalidBinaryRepr, "invalid numeric")
	}
	ndigits := int(binary.BigEndian.Uint16(b))
	weight := int(int16(binary.BigEndian.Uint16(b[2:])))
	sign := binary.BigEndian.Uint16(b[4:])
	dscale := int(binary.BigEndian.Uint16(b[6:]))
	if len(b) != 8+2*ndigits {
		return nil, newError(codeInvalidBinaryRepr, "invalid numeric length: %d digits need %d bytes, got %d", ndigits, 8+2*ndigits, len(b))
	}
	switch sign {
	case 0x0000, 0x4000:
	case 0xC000:
		return "NaN", nil
	case 0xD000:
		return "Infinity", nil
	case 0xF000:
		return "-Infinity", nil
	default:
		return nil, newError(codeInvalidBinaryRepr, "invalid sign in external \"numeric\" value")
	}
	// PostgreSQL's NUMERIC_MAX_DISPLAY_SCALE; larger scales would only inflate the text.
	if dscale > 1000 {
		return nil, newError(codeInvalidBinaryRepr, "invalid scale in external \"numeric\" value")
	}
	digits := make([]int, ndigits)
	for i := range digits {
		digits[i] = int(binary.BigEndian.Uint16(b[8+2*i:]))
		if digits[i] >= 10000 {
			return nil, newError(codeInvalidBinaryRepr, "invalid digit in external \"numeric\" value")
		}
	}
	var sb strings.Builder
	if sign == 0x4000 {
		sb.WriteByte('-')
	}
	// Integer part: groups 0..weight.
	if weight < 0 {
		sb.WriteByte('0')
	} else {
		for g := 0; g <= weight; g++ {
			d := 0
			if g < ndigits {
				d = digits[g]
			}
			if g == 0 {
				sb.WriteString(strconv.Itoa(d))
			} else {
				fmt.Fprintf(&sb, "%04d", d)
			}
		}
	}
	if dscale > 0 {
		var frac strings.Builder
		for g := weight + 1; frac.Len() < dscale; g++ {
			d := 0
			if g >= 0 && g < ndigits {
				d = digits[g]
			}
			fmt.Fprintf(&frac, "%04d", d)
		}
		sb.WriteByte('.')
		sb.WriteString(frac.String()[:dscale])
	}
	return sb.String(), nil
}

// maxArrayDims is PostgreSQL's MAXDIM: the most dimensions an array may have.
const maxArrayDims = 6

// decodeArrayBinary decodes PostgreSQL's binary array format (array_recv). Every count and
// length in the header is checked against the bytes actually present before anything is
// allocated: a 20-byte message must not be able to claim two billion elements.
func decodeArrayBinary(elemOID uint32, b []byte) (any, error) {
	bad := func(why string, args ...any) error {
		return newError(codeInvalidBinaryRepr, "invalid binary array: "+why, args...)
	}
	if len(b) < 12 {
		return nil, bad("header needs 12 bytes, got %d", len(b))
	}
	ndim := int32(binary.BigEndian.Uint32(b))
	flags := binary.BigEndian.Uint32(b[4:])
	elemType := binary.BigEndian.Uint32(b[8:])
	switch {
	case ndim < 0:
		return nil, bad("invalid number of dimensions: %d", ndim)
	case ndim > maxArrayDims:
		return nil, newError(codeProgramLimitExceeded, "number of array dimensions (%d) exceeds the maximum allowed (%d)", ndim, maxArrayDims)
	case flags != 0 && flags != 1:
		return nil, bad("invalid array flags %d", flags)
	}
	if elemType != 0 {
		// Nesting is expressed by dimensions, never by an element type that is itself an
		// array: following such a type would recurse once per message level.
		if t, ok := pgTypes[elemType]; ok && t.elem != 0 {
			return nil, bad("element type %d is itself an array type", elemType)
		}
		elemOID = elemType
	}
	if len(b) < 12+8*int(ndim) {
		return nil, bad("%d dimensions need %d header bytes, got %d", ndim, 12+8*int(ndim), len(b))
	}
	if ndim == 0 {
		if len(b) != 12 {
			return nil, bad("%d bytes after an empty array", len(b)-12)
		}
		return listOf(elemOID, nil), nil
	}
	if ndim != 1 {
		return nil, newError(codeFeatureNotSupported, "multidimensional array parameters are not supported")
	}
	n := int32(binary.BigEndian.Uint32(b[12:]))
	p := 20
	// Each element takes at least its 4-byte length word.
	if n < 0 || int64(n) > int64(len(b)-p)/4 {
		return nil, bad("dimension of %d elements does not fit in %d bytes", n, len(b)-p)
	}
	vals := make([]any, n)
	for i := range vals {
		if p+4 > len(b) {
			return nil, bad("element %d is missing", i+1)
		}
		l := int(int32(binary.BigEndian.Uint32(b[p:])))
		p += 4
		if l == -1 {
			continue
		}
		if l < 0 || l > len(b)-p {
			return nil, bad("element %d claims %d bytes, %d present", i+1, l, len(b)-p)
		}
		v, err := decodeBinary(elemOID, b[p:p+l])
		if err != nil {
			return nil, err
		}
		vals[i] = v
		p += l
	}
	if p != len(b) {
		return nil, bad("%d bytes after the last element", len(b)-p)
	}
	return listOf(elemOID, vals), nil
}

// The ranges PostgreSQL accepts (datatype/timestamp.h), relative to its 2000-01-01 epoch:
// dates from 4714-11-24 BC to 5874897-12-31, timestamps from 4714-11-24 BC to 294277-01-01.
const (
	minPGDate      int32 = -2451545
	endPGDate      int32 = 2147483494 - 2451545
	minPGTimestamp int64 = -211813488000000000
	endPGTimestamp int64 = 9223371331200000000
)

// checkUTF8 refuses text that is not valid UTF-8 (the server's only encoding) with
// PostgreSQL's error, naming the first bad bytes.
func checkUTF8(b []byte) error {
	if utf8.Valid(b) {
		return nil
	}
	i := 0
	for i < len(b) {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			break
		}
		i += size
	}
	end := min(i+2, len(b))
	var hexb strings.Builder
	for j := i; j < end; j++ {
		if j > i {
			hexb.WriteByte(' ')
		}
		fmt.Fprintf(&hexb, "0x%02x", b[j])
	}
	return newError(codeCharacterNotInRepertoire, "invalid byte sequence for encoding \"UTF8\": %s", hexb.String())
}
