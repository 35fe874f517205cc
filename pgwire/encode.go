package pgwire

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/jackc/pgx/v5/pgproto3"
)

// Result rows are encoded column by column: for each Arrow record batch, every column's
// encoder walks its typed Arrow array once and appends the wire form of each value to that
// column's buffer (no per-value interface boxing), then the rows are assembled as DataRow
// messages from the column buffers.

// colBuf holds one column's encoded values for the rows of one batch.
type colBuf struct {
	data  []byte
	start []int32
	end   []int32 // -1 marks NULL
}

func (b *colBuf) reset() {
	if b.data == nil || cap(b.data) > 8<<20 {
		b.data = make([]byte, 0, 16<<10)
	}
	b.data = b.data[:0]
	b.start = b.start[:0]
	b.end = b.end[:0]
}

func (b *colBuf) null() {
	b.start = append(b.start, 0)
	b.end = append(b.end, -1)
}

// mark records the value that was appended since offset s.
func (b *colBuf) mark(s int) {
	b.start = append(b.start, int32(s))
	b.end = append(b.end, int32(len(b.data)))
}

func (b *colBuf) value(i int) []byte {
	if b.end[i] < 0 {
		return nil
	}
	return b.data[b.start[i]:b.end[i]:b.end[i]]
}

// encodeFn encodes rows [from, to) of arr into b.
type encodeFn func(b *colBuf, arr arrow.Array, from, to int)

// encodeOpts are the session settings that affect how values are rendered.
type encodeOpts struct {
	tz *time.Location // TimeZone, for timestamptz text
}

// rowEncoder turns record batches into DataRow messages.
type rowEncoder struct {
	fns  []encodeFn
	bufs []colBuf
	row  pgproto3.DataRow
}

// newRowEncoder builds the encoders for a result: fields are the Arrow fields of the result,
// cols the PostgreSQL types announced for them and formats the per-column format codes.
func newRowEncoder(fields []arrow.Field, cols []pgColType, formats []int16, opts encodeOpts) (*rowEncoder, error) {
	re := &rowEncoder{fns: make([]encodeFn, len(fields)), bufs: make([]colBuf, len(fields))}
	re.row.Values = make([][]byte, len(fields))
	for i, f := range fields {
		fn, err := newEncoder(f.Type, cols[i], formats[i] == 1, opts)
		if err != nil {
			return nil, fmt.Errorf("column %q: %w", f.Name, err)
		}
		re.fns[i] = fn
	}
	return re, nil
}

// encodeColumns encodes rows [from, to) of rec into the column buffers.
func (re *rowEncoder) encodeColumns(rec arrow.RecordBatch, from, to int) {
	for c, fn := range re.fns {
		b := &re.bufs[c]
		b.reset()
		fn(b, rec.Column(c), from, to)
	}
}

// encode appends DataRows for rows [from, to) of rec to dst.
func (re *rowEncoder) encode(dst []byte, rec arrow.RecordBatch, from, to int) []byte {
	re.encodeColumns(rec, from, to)
	vals := re.row.Values
	for r := 0; r < to-from; r++ {
		for c := range vals {
			vals[c] = re.bufs[c].value(r)
		}
		dst, _ = re.row.Encode(dst) // only fails beyond 65535 columns, which DuckDB cannot produce
	}
	return dst
}

// unwrapExt returns the storage array of an extension array (DuckDB tags some columns with
// Arrow extension types, e.g. arrow.opaque for BIGNUM).
func unwrapExt(a arrow.Array) arrow.Array {
	if e, ok := a.(array.ExtensionArray); ok {
		return e.Storage()
	}
	return a
}

func storageType(dt arrow.DataType) arrow.DataType {
	if e, ok := dt.(arrow.ExtensionType); ok {
		return e.StorageType()
	}
	return dt
}

// newEncoder picks the encoder for one column.
func newEncoder(dt arrow.DataType, ct pgColType, bin bool, opts encodeOpts) (encodeFn, error) {
	dt = storageType(dt)
	switch ct.oid {
	case oidBool:
		if _, ok := dt.(*arrow.BooleanType); ok {
			return boolEncoder(bin), nil
		}
	case oidInt2, oidInt4, oidInt8:
		width := int(pgTypes[ct.oid].size)
		if fn := intEncoder(dt, width, bin); fn != nil {
			return fn, nil
		}
	case oidFloat4, oidFloat8:
		switch dt.(type) {
		case *arrow.Float32Type:
			return float32Encoder(ct.oid, bin), nil
		case *arrow.Float64Type:
			return float64Encoder(ct.oid, bin), nil
		}
	case oidNumeric:
		if fn := numericEncoder(dt, bin); fn != nil {
			return fn, nil
		}
	case oidBytea:
		if isBinaryType(dt) {
			return bytesEncoder(bin, appendByteaText), nil
		}
	case oidVarbit:
		if isBinaryType(dt) {
			return bitEncoder(bin), nil
		}
	case oidDate:
		if _, ok := dt.(*arrow.Date32Type); ok {
			return dateEncoder(bin), nil
		}
	case oidTime:
		if t, ok := dt.(*arrow.Time64Type); ok {
			return timeEncoder(t.Unit, bin), nil
		}
	case oidTimestamp, oidTSTZ:
		if t, ok := dt.(*arrow.TimestampType); ok {
			return timestampEncoder(t.Unit, ct.oid == oidTSTZ, bin, opts.tz), nil
		}
	case oidInterval:
		if _, ok := dt.(*arrow.MonthDayNanoIntervalType); ok {
			return intervalEncoder(bin), nil
		}
	case oidUUID:
		switch t := dt.(type) {
		case *arrow.StringType, *arrow.LargeStringType, *arrow.StringViewType:
			return uuidTextEncoder(bin), nil
		case *arrow.FixedSizeBinaryType:
			if t.ByteWidth == 16 {
				return bytesEncoder(bin, appendUUIDText), nil
			}
		}
	case oidText, oidJSON, oidVarchar:
		switch dt.(type) {
		case *arrow.StringType, *arrow.LargeStringType, *arrow.StringViewType:
			return stringEncoder(), nil
		case *arrow.StructType, *arrow.MapType, *arrow.ListType, *arrow.LargeListType, *arrow.FixedSizeListType,
			*arrow.DenseUnionType, *arrow.SparseUnionType:
			if ct.oid == oidJSON {
				return jsonEncoder(opts), nil
			}
		}
		// Anything else described as text (enums, NULL columns, or a column whose type changed
		// since Describe): its text form, which is also its binary form for text types.
		return genericTextEncoder(opts), nil
	}
	if ct.elem != nil {
		if ll, ok := dt.(arrow.ListLikeType); ok {
			elemFn, err := newEncoder(ll.Elem(), *ct.elem, bin, opts)
			if err != nil {
				return nil, err
			}
			return arrayEncoder(elemFn, ct.elem.oid, bin), nil
		}
	}
	return nil, fmt.Errorf("no encoding of Arrow %s as PostgreSQL %s", dt, pgTypes[ct.oid].name)
}

