package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Batch limits of RowReader: a batch closes at DefaultBatchRows rows or when its values reach
// maxBatchBytes (wide BLOB rows), whichever comes first.
const (
	DefaultBatchRows = 4096
	maxBatchBytes    = 32 << 20
)

// RowReader streams a MySQL result as Arrow record batches (it implements
// array.RecordReader). The schema comes from the result's column metadata, so it is known
// before the first row is read; rows are read from the network batch by batch.
//
// MySQL types become these Arrow types:
//
//	TINYINT, SMALLINT, MEDIUMINT, INT, BIGINT   int8, int16, int32, int32, int64 (unsigned: uint8…uint64)
//	DECIMAL(p,s)                                decimal128(p,s); p > 38 → utf8 with the exact digits
//	FLOAT, DOUBLE                               float32, float64
//	CHAR, VARCHAR, TEXT, ENUM, SET, JSON        utf8 (MariaDB's JSON is LONGTEXT and reads the same)
//	BINARY, VARBINARY, BLOB, GEOMETRY           binary
//	DATE                                        date32
//	DATETIME                                    timestamp[us] (no time zone: wall-clock values)
//	TIMESTAMP                                   timestamp[us, UTC] (an instant)
//	TIME                                        duration[us] (MySQL's TIME spans -838:59:59…838:59:59)
//	YEAR                                        int16
//	BIT(n)                                      uint64
//	NULL (e.g. SELECT NULL)                     null
//
// Zero dates ('0000-00-00', '2024-00-00', …), which MySQL allows in non-strict modes, read as
// NULL.
type RowReader struct {
	refs      atomic.Int64
	ctx       context.Context
	rows      *sql.Rows
	schema    *arrow.Schema
	bld       *array.RecordBuilder
	cols      []*colScanner
	dest      []any
	batchRows int
	cur       arrow.RecordBatch
	err       error
	done      bool
	closed    bool
	total     int64
}

var _ array.RecordReader = (*RowReader)(nil)

// NewRowReader wraps rows (which it closes on Release). batchRows <= 0 means DefaultBatchRows.
func NewRowReader(ctx context.Context, rows *sql.Rows, cols []*sql.ColumnType, batchRows int) (*RowReader, error) {
	if batchRows <= 0 {
		batchRows = DefaultBatchRows
	}
	fields := make([]arrow.Field, len(cols))
	convs := make([]converter, len(cols))
	for i, c := range cols {
		dt, conv, err := arrowColumn(c)
		if err != nil {
			return nil, err
		}
		nullable, ok := c.Nullable()
		fields[i] = arrow.Field{Name: c.Name(), Type: dt, Nullable: nullable || !ok}
		convs[i] = conv
	}
	r := &RowReader{
		ctx:       ctx,
		rows:      rows,
		schema:    arrow.NewSchema(fields, nil),
		batchRows: batchRows,
	}
	r.bld = array.NewRecordBuilder(memory.DefaultAllocator, r.schema)
	r.cols = make([]*colScanner, len(cols))
	r.dest = make([]any, len(cols))
	for i := range cols {
		r.cols[i] = &colScanner{name: cols[i].Name(), dbType: cols[i].DatabaseTypeName(), b: r.bld.Field(i), conv: convs[i], r: r}
		r.dest[i] = r.cols[i]
	}
	r.refs.Store(1)
	return r, nil
}

// Schema implements array.RecordReader.
func (r *RowReader) Schema() *arrow.Schema { return r.schema }

// Next reads the next batch of rows.
func (r *RowReader) Next() bool {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	if r.done || r.closed || r.err != nil {
		return false
	}
	n := 0
	bytes := 0
	for n < r.batchRows && bytes < maxBatchBytes {
		if n%256 == 0 {
			if err := r.ctx.Err(); err != nil {
				r.fail(err)
				return false
			}
		}
		if !r.rows.Next() {
			r.done = true
			if err := r.rows.Err(); err != nil {
				r.fail(err)
				return false
			}
			if err := r.rows.Close(); err != nil {
				r.fail(err)
				return false
			}
			break
		}
		for _, c := range r.cols {
			c.bytes = 0
		}
		if err := r.rows.Scan(r.dest...); err != nil {
			r.fail(err)
			return false
		}
		for _, c := range r.cols {
			bytes += c.bytes
		}
		n++
	}
	if n == 0 {
		return false
	}
	r.cur = r.bld.NewRecordBatch()
	r.total += int64(n)
	return true
}

func (r *RowReader) fail(err error) {
	if ctxErr := r.ctx.Err(); ctxErr != nil && err != ctxErr {
		err = fmt.Errorf("%w (%v)", ctxErr, err)
	}
	r.err = err
	r.rows.Close()
}

