package value

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// FromArrow returns row i of a column as a value, keeping what the Arrow type says: decimals
// exact with their scale, intervals as months/days/microseconds, STRUCT fields and MAP
// entries in order, TIMESTAMPTZ with its zone.
func FromArrow(a arrow.Array, i int) any {
	if a.IsNull(i) {
		return nil
	}
	switch x := a.(type) {
	case array.ExtensionArray:
		return FromArrow(x.Storage(), i)
	case *array.Boolean:
		return x.Value(i)
	case *array.Int8:
		return int64(x.Value(i))
	case *array.Int16:
		return int64(x.Value(i))
	case *array.Int32:
		return int64(x.Value(i))
	case *array.Int64:
		return x.Value(i)
	case *array.Uint8:
		return int64(x.Value(i))
	case *array.Uint16:
		return int64(x.Value(i))
	case *array.Uint32:
		return int64(x.Value(i))
	case *array.Uint64:
		if v := x.Value(i); v <= math.MaxInt64 {
			return int64(v)
		} else {
			return v
		}
	case *array.Float16:
		return x.Value(i).Float32()
	case *array.Float32:
		return x.Value(i)
	case *array.Float64:
		return x.Value(i)
	// Strings are cloned: Value points into the batch, which the caller may release while
	// the value lives on (a variable, a loop row).
	case *array.String:
		return strings.Clone(x.Value(i))
	case *array.LargeString:
		return strings.Clone(x.Value(i))
	case *array.StringView:
		return strings.Clone(x.Value(i))
	case *array.Binary:
		return append([]byte(nil), x.Value(i)...)
	case *array.LargeBinary:
		return append([]byte(nil), x.Value(i)...)
	case *array.BinaryView:
		return append([]byte(nil), x.Value(i)...)
	case *array.FixedSizeBinary:
		return append([]byte(nil), x.Value(i)...)
	case *array.Decimal128:
		scale := int(x.DataType().(*arrow.Decimal128Type).Scale)
		return DecimalFromInt(x.Value(i).BigInt(), scale)
	case *array.Decimal256:
		scale := int(x.DataType().(*arrow.Decimal256Type).Scale)
		return DecimalFromInt(x.Value(i).BigInt(), scale)
	case *array.Date32:
		return Date{Days: int32(x.Value(i))}
	case *array.Date64:
		return Date{Days: int32(int64(x.Value(i)) / 86400000)}
	case *array.Time32:
		unit := x.DataType().(*arrow.Time32Type).Unit
		return Time{Micros: int64(x.Value(i)) * int64(unit.Multiplier()/time.Microsecond)}
	case *array.Time64:
		unit := x.DataType().(*arrow.Time64Type).Unit
		v := int64(x.Value(i))
		if unit == arrow.Nanosecond {
			return Time{Micros: v / 1000}
		}
		return Time{Micros: v}
	case *array.Timestamp:
		tt := x.DataType().(*arrow.TimestampType)
		return timestamp(int64(x.Value(i)), tt)
	case *array.MonthDayNanoInterval:
		v := x.Value(i)
		return Interval{Months: v.Months, Days: v.Days, Micros: v.Nanoseconds / 1000}
	case *array.DayTimeInterval:
		v := x.Value(i)
		return Interval{Days: v.Days, Micros: int64(v.Milliseconds) * 1000}
	case *array.MonthInterval:
		return Interval{Months: int32(x.Value(i))}
	case *array.Duration:
		unit := x.DataType().(*arrow.DurationType).Unit
		return Interval{Micros: int64(x.Value(i)) * int64(unit.Multiplier()) / 1000}
	case *array.Map:
		start, end := x.ValueOffsets(i)
		keys, items := x.Keys(), x.Items()
		mt := x.DataType().(*arrow.MapType)
		out := make(MapValue, 0, end-start)
		for j := int(start); j < int(end); j++ {
			out = append(out, Pair{Key: fromArrowField(mt.KeyField(), keys, j), Value: fromArrowField(mt.ItemField(), items, j)})
		}
		return out
	case *array.Struct:
		st := x.DataType().(*arrow.StructType)
		m := &Map{Keys: make([]string, 0, x.NumField()), Values: make(map[string]any, x.NumField())}
		for f := 0; f < x.NumField(); f++ {
			m.Set(st.Field(f).Name, fromArrowField(st.Field(f), x.Field(f), i))
		}
		return m
	case array.ListLike:
		start, end := x.ValueOffsets(i)
		vals := x.ListValues()
		isJSON := elemIsJSON(x.DataType())
		var elem arrow.Field
		if lt, ok := x.DataType().(arrow.ListLikeType); ok {
			elem = lt.ElemField()
		}
		out := make([]any, 0, end-start)
		for j := int(start); j < int(end); j++ {
			v := fromArrowField(elem, vals, j)
			if s, ok := v.(string); ok && isJSON {
				v = RawJSON(s)
			}
			out = append(out, v)
		}
		return out
	case *array.Dictionary:
		return FromArrow(x.Dictionary(), x.GetValueIndex(i))
	case *array.SparseUnion:
		return FromArrow(x.Field(x.ChildID(i)), i)
	case *array.DenseUnion:
		return FromArrow(x.Field(x.ChildID(i)), int(x.ValueOffset(i)))
	}
	return a.ValueStr(i)
}

