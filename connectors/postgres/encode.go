package postgres

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
)

// Array type OIDs of the element types a sink writes.
var arrayOID = map[uint32]uint32{
	oidBool: 1000, oidBytea: 1001, oidInt2: 1005, oidInt4: 1007, oidText: 1009, oidInt8: 1016,
	oidFloat4: 1021, oidFloat8: 1022, oidDate: 1182, oidTime: 1183, oidTimestamp: 1115,
	oidTimestamptz: 1185, oidInterval: 1187, oidNumeric: 1231, oidUUID: 2951, oidJSONB: 3807,
}

// sinkColumn is how one Arrow column is written: the PostgreSQL type it becomes in a created
// (or staging) table, and its binary encoder.
type sinkColumn struct {
	name   string
	pgType string // SQL type of a created table's column, e.g. numeric(10,2)
	oid    uint32 // its type OID
	bind   func(a arrow.Array) encodeFn
}

// encodeFn appends the binary form of row i (never NULL: the caller writes NULLs) to buf.
type encodeFn func(i int, buf []byte) ([]byte, error)

// sinkColumns maps the incoming schema to PostgreSQL types (the inverse of the tap's mapping).
func sinkColumns(s *arrow.Schema) ([]sinkColumn, error) {
	cols := make([]sinkColumn, s.NumFields())
	for i, f := range s.Fields() {
		c, err := columnFor(f.Type, f.Metadata)
		if err != nil {
			return nil, fmt.Errorf("column %q: %w", f.Name, err)
		}
		c.name = f.Name
		cols[i] = c
	}
	return cols, nil
}

func isExt(md arrow.Metadata, name string) bool {
	v, ok := md.GetValue("ARROW:extension:name")
	return ok && v == name
}