// RecordBatch implements array.RecordReader: the current batch, valid until the next Next.
func (r *RowReader) RecordBatch() arrow.RecordBatch { return r.cur }

// Record implements the deprecated half of array.RecordReader.
func (r *RowReader) Record() arrow.RecordBatch { return r.cur }

// Err is the error that stopped the stream, if any.
func (r *RowReader) Err() error { return r.err }

// RowCount is the number of rows read so far.
func (r *RowReader) RowCount() int64 { return r.total }

// Retain implements array.RecordReader.
func (r *RowReader) Retain() { r.refs.Add(1) }

// Release implements array.RecordReader; the last release closes the MySQL result (unread rows
// are discarded by the driver) and frees the builders.
func (r *RowReader) Release() {
	if r.refs.Add(-1) > 0 || r.closed {
		return
	}
	r.closed = true
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	r.rows.Close()
	r.bld.Release()
}

// colScanner receives one column's value from database/sql (it is the Scan destination) and
// appends it straight to the column's Arrow builder.
type colScanner struct {
	name   string
	dbType string
	b      array.Builder
	conv   converter
	r      *RowReader
	bytes  int
}

// converter appends a non-NULL driver value (int64, uint64, float32, float64 or []byte, which
// is only valid during the call) to the builder.
type converter func(b array.Builder, src any) error

func (c *colScanner) Scan(src any) error {
	if src == nil {
		c.b.AppendNull()
		return nil
	}
	if bs, ok := src.([]byte); ok {
		c.bytes += len(bs)
	} else {
		c.bytes += 8
	}
	if err := c.conv(c.b, src); err != nil {
		return fmt.Errorf("column %s (%s): %w", QuoteIdent(c.name), c.dbType, err)
	}
	return nil
}

// arrowColumn maps a MySQL result column to its Arrow type and value converter.
func arrowColumn(c *sql.ColumnType) (arrow.DataType, converter, error) {
	switch t := c.DatabaseTypeName(); t {
	case "TINYINT":
		return arrow.PrimitiveTypes.Int8, intConv(func(b array.Builder, v int64) { b.(*array.Int8Builder).Append(int8(v)) }), nil
	case "SMALLINT":
		return arrow.PrimitiveTypes.Int16, intConv(func(b array.Builder, v int64) { b.(*array.Int16Builder).Append(int16(v)) }), nil
	case "YEAR":
		return arrow.PrimitiveTypes.Int16, intConv(func(b array.Builder, v int64) { b.(*array.Int16Builder).Append(int16(v)) }), nil
	case "MEDIUMINT", "INT":
		return arrow.PrimitiveTypes.Int32, intConv(func(b array.Builder, v int64) { b.(*array.Int32Builder).Append(int32(v)) }), nil
	case "BIGINT":
		return arrow.PrimitiveTypes.Int64, intConv(func(b array.Builder, v int64) { b.(*array.Int64Builder).Append(v) }), nil
	case "UNSIGNED TINYINT":
		return arrow.PrimitiveTypes.Uint8, uintConv(func(b array.Builder, v uint64) { b.(*array.Uint8Builder).Append(uint8(v)) }), nil
	case "UNSIGNED SMALLINT":
		return arrow.PrimitiveTypes.Uint16, uintConv(func(b array.Builder, v uint64) { b.(*array.Uint16Builder).Append(uint16(v)) }), nil
	case "UNSIGNED MEDIUMINT", "UNSIGNED INT":
		return arrow.PrimitiveTypes.Uint32, uintConv(func(b array.Builder, v uint64) { b.(*array.Uint32Builder).Append(uint32(v)) }), nil
	case "UNSIGNED BIGINT":
		return arrow.PrimitiveTypes.Uint64, uintConv(func(b array.Builder, v uint64) { b.(*array.Uint64Builder).Append(v) }), nil
	case "BIT":
		return arrow.PrimitiveTypes.Uint64, bitConv, nil
	case "FLOAT":
		return arrow.PrimitiveTypes.Float32, floatConv(func(b array.Builder, v float64) { b.(*array.Float32Builder).Append(float32(v)) }), nil
	case "DOUBLE":
		return arrow.PrimitiveTypes.Float64, floatConv(func(b array.Builder, v float64) { b.(*array.Float64Builder).Append(v) }), nil
	case "DECIMAL":
		p, s, ok := c.DecimalSize()
		if !ok || p <= 0 || p > 38 || s < 0 || s > p {
			// Wider than decimal128 (MySQL allows 65 digits): keep the exact digits as text.
			return arrow.BinaryTypes.String, stringConv, nil
		}
		return &arrow.Decimal128Type{Precision: int32(p), Scale: int32(s)}, decimalConv(int32(p), int32(s)), nil
	case "CHAR", "VARCHAR", "TINYTEXT", "TEXT", "MEDIUMTEXT", "LONGTEXT", "ENUM", "SET", "JSON":
		return arrow.BinaryTypes.String, stringConv, nil
	case "BINARY", "VARBINARY", "TINYBLOB", "BLOB", "MEDIUMBLOB", "LONGBLOB", "GEOMETRY", "VECTOR":
		return arrow.BinaryTypes.Binary, binaryConv, nil
	case "DATE":
		return arrow.FixedWidthTypes.Date32, dateConv, nil
	case "DATETIME":
		return &arrow.TimestampType{Unit: arrow.Microsecond}, timestampConv, nil
	case "TIMESTAMP":
		return &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, timestampConv, nil
	case "TIME":
		return &arrow.DurationType{Unit: arrow.Microsecond}, timeConv, nil
	case "NULL":
		return arrow.Null, func(b array.Builder, _ any) error { b.AppendNull(); return nil }, nil
	default:
		return nil, nil, fmt.Errorf("column %s: MySQL type %q has no Arrow mapping; CAST it in the tap query", QuoteIdent(c.Name()), t)
	}
}

