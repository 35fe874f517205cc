package postgres

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/jackc/pgx/v5/pgconn"
)

// Built-in type OIDs (pg_type.oid, fixed across PostgreSQL versions).
const (
	oidBool        = 16
	oidBytea       = 17
	oidName        = 19
	oidInt8        = 20
	oidInt2        = 21
	oidInt4        = 23
	oidText        = 25
	oidJSON        = 114
	oidFloat4      = 700
	oidFloat8      = 701
	oidBPChar      = 1042
	oidVarchar     = 1043
	oidDate        = 1082
	oidTime        = 1083
	oidTimestamp   = 1114
	oidTimestamptz = 1184
	oidInterval    = 1186
	oidNumeric     = 1700
	oidUUID        = 2950
	oidJSONB       = 3802
)

// Days and microseconds between the Unix epoch and PostgreSQL's (2000-01-01).
const (
	pgEpochDays   = 10957
	pgEpochMicros = pgEpochDays * 86400 * 1000000
)

// extension marks Arrow fields with a canonical extension type, which DuckDB reads as its own
// UUID and JSON types.
func extension(name string) arrow.Metadata {
	return arrow.NewMetadata([]string{"ARROW:extension:name", "ARROW:extension:metadata"}, []string{name, ""})
}

// pgType is a resolved column type: what Arrow type it becomes and how its binary form is
// decoded. Types without a binary decoder are read as text: the tap casts them with ::text (or
// ::text[]) in the query it pushes down.
type pgType struct {
	oid      uint32
	typmod   int32
	kind     uint32  // base type OID after domains are resolved; 0 = read as text
	elem     *pgType // array element, for arrays
	castText string  // "text" or "text[]" when the column must be cast on the server
	arrow    arrow.DataType
	meta     arrow.Metadata
	prec     int32 // numeric precision and scale
	scale    int32
}

// typeInfo is one pg_type row.
type typeInfo struct {
	typtype  string // b base, d domain, e enum, …
	category string // A array, …
	elem     uint32
	base     uint32
	baseMod  int32
}

// resolveTypes looks up the pg_type rows of the given OIDs, following domains to their base
// types and arrays to their elements.
func resolveTypes(ctx context.Context, pc *pgconn.PgConn, oids []uint32) (map[uint32]typeInfo, error) {
	out := map[uint32]typeInfo{}
	todo := oids
	for len(todo) > 0 {
		var ids []string
		for _, o := range todo {
			if _, ok := out[o]; !ok && o != 0 {
				ids = append(ids, strconv.FormatUint(uint64(o), 10))
			}
		}
		if len(ids) == 0 {
			break
		}
		rows, err := query(ctx, pc, `SELECT oid, typtype, typcategory, typelem, typbasetype, typtypmod
			FROM pg_catalog.pg_type WHERE oid = ANY($1::oid[])`, "{"+strings.Join(ids, ",")+"}")
		if err != nil {
			return nil, err
		}
		todo = todo[:0:0]
		for _, r := range rows {
			o, _ := strconv.ParseUint(r[0], 10, 32)
			el, _ := strconv.ParseUint(r[3], 10, 32)
			base, _ := strconv.ParseUint(r[4], 10, 32)
			mod, _ := strconv.ParseInt(r[5], 10, 32)
			ti := typeInfo{typtype: r[1], category: r[2], elem: uint32(el), base: uint32(base), baseMod: int32(mod)}
			out[uint32(o)] = ti
			if ti.typtype == "d" {
				todo = append(todo, ti.base)
			} else if ti.category == "A" && ti.elem != 0 {
				todo = append(todo, ti.elem)
			}
		}
	}
	return out, nil
}