func isBinaryType(dt arrow.DataType) bool {
	switch dt.(type) {
	case *arrow.BinaryType, *arrow.LargeBinaryType, *arrow.BinaryViewType:
		return true
	}
	return false
}

// binaryLike covers Arrow's variable-length binary and string arrays.
type binaryLike interface {
	arrow.Array
	ValueLen(i int) int
}

// bytesAt returns value i of a string/binary array without copying.
func bytesAt(a arrow.Array, i int) []byte {
	switch x := a.(type) {
	case *array.String:
		offs := x.ValueOffsets()
		return x.ValueBytes()[offs[i]-offs[0] : offs[i+1]-offs[0]]
	case *array.Binary:
		return x.Value(i)
	case *array.LargeString:
		offs := x.ValueOffsets()
		return x.ValueBytes()[offs[i]-offs[0] : offs[i+1]-offs[0]]
	case *array.LargeBinary:
		return x.Value(i)
	case *array.StringView:
		return []byte(x.Value(i))
	case *array.BinaryView:
		return x.Value(i)
	case *array.FixedSizeBinary:
		return x.Value(i)
	}
	return nil
}

func boolEncoder(bin bool) encodeFn {
	return func(b *colBuf, arr arrow.Array, from, to int) {
		a := arr.(*array.Boolean)
		for i := from; i < to; i++ {
			if a.IsNull(i) {
				b.null()
				continue
			}
			s := len(b.data)
			v := a.Value(i)
			switch {
			case bin && v:
				b.data = append(b.data, 1)
			case bin:
				b.data = append(b.data, 0)
			case v:
				b.data = append(b.data, 't')
			default:
				b.data = append(b.data, 'f')
			}
			b.mark(s)
		}
	}
}

type integer interface {
	~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32 | ~uint64
}

func intEncoder(dt arrow.DataType, width int, bin bool) encodeFn {
	switch dt.(type) {
	case *arrow.Int8Type:
		return intEnc(func(a arrow.Array) []int8 { return a.(*array.Int8).Int8Values() }, width, bin)
	case *arrow.Int16Type:
		return intEnc(func(a arrow.Array) []int16 { return a.(*array.Int16).Int16Values() }, width, bin)
	case *arrow.Int32Type:
		return intEnc(func(a arrow.Array) []int32 { return a.(*array.Int32).Int32Values() }, width, bin)
	case *arrow.Int64Type:
		return intEnc(func(a arrow.Array) []int64 { return a.(*array.Int64).Int64Values() }, width, bin)
	case *arrow.Uint8Type:
		return intEnc(func(a arrow.Array) []uint8 { return a.(*array.Uint8).Uint8Values() }, width, bin)
	case *arrow.Uint16Type:
		return intEnc(func(a arrow.Array) []uint16 { return a.(*array.Uint16).Uint16Values() }, width, bin)
	case *arrow.Uint32Type:
		return intEnc(func(a arrow.Array) []uint32 { return a.(*array.Uint32).Uint32Values() }, width, bin)
	}
	return nil
}

func intEnc[T integer](values func(arrow.Array) []T, width int, bin bool) encodeFn {
	return func(b *colBuf, arr arrow.Array, from, to int) {
		vals := values(arr)
		noNulls := arr.NullN() == 0
		for i := from; i < to; i++ {
			if !noNulls && arr.IsNull(i) {
				b.null()
				continue
			}
			s := len(b.data)
			v := int64(vals[i])
			switch {
			case !bin:
				b.data = strconv.AppendInt(b.data, v, 10)
			case width == 8:
				b.data = binary.BigEndian.AppendUint64(b.data, uint64(v))
			case width == 4:
				b.data = binary.BigEndian.AppendUint32(b.data, uint32(v))
			default:
				b.data = binary.BigEndian.AppendUint16(b.data, uint16(v))
			}
			b.mark(s)
		}
	}
}