func intConv(app func(array.Builder, int64)) converter {
	return func(b array.Builder, src any) error {
		switch v := src.(type) {
		case int64:
			app(b, v)
			return nil
		case []byte:
			n, err := strconv.ParseInt(string(v), 10, 64)
			if err != nil {
				return err
			}
			app(b, n)
			return nil
		}
		return fmt.Errorf("unexpected driver value %T", src)
	}
}

func uintConv(app func(array.Builder, uint64)) converter {
	return func(b array.Builder, src any) error {
		switch v := src.(type) {
		case int64:
			app(b, uint64(v))
			return nil
		case uint64:
			app(b, v)
			return nil
		case []byte:
			n, err := strconv.ParseUint(string(v), 10, 64)
			if err != nil {
				return err
			}
			app(b, n)
			return nil
		}
		return fmt.Errorf("unexpected driver value %T", src)
	}
}

func floatConv(app func(array.Builder, float64)) converter {
	return func(b array.Builder, src any) error {
		switch v := src.(type) {
		case float32:
			app(b, float64(v))
			return nil
		case float64:
			app(b, v)
			return nil
		case []byte:
			f, err := strconv.ParseFloat(string(v), 64)
			if err != nil {
				return err
			}
			app(b, f)
			return nil
		}
		return fmt.Errorf("unexpected driver value %T", src)
	}
}

// bitConv reads BIT(n) values, which the server sends as big-endian bytes.
func bitConv(b array.Builder, src any) error {
	bs, ok := src.([]byte)
	if !ok {
		return fmt.Errorf("unexpected driver value %T", src)
	}
	if len(bs) > 8 {
		return fmt.Errorf("BIT value of %d bytes", len(bs))
	}
	var v uint64
	for _, x := range bs {
		v = v<<8 | uint64(x)
	}
	b.(*array.Uint64Builder).Append(v)
	return nil
}

func stringConv(b array.Builder, src any) error {
	bs, ok := src.([]byte)
	if !ok {
		// Numbers never reach a text column, but be lenient.
		b.(*array.StringBuilder).Append(fmt.Sprint(src))
		return nil
	}
	// BinaryBuilder.Append copies the bytes, so the driver's buffer may be reused.
	b.(*array.StringBuilder).BinaryBuilder.Append(bs)
	return nil
}

func binaryConv(b array.Builder, src any) error {
	bs, ok := src.([]byte)
	if !ok {
		return fmt.Errorf("unexpected driver value %T", src)
	}
	b.(*array.BinaryBuilder).Append(bs)
	return nil
}

// decimalConv parses MySQL's decimal text ("-1234.50", always `scale` fractional digits) into
// its unscaled integer exactly, without going through floating point.
func decimalConv(prec, scale int32) converter {
	return func(b array.Builder, src any) error {
		bs, ok := src.([]byte)
		if !ok {
			return fmt.Errorf("unexpected driver value %T", src)
		}
		n, err := parseDecimal(string(bs), prec, scale)
		if err != nil {
			return err
		}
		b.(*array.Decimal128Builder).Append(n)
		return nil
	}
}

