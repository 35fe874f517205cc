package pgwire

import (
	bindings "github.com/duckdb/duckdb-go-bindings"

	"github.com/ankaflow/ankaflow/engine"
)

// PostgreSQL type OIDs (pg_type.oid) used by the server.
const (
	oidBool        uint32 = 16
	oidBytea       uint32 = 17
	oidName        uint32 = 19
	oidInt8        uint32 = 20
	oidInt2        uint32 = 21
	oidInt4        uint32 = 23
	oidText        uint32 = 25
	oidOID         uint32 = 26
	oidJSON        uint32 = 114
	oidJSONArray   uint32 = 199
	oidFloat4      uint32 = 700
	oidFloat8      uint32 = 701
	oidUnknown     uint32 = 705
	oidBoolArray   uint32 = 1000
	oidByteaArray  uint32 = 1001
	oidInt2Array   uint32 = 1005
	oidInt4Array   uint32 = 1007
	oidTextArray   uint32 = 1009
	oidVarcharArr  uint32 = 1015
	oidInt8Array   uint32 = 1016
	oidFloat4Array uint32 = 1021
	oidFloat8Array uint32 = 1022
	oidBPChar      uint32 = 1042
	oidVarchar     uint32 = 1043
	oidDate        uint32 = 1082
	oidTime        uint32 = 1083
	oidTimestamp   uint32 = 1114
	oidTSArray     uint32 = 1115
	oidDateArray   uint32 = 1182
	oidTimeArray   uint32 = 1183
	oidTSTZ        uint32 = 1184
	oidTSTZArray   uint32 = 1185
	oidInterval    uint32 = 1186
	oidIntervalArr uint32 = 1187
	oidNumericArr  uint32 = 1231
	oidTimeTZ      uint32 = 1266
	oidBit         uint32 = 1560
	oidVarbit      uint32 = 1562
	oidVarbitArray uint32 = 1563
	oidNumeric     uint32 = 1700
	oidUUID        uint32 = 2950
	oidUUIDArray   uint32 = 2951
	oidJSONB       uint32 = 3802
	oidJSONBArray  uint32 = 3807
)

// pgTypeInfo is what the server knows about a PostgreSQL type.
type pgTypeInfo struct {
	oid   uint32
	name  string
	size  int16  // pg_type.typlen: fixed size, or -1 for varlena
	elem  uint32 // element type of an array type
	array uint32 // array type of a scalar type
}

var pgTypes = map[uint32]pgTypeInfo{}

func init() {
	for _, t := range []pgTypeInfo{
		{oidBool, "bool", 1, 0, oidBoolArray},
		{oidBytea, "bytea", -1, 0, oidByteaArray},
		{oidName, "name", 64, 0, 0},
		{oidInt8, "int8", 8, 0, oidInt8Array},
		{oidInt2, "int2", 2, 0, oidInt2Array},
		{oidInt4, "int4", 4, 0, oidInt4Array},
		{oidText, "text", -1, 0, oidTextArray},
		{oidOID, "oid", 4, 0, 0},
		{oidJSON, "json", -1, 0, oidJSONArray},
		{oidFloat4, "float4", 4, 0, oidFloat4Array},
		{oidFloat8, "float8", 8, 0, oidFloat8Array},
		{oidUnknown, "unknown", -2, 0, 0},
		{oidBPChar, "bpchar", -1, 0, 0},
		{oidVarchar, "varchar", -1, 0, oidVarcharArr},
		{oidDate, "date", 4, 0, oidDateArray},
		{oidTime, "time", 8, 0, oidTimeArray},
		{oidTimestamp, "timestamp", 8, 0, oidTSArray},
		{oidTSTZ, "timestamptz", 8, 0, oidTSTZArray},
		{oidInterval, "interval", 16, 0, oidIntervalArr},
		{oidTimeTZ, "timetz", 12, 0, 0},
		{oidBit, "bit", -1, 0, 0},
		{oidVarbit, "varbit", -1, 0, oidVarbitArray},
		{oidNumeric, "numeric", -1, 0, oidNumericArr},
		{oidUUID, "uuid", 16, 0, oidUUIDArray},
		{oidJSONB, "jsonb", -1, 0, oidJSONBArray},
		{oidBoolArray, "_bool", -1, oidBool, 0},
		{oidByteaArray, "_bytea", -1, oidBytea, 0},
		{oidInt2Array, "_int2", -1, oidInt2, 0},
		{oidInt4Array, "_int4", -1, oidInt4, 0},
		{oidTextArray, "_text", -1, oidText, 0},
		{oidVarcharArr, "_varchar", -1, oidVarchar, 0},
		{oidInt8Array, "_int8", -1, oidInt8, 0},
		{oidFloat4Array, "_float4", -1, oidFloat4, 0},
		{oidFloat8Array, "_float8", -1, oidFloat8, 0},
		{oidTSArray, "_timestamp", -1, oidTimestamp, 0},
		{oidDateArray, "_date", -1, oidDate, 0},
		{oidTimeArray, "_time", -1, oidTime, 0},
		{oidTSTZArray, "_timestamptz", -1, oidTSTZ, 0},
		{oidIntervalArr, "_interval", -1, oidInterval, 0},
		{oidNumericArr, "_numeric", -1, oidNumeric, 0},
		{oidUUIDArray, "_uuid", -1, oidUUID, 0},
		{oidJSONArray, "_json", -1, oidJSON, 0},
		{oidJSONBArray, "_jsonb", -1, oidJSONB, 0},
		{oidVarbitArray, "_varbit", -1, oidVarbit, 0},
	} {
		pgTypes[t.oid] = t
	}
}