func float64Encoder(oid uint32, bin bool) encodeFn {
	return func(b *colBuf, arr arrow.Array, from, to int) {
		vals := arr.(*array.Float64).Float64Values()
		noNulls := arr.NullN() == 0
		for i := from; i < to; i++ {
			if !noNulls && arr.IsNull(i) {
				b.null()
				continue
			}
			s := len(b.data)
			switch {
			case !bin:
				b.data = appendFloat(b.data, vals[i], 64)
			case oid == oidFloat4:
				b.data = binary.BigEndian.AppendUint32(b.data, math.Float32bits(float32(vals[i])))
			default:
				b.data = binary.BigEndian.AppendUint64(b.data, math.Float64bits(vals[i]))
			}
			b.mark(s)
		}
	}
}

func float32Encoder(oid uint32, bin bool) encodeFn {
	return func(b *colBuf, arr arrow.Array, from, to int) {
		vals := arr.(*array.Float32).Float32Values()
		noNulls := arr.NullN() == 0
		for i := from; i < to; i++ {
			if !noNulls && arr.IsNull(i) {
				b.null()
				continue
			}
			s := len(b.data)
			switch {
			case !bin:
				b.data = appendFloat(b.data, float64(vals[i]), 32)
			case oid == oidFloat8:
				b.data = binary.BigEndian.AppendUint64(b.data, math.Float64bits(float64(vals[i])))
			default:
				b.data = binary.BigEndian.AppendUint32(b.data, math.Float32bits(vals[i]))
			}
			b.mark(s)
		}
	}
}