// newPgType maps a column's type (oid, typmod) to Arrow.
func newPgType(oid uint32, typmod int32, info map[uint32]typeInfo, inArray bool) *pgType {
	t := &pgType{oid: oid, typmod: typmod}
	// Domains: their base type's representation (typmod of the domain's base).
	for depth := 0; depth < 10; depth++ {
		ti, ok := info[oid]
		if !ok || ti.typtype != "d" {
			break
		}
		oid, typmod = ti.base, ti.baseMod
	}
	ti := info[oid]
	switch oid {
	case oidBool:
		t.arrow = arrow.FixedWidthTypes.Boolean
	case oidInt2:
		t.arrow = arrow.PrimitiveTypes.Int16
	case oidInt4:
		t.arrow = arrow.PrimitiveTypes.Int32
	case oidInt8:
		t.arrow = arrow.PrimitiveTypes.Int64
	case oidFloat4:
		t.arrow = arrow.PrimitiveTypes.Float32
	case oidFloat8:
		t.arrow = arrow.PrimitiveTypes.Float64
	case oidText, oidVarchar, oidBPChar, oidName:
		t.arrow = arrow.BinaryTypes.String
	case oidJSON, oidJSONB:
		t.arrow = arrow.BinaryTypes.String
		t.meta = extension("arrow.json")
	case oidBytea:
		t.arrow = arrow.BinaryTypes.Binary
	case oidDate:
		t.arrow = arrow.FixedWidthTypes.Date32
	case oidTime:
		t.arrow = arrow.FixedWidthTypes.Time64us
	case oidTimestamp:
		t.arrow = &arrow.TimestampType{Unit: arrow.Microsecond}
	case oidTimestamptz:
		t.arrow = &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}
	case oidInterval:
		t.arrow = arrow.FixedWidthTypes.MonthDayNanoInterval
	case oidUUID:
		t.arrow = &arrow.FixedSizeBinaryType{ByteWidth: 16}
		t.meta = extension("arrow.uuid")
	case oidNumeric:
		// numeric(p,s) with p <= 38 fits DuckDB's DECIMAL; unconstrained numeric (and wider
		// or negative-scale ones) keep their exact digits as text.
		if typmod >= 4 {
			p := int32((typmod - 4) >> 16 & 0xffff)
			s := int32(((typmod-4)&0x7ff)^1024) - 1024
			if p >= 1 && p <= 38 && s >= 0 && s <= p {
				t.arrow = &arrow.Decimal128Type{Precision: p, Scale: s}
				t.prec, t.scale = p, s
			}
		}
	default:
		switch {
		case ti.typtype == "e":
			// An enum's binary form is its label.
			t.arrow = arrow.BinaryTypes.String
			oid = oidText
		case ti.category == "A" && ti.elem != 0 && !inArray:
			el := newPgType(ti.elem, typmod, info, true)
			if el.kind == 0 {
				t.castText = "text[]"
				el = newPgType(oidText, -1, info, true)
			}
			t.elem = el
			t.kind = oid
			t.arrow = arrow.ListOfField(arrow.Field{Name: "l", Type: el.arrow, Nullable: true, Metadata: el.meta})
			return t
		}
	}
	if t.arrow == nil {
		// Everything else (inet, cidr, timetz, money, xml, ranges, unconstrained numeric, …)
		// is read in PostgreSQL's text form.
		if !inArray {
			t.castText = "text"
		}
		t.arrow = arrow.BinaryTypes.String
		return t
	}
	t.kind = oid
	return t
}

// decoder appends one binary value (nil = NULL) to a builder.
type decoder func(v []byte) error

func errLen(what string, n int) error {
	return fmt.Errorf("malformed %s value (%d bytes)", what, n)
}

// appender is an Arrow builder of fixed-width values.
type appender[T any] interface {
	Append(T)
	AppendNull()
}

// fixedDecoder decodes values of exactly size bytes with conv.
func fixedDecoder[T any](b appender[T], size int, what string, conv func([]byte) T) decoder {
	return func(v []byte) error {
		if v == nil {
			b.AppendNull()
			return nil
		}
		if len(v) != size {
			return errLen(what, len(v))
		}
		b.Append(conv(v))
		return nil
	}
}

// bytesDecoder appends values as they are (text in the client encoding, UTF-8, or bytea).
func bytesDecoder(b *array.BinaryBuilder) decoder {
	return func(v []byte) error {
		if v == nil {
			b.AppendNull()
		} else {
			b.Append(v)
		}
		return nil
	}
}