func columnFor(t arrow.DataType, md arrow.Metadata) (sinkColumn, error) {
	fixed := func(pgType string, oid uint32, bind func(a arrow.Array) encodeFn) (sinkColumn, error) {
		return sinkColumn{pgType: pgType, oid: oid, bind: bind}, nil
	}
	switch t := t.(type) {
	case *arrow.BooleanType:
		return fixed("boolean", oidBool, func(a arrow.Array) encodeFn {
			x := a.(*array.Boolean)
			return func(i int, b []byte) ([]byte, error) {
				if x.Value(i) {
					return append(b, 1), nil
				}
				return append(b, 0), nil
			}
		})
	case *arrow.Int8Type:
		return fixed("smallint", oidInt2, func(a arrow.Array) encodeFn {
			x := a.(*array.Int8)
			return func(i int, b []byte) ([]byte, error) {
				return binary.BigEndian.AppendUint16(b, uint16(x.Value(i))), nil
			}
		})
	case *arrow.Uint8Type:
		return fixed("smallint", oidInt2, func(a arrow.Array) encodeFn {
			x := a.(*array.Uint8)
			return func(i int, b []byte) ([]byte, error) {
				return binary.BigEndian.AppendUint16(b, uint16(x.Value(i))), nil
			}
		})
	case *arrow.Int16Type:
		return fixed("smallint", oidInt2, func(a arrow.Array) encodeFn {
			x := a.(*array.Int16)
			return func(i int, b []byte) ([]byte, error) {
				return binary.BigEndian.AppendUint16(b, uint16(x.Value(i))), nil
			}
		})
	case *arrow.Uint16Type:
		return fixed("integer", oidInt4, func(a arrow.Array) encodeFn {
			x := a.(*array.Uint16)
			return func(i int, b []byte) ([]byte, error) {
				return binary.BigEndian.AppendUint32(b, uint32(x.Value(i))), nil
			}
		})
	case *arrow.Int32Type:
		return fixed("integer", oidInt4, func(a arrow.Array) encodeFn {
			x := a.(*array.Int32)
			return func(i int, b []byte) ([]byte, error) {
				return binary.BigEndian.AppendUint32(b, uint32(x.Value(i))), nil
			}
		})
	case *arrow.Uint32Type:
		return fixed("bigint", oidInt8, func(a arrow.Array) encodeFn {
			x := a.(*array.Uint32)
			return func(i int, b []byte) ([]byte, error) {
				return binary.BigEndian.AppendUint64(b, uint64(x.Value(i))), nil
			}
		})
	case *arrow.Int64Type:
		return fixed("bigint", oidInt8, func(a arrow.Array) encodeFn {
			x := a.(*array.Int64)
			return func(i int, b []byte) ([]byte, error) {
				return binary.BigEndian.AppendUint64(b, uint64(x.Value(i))), nil
			}
		})
	case *arrow.Uint64Type:
		return fixed("numeric(20,0)", oidNumeric, func(a arrow.Array) encodeFn {
			x := a.(*array.Uint64)
			return func(i int, b []byte) ([]byte, error) {
				return appendNumeric(b, fmt.Sprint(x.Value(i)))
			}
		})
	case *arrow.Float32Type:
		return fixed("real", oidFloat4, func(a arrow.Array) encodeFn {
			x := a.(*array.Float32)
			return func(i int, b []byte) ([]byte, error) {
				return binary.BigEndian.AppendUint32(b, math.Float32bits(x.Value(i))), nil
			}
		})
	case *arrow.Float64Type:
		return fixed("double precision", oidFloat8, func(a arrow.Array) encodeFn {
			x := a.(*array.Float64)
			return func(i int, b []byte) ([]byte, error) {
				return binary.BigEndian.AppendUint64(b, math.Float64bits(x.Value(i))), nil
			}
		})
	case *arrow.Decimal128Type:
		scale := t.Scale
		return fixed(fmt.Sprintf("numeric(%d,%d)", t.Precision, t.Scale), oidNumeric, func(a arrow.Array) encodeFn {
			x := a.(*array.Decimal128)
			return func(i int, b []byte) ([]byte, error) { return appendDecimal128(b, x.Value(i), scale) }
		})
	case *arrow.Decimal256Type:
		scale := t.Scale
		return fixed(fmt.Sprintf("numeric(%d,%d)", t.Precision, t.Scale), oidNumeric, func(a arrow.Array) encodeFn {
			x := a.(*array.Decimal256)
			return func(i int, b []byte) ([]byte, error) { return appendNumeric(b, x.Value(i).ToString(scale)) }
		})
	case *arrow.StringType, *arrow.LargeStringType, *arrow.StringViewType:
		if isExt(md, "arrow.json") {
			return fixed("jsonb", oidJSONB, func(a arrow.Array) encodeFn {
				x := a.(array.StringLike)
				return func(i int, b []byte) ([]byte, error) { return append(append(b, 1), x.Value(i)...), nil }
			})
		}
		return fixed("text", oidText, func(a arrow.Array) encodeFn {
			x := a.(array.StringLike)
			return func(i int, b []byte) ([]byte, error) { return append(b, x.Value(i)...), nil }
		})
	case *arrow.BinaryType, *arrow.LargeBinaryType, *arrow.BinaryViewType:
		return fixed("bytea", oidBytea, func(a arrow.Array) encodeFn {
			x := a.(interface{ Value(int) []byte })
			return func(i int, b []byte) ([]byte, error) { return append(b, x.Value(i)...), nil }
		})
	case *arrow.FixedSizeBinaryType:
		if t.ByteWidth == 16 && isExt(md, "arrow.uuid") {
			return fixed("uuid", oidUUID, func(a arrow.Array) encodeFn {
				x := a.(*array.FixedSizeBinary)
				return func(i int, b []byte) ([]byte, error) { return append(b, x.Value(i)...), nil }
			})
		}
		return fixed("bytea", oidBytea, func(a arrow.Array) encodeFn {
			x := a.(*array.FixedSizeBinary)
			return func(i int, b []byte) ([]byte, error) { return append(b, x.Value(i)...), nil }
		})
	case *arrow.Date32Type:
		return fixed("date", oidDate, func(a arrow.Array) encodeFn {
			x := a.(*array.Date32)
			return func(i int, b []byte) ([]byte, error) {
				d := int32(x.Value(i))
				if d != math.MaxInt32 && d != math.MinInt32 {
					d -= pgEpochDays
				}
				return binary.BigEndian.AppendUint32(b, uint32(d)), nil
			}
		})
	case *arrow.Date64Type:
		return fixed("date", oidDate, func(a arrow.Array) encodeFn {
			x := a.(*array.Date64)
			return func(i int, b []byte) ([]byte, error) {
				d := int32(int64(x.Value(i))/86400000) - pgEpochDays
				return binary.BigEndian.AppendUint32(b, uint32(d)), nil
			}
		})
	case *arrow.Time32Type:
		mul := int64(1000000)
		if t.Unit == arrow.Millisecond {
			mul = 1000
		}
		return fixed("time", oidTime, func(a arrow.Array) encodeFn {
			x := a.(*array.Time32)
			return func(i int, b []byte) ([]byte, error) {
				return binary.BigEndian.AppendUint64(b, uint64(int64(x.Value(i))*mul)), nil
			}
		})
	case *arrow.Time64Type:
		div := int64(1)
		if t.Unit == arrow.Nanosecond {
			div = 1000
		}
		return fixed("time", oidTime, func(a arrow.Array) encodeFn {
			x := a.(*array.Time64)
			return func(i int, b []byte) ([]byte, error) {
				return binary.BigEndian.AppendUint64(b, uint64(int64(x.Value(i))/div)), nil
			}
		})
	case *arrow.TimestampType:
		pgType, oid := "timestamp", uint32(oidTimestamp)
		if t.TimeZone != "" {
			pgType, oid = "timestamptz", oidTimestamptz
		}
		toMicros := unitToMicros(t.Unit)
		return fixed(pgType, oid, func(a arrow.Array) encodeFn {
			x := a.(*array.Timestamp)
			return func(i int, b []byte) ([]byte, error) {
				v := int64(x.Value(i))
				if v != math.MaxInt64 && v != math.MinInt64 {
					v = toMicros(v) - pgEpochMicros
				}
				return binary.BigEndian.AppendUint64(b, uint64(v)), nil
			}
		})
	case *arrow.MonthDayNanoIntervalType:
		return fixed("interval", oidInterval, func(a arrow.Array) encodeFn {
			x := a.(*array.MonthDayNanoInterval)
			return func(i int, b []byte) ([]byte, error) {
				v := x.Value(i)
				b = binary.BigEndian.AppendUint64(b, uint64(v.Nanoseconds/1000))
				b = binary.BigEndian.AppendUint32(b, uint32(v.Days))
				return binary.BigEndian.AppendUint32(b, uint32(v.Months)), nil
			}
		})
	case *arrow.DurationType:
		toMicros := unitToMicros(t.Unit)
		return fixed("interval", oidInterval, func(a arrow.Array) encodeFn {
			x := a.(*array.Duration)
			return func(i int, b []byte) ([]byte, error) {
				b = binary.BigEndian.AppendUint64(b, uint64(toMicros(int64(x.Value(i)))))
				return append(b, 0, 0, 0, 0, 0, 0, 0, 0), nil
			}
		})
	case *arrow.DictionaryType:
		inner, err := columnFor(t.ValueType, md)
		if err != nil {
			return sinkColumn{}, err
		}
		return sinkColumn{pgType: inner.pgType, oid: inner.oid, bind: func(a arrow.Array) encodeFn {
			d := a.(*array.Dictionary)
			enc := inner.bind(d.Dictionary())
			return func(i int, b []byte) ([]byte, error) { return enc(d.GetValueIndex(i), b) }
		}}, nil
	case *arrow.NullType:
		return fixed("text", oidText, func(a arrow.Array) encodeFn {
			return func(i int, b []byte) ([]byte, error) { return b, nil }
		})
	case arrow.ListLikeType:
		if _, nested := t.Elem().(arrow.ListLikeType); !nested {
			if _, isMap := t.(*arrow.MapType); !isMap {
				elem, err := columnFor(t.Elem(), t.ElemField().Metadata)
				if err != nil {
					return sinkColumn{}, fmt.Errorf("list element: %w", err)
				}
				if aoid, ok := arrayOID[elem.oid]; ok {
					return sinkColumn{pgType: elem.pgType + "[]", oid: aoid, bind: func(a arrow.Array) encodeFn {
						return arrayEncoder(a.(array.ListLike), elem)
					}}, nil
				}
			}
		}
	}
	switch t.(type) {
	case *arrow.StructType, *arrow.MapType, arrow.ListLikeType:
		// Nested values become jsonb documents.
		return fixed("jsonb", oidJSONB, func(a arrow.Array) encodeFn {
			return func(i int, b []byte) ([]byte, error) {
				js, err := json.Marshal(a.GetOneForMarshal(i))
				if err != nil {
					return nil, err
				}
				return append(append(b, 1), js...), nil
			}
		})
	}
	return sinkColumn{}, fmt.Errorf("type %s has no PostgreSQL equivalent (cast it in the query)", t)
}

