package engine

import (
	"encoding/json"
	"fmt"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	bindings "github.com/duckdb/duckdb-go-bindings"
)

// An ENUM column survives a trip through Arrow (a Variable sink, then tap) only with help:
// DuckDB exports it as a dictionary array, and reads any dictionary array back as its values'
// type (VARCHAR). So a COPY target that keeps rows exactly marks each top-level ENUM column
// with its members (enumMetadataKey, a JSON list), and a table function whose schema carries
// that mark declares the column as the same ENUM and writes the members' positions itself.
// ENUMs nested in a STRUCT or LIST are not marked: they come back as VARCHAR (documented in
// docs/differences.md).
const enumMetadataKey = "ankaflow:duckdb_enum"

// markEnums returns schema with each top-level ENUM column (of types, DuckDB logical types in
// schema order) marked with its members.
func markEnums(schema *arrow.Schema, types []unsafePointer) *arrow.Schema {
	fields := schema.Fields()
	changed := false
	for i, t := range types {
		lt := bindings.LogicalType{Ptr: t}
		if i >= len(fields) || bindings.GetTypeId(lt) != bindings.TypeEnum {
			continue
		}
		n := int(bindings.EnumDictionarySize(lt))
		members := make([]string, n)
		for j := range members {
			members[j] = bindings.EnumDictionaryValue(lt, bindings.IdxT(j))
		}
		text, _ := json.Marshal(members)
		keys := append(fields[i].Metadata.Keys(), enumMetadataKey)
		vals := append(fields[i].Metadata.Values(), string(text))
		fields[i].Metadata = arrow.NewMetadata(keys, vals)
		changed = true
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

// lostInMap names the first type, held (at any depth) in a MAP of lt, that DuckDB's lossless
// Arrow form cannot keep: DuckDB marks UUID, HUGEINT, … with an extension name on their
// field, but not on a MAP's key and value fields, so they would come back as BLOB. "" when
// there is none.
func lostInMap(lt bindings.LogicalType, inMap bool) string {
	child := func(c bindings.LogicalType, inMap bool) string {
		defer bindings.DestroyLogicalType(&c)
		return lostInMap(c, inMap)
	}
	switch id := bindings.GetTypeId(lt); id {
	case bindings.TypeUUID, bindings.TypeHugeInt, bindings.TypeUHugeInt, bindings.TypeTimeTZ, bindings.TypeBit, bindings.TypeBigNum:
		if inMap {
			return map[bindings.Type]string{bindings.TypeUUID: "UUID", bindings.TypeHugeInt: "HUGEINT", bindings.TypeUHugeInt: "UHUGEINT",
				bindings.TypeTimeTZ: "TIME WITH TIME ZONE", bindings.TypeBit: "BIT", bindings.TypeBigNum: "BIGNUM"}[id]
		}
	case bindings.TypeMap:
		if s := child(bindings.MapTypeKeyType(lt), true); s != "" {
			return s
		}
		return child(bindings.MapTypeValueType(lt), true)
	case bindings.TypeList:
		return child(bindings.ListTypeChildType(lt), inMap)
	case bindings.TypeArray:
		return child(bindings.ArrayTypeChildType(lt), inMap)
	case bindings.TypeStruct:
		for i := bindings.IdxT(0); i < bindings.StructTypeChildCount(lt); i++ {
			if s := child(bindings.StructTypeChildType(lt, i), inMap); s != "" {
				return s
			}
		}
	case bindings.TypeUnion:
		for i := bindings.IdxT(0); i < bindings.UnionTypeMemberCount(lt); i++ {
			if s := child(bindings.UnionTypeMemberType(lt, i), inMap); s != "" {
				return s
			}
		}
	}
	return ""
}