func parseDecimal(s string, prec, scale int32) (decimal128.Num, error) {
	bad := func() (decimal128.Num, error) {
		return decimal128.Num{}, fmt.Errorf("%q is not a DECIMAL(%d,%d) value", s, prec, scale)
	}
	digits := s
	neg := false
	if strings.HasPrefix(digits, "-") {
		neg, digits = true, digits[1:]
	}
	intPart, frac, _ := strings.Cut(digits, ".")
	if int32(len(frac)) > scale {
		return bad()
	}
	frac += strings.Repeat("0", int(scale)-len(frac))
	all := strings.TrimLeft(intPart+frac, "0")
	if all == "" {
		return decimal128.Num{}, nil
	}
	if int32(len(all)) > prec {
		return bad()
	}
	for _, c := range all {
		if c < '0' || c > '9' {
			return bad()
		}
	}
	var n decimal128.Num
	if len(all) <= 18 {
		v, err := strconv.ParseInt(all, 10, 64)
		if err != nil {
			return bad()
		}
		n = decimal128.FromI64(v)
	} else {
		var bi big.Int
		if _, ok := bi.SetString(all, 10); !ok {
			return bad()
		}
		n = decimal128.FromBigInt(&bi)
	}
	if neg {
		n = n.Negate()
	}
	return n, nil
}

// parseDate reads YYYY-MM-DD; ok is false for MySQL's zero dates.
func parseDate(s string) (y, mo, d int, ok bool, err error) {
	if len(s) < 10 || s[4] != '-' || s[7] != '-' {
		return 0, 0, 0, false, fmt.Errorf("%q is not a date", s)
	}
	y, err1 := strconv.Atoi(s[0:4])
	mo, err2 := strconv.Atoi(s[5:7])
	d, err3 := strconv.Atoi(s[8:10])
	if err1 != nil || err2 != nil || err3 != nil {
		return 0, 0, 0, false, fmt.Errorf("%q is not a date", s)
	}
	if mo == 0 || d == 0 {
		return y, mo, d, false, nil
	}
	return y, mo, d, true, nil
}

func dateConv(b array.Builder, src any) error {
	bs, ok := src.([]byte)
	if !ok {
		return fmt.Errorf("unexpected driver value %T", src)
	}
	y, mo, d, valid, err := parseDate(string(bs))
	if err != nil {
		return err
	}
	if !valid {
		b.AppendNull()
		return nil
	}
	t := time.Date(y, time.Month(mo), d, 0, 0, 0, 0, time.UTC)
	b.(*array.Date32Builder).Append(arrow.Date32(t.Unix() / 86400))
	return nil
}

// timestampConv reads "YYYY-MM-DD HH:MM:SS[.ffffff]" as microseconds since the epoch of the
// same wall clock in UTC (the session runs in UTC, so TIMESTAMP values are UTC instants).
func timestampConv(b array.Builder, src any) error {
	bs, ok := src.([]byte)
	if !ok {
		return fmt.Errorf("unexpected driver value %T", src)
	}
	s := string(bs)
	y, mo, d, valid, err := parseDate(s)
	if err != nil {
		return err
	}
	if !valid {
		b.AppendNull()
		return nil
	}
	var us int64
	if len(s) > 10 {
		if s[10] != ' ' && s[10] != 'T' {
			return fmt.Errorf("%q is not a datetime", s)
		}
		us, err = parseClock(s[11:])
		if err != nil {
			return err
		}
	}
	t := time.Date(y, time.Month(mo), d, 0, 0, 0, 0, time.UTC)
	b.(*array.TimestampBuilder).Append(arrow.Timestamp(t.UnixMicro() + us))
	return nil
}

// parseClock reads [-]H+:MM:SS[.ffffff] into microseconds.
func parseClock(s string) (int64, error) {
	bad := func() (int64, error) { return 0, fmt.Errorf("%q is not a time", s) }
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	hh, rest, ok := strings.Cut(s, ":")
	if !ok {
		return bad()
	}
	mm, rest, ok := strings.Cut(rest, ":")
	if !ok {
		return bad()
	}
	ss, frac, _ := strings.Cut(rest, ".")
	h, e1 := strconv.ParseInt(hh, 10, 64)
	m, e2 := strconv.ParseInt(mm, 10, 64)
	sec, e3 := strconv.ParseInt(ss, 10, 64)
	if e1 != nil || e2 != nil || e3 != nil || len(frac) > 6 {
		return bad()
	}
	var f int64
	if frac != "" {
		v, err := strconv.ParseInt(frac+strings.Repeat("0", 6-len(frac)), 10, 64)
		if err != nil {
			return bad()
		}
		f = v
	}
	us := ((h*60+m)*60+sec)*1e6 + f
	if neg {
		us = -us
	}
	return us, nil
}

func timeConv(b array.Builder, src any) error {
	bs, ok := src.([]byte)
	if !ok {
		return fmt.Errorf("unexpected driver value %T", src)
	}
	us, err := parseClock(string(bs))
	if err != nil {
		return err
	}
	b.(*array.DurationBuilder).Append(arrow.Duration(us))
	return nil
}
