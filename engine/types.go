package engine

import (
	"fmt"
	"strings"
	"time"
	"unsafe"

	bindings "github.com/duckdb/duckdb-go-bindings"
)

type unsafePointer = unsafe.Pointer

// Type is DuckDB's type id (DUCKDB_TYPE_*).
type Type = bindings.Type

// TypeInfo describes a DuckDB logical type in Go terms, for layers that map DuckDB types onto
// another type system (the wire server onto PostgreSQL OIDs).
type TypeInfo struct {
	ID    Type
	Alias string // e.g. "JSON" for the JSON type (a VARCHAR with an alias)
	// Decimal precision and scale.
	Width, Scale uint8
	// Element type of LIST and ARRAY; ArraySize for fixed-size ARRAY.
	Elem      *TypeInfo
	ArraySize int
	// Fields of STRUCT (and members of UNION); Key/Value of MAP.
	Fields     []Column
	Key, Value *TypeInfo
	// EnumValues for ENUM.
	EnumValues []string
}

// Column is a named, typed result column.
type Column struct {
	Name string
	Type TypeInfo
}

func typeInfo(lt bindings.LogicalType) TypeInfo {
	ti := TypeInfo{ID: bindings.GetTypeId(lt), Alias: bindings.LogicalTypeGetAlias(lt)}
	switch ti.ID {
	case bindings.TypeDecimal:
		ti.Width, ti.Scale = bindings.DecimalWidth(lt), bindings.DecimalScale(lt)
	case bindings.TypeList:
		c := bindings.ListTypeChildType(lt)
		e := typeInfo(c)
		bindings.DestroyLogicalType(&c)
		ti.Elem = &e
	case bindings.TypeArray:
		c := bindings.ArrayTypeChildType(lt)
		e := typeInfo(c)
		bindings.DestroyLogicalType(&c)
		ti.Elem = &e
		ti.ArraySize = int(bindings.ArrayTypeArraySize(lt))
	case bindings.TypeStruct:
		n := int(bindings.StructTypeChildCount(lt))
		for i := 0; i < n; i++ {
			c := bindings.StructTypeChildType(lt, bindings.IdxT(i))
			ti.Fields = append(ti.Fields, Column{Name: bindings.StructTypeChildName(lt, bindings.IdxT(i)), Type: typeInfo(c)})
			bindings.DestroyLogicalType(&c)
		}
	case bindings.TypeUnion:
		n := int(bindings.UnionTypeMemberCount(lt))
		for i := 0; i < n; i++ {
			c := bindings.UnionTypeMemberType(lt, bindings.IdxT(i))
			ti.Fields = append(ti.Fields, Column{Name: bindings.UnionTypeMemberName(lt, bindings.IdxT(i)), Type: typeInfo(c)})
			bindings.DestroyLogicalType(&c)
		}
	case bindings.TypeMap:
		k, v := bindings.MapTypeKeyType(lt), bindings.MapTypeValueType(lt)
		kt, vt := typeInfo(k), typeInfo(v)
		bindings.DestroyLogicalType(&k)
		bindings.DestroyLogicalType(&v)
		ti.Key, ti.Value = &kt, &vt
	case bindings.TypeEnum:
		n := int(bindings.EnumDictionarySize(lt))
		for i := 0; i < n; i++ {
			ti.EnumValues = append(ti.EnumValues, bindings.EnumDictionaryValue(lt, bindings.IdxT(i)))
		}
	}
	return ti
}