func unitToMicros(u arrow.TimeUnit) func(int64) int64 {
	switch u {
	case arrow.Second:
		return func(v int64) int64 { return v * 1000000 }
	case arrow.Millisecond:
		return func(v int64) int64 { return v * 1000 }
	case arrow.Nanosecond:
		return func(v int64) int64 { return v / 1000 }
	}
	return func(v int64) int64 { return v }
}

// arrayEncoder writes a list as a one-dimensional PostgreSQL array.
func arrayEncoder(l array.ListLike, elem sinkColumn) encodeFn {
	values := l.ListValues()
	enc := elem.bind(values)
	return func(i int, b []byte) ([]byte, error) {
		start, end := l.ValueOffsets(i)
		n := int(end - start)
		hasNull := 0
		for j := start; j < end; j++ {
			if values.IsNull(int(j)) {
				hasNull = 1
				break
			}
		}
		if n == 0 {
			b = binary.BigEndian.AppendUint32(b, 0)
			b = binary.BigEndian.AppendUint32(b, 0)
			return binary.BigEndian.AppendUint32(b, elem.oid), nil
		}
		b = binary.BigEndian.AppendUint32(b, 1)
		b = binary.BigEndian.AppendUint32(b, uint32(hasNull))
		b = binary.BigEndian.AppendUint32(b, elem.oid)
		b = binary.BigEndian.AppendUint32(b, uint32(n))
		b = binary.BigEndian.AppendUint32(b, 1)
		for j := start; j < end; j++ {
			if values.IsNull(int(j)) {
				b = binary.BigEndian.AppendUint32(b, math.MaxUint32)
				continue
			}
			at := len(b)
			b = append(b, 0, 0, 0, 0)
			var err error
			if b, err = enc(int(j), b); err != nil {
				return nil, err
			}
			binary.BigEndian.PutUint32(b[at:], uint32(len(b)-at-4))
		}
		return b, nil
	}
}

