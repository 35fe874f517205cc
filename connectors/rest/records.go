package rest

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// recordBuilder turns JSON records into Arrow record batches of a fixed schema: the declared
// fields, or the schema inferred from the first page. Keys that are not columns are ignored
// (reported once); missing keys are NULL.
type recordBuilder struct {
	schema  *arrow.Schema
	bld     *array.RecordBuilder
	names   map[string]int
	seen    []uint32 // generation of the record that set each column
	gen     uint32
	unknown map[string]bool
	onExtra func(key string)
}

func newRecordBuilder(schema *arrow.Schema, onExtra func(string)) *recordBuilder {
	rb := &recordBuilder{
		schema:  schema,
		bld:     array.NewRecordBuilder(memory.DefaultAllocator, schema),
		names:   map[string]int{},
		seen:    make([]uint32, len(schema.Fields())),
		unknown: map[string]bool{},
		onExtra: onExtra,
	}
	for i, f := range schema.Fields() {
		rb.names[f.Name] = i
	}
	return rb
}

func (rb *recordBuilder) rows() int {
	if len(rb.schema.Fields()) == 0 {
		return 0
	}
	return rb.bld.Field(0).Len()
}

func (rb *recordBuilder) batch() arrow.RecordBatch { return rb.bld.NewRecordBatch() }

func (rb *recordBuilder) release() { rb.bld.Release() }

func (rb *recordBuilder) extra(key string) {
	if !rb.unknown[key] {
		rb.unknown[key] = true
		if rb.onExtra != nil {
			rb.onExtra(key)
		}
	}
}

// scanRecord decodes the object at the scanner's position into one row.
func (rb *recordBuilder) scanRecord(s *scanner) error {
	if s.peek() != '{' {
		return s.unexpected("expected a record (a JSON object)")
	}
	s.pos++
	rb.gen++
	if rb.gen == 0 {
		clear(rb.seen)
		rb.gen = 1
	}
	if s.peek() == '}' {
		s.pos++
	} else {
		for guess := 0; ; guess++ {
			k, err := s.stringBytes()
			if err != nil {
				return err
			}
			col := -1
			// Records of one API usually list their keys in the same order: try the next
			// column before the map.
			if guess < len(rb.seen) && rb.schema.Field(guess).Name == string(k) {
				col = guess
			} else if i, ok := rb.names[string(k)]; ok {
				col = i
				guess = i
			}
			if err := s.expect(':'); err != nil {
				return err
			}
			if col < 0 || rb.seen[col] == rb.gen {
				if col < 0 {
					rb.extra(string(k))
				}
				if _, err := s.skip(); err != nil {
					return err
				}
			} else {
				rb.seen[col] = rb.gen
				if err := scanValue(s, rb.bld.Field(col), rb.schema.Field(col)); err != nil {
					return err
				}
			}
			switch s.peek() {
			case ',':
				s.pos++
				continue
			case '}':
				s.pos++
			default:
				return s.unexpected("expected ',' or '}' after an object member")
			}
			break
		}
	}
	for i, g := range rb.seen {
		if g != rb.gen {
			rb.bld.Field(i).AppendNull()
		}
	}
	return nil
}