// appendFloat renders a float as PostgreSQL 12+ does with extra_float_digits >= 1: the
// shortest text that reads back to the same value, in exponent form below 1e-4 or from 1e15
// (float8) / 1e6 (float4) up.
func appendFloat(dst []byte, v float64, bitSize int) []byte {
	switch {
	case math.IsNaN(v):
		return append(dst, "NaN"...)
	case math.IsInf(v, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(v, -1):
		return append(dst, "-Infinity"...)
	}
	a := math.Abs(v)
	hi := 1e15
	if bitSize == 32 {
		hi = 1e6
	}
	if a == 0 || (a >= 1e-4 && a < hi) {
		return strconv.AppendFloat(dst, v, 'f', -1, bitSize)
	}
	return strconv.AppendFloat(dst, v, 'e', -1, bitSize)
}

func stringEncoder() encodeFn {
	return func(b *colBuf, arr arrow.Array, from, to int) {
		if a, ok := arr.(*array.String); ok {
			offs := a.ValueOffsets()
			data := a.ValueBytes()
			base := offs[0]
			noNulls := a.NullN() == 0
			for i := from; i < to; i++ {
				if !noNulls && a.IsNull(i) {
					b.null()
					continue
				}
				s := len(b.data)
				b.data = append(b.data, data[offs[i]-base:offs[i+1]-base]...)
				b.mark(s)
			}
			return
		}
		for i := from; i < to; i++ {
			if arr.IsNull(i) {
				b.null()
				continue
			}
			s := len(b.data)
			b.data = append(b.data, bytesAt(arr, i)...)
			b.mark(s)
		}
	}
}

// bytesEncoder sends binary values as their raw bytes, and in text format through text
// (bytea's \x hex form, a UUID's dashed form).
func bytesEncoder(bin bool, text func(dst, v []byte) []byte) encodeFn {
	return func(b *colBuf, arr arrow.Array, from, to int) {
		for i := from; i < to; i++ {
			if arr.IsNull(i) {
				b.null()
				continue
			}
			s := len(b.data)
			v := bytesAt(arr, i)
			if bin {
				b.data = append(b.data, v...)
			} else {
				b.data = text(b.data, v)
			}
			b.mark(s)
		}
	}
}

func appendByteaText(dst, v []byte) []byte {
	dst = append(dst, '\\', 'x')
	return hex.AppendEncode(dst, v)
}

// DuckDB's BIT: the first byte counts the padding bits at the start of the second byte.
func bitString(v []byte) []byte {
	if len(v) == 0 {
		return nil
	}
	pad := int(v[0])
	out := make([]byte, 0, (len(v)-1)*8)
	for i, c := range v[1:] {
		for bit := 7; bit >= 0; bit-- {
			if i == 0 && 7-bit < pad {
				continue
			}
			out = append(out, '0'+(c>>uint(bit))&1)
		}
	}
	return out
}

func bitEncoder(bin bool) encodeFn {
	return func(b *colBuf, arr arrow.Array, from, to int) {
		for i := from; i < to; i++ {
			if arr.IsNull(i) {
				b.null()
				continue
			}
			s := len(b.data)
			bitsTxt := bitString(bytesAt(arr, i))
			if !bin {
				b.data = append(b.data, bitsTxt...)
			} else {
				b.data = binary.BigEndian.AppendUint32(b.data, uint32(len(bitsTxt)))
				var cur byte
				for j, c := range bitsTxt {
					if c == '1' {
						cur |= 1 << uint(7-j%8)
					}
					if j%8 == 7 {
						b.data = append(b.data, cur)
						cur = 0
					}
				}
				if len(bitsTxt)%8 != 0 {
					b.data = append(b.data, cur)
				}
			}
			b.mark(s)
		}
	}
}

// --- dates and times ---

const (
	// Days and microseconds between 1970-01-01 and PostgreSQL's epoch 2000-01-01.
	pgEpochDays   = 10957
	pgEpochMicros = int64(pgEpochDays) * 86400 * 1e6
	dateInfinity  = math.MaxInt32
	dateNegInf    = -math.MaxInt32
	tsInfinity    = math.MaxInt64
	tsNegInfinity = -math.MaxInt64
)

// civil converts days since 1970-01-01 to a proleptic Gregorian date.
func civil(days int64) (year int64, month, day int) {
	z := days + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	year = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	day = int(doy - (153*mp+2)/5 + 1)
	if mp < 10 {
		month = int(mp + 3)
	} else {
		month = int(mp - 9)
	}
	if month <= 2 {
		year++
	}
	return year, month, day
}

func append2(dst []byte, v int) []byte {
	return append(dst, byte('0'+v/10), byte('0'+v%10))
}

// appendYMD writes YYYY-MM-DD and reports whether the year is BC.
func appendYMD(dst []byte, days int64) ([]byte, bool) {
	y, m, d := civil(days)
	bc := y <= 0
	if bc {
		y = 1 - y
	}
	if y < 1000 {
		dst = append(dst, "000"[:4-len(strconv.FormatInt(y, 10))]...)
	}
	dst = strconv.AppendInt(dst, y, 10)
	dst = append(dst, '-')
	dst = append2(dst, m)
	dst = append(dst, '-')
	dst = append2(dst, d)
	return dst, bc
}

// appendClock writes HH:MM:SS[.ffffff] (trailing zeros of the fraction dropped).
func appendClock(dst []byte, micros int64) []byte {
	secs := micros / 1e6
	frac := micros % 1e6
	dst = append2(dst, int(secs/3600))
	dst = append(dst, ':')
	dst = append2(dst, int(secs/60%60))
	dst = append(dst, ':')
	dst = append2(dst, int(secs%60))
	return appendFraction(dst, frac)
}

func appendFraction(dst []byte, frac int64) []byte {
	if frac == 0 {
		return dst
	}
	var digits [6]byte
	for i := 5; i >= 0; i-- {
		digits[i] = byte('0' + frac%10)
		frac /= 10
	}
	n := 6
	for n > 0 && digits[n-1] == '0' {
		n--
	}
	dst = append(dst, '.')
	return append(dst, digits[:n]...)
}

func appendDate(dst []byte, days int32) []byte {
	switch days {
	case dateInfinity:
		return append(dst, "infinity"...)
	case dateNegInf:
		return append(dst, "-infinity"...)
	}
	dst, bc := appendYMD(dst, int64(days))
	if bc {
		dst = append(dst, " BC"...)
	}
	return dst
}

func dateEncoder(bin bool) encodeFn {
	return func(b *colBuf, arr arrow.Array, from, to int) {
		vals := arr.(*array.Date32).Date32Values()
		for i := from; i < to; i++ {
			if arr.IsNull(i) {
				b.null()
				continue
			}
			s := len(b.data)
			d := int32(vals[i])
			if bin {
				switch d {
				case dateInfinity:
				case dateNegInf:
					d = math.MinInt32
				default:
					d -= pgEpochDays
				}
				b.data = binary.BigEndian.AppendUint32(b.data, uint32(d))
			} else {
				b.data = appendDate(b.data, d)
			}
			b.mark(s)
		}
	}
}

func toMicros(v int64, unit arrow.TimeUnit) int64 {
	switch unit {
	case arrow.Second:
		return v * 1e6
	case arrow.Millisecond:
		return v * 1e3
	case arrow.Nanosecond:
		return floorDiv(v, 1e3)
	}
	return v
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func timeEncoder(unit arrow.TimeUnit, bin bool) encodeFn {
	return func(b *colBuf, arr arrow.Array, from, to int) {
		vals := arr.(*array.Time64).Time64Values()
		for i := from; i < to; i++ {
			if arr.IsNull(i) {
				b.null()
				continue
			}
			s := len(b.data)
			us := toMicros(int64(vals[i]), unit)
			if bin {
				b.data = binary.BigEndian.AppendUint64(b.data, uint64(us))
			} else {
				b.data = appendClock(b.data, us)
			}
			b.mark(s)
		}
	}
}

// appendTimestamp renders micros since 1970 (UTC for timestamptz) as PostgreSQL's ISO output;
// tz is nil for timestamp without time zone.
func appendTimestamp(dst []byte, us int64, tz *time.Location) []byte {
	switch us {
	case tsInfinity:
		return append(dst, "infinity"...)
	case tsNegInfinity:
		return append(dst, "-infinity"...)
	}
	offset := 0
	if tz != nil && tz != time.UTC {
		_, offset = time.UnixMicro(us).In(tz).Zone()
		us += int64(offset) * 1e6
	}
	days := floorDiv(us, 86400e6)
	dst, bc := appendYMD(dst, days)
	dst = append(dst, ' ')
	dst = appendClock(dst, us-days*86400e6)
	if tz != nil {
		dst = appendOffset(dst, offset)
	}
	if bc {
		dst = append(dst, " BC"...)
	}
	return dst
}

// appendOffset writes a UTC offset as PostgreSQL does: +HH, +HH:MM or +HH:MM:SS.
func appendOffset(dst []byte, secs int) []byte {
	if secs < 0 {
		dst = append(dst, '-')
		secs = -secs
	} else {
		dst = append(dst, '+')
	}
	dst = append2(dst, secs/3600)
	if secs%3600 != 0 {
		dst = append(dst, ':')
		dst = append2(dst, secs/60%60)
		if secs%60 != 0 {
			dst = append(dst, ':')
			dst = append2(dst, secs%60)
		}
	}
	return dst
}

func timestampEncoder(unit arrow.TimeUnit, withTZ, bin bool, tz *time.Location) encodeFn {
	if !withTZ {
		tz = nil
	} else if tz == nil {
		tz = time.UTC
	}
	return func(b *colBuf, arr arrow.Array, from, to int) {
		vals := arr.(*array.Timestamp).TimestampValues()
		noNulls := arr.NullN() == 0
		for i := from; i < to; i++ {
			if !noNulls && arr.IsNull(i) {
				b.null()
				continue
			}
			s := len(b.data)
			raw := int64(vals[i])
			us := raw
			if raw != tsInfinity && raw != tsNegInfinity {
				us = toMicros(raw, unit)
			}
			if bin {
				switch us {
				case tsInfinity:
				case tsNegInfinity:
					us = math.MinInt64
				default:
					us -= pgEpochMicros
				}
				b.data = binary.BigEndian.AppendUint64(b.data, uint64(us))
			} else {
				b.data = appendTimestamp(b.data, us, tz)
			}
			b.mark(s)
		}
	}
}

// appendInterval renders an interval in IntervalStyle postgres.
func appendInterval(dst []byte, months, days int32, micros int64) []byte {
	isZero, isBefore := true, false
	part := func(v int64, unit string) {
		if v == 0 {
			return
		}
		if !isZero {
			dst = append(dst, ' ')
		}
		if isBefore && v > 0 {
			dst = append(dst, '+')
		}
		dst = strconv.AppendInt(dst, v, 10)
		dst = append(dst, ' ')
		dst = append(dst, unit...)
		if v != 1 {
			dst = append(dst, 's')
		}
		isBefore = v < 0
		isZero = false
	}
	part(int64(months/12), "year")
	part(int64(months%12), "mon")
	part(int64(days), "day")
	if isZero || micros != 0 {
		minus := micros < 0
		if !isZero {
			dst = append(dst, ' ')
		}
		if minus {
			dst = append(dst, '-')
			micros = -micros
		} else if isBefore {
			dst = append(dst, '+')
		}
		secs := micros / 1e6
		h := secs / 3600
		if h < 10 {
			dst = append(dst, '0')
		}
		dst = strconv.AppendInt(dst, h, 10)
		dst = append(dst, ':')
		dst = append2(dst, int(secs/60%60))
		dst = append(dst, ':')
		dst = append2(dst, int(secs%60))
		dst = appendFraction(dst, micros%1e6)
	}
	return dst
}

func intervalEncoder(bin bool) encodeFn {
	return func(b *colBuf, arr arrow.Array, from, to int) {
		vals := arr.(*array.MonthDayNanoInterval).MonthDayNanoIntervalValues()
		for i := from; i < to; i++ {
			if arr.IsNull(i) {
				b.null()
				continue
			}
			s := len(b.data)
			v := vals[i]
			us := v.Nanoseconds / 1000
			if bin {
				b.data = binary.BigEndian.AppendUint64(b.data, uint64(us))
				b.data = binary.BigEndian.AppendUint32(b.data, uint32(v.Days))
				b.data = binary.BigEndian.AppendUint32(b.data, uint32(v.Months))
			} else {
				b.data = appendInterval(b.data, v.Months, v.Days, us)
			}
			b.mark(s)
		}
	}
}

func uuidTextEncoder(bin bool) encodeFn {
	return func(b *colBuf, arr arrow.Array, from, to int) {
		for i := from; i < to; i++ {
			if arr.IsNull(i) {
				b.null()
				continue
			}
			s := len(b.data)
			v := bytesAt(arr, i)
			if bin {
				b.data = appendUUIDBinary(b.data, v)
			} else {
				b.data = append(b.data, v...)
			}
			b.mark(s)
		}
	}
}

func appendUUIDBinary(dst, text []byte) []byte {
	var out [16]byte
	n := 0
	for i := 0; i < len(text) && n < 32; i++ {
		c := text[i]
		if c == '-' {
			continue
		}
		v := unhex(c)
		if n%2 == 0 {
			out[n/2] = v << 4
		} else {
			out[n/2] |= v
		}
		n++
	}
	return append(dst, out[:]...)
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10
	}
	return 0
}

func appendUUIDText(dst, v []byte) []byte {
	for i, c := range v {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst = append(dst, '-')
		}
		dst = hex.AppendEncode(dst, []byte{c})
	}
	return dst
}