func appendDecimal128(b []byte, n decimal128.Num, scale int32) ([]byte, error) {
	return appendNumeric(b, n.ToString(scale))
}

// appendNumeric writes a decimal string ("-123.4500") as PostgreSQL's binary numeric:
// base-10000 digit groups around the decimal point.
func appendNumeric(b []byte, s string) ([]byte, error) {
	sign := uint16(0)
	if strings.HasPrefix(s, "-") {
		sign, s = 0x4000, s[1:]
	}
	intPart, frac, _ := strings.Cut(s, ".")
	if strings.ContainsAny(intPart+frac, "eE+-") {
		return nil, fmt.Errorf("bad decimal %q", s)
	}
	dscale := len(frac)
	if pad := (4 - len(intPart)%4) % 4; pad > 0 {
		intPart = strings.Repeat("0", pad) + intPart
	}
	if pad := (4 - len(frac)%4) % 4; pad > 0 {
		frac += strings.Repeat("0", pad)
	}
	all := intPart + frac
	groups := make([]uint16, 0, len(all)/4)
	for i := 0; i < len(all); i += 4 {
		var g uint16
		for _, ch := range all[i : i+4] {
			g = g*10 + uint16(ch-'0')
		}
		groups = append(groups, g)
	}
	weight := len(intPart)/4 - 1
	for len(groups) > 0 && groups[0] == 0 {
		groups = groups[1:]
		weight--
	}
	for len(groups) > 0 && groups[len(groups)-1] == 0 {
		groups = groups[:len(groups)-1]
	}
	if len(groups) == 0 {
		weight, sign = 0, 0
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(groups)))
	b = binary.BigEndian.AppendUint16(b, uint16(int16(weight)))
	b = binary.BigEndian.AppendUint16(b, sign)
	b = binary.BigEndian.AppendUint16(b, uint16(dscale))
	for _, g := range groups {
		b = binary.BigEndian.AppendUint16(b, g)
	}
	return b, nil
}

