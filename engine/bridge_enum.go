package engine

import (
	"encoding/json"
	"fmt"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	bindings "github.com/duckdb/duckdb-go-bindings"
)

// An ENUM survives a trip through Arrow (a Variable sink, then tap) only with help: DuckDB
// exports it as a dictionary array, reads any dictionary array back as its values' type
// (VARCHAR), and fails with an internal error on a dictionary inside a LIST. So a COPY target
// that keeps rows exactly marks each ENUM with its members (enumMetadataKey, a JSON list): a
// column stays the dictionary DuckDB exported, an ENUM inside a STRUCT, LIST, MAP or ARRAY is
// handed over as its text (exactBatch). A table function whose schema carries the marks
// declares the same ENUM types and writes the members' positions itself (enumColumn for a
// column, fillPlan inside nested types).
const enumMetadataKey = "ankaflow:duckdb_enum"

// markEnums returns schema with each ENUM (of types, DuckDB logical types in schema order)
// marked with its members, and the ENUMs inside nested types turned into text.
func markEnums(schema *arrow.Schema, types []unsafePointer) *arrow.Schema {
	fields := schema.Fields()
	changed := false
	for i, t := range types {
		if i >= len(fields) {
			break
		}
		f, ok := rewriteField(fields[i], bindings.LogicalType{Ptr: t}, 0, func(f arrow.Field, lt bindings.LogicalType, depth int) (arrow.Field, bool) {
			dt, isDict := f.Type.(*arrow.DictionaryType)
			if bindings.GetTypeId(lt) != bindings.TypeEnum || !isDict {
				return f, false
			}
			n := int(bindings.EnumDictionarySize(lt))
			members := make([]string, n)
			for j := range members {
				members[j] = bindings.EnumDictionaryValue(lt, bindings.IdxT(j))
			}
			text, _ := json.Marshal(members)
			f.Metadata = withMetadata(f.Metadata, map[string]string{enumMetadataKey: string(text)})
			if depth > 0 {
				f.Type = dt.ValueType
			}
			return f, true
		})
		if ok {
			fields[i], changed = f, true
		}
	}
	if !changed {
		return schema
	}
	md := schema.Metadata()
	return arrow.NewSchema(fields, &md)
}

// enumColumn is a result column declared as an ENUM: pos maps a member to its position.
type enumColumn struct {
	members  []string
	pos      map[string]uint32
	internal bindings.Type // the width DuckDB stores positions in
}

// enumColumns finds the marked dictionary columns of schema and replaces their types (which
// the Arrow conversion made VARCHAR) by the ENUM they were. The replaced types are destroyed.
func enumColumns(schema *arrow.Schema, types []bindings.LogicalType) (map[int]*enumColumn, error) {
	var out map[int]*enumColumn
	for i, f := range schema.Fields() {
		text, ok := f.Metadata.GetValue(enumMetadataKey)
		if !ok {
			continue
		}
		if _, isDict := f.Type.(*arrow.DictionaryType); !isDict {
			continue
		}
		var members []string
		if err := json.Unmarshal([]byte(text), &members); err != nil {
			return nil, fmt.Errorf("column %s: bad ENUM members %q: %w", f.Name, text, err)
		}
		ec := &enumColumn{members: members, pos: make(map[string]uint32, len(members))}
		for j, m := range members {
			ec.pos[m] = uint32(j)
		}
		bindings.DestroyLogicalType(&types[i])
		types[i] = bindings.CreateEnumType(members)
		ec.internal = bindings.EnumInternalType(types[i])
		if out == nil {
			out = map[int]*enumColumn{}
		}
		out[i] = ec
	}
	return out, nil
}

// fill writes column col of rec (a dictionary array) into vec, an ENUM vector, as member
// positions of the ENUM's internal width.
func (ec *enumColumn) fill(vec bindings.Vector, col arrow.Array) error {
	d, ok := col.(*array.Dictionary)
	if !ok {
		return fmt.Errorf("ENUM column: expected a dictionary array, got %s", col.DataType())
	}
	dict, ok := d.Dictionary().(*array.String)
	if !ok {
		return fmt.Errorf("ENUM column: expected text members, got %s", d.Dictionary().DataType())
	}
	remap := make([]uint32, dict.Len())
	for j := range remap {
		p, ok := ec.pos[dict.Value(j)]
		if !ok {
			return fmt.Errorf("ENUM column: %q is not one of its members", dict.Value(j))
		}
		remap[j] = p
	}
	n := d.Len()
	data := bindings.VectorGetData(vec)
	var validity unsafe.Pointer
	for j := 0; j < n; j++ {
		var p uint32
		if d.IsNull(j) {
			if validity == nil {
				bindings.VectorEnsureValidityWritable(vec)
				validity = bindings.VectorGetValidity(vec)
			}
			bindings.ValiditySetRowInvalid(validity, bindings.IdxT(j))
		} else {
			p = remap[d.GetValueIndex(j)]
		}
		switch ec.internal {
		case bindings.TypeUTinyInt:
			*(*uint8)(unsafe.Add(data, j)) = uint8(p)
		case bindings.TypeUSmallInt:
			*(*uint16)(unsafe.Add(data, 2*j)) = uint16(p)
		default:
			*(*uint32)(unsafe.Add(data, 4*j)) = p
		}
	}
	return nil
}

// nestedDictionary names the first column holding a dictionary (a DuckDB ENUM) inside a LIST
// or ARRAY, which DuckDB (v1.5) fails to read from Arrow with an internal error; "" when there
// is none. (Inside a MAP or STRUCT it reads as VARCHAR.)
func nestedDictionary(schema *arrow.Schema) string {
	var inList func(t arrow.DataType, list bool) bool
	inList = func(t arrow.DataType, list bool) bool {
		switch x := t.(type) {
		case *arrow.DictionaryType:
			return list
		case *arrow.MapType:
			return inList(x.KeyType(), list) || inList(x.ItemType(), list)
		case arrow.ListLikeType:
			return inList(x.Elem(), true)
		case *arrow.StructType:
			for _, f := range x.Fields() {
				if inList(f.Type, list) {
					return true
				}
			}
		}
		return false
	}
	for _, f := range schema.Fields() {
		if inList(f.Type, false) {
			return f.Name
		}
	}
	return ""
}