// newDecoder binds a decoder for type t to builder b.
func newDecoder(t *pgType, b array.Builder) decoder {
	if t.kind == 0 {
		return bytesDecoder(b.(*array.StringBuilder).BinaryBuilder)
	}
	if t.elem != nil {
		return newArrayDecoder(t, b.(*array.ListBuilder))
	}
	switch t.kind {
	case oidBool:
		return fixedDecoder(b.(*array.BooleanBuilder), 1, "bool", func(v []byte) bool { return v[0] != 0 })
	case oidInt2:
		return fixedDecoder(b.(*array.Int16Builder), 2, "int2", func(v []byte) int16 { return int16(binary.BigEndian.Uint16(v)) })
	case oidInt4:
		return fixedDecoder(b.(*array.Int32Builder), 4, "int4", func(v []byte) int32 { return int32(binary.BigEndian.Uint32(v)) })
	case oidInt8:
		return fixedDecoder(b.(*array.Int64Builder), 8, "int8", func(v []byte) int64 { return int64(binary.BigEndian.Uint64(v)) })
	case oidFloat4:
		return fixedDecoder(b.(*array.Float32Builder), 4, "float4", func(v []byte) float32 { return math.Float32frombits(binary.BigEndian.Uint32(v)) })
	case oidFloat8:
		return fixedDecoder(b.(*array.Float64Builder), 8, "float8", func(v []byte) float64 { return math.Float64frombits(binary.BigEndian.Uint64(v)) })
	case oidText, oidVarchar, oidBPChar, oidName, oidJSON:
		return bytesDecoder(b.(*array.StringBuilder).BinaryBuilder)
	case oidJSONB:
		sb := b.(*array.StringBuilder)
		return func(v []byte) error {
			if v == nil {
				sb.AppendNull()
				return nil
			}
			if len(v) < 1 || v[0] != 1 {
				return fmt.Errorf("unknown jsonb binary version")
			}
			sb.BinaryBuilder.Append(v[1:])
			return nil
		}
	case oidBytea:
		return bytesDecoder(b.(*array.BinaryBuilder))
	case oidDate:
		return fixedDecoder(b.(*array.Date32Builder), 4, "date", func(v []byte) arrow.Date32 {
			d := int32(binary.BigEndian.Uint32(v))
			if d != math.MaxInt32 && d != math.MinInt32 { // ±infinity stay DuckDB's ±infinity
				d += pgEpochDays
			}
			return arrow.Date32(d)
		})
	case oidTime:
		return fixedDecoder(b.(*array.Time64Builder), 8, "time", func(v []byte) arrow.Time64 { return arrow.Time64(binary.BigEndian.Uint64(v)) })
	case oidTimestamp, oidTimestamptz:
		return fixedDecoder(b.(*array.TimestampBuilder), 8, "timestamp", func(v []byte) arrow.Timestamp {
			us := int64(binary.BigEndian.Uint64(v))
			if us != math.MaxInt64 && us != math.MinInt64 {
				us += pgEpochMicros
			}
			return arrow.Timestamp(us)
		})
	case oidInterval:
		return fixedDecoder(b.(*array.MonthDayNanoIntervalBuilder), 16, "interval", func(v []byte) arrow.MonthDayNanoInterval {
			return arrow.MonthDayNanoInterval{
				Nanoseconds: int64(binary.BigEndian.Uint64(v)) * 1000,
				Days:        int32(binary.BigEndian.Uint32(v[8:])),
				Months:      int32(binary.BigEndian.Uint32(v[12:])),
			}
		})
	case oidUUID:
		// The bytes are appended (copied) before the next value is read.
		return fixedDecoder(b.(*array.FixedSizeBinaryBuilder), 16, "uuid", func(v []byte) []byte { return v })
	case oidNumeric:
		db := b.(*array.Decimal128Builder)
		prec, scale := t.prec, t.scale
		return func(v []byte) error {
			if v == nil {
				db.AppendNull()
				return nil
			}
			n, err := numericToDecimal(v, scale)
			if err != nil {
				return err
			}
			if !n.FitsInPrecision(prec) {
				return fmt.Errorf("numeric value does not fit numeric(%d,%d)", prec, scale)
			}
			db.Append(n)
			return nil
		}
	}
	panic(fmt.Sprintf("postgres: no decoder for type %d", t.kind))
}