// --- numeric ---

func numericEncoder(dt arrow.DataType, bin bool) encodeFn {
	var scale int32
	var get func(arr arrow.Array, i int, dst []byte) ([]byte, bool) // appends |value| digits, reports negative
	switch t := dt.(type) {
	case *arrow.Decimal128Type:
		scale = t.Scale
		get = func(arr arrow.Array, i int, dst []byte) ([]byte, bool) {
			n := arr.(*array.Decimal128).Value(i)
			neg := n.Sign() < 0
			if neg {
				n = n.Negate()
			}
			return appendUint128(dst, uint64(n.HighBits()), n.LowBits()), neg
		}
	case *arrow.Decimal64Type:
		scale = t.Scale
		get = func(arr arrow.Array, i int, dst []byte) ([]byte, bool) {
			v := int64(arr.(*array.Decimal64).Value(i))
			return appendAbs(dst, v), v < 0
		}
	case *arrow.Decimal32Type:
		scale = t.Scale
		get = func(arr arrow.Array, i int, dst []byte) ([]byte, bool) {
			v := int64(arr.(*array.Decimal32).Value(i))
			return appendAbs(dst, v), v < 0
		}
	case *arrow.Decimal256Type:
		scale = t.Scale
		get = func(arr arrow.Array, i int, dst []byte) ([]byte, bool) {
			v := arr.(*array.Decimal256).Value(i).BigInt()
			neg := v.Sign() < 0
			return v.Abs(v).Append(dst, 10), neg
		}
	case *arrow.Uint64Type:
		get = func(arr arrow.Array, i int, dst []byte) ([]byte, bool) {
			return strconv.AppendUint(dst, arr.(*array.Uint64).Value(i), 10), false
		}
	case *arrow.Int64Type:
		get = func(arr arrow.Array, i int, dst []byte) ([]byte, bool) {
			v := arr.(*array.Int64).Value(i)
			return appendAbs(dst, v), v < 0
		}
	case *arrow.BinaryType: // DuckDB BIGNUM (arrow.opaque over binary)
		get = func(arr arrow.Array, i int, dst []byte) ([]byte, bool) {
			v := decodeBignum(arr.(*array.Binary).Value(i))
			neg := v.Sign() < 0
			return v.Abs(v).Append(dst, 10), neg
		}
	default:
		return nil
	}
	var digits []byte
	return func(b *colBuf, arr arrow.Array, from, to int) {
		arr = unwrapExt(arr)
		for i := from; i < to; i++ {
			if arr.IsNull(i) {
				b.null()
				continue
			}
			s := len(b.data)
			var neg bool
			digits, neg = get(arr, i, digits[:0])
			intPart, frac := splitScale(digits, int(scale))
			if bin {
				b.data = appendNumericBinary(b.data, neg, intPart, frac, int(scale))
			} else {
				if neg && !allZero(digits) {
					b.data = append(b.data, '-')
				}
				b.data = append(b.data, intPart...)
				if len(frac) > 0 {
					b.data = append(b.data, '.')
					b.data = append(b.data, frac...)
				}
			}
			b.mark(s)
		}
	}
}

