package engine

import (
	"fmt"
	"unsafe"

	bindings "github.com/duckdb/duckdb-go-bindings"
)

// ArgType is the SQL type of a table function parameter.
type ArgType int

// Parameter types. Values reach Bind as Go values: VARCHAR → string, BIGINT → int64,
// DOUBLE → float64, BOOLEAN → bool, and NULL → nil whatever the type. ANY accepts any SQL value
// and converts it with the rules of copy options (see valueToGo).
const (
	ArgVarchar ArgType = iota + 1
	ArgBigInt
	ArgDouble
	ArgBoolean
	ArgAny
)

func (t ArgType) String() string {
	switch t {
	case ArgVarchar:
		return "VARCHAR"
	case ArgBigInt:
		return "BIGINT"
	case ArgDouble:
		return "DOUBLE"
	case ArgBoolean:
		return "BOOLEAN"
	case ArgAny:
		return "ANY"
	}
	return fmt.Sprintf("ArgType(%d)", int(t))
}

func (t ArgType) logicalType() (bindings.LogicalType, error) {
	var id bindings.Type
	switch t {
	case ArgVarchar:
		id = bindings.TypeVarchar
	case ArgBigInt:
		id = bindings.TypeBigInt
	case ArgDouble:
		id = bindings.TypeDouble
	case ArgBoolean:
		id = bindings.TypeBoolean
	case ArgAny:
		id = bindings.TypeAny
	default:
		return bindings.LogicalType{}, fmt.Errorf("unknown parameter type %v", t)
	}
	return bindings.CreateLogicalType(id), nil
}

// valueToGo converts a DuckDB value into a Go value and destroys it. Scalars become bool,
// int64, uint64, float64 or string; LIST becomes []any; STRUCT and MAP become map[string]any
// (struct field names as DuckDB reports them, map keys as text); other types become their SQL
// text.
func valueToGo(v bindings.Value) any {
	if v.Ptr == nil {
		return nil
	}
	defer bindings.DestroyValue(&v)
	return valueToGoKeep(v)
}

func valueToGoKeep(v bindings.Value) any {
	if bindings.IsNullValue(v) {
		return nil
	}
	lt := bindings.GetValueType(v)
	// The logical type of a value belongs to the value: do not destroy it.
	switch bindings.GetTypeId(lt) {
	case bindings.TypeBoolean:
		return bindings.GetBool(v)
	case bindings.TypeTinyInt, bindings.TypeSmallInt, bindings.TypeInteger, bindings.TypeBigInt:
		return bindings.GetInt64(v)
	case bindings.TypeUTinyInt, bindings.TypeUSmallInt, bindings.TypeUInteger, bindings.TypeUBigInt:
		return bindings.GetUInt64(v)
	case bindings.TypeFloat, bindings.TypeDouble:
		return bindings.GetDouble(v)
	case bindings.TypeVarchar:
		return bindings.GetVarchar(v)
	case bindings.TypeList:
		n := int(bindings.GetListSize(v))
		out := make([]any, n)
		for i := 0; i < n; i++ {
			out[i] = valueToGo(bindings.GetListChild(v, bindings.IdxT(i)))
		}
		return out
	case bindings.TypeMap:
		n := int(bindings.GetMapSize(v))
		out := make(map[string]any, n)
		for i := 0; i < n; i++ {
			k := valueToGo(bindings.GetMapKey(v, bindings.IdxT(i)))
			out[fmt.Sprint(k)] = valueToGo(bindings.GetMapValue(v, bindings.IdxT(i)))
		}
		return out
	case bindings.TypeStruct:
		n := int(bindings.StructTypeChildCount(lt))
		out := make(map[string]any, n)
		for i := 0; i < n; i++ {
			name := bindings.StructTypeChildName(lt, bindings.IdxT(i))
			out[name] = valueToGo(bindings.GetStructChild(v, bindings.IdxT(i)))
		}
		return out
	}
	return bindings.ValueToString(v)
}

// rawValue wraps a duckdb_value returned by our own C declarations.
func rawValue(p unsafe.Pointer) bindings.Value { return bindings.Value{Ptr: p} }