// addRecord appends one generic record (from a JMESPath result or a polled document).
func (rb *recordBuilder) addRecord(rec any) error {
	m, ok := rec.(map[string]any)
	if !ok {
		return fmt.Errorf("a record must be a JSON object, got %s", jsonKind(rec))
	}
	for k := range m {
		if _, ok := rb.names[k]; !ok {
			rb.extra(k)
		}
	}
	for i, f := range rb.schema.Fields() {
		if err := appendGeneric(rb.bld.Field(i), f, m[f.Name]); err != nil {
			return err
		}
	}
	return nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case string:
		return "a string"
	case int64, float64:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func ustr(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// scanValue decodes the value at the scanner's position into the column's builder.
func scanValue(s *scanner, b array.Builder, f arrow.Field) error {
	c := s.peek()
	switch c {
	case 'n':
		if err := s.literal("null"); err != nil {
			return err
		}
		b.AppendNull()
		return nil
	case '{', '[':
		if sb, ok := b.(*array.StringBuilder); ok { // JSON (or VARCHAR) column: the value's text
			raw, err := s.skip()
			if err != nil {
				return err
			}
			sb.BinaryBuilder.Append(raw)
			return nil
		}
		start := s.pos
		v, err := s.parseAny(0)
		if err != nil {
			return err
		}
		if err := appendGeneric(b, f, v); err != nil {
			return &syntaxError{offset: start, msg: err.Error()}
		}
		return nil
	case '"':
		start := s.pos
		str, err := s.stringBytes()
		if err != nil {
			return err
		}
		if sb, ok := b.(*array.StringBuilder); ok {
			sb.BinaryBuilder.Append(str)
			return nil
		}
		if err := appendText(b, f, ustr(str)); err != nil {
			return &syntaxError{offset: start, msg: err.Error()}
		}
		return nil
	case 't', 'f':
		start := s.pos
		val := c == 't'
		if err := s.literal(map[bool]string{true: "true", false: "false"}[val]); err != nil {
			return err
		}
		if err := appendGeneric(b, f, val); err != nil {
			return &syntaxError{offset: start, msg: err.Error()}
		}
		return nil
	}
	start := s.pos
	num, integral, err := s.number()
	if err != nil {
		return err
	}
	switch bb := b.(type) {
	case *array.Int64Builder:
		if integral {
			if n, ok := atoi(num); ok {
				bb.Append(n)
				return nil
			}
		}
	case *array.Float64Builder:
		if fl, err := strconv.ParseFloat(ustr(num), 64); err == nil {
			bb.Append(fl)
			return nil
		}
	case *array.StringBuilder:
		bb.BinaryBuilder.Append(num)
		return nil
	}
	var v any
	if n, ok := atoi(num); ok && integral {
		v = n
	} else {
		v, _ = strconv.ParseFloat(ustr(num), 64)
	}
	if err := appendGeneric(b, f, v); err != nil {
		return &syntaxError{offset: start, msg: err.Error()}
	}
	return nil
}

// atoi parses a JSON integer without allocating; false on overflow.
func atoi(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && b[0] == '-' {
		neg, b = true, b[1:]
	}
	if len(b) == 0 || len(b) > 18 {
		n, err := strconv.ParseInt(ustr(b), 10, 64)
		if neg {
			n = -n
		}
		return n, err == nil
	}
	var n int64
	for _, c := range b {
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

func mismatch(f arrow.Field, v any) error {
	return fmt.Errorf("field %q: %s does not fit its type %s; declare the field's type in `fields`", f.Name, jsonKind(v), f.Type)
}

// appendText converts a JSON string into a non-text column (numbers, dates and timestamps
// sent as strings).
func appendText(b array.Builder, f arrow.Field, s string) error {
	switch bb := b.(type) {
	case *array.TimestampBuilder:
		t, err := parseTime(s)
		if err != nil {
			return fmt.Errorf("field %q: %v", f.Name, err)
		}
		unit := f.Type.(*arrow.TimestampType).Unit
		ts, err := arrow.TimestampFromTime(t, unit)
		if err != nil {
			return fmt.Errorf("field %q: %v", f.Name, err)
		}
		bb.Append(ts)
		return nil
	case *array.Date32Builder:
		t, err := parseTime(s)
		if err != nil {
			return fmt.Errorf("field %q: %v", f.Name, err)
		}
		bb.Append(arrow.Date32FromTime(t))
		return nil
	case *array.Decimal128Builder:
		dt := f.Type.(*arrow.Decimal128Type)
		n, err := decimal128.FromString(strings.TrimSpace(s), dt.Precision, dt.Scale)
		if err != nil {
			return fmt.Errorf("field %q: %q is not a DECIMAL(%d,%d)", f.Name, s, dt.Precision, dt.Scale)
		}
		bb.Append(n)
		return nil
	case *array.Int64Builder, *array.Int32Builder, *array.Int16Builder, *array.Int8Builder:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return mismatch(f, s)
		}
		return appendGeneric(b, f, n)
	case *array.Float64Builder, *array.Float32Builder:
		n, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return mismatch(f, s)
		}
		return appendGeneric(b, f, n)
	case *array.BooleanBuilder:
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true":
			bb.Append(true)
			return nil
		case "false":
			bb.Append(false)
			return nil
		}
	}
	return appendGeneric(b, f, strings.Clone(s))
}

var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999", "2006-01-02"}

func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not an ISO-8601 date or timestamp", s)
}