func appendAbs(dst []byte, v int64) []byte {
	if v < 0 {
		return strconv.AppendUint(dst, uint64(-v), 10)
	}
	return strconv.AppendUint(dst, uint64(v), 10)
}

func allZero(d []byte) bool {
	for _, c := range d {
		if c != '0' {
			return false
		}
	}
	return true
}

// splitScale splits the digits of an unscaled value into integer and fraction digits.
func splitScale(digits []byte, scale int) (intPart, frac []byte) {
	if scale <= 0 {
		return digits, nil
	}
	if len(digits) <= scale {
		pad := make([]byte, 0, scale)
		for i := 0; i < scale-len(digits); i++ {
			pad = append(pad, '0')
		}
		return []byte{'0'}, append(pad, digits...)
	}
	return digits[:len(digits)-scale], digits[len(digits)-scale:]
}

// appendUint128 appends the decimal digits of the unsigned 128-bit value hi:lo.
func appendUint128(dst []byte, hi, lo uint64) []byte {
	if hi == 0 {
		return strconv.AppendUint(dst, lo, 10)
	}
	const base = 1e19
	var parts [3]uint64
	n := 0
	for hi != 0 || lo != 0 {
		var rem uint64
		hi, rem = bits.Div64(0, hi, base)
		lo, rem = bits.Div64(rem, lo, base)
		parts[n] = rem
		n++
	}
	dst = strconv.AppendUint(dst, parts[n-1], 10)
	for i := n - 2; i >= 0; i-- {
		s := strconv.FormatUint(parts[i], 10)
		for j := len(s); j < 19; j++ {
			dst = append(dst, '0')
		}
		dst = append(dst, s...)
	}
	return dst
}

// appendNumericBinary writes PostgreSQL's binary numeric: ndigits, weight, sign, dscale and
// base-10000 digits.
func appendNumericBinary(dst []byte, neg bool, intPart, frac []byte, dscale int) []byte {
	for len(intPart) > 0 && intPart[0] == '0' {
		intPart = intPart[1:]
	}
	var groups []int16
	lead := (4 - len(intPart)%4) % 4
	cur, n := 0, lead
	for _, c := range intPart {
		cur = cur*10 + int(c-'0')
		n++
		if n == 4 {
			groups = append(groups, int16(cur))
			cur, n = 0, 0
		}
	}
	weight := len(groups) - 1
	for i, c := range frac {
		cur = cur*10 + int(c-'0')
		if i%4 == 3 {
			groups = append(groups, int16(cur))
			cur = 0
		}
	}
	if r := len(frac) % 4; r != 0 {
		for i := r; i < 4; i++ {
			cur *= 10
		}
		groups = append(groups, int16(cur))
	}
	for len(groups) > 0 && groups[0] == 0 {
		groups = groups[1:]
		weight--
	}
	for len(groups) > 0 && groups[len(groups)-1] == 0 {
		groups = groups[:len(groups)-1]
	}
	sign := uint16(0)
	if len(groups) == 0 {
		weight = 0
	} else if neg {
		sign = 0x4000
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(groups)))
	dst = binary.BigEndian.AppendUint16(dst, uint16(int16(weight)))
	dst = binary.BigEndian.AppendUint16(dst, sign)
	dst = binary.BigEndian.AppendUint16(dst, uint16(dscale))
	for _, g := range groups {
		dst = binary.BigEndian.AppendUint16(dst, uint16(g))
	}
	return dst
}

// decodeBignum decodes DuckDB's BIGNUM (VARINT) blob: a 3-byte header (sign bit and byte
// count) and big-endian magnitude bytes, all bit-inverted for negative numbers.
func decodeBignum(v []byte) *big.Int {
	if len(v) < 3 {
		return new(big.Int)
	}
	neg := v[0]&0x80 == 0
	data := v[3:]
	if neg {
		inv := make([]byte, len(data))
		for i, c := range data {
			inv[i] = ^c
		}
		data = inv
	}
	n := new(big.Int).SetBytes(data)
	if neg {
		n.Neg(n)
	}
	return n
}

// --- arrays ---