// newArrayDecoder decodes one-dimensional arrays into Arrow lists (lower bounds are dropped:
// a list starts at its first element).
func newArrayDecoder(t *pgType, lb *array.ListBuilder) decoder {
	elem := newDecoder(t.elem, lb.ValueBuilder())
	return func(v []byte) error {
		if v == nil {
			lb.AppendNull()
			return nil
		}
		if len(v) < 12 {
			return errLen("array", len(v))
		}
		ndim := int32(binary.BigEndian.Uint32(v))
		lb.Append(true)
		if ndim == 0 {
			return nil
		}
		if ndim != 1 {
			return fmt.Errorf("%d-dimensional array: only one-dimensional arrays are read (cast it to text in the query)", ndim)
		}
		if len(v) < 20 {
			return errLen("array", len(v))
		}
		n := int(int32(binary.BigEndian.Uint32(v[12:])))
		p := v[20:]
		for i := 0; i < n; i++ {
			if len(p) < 4 {
				return errLen("array", len(v))
			}
			l := int32(binary.BigEndian.Uint32(p))
			p = p[4:]
			if l < 0 {
				if err := elem(nil); err != nil {
					return err
				}
				continue
			}
			if int(l) > len(p) {
				return errLen("array", len(v))
			}
			if err := elem(p[:l:l]); err != nil {
				return err
			}
			p = p[l:]
		}
		return nil
	}
}

// numericToDecimal converts PostgreSQL's binary numeric (base-10000 digits) to a decimal with
// the given scale.
func numericToDecimal(v []byte, scale int32) (decimal128.Num, error) {
	if len(v) < 8 {
		return decimal128.Num{}, errLen("numeric", len(v))
	}
	ndigits := int(binary.BigEndian.Uint16(v))
	weight := int(int16(binary.BigEndian.Uint16(v[2:])))
	sign := binary.BigEndian.Uint16(v[4:])
	switch sign {
	case 0xC000:
		return decimal128.Num{}, fmt.Errorf("numeric NaN cannot be a DECIMAL (cast the column to float8 or text in the query)")
	case 0xD000, 0xF000:
		return decimal128.Num{}, fmt.Errorf("numeric infinity cannot be a DECIMAL (cast the column to float8 or text in the query)")
	}
	if len(v) < 8+2*ndigits {
		return decimal128.Num{}, errLen("numeric", len(v))
	}
	// value = digits as one integer × 10^exp
	exp := 4*(weight-(ndigits-1)) + int(scale)
	var n decimal128.Num
	if ndigits <= 4 {
		var u uint64
		for i := 0; i < ndigits; i++ {
			u = u*10000 + uint64(binary.BigEndian.Uint16(v[8+2*i:]))
		}
		n = decimal128.FromU64(u)
		if exp >= 0 {
			n = n.IncreaseScaleBy(int32(exp))
		} else {
			n = n.ReduceScaleBy(int32(-exp), false)
		}
	} else {
		b := new(big.Int)
		tenK := big.NewInt(10000)
		for i := 0; i < ndigits; i++ {
			b.Mul(b, tenK)
			b.Add(b, big.NewInt(int64(binary.BigEndian.Uint16(v[8+2*i:]))))
		}
		if exp >= 0 {
			b.Mul(b, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(exp)), nil))
		} else {
			b.Quo(b, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(-exp)), nil))
		}
		if b.BitLen() > 126 {
			return decimal128.Num{}, fmt.Errorf("numeric value out of DECIMAL range")
		}
		n = decimal128.FromBigInt(b)
	}
	if sign == 0x4000 {
		n = n.Negate()
	}
	return n, nil
}