// appendGeneric appends a generic JSON value to a builder of any supported type.
func appendGeneric(b array.Builder, f arrow.Field, v any) error {
	if v == nil {
		b.AppendNull()
		return nil
	}
	switch bb := b.(type) {
	case *array.StringBuilder:
		switch x := v.(type) {
		case string:
			bb.Append(x)
		case int64:
			bb.Append(strconv.FormatInt(x, 10))
		case float64:
			bb.Append(strconv.FormatFloat(x, 'g', -1, 64))
		case bool:
			bb.Append(strconv.FormatBool(x))
		default:
			js, err := json.Marshal(v)
			if err != nil {
				return err
			}
			bb.Append(string(js))
		}
		return nil
	case *array.Int64Builder, *array.Int32Builder, *array.Int16Builder, *array.Int8Builder:
		var n int64
		switch x := v.(type) {
		case int64:
			n = x
		case float64:
			if x != math.Trunc(x) || math.Abs(x) > 1<<63 {
				return mismatch(f, v)
			}
			n = int64(x)
		case string:
			return appendText(b, f, x)
		default:
			return mismatch(f, v)
		}
		switch ib := bb.(type) {
		case *array.Int64Builder:
			ib.Append(n)
		case *array.Int32Builder:
			if n < math.MinInt32 || n > math.MaxInt32 {
				return mismatch(f, v)
			}
			ib.Append(int32(n))
		case *array.Int16Builder:
			if n < math.MinInt16 || n > math.MaxInt16 {
				return mismatch(f, v)
			}
			ib.Append(int16(n))
		case *array.Int8Builder:
			if n < math.MinInt8 || n > math.MaxInt8 {
				return mismatch(f, v)
			}
			ib.Append(int8(n))
		}
		return nil
	case *array.Float64Builder, *array.Float32Builder:
		var x float64
		switch n := v.(type) {
		case int64:
			x = float64(n)
		case float64:
			x = n
		case string:
			return appendText(b, f, n)
		default:
			return mismatch(f, v)
		}
		if fb, ok := bb.(*array.Float32Builder); ok {
			fb.Append(float32(x))
		} else {
			bb.(*array.Float64Builder).Append(x)
		}
		return nil
	case *array.BooleanBuilder:
		switch x := v.(type) {
		case bool:
			bb.Append(x)
		case string:
			return appendText(b, f, x)
		default:
			return mismatch(f, v)
		}
		return nil
	case *array.Decimal128Builder:
		switch x := v.(type) {
		case string:
			return appendText(b, f, x)
		case int64:
			return appendText(b, f, strconv.FormatInt(x, 10))
		case float64:
			return appendText(b, f, strconv.FormatFloat(x, 'f', -1, 64))
		}
		return mismatch(f, v)
	case *array.TimestampBuilder:
		switch x := v.(type) {
		case string:
			return appendText(b, f, x)
		case int64: // Unix seconds
			ts, err := arrow.TimestampFromTime(time.Unix(x, 0), f.Type.(*arrow.TimestampType).Unit)
			if err != nil {
				return err
			}
			bb.Append(ts)
			return nil
		}
		return mismatch(f, v)
	case *array.Date32Builder:
		if x, ok := v.(string); ok {
			return appendText(b, f, x)
		}
		return mismatch(f, v)
	case *array.StructBuilder:
		m, ok := v.(map[string]any)
		if !ok {
			return mismatch(f, v)
		}
		st := f.Type.(*arrow.StructType)
		bb.Append(true)
		for i, cf := range st.Fields() {
			if err := appendGeneric(bb.FieldBuilder(i), cf, m[cf.Name]); err != nil {
				return err
			}
		}
		return nil
	case *array.ListBuilder:
		l, ok := v.([]any)
		if !ok {
			return mismatch(f, v)
		}
		el := f.Type.(*arrow.ListType).ElemField()
		bb.Append(true)
		for _, e := range l {
			if err := appendGeneric(bb.ValueBuilder(), el, e); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("field %q: type %s is not supported by the Rest connection; declare it as VARCHAR or JSON", f.Name, f.Type)
}

// jsonExtension marks a text column as JSON (Arrow's canonical extension), which DuckDB
// imports as its JSON type.
var jsonExtension = arrow.NewMetadata([]string{"ARROW:extension:name", "ARROW:extension:metadata"}, []string{"arrow.json", ""})

// inferrer derives columns from the first page's records: keys in order of first appearance
// (sorted when the records come from a JMESPath result, which keeps no order); integers BIGINT,
// other numbers DOUBLE, booleans BOOLEAN, strings VARCHAR, nested objects and arrays JSON
// (declare STRUCT or LIST types in `fields` to get those).
type inferrer struct {
	cols []*inferCol
	idx  map[string]*inferCol
}

type inferCol struct {
	name string
	kind int // 0 only nulls, 1 bool, 2 int, 3 float, 4 text, 5 nested (objects, arrays)
}

func (in *inferrer) see(name string, kind int) {
	if in.idx == nil {
		in.idx = map[string]*inferCol{}
	}
	c := in.idx[name]
	if c == nil {
		c = &inferCol{name: name}
		in.idx[name] = c
		in.cols = append(in.cols, c)
	}
	switch {
	case kind == 0 || c.kind == kind:
	case c.kind == 0:
		c.kind = kind
	case (c.kind == 2 && kind == 3) || (c.kind == 3 && kind == 2):
		c.kind = 3
	default:
		c.kind = 4
	}
}

// scan looks at the record at the scanner's position without decoding its values.
func (in *inferrer) scan(s *scanner) error {
	if s.peek() != '{' {
		return s.unexpected("expected a record (a JSON object)")
	}
	s.pos++
	if s.peek() == '}' {
		s.pos++
		return nil
	}
	for {
		k, err := s.stringBytes()
		if err != nil {
			return err
		}
		name := string(k)
		if err := s.expect(':'); err != nil {
			return err
		}
		kind := 4
		switch s.peek() {
		case 'n':
			kind = 0
		case 't', 'f':
			kind = 1
		case '{', '[':
			kind = 5
		case '"':
		default:
			if _, integral, err := s.number(); err != nil {
				return err
			} else if integral {
				kind = 2
			} else {
				kind = 3
			}
		}
		if kind != 2 && kind != 3 {
			if _, err := s.skip(); err != nil {
				return err
			}
		}
		in.see(name, kind)
		switch s.peek() {
		case ',':
			s.pos++
		case '}':
			s.pos++
			return nil
		default:
			return s.unexpected("expected ',' or '}' after an object member")
		}
	}
}

func (in *inferrer) generic(rec any) {
	m, ok := rec.(map[string]any)
	if !ok {
		return
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		kind := 4
		switch x := m[k].(type) {
		case nil:
			kind = 0
		case bool:
			kind = 1
		case int64:
			kind = 2
		case map[string]any, []any:
			kind = 5
		case float64:
			kind = 3
			if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
				kind = 2 // JMESPath results carry every number as float64
			}
		}
		in.see(k, kind)
	}
}

func (in *inferrer) schema() *arrow.Schema {
	fields := make([]arrow.Field, len(in.cols))
	for i, c := range in.cols {
		t := arrow.DataType(arrow.BinaryTypes.String)
		switch c.kind {
		case 1:
			t = arrow.FixedWidthTypes.Boolean
		case 2:
			t = arrow.PrimitiveTypes.Int64
		case 3:
			t = arrow.PrimitiveTypes.Float64
		}
		fields[i] = arrow.Field{Name: c.name, Type: t, Nullable: true}
		if c.kind == 5 {
			fields[i].Metadata = jsonExtension
		}
	}
	return arrow.NewSchema(fields, nil)
}