var typeNames = map[Type]string{
	bindings.TypeBoolean: "BOOLEAN", bindings.TypeTinyInt: "TINYINT", bindings.TypeSmallInt: "SMALLINT",
	bindings.TypeInteger: "INTEGER", bindings.TypeBigInt: "BIGINT", bindings.TypeUTinyInt: "UTINYINT",
	bindings.TypeUSmallInt: "USMALLINT", bindings.TypeUInteger: "UINTEGER", bindings.TypeUBigInt: "UBIGINT",
	bindings.TypeFloat: "FLOAT", bindings.TypeDouble: "DOUBLE", bindings.TypeTimestamp: "TIMESTAMP",
	bindings.TypeDate: "DATE", bindings.TypeTime: "TIME", bindings.TypeInterval: "INTERVAL",
	bindings.TypeHugeInt: "HUGEINT", bindings.TypeUHugeInt: "UHUGEINT", bindings.TypeVarchar: "VARCHAR",
	bindings.TypeBlob: "BLOB", bindings.TypeTimestampS: "TIMESTAMP_S", bindings.TypeTimestampMS: "TIMESTAMP_MS",
	bindings.TypeTimestampNS: "TIMESTAMP_NS", bindings.TypeUUID: "UUID", bindings.TypeBit: "BIT",
	bindings.TypeTimeTZ: "TIME WITH TIME ZONE", bindings.TypeTimestampTZ: "TIMESTAMP WITH TIME ZONE",
	bindings.TypeBigNum: "BIGNUM", bindings.TypeSQLNull: "NULL", bindings.TypeTimeNS: "TIME_NS",
	bindings.TypeGeometry: "GEOMETRY", bindings.TypeVariant: "VARIANT", bindings.TypeAny: "ANY",
	bindings.TypeStringLiteral: "STRING_LITERAL", bindings.TypeIntegerLiteral: "INTEGER_LITERAL",
}

// SQL renders the type the way DuckDB's DESCRIBE does (DECIMAL(18,4), INTEGER[], STRUCT(a INTEGER)…).
func (t TypeInfo) SQL() string {
	if t.Alias != "" {
		return t.Alias
	}
	switch t.ID {
	case bindings.TypeDecimal:
		return fmt.Sprintf("DECIMAL(%d,%d)", t.Width, t.Scale)
	case bindings.TypeList:
		return t.Elem.SQL() + "[]"
	case bindings.TypeArray:
		return fmt.Sprintf("%s[%d]", t.Elem.SQL(), t.ArraySize)
	case bindings.TypeStruct, bindings.TypeUnion:
		parts := make([]string, len(t.Fields))
		for i, f := range t.Fields {
			parts[i] = QuoteIdent(f.Name) + " " + f.Type.SQL()
		}
		kw := "STRUCT"
		if t.ID == bindings.TypeUnion {
			kw = "UNION"
		}
		return kw + "(" + strings.Join(parts, ", ") + ")"
	case bindings.TypeMap:
		return "MAP(" + t.Key.SQL() + ", " + t.Value.SQL() + ")"
	case bindings.TypeEnum:
		q := make([]string, len(t.EnumValues))
		for i, v := range t.EnumValues {
			q[i] = QuoteLiteral(v)
		}
		return "ENUM(" + strings.Join(q, ", ") + ")"
	}
	if n, ok := typeNames[t.ID]; ok {
		return n
	}
	return fmt.Sprintf("TYPE_%d", int(t.ID))
}

// TypedValue binds a parameter with an explicit DuckDB type where the Go type alone is
// ambiguous (a time.Time may be a DATE, a TIMESTAMP or a TIMESTAMPTZ).
type TypedValue struct {
	Type Type
	// Time for DATE, TIMESTAMP (wall clock, zone ignored), TIMESTAMPTZ (instant).
	Time time.Time
	// Micros for TIME (microseconds since midnight) and INTERVAL (with Months and Days).
	Micros       int64
	Months, Days int32
	// Text for anything DuckDB should cast from its text form (DECIMAL, UUID, JSON…).
	Text string
}

func (v TypedValue) bind(stmt bindings.PreparedStatement, idx bindings.IdxT) bindings.State {
	switch v.Type {
	case bindings.TypeDate:
		y, m, d := v.Time.Date()
		days := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
		return bindings.BindDate(stmt, idx, bindings.NewDate(int32(days)))
	case bindings.TypeTimestamp:
		wall := time.Date(v.Time.Year(), v.Time.Month(), v.Time.Day(), v.Time.Hour(), v.Time.Minute(), v.Time.Second(), v.Time.Nanosecond(), time.UTC)
		return bindings.BindTimestamp(stmt, idx, bindings.NewTimestamp(wall.UnixMicro()))
	case bindings.TypeTimestampTZ:
		return bindings.BindTimestampTZ(stmt, idx, bindings.NewTimestamp(v.Time.UnixMicro()))
	case bindings.TypeTime:
		return bindings.BindTime(stmt, idx, bindings.NewTime(v.Micros))
	case bindings.TypeInterval:
		return bindings.BindInterval(stmt, idx, bindings.NewInterval(v.Months, v.Days, v.Micros))
	default:
		return bindings.BindVarchar(stmt, idx, v.Text)
	}
}