// pgColType is the PostgreSQL description of one DuckDB result column or parameter.
type pgColType struct {
	oid  uint32
	mod  int32 // atttypmod, -1 when none
	size int16
	// elem is the element's description for array types.
	elem *pgColType
	// duck is the DuckDB type it was mapped from.
	duck engine.TypeInfo
}

// pgTypeFor maps a DuckDB type onto the PostgreSQL type the server presents it as. The mapping
// is documented in docs/wire-server.md; keep the two in step.
func pgTypeFor(t engine.TypeInfo) pgColType {
	ct := pgColType{mod: -1, duck: t}
	set := func(oid uint32) pgColType {
		ct.oid = oid
		ct.size = pgTypes[oid].size
		return ct
	}
	if t.Alias == "JSON" && t.ID == bindings.TypeVarchar {
		return set(oidJSON)
	}
	switch t.ID {
	case bindings.TypeBoolean:
		return set(oidBool)
	case bindings.TypeTinyInt, bindings.TypeSmallInt, bindings.TypeUTinyInt:
		return set(oidInt2)
	case bindings.TypeInteger, bindings.TypeUSmallInt:
		return set(oidInt4)
	case bindings.TypeBigInt, bindings.TypeUInteger:
		return set(oidInt8)
	case bindings.TypeUBigInt, bindings.TypeHugeInt, bindings.TypeUHugeInt, bindings.TypeBigNum:
		return set(oidNumeric)
	case bindings.TypeDecimal:
		ct = set(oidNumeric)
		ct.mod = (int32(t.Width)<<16 | int32(t.Scale)) + 4
		return ct
	case bindings.TypeFloat:
		return set(oidFloat4)
	case bindings.TypeDouble:
		return set(oidFloat8)
	case bindings.TypeVarchar, bindings.TypeEnum:
		return set(oidText)
	case bindings.TypeBlob:
		return set(oidBytea)
	case bindings.TypeBit:
		return set(oidVarbit)
	case bindings.TypeDate:
		return set(oidDate)
	case bindings.TypeTime, bindings.TypeTimeNS, bindings.TypeTimeTZ:
		// TIME WITH TIME ZONE: DuckDB's Arrow export drops the offset, so it is sent as the
		// local time of day (documented).
		return set(oidTime)
	case bindings.TypeTimestamp, bindings.TypeTimestampNS:
		return set(oidTimestamp)
	case bindings.TypeTimestampS:
		ct = set(oidTimestamp)
		ct.mod = 0
		return ct
	case bindings.TypeTimestampMS:
		ct = set(oidTimestamp)
		ct.mod = 3
		return ct
	case bindings.TypeTimestampTZ:
		return set(oidTSTZ)
	case bindings.TypeInterval:
		return set(oidInterval)
	case bindings.TypeUUID:
		return set(oidUUID)
	case bindings.TypeList, bindings.TypeArray:
		if t.Elem != nil {
			e := pgTypeFor(*t.Elem)
			if arr := pgTypes[e.oid].array; arr != 0 && e.elem == nil && !isJSONFallback(*t.Elem) {
				ct = set(arr)
				ct.elem = &e
				ct.mod = e.mod // PostgreSQL gives an array column its element's type modifier
				return ct
			}
		}
		return set(oidJSON)
	case bindings.TypeStruct, bindings.TypeMap, bindings.TypeUnion:
		return set(oidJSON)
	}
	// NULL literals, VARIANT, GEOMETRY and anything newer: their text form.
	return set(oidText)
}

// isJSONFallback reports whether a DuckDB type is shown as json because PostgreSQL has no
// equivalent (nested types). Lists of those are json as a whole, not arrays of json.
func isJSONFallback(t engine.TypeInfo) bool {
	switch t.ID {
	case bindings.TypeStruct, bindings.TypeMap, bindings.TypeUnion, bindings.TypeList, bindings.TypeArray:
		return true
	}
	return false
}

// paramOID is the OID announced in ParameterDescription for a parameter DuckDB inferred as t.
// Parameters DuckDB cannot type (SELECT $1) are announced as text, and bound as text.
func paramOID(t engine.TypeInfo) uint32 {
	switch t.ID {
	case bindings.TypeInvalid, bindings.TypeAny, bindings.TypeSQLNull, bindings.TypeStringLiteral:
		return oidText
	case bindings.TypeIntegerLiteral:
		return oidInt8
	}
	return pgTypeFor(t).oid
}