func arrayEncoder(elemFn encodeFn, elemOID uint32, bin bool) encodeFn {
	child := &colBuf{}
	return func(b *colBuf, arr arrow.Array, from, to int) {
		l := arr.(array.ListLike)
		if to <= from {
			return
		}
		// Encode every element of the rows at once, then frame each row's slice.
		cs, ce := int64(-1), int64(-1)
		for i := from; i < to; i++ {
			if l.IsNull(i) {
				continue
			}
			s, e := l.ValueOffsets(i)
			if cs < 0 || s < cs {
				cs = s
			}
			if e > ce {
				ce = e
			}
		}
		child.reset()
		if cs >= 0 && ce > cs {
			elemFn(child, l.ListValues(), int(cs), int(ce))
		}
		for i := from; i < to; i++ {
			if l.IsNull(i) {
				b.null()
				continue
			}
			s := len(b.data)
			es, ee := l.ValueOffsets(i)
			n := int(ee - es)
			first := int(es - cs)
			if bin {
				hasNull := 0
				for j := 0; j < n; j++ {
					if child.end[first+j] < 0 {
						hasNull = 1
					}
				}
				if n == 0 {
					b.data = binary.BigEndian.AppendUint32(b.data, 0)
					b.data = binary.BigEndian.AppendUint32(b.data, 0)
					b.data = binary.BigEndian.AppendUint32(b.data, elemOID)
				} else {
					b.data = binary.BigEndian.AppendUint32(b.data, 1)
					b.data = binary.BigEndian.AppendUint32(b.data, uint32(hasNull))
					b.data = binary.BigEndian.AppendUint32(b.data, elemOID)
					b.data = binary.BigEndian.AppendUint32(b.data, uint32(n))
					b.data = binary.BigEndian.AppendUint32(b.data, 1)
					for j := 0; j < n; j++ {
						v := child.value(first + j)
						if v == nil {
							b.data = binary.BigEndian.AppendUint32(b.data, math.MaxUint32)
							continue
						}
						b.data = binary.BigEndian.AppendUint32(b.data, uint32(len(v)))
						b.data = append(b.data, v...)
					}
				}
			} else {
				b.data = append(b.data, '{')
				for j := 0; j < n; j++ {
					if j > 0 {
						b.data = append(b.data, ',')
					}
					v := child.value(first + j)
					if v == nil {
						b.data = append(b.data, "NULL"...)
						continue
					}
					b.data = appendArrayElem(b.data, v)
				}
				b.data = append(b.data, '}')
			}
			b.mark(s)
		}
	}
}

// appendArrayElem writes one element of an array literal, quoted when PostgreSQL would quote it.
func appendArrayElem(dst, v []byte) []byte {
	quote := len(v) == 0 || (len(v) == 4 && (v[0]|0x20) == 'n' && (v[1]|0x20) == 'u' && (v[2]|0x20) == 'l' && (v[3]|0x20) == 'l')
	if !quote {
		for _, c := range v {
			switch c {
			case '{', '}', ',', '"', '\\', ' ', '\t', '\n', '\r', '\v', '\f':
				quote = true
			}
		}
	}
	if !quote {
		return append(dst, v...)
	}
	dst = append(dst, '"')
	for _, c := range v {
		if c == '"' || c == '\\' {
			dst = append(dst, '\\')
		}
		dst = append(dst, c)
	}
	return append(dst, '"')
}

// --- generic (per-value) rendering: nested types as JSON, and text fallbacks ---

func jsonEncoder(opts encodeOpts) encodeFn {
	return func(b *colBuf, arr arrow.Array, from, to int) {
		for i := from; i < to; i++ {
			if arr.IsNull(i) {
				b.null()
				continue
			}
			s := len(b.data)
			b.data = appendJSONValue(b.data, arr, i, opts)
			b.mark(s)
		}
	}
}

func genericTextEncoder(opts encodeOpts) encodeFn {
	return func(b *colBuf, arr arrow.Array, from, to int) {
		for i := from; i < to; i++ {
			if arr.IsNull(i) {
				b.null()
				continue
			}
			s := len(b.data)
			b.data = appendTextValue(b.data, arr, i, opts)
			b.mark(s)
		}
	}
}