// copyIn is the binary COPY FROM STDIN stream of a record reader (io.Reader for pgconn's
// CopyFrom). It encodes rows as the server asks for bytes, so memory stays at one batch plus
// one buffer.
type copyIn struct {
	ctx     context.Context
	rows    array.RecordReader
	cols    []sinkColumn
	buf     []byte
	pos     int
	started bool
	done    bool
	n       int64
	err     error // an upstream or encoding error (pgconn sends CopyFail with it)
}

const copyInBuffer = 256 << 10

func (c *copyIn) Read(p []byte) (int, error) {
	for c.pos >= len(c.buf) {
		if c.done {
			return 0, io.EOF
		}
		if err := c.fill(); err != nil {
			c.err = err
			return 0, err
		}
	}
	n := copy(p, c.buf[c.pos:])
	c.pos += n
	return n, nil
}

func (c *copyIn) fill() error {
	c.buf, c.pos = c.buf[:0], 0
	if !c.started {
		c.started = true
		c.buf = append(c.buf, copySignature...)
		c.buf = append(c.buf, 0, 0, 0, 0, 0, 0, 0, 0)
	}
	if err := c.ctx.Err(); err != nil {
		return err
	}
	if !c.rows.Next() {
		if err := c.rows.Err(); err != nil {
			return err
		}
		c.done = true
		c.buf = append(c.buf, 0xff, 0xff)
		return nil
	}
	rec := c.rows.RecordBatch()
	encs := make([]encodeFn, len(c.cols))
	arrs := rec.Columns()
	for j, col := range c.cols {
		encs[j] = col.bind(arrs[j])
	}
	nf := len(c.cols)
	var err error
	for i := 0; i < int(rec.NumRows()); i++ {
		c.buf = binary.BigEndian.AppendUint16(c.buf, uint16(nf))
		for j, enc := range encs {
			if arrs[j].IsNull(i) {
				c.buf = binary.BigEndian.AppendUint32(c.buf, math.MaxUint32)
				continue
			}
			at := len(c.buf)
			c.buf = append(c.buf, 0, 0, 0, 0)
			if c.buf, err = enc(i, c.buf); err != nil {
				return fmt.Errorf("row %d, column %q: %w", c.n+1, c.cols[j].name, err)
			}
			binary.BigEndian.PutUint32(c.buf[at:], uint32(len(c.buf)-at-4))
		}
		c.n++
	}
	return nil
}