func timestamp(v int64, tt *arrow.TimestampType) Timestamp {
	ts := Timestamp{Unit: tt.Unit.Multiplier()}
	// DuckDB marks ±infinity with the extreme values of the type.
	switch v {
	case math.MaxInt64:
		ts.Infinite = 1
		return ts
	case -math.MaxInt64, math.MinInt64:
		ts.Infinite = -1
		return ts
	}
	switch tt.Unit {
	case arrow.Second:
		ts.T = time.Unix(v, 0)
	case arrow.Millisecond:
		ts.T = time.UnixMilli(v)
	case arrow.Microsecond:
		ts.T = time.UnixMicro(v)
	default:
		ts.T = time.Unix(0, v)
	}
	ts.T = ts.T.UTC()
	if tt.TimeZone != "" {
		loc, err := time.LoadLocation(tt.TimeZone)
		if err != nil {
			loc = fixedZone(tt.TimeZone)
		}
		ts.Zone = loc
	}
	return ts
}

// fixedZone reads "+05:30"-style zones; anything unreadable is UTC.
func fixedZone(name string) *time.Location {
	var h, m int
	var sign byte = '+'
	if _, err := fmt.Sscanf(name, "%c%02d:%02d", &sign, &h, &m); err == nil {
		off := h*3600 + m*60
		if sign == '-' {
			off = -off
		}
		return time.FixedZone(name, off)
	}
	return time.UTC
}

// Record returns one row of a record batch as an ordered map (columns in schema order).
func Record(rec arrow.RecordBatch, row int) *Map {
	n := int(rec.NumCols())
	m := &Map{Keys: make([]string, 0, n), Values: make(map[string]any, n)}
	for c := 0; c < n; c++ {
		m.Set(rec.ColumnName(c), fromArrowField(rec.Schema().Field(c), rec.Column(c), row))
	}
	return m
}

// ReadAll reads a stream into rows (ordered maps) and returns the column names; it stops at
// max rows when max >= 0.
func ReadAll(r array.RecordReader, max int) ([]*Map, []string, error) {
	var names []string
	for _, f := range r.Schema().Fields() {
		names = append(names, f.Name)
	}
	var out []*Map
	for r.Next() {
		rec := r.RecordBatch()
		for i := 0; i < int(rec.NumRows()); i++ {
			if max >= 0 && len(out) >= max {
				return out, names, nil
			}
			out = append(out, Record(rec, i))
		}
	}
	return out, names, r.Err()
}

// elemIsJSON tells whether a list's elements are DuckDB JSON values: DuckDB marks them with
// the arrow.json extension name when it converts losslessly (arrow_lossless_conversion, as
// Variable sinks do); without it a JSON element is indistinguishable from a VARCHAR.
func elemIsJSON(t arrow.DataType) bool {
	nt, ok := t.(arrow.ListLikeType)
	if !ok {
		return false
	}
	f := nt.ElemField()
	if ext, ok := f.Type.(arrow.ExtensionType); ok {
		return ext.ExtensionName() == "arrow.json"
	}
	name, ok := f.Metadata.GetValue("ARROW:extension:name")
	return ok && name == "arrow.json"
}