// appendTextValue renders value i of any Arrow array in PostgreSQL text form (nested values as
// JSON). It type-switches per value, so it serves only the rare types and fallbacks.
func appendTextValue(dst []byte, arr arrow.Array, i int, opts encodeOpts) []byte {
	arr = unwrapExt(arr)
	switch a := arr.(type) {
	case *array.Boolean:
		if a.Value(i) {
			return append(dst, 't')
		}
		return append(dst, 'f')
	case *array.Int8:
		return strconv.AppendInt(dst, int64(a.Value(i)), 10)
	case *array.Int16:
		return strconv.AppendInt(dst, int64(a.Value(i)), 10)
	case *array.Int32:
		return strconv.AppendInt(dst, int64(a.Value(i)), 10)
	case *array.Int64:
		return strconv.AppendInt(dst, a.Value(i), 10)
	case *array.Uint8:
		return strconv.AppendUint(dst, uint64(a.Value(i)), 10)
	case *array.Uint16:
		return strconv.AppendUint(dst, uint64(a.Value(i)), 10)
	case *array.Uint32:
		return strconv.AppendUint(dst, uint64(a.Value(i)), 10)
	case *array.Uint64:
		return strconv.AppendUint(dst, a.Value(i), 10)
	case *array.Float32:
		return appendFloat(dst, float64(a.Value(i)), 32)
	case *array.Float64:
		return appendFloat(dst, a.Value(i), 64)
	case *array.Decimal128:
		n := a.Value(i)
		return append(dst, decimal128ToString(n, a.DataType().(*arrow.Decimal128Type).Scale)...)
	case *array.String, *array.LargeString, *array.StringView:
		return append(dst, bytesAt(arr, i)...)
	case *array.Binary:
		if isBignum(arr.DataType()) {
			return decodeBignum(a.Value(i)).Append(dst, 10)
		}
		return appendByteaText(dst, a.Value(i))
	case *array.LargeBinary, *array.BinaryView:
		return appendByteaText(dst, bytesAt(arr, i))
	case *array.FixedSizeBinary:
		if a.DataType().(*arrow.FixedSizeBinaryType).ByteWidth == 16 {
			return appendUUIDText(dst, a.Value(i))
		}
		return appendByteaText(dst, a.Value(i))
	case *array.Date32:
		return appendDate(dst, int32(a.Value(i)))
	case *array.Time64:
		return appendClock(dst, toMicros(int64(a.Value(i)), a.DataType().(*arrow.Time64Type).Unit))
	case *array.Timestamp:
		t := a.DataType().(*arrow.TimestampType)
		var tz *time.Location
		if t.TimeZone != "" {
			tz = opts.tz
			if tz == nil {
				tz = time.UTC
			}
		}
		return appendTimestamp(dst, toMicros(int64(a.Value(i)), t.Unit), tz)
	case *array.MonthDayNanoInterval:
		v := a.Value(i)
		return appendInterval(dst, v.Months, v.Days, v.Nanoseconds/1000)
	case *array.Dictionary:
		return appendTextValue(dst, a.Dictionary(), a.GetValueIndex(i), opts)
	case *array.Null:
		return dst
	}
	return appendJSONValue(dst, arr, i, opts)
}

func isBignum(dt arrow.DataType) bool {
	_, ok := dt.(arrow.ExtensionType)
	return ok
}

func decimal128ToString(n decimal128.Num, scale int32) string {
	neg := n.Sign() < 0
	if neg {
		n = n.Negate()
	}
	digits := appendUint128(nil, uint64(n.HighBits()), n.LowBits())
	ip, frac := splitScale(digits, int(scale))
	s := string(ip)
	if len(frac) > 0 {
		s += "." + string(frac)
	}
	if neg && !allZero(digits) {
		s = "-" + s
	}
	return s
}

// appendJSONValue renders value i as JSON: numbers and booleans as such, nested types as arrays
// and objects, everything else as a JSON string of its text form.
func appendJSONValue(dst []byte, arr arrow.Array, i int, opts encodeOpts) []byte {
	arr = unwrapExt(arr)
	if arr.IsNull(i) {
		return append(dst, "null"...)
	}
	switch a := arr.(type) {
	case *array.Boolean, *array.Int8, *array.Int16, *array.Int32, *array.Int64,
		*array.Uint8, *array.Uint16, *array.Uint32, *array.Uint64, *array.Decimal128:
		return appendTextValue(dst, arr, i, opts)
	case *array.Float32, *array.Float64:
		s := len(dst)
		dst = appendTextValue(dst, arr, i, opts)
		if txt := string(dst[s:]); txt == "NaN" || txt == "Infinity" || txt == "-Infinity" {
			dst = append(dst[:s], '"')
			dst = append(dst, txt...)
			dst = append(dst, '"')
		}
		return dst
	case *array.Struct:
		st := a.DataType().(*arrow.StructType)
		dst = append(dst, '{')
		for f := 0; f < a.NumField(); f++ {
			if f > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, []byte(st.Field(f).Name))
			dst = append(dst, ':')
			dst = appendJSONValue(dst, a.Field(f), i, opts)
		}
		return append(dst, '}')
	case *array.Map:
		keys, items := a.Keys(), a.Items()
		s, e := a.ValueOffsets(i)
		dst = append(dst, '{')
		for j := s; j < e; j++ {
			if j > s {
				dst = append(dst, ',')
			}
			var k []byte
			if !keys.IsNull(int(j)) {
				k = appendTextValue(nil, keys, int(j), opts)
			}
			dst = appendJSONString(dst, k)
			dst = append(dst, ':')
			dst = appendJSONValue(dst, items, int(j), opts)
		}
		return append(dst, '}')
	case array.ListLike:
		s, e := a.ValueOffsets(i)
		vals := a.ListValues()
		dst = append(dst, '[')
		for j := s; j < e; j++ {
			if j > s {
				dst = append(dst, ',')
			}
			dst = appendJSONValue(dst, vals, int(j), opts)
		}
		return append(dst, ']')
	case *array.DenseUnion:
		return appendJSONValue(dst, a.Field(a.ChildID(i)), int(a.ValueOffset(i)), opts)
	case *array.SparseUnion:
		return appendJSONValue(dst, a.Field(a.ChildID(i)), i, opts)
	case *array.String, *array.LargeString, *array.StringView:
		if isJSONType(a.DataType()) {
			return append(dst, bytesAt(arr, i)...)
		}
	}
	return appendJSONString(dst, appendTextValue(nil, arr, i, opts))
}

func isJSONType(dt arrow.DataType) bool {
	e, ok := dt.(arrow.ExtensionType)
	return ok && e.ExtensionName() == "arrow.json"
}

func appendJSONString(dst, s []byte) []byte {
	const hexDigits = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c == '\n':
				dst = append(dst, '\\', 'n')
			case c == '\r':
				dst = append(dst, '\\', 'r')
			case c == '\t':
				dst = append(dst, '\\', 't')
			case c < 0x20:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, `\ufffd`...)
		} else {
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}
