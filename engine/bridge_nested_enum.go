package engine

import (
	"encoding/json"
	"fmt"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	bindings "github.com/duckdb/duckdb-go-bindings"
)

// ENUMs inside nested types (see markEnums): the sink side hands them over as text, the table
// function side declares them as the ENUM they were and writes their positions while copying
// the rest of the nested value as DuckDB converted it. This keeps the rows streaming (one
// batch at a time) and exact, with no second query and no type text to print and parse.

// exactBatch returns rec (imported with DuckDB's Arrow schema) as a batch of out, the schema
// markEnums made: the dictionaries inside nested types decoded to their text. It takes over
// rec's reference.
func exactBatch(rec arrow.RecordBatch, out *arrow.Schema) (arrow.RecordBatch, error) {
	cols := make([]arrow.Array, rec.NumCols())
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	for i, c := range rec.Columns() {
		to := out.Field(i).Type
		if arrow.TypeEqual(c.DataType(), to) {
			c.Retain()
			cols[i] = c
			continue
		}
		d, err := decodeDictionaries(c.Data(), to)
		if err != nil {
			rec.Release()
			return nil, fmt.Errorf("column %s: %w", QuoteIdent(out.Field(i).Name), err)
		}
		cols[i] = array.MakeFromData(d)
		d.Release()
	}
	n := rec.NumRows()
	rec.Release()
	return array.NewRecordBatch(out, cols, n), nil
}

// decodeDictionaries rebuilds d as type to, which differs from d's type only by dictionaries
// replaced by their value type. The result is a new reference.
func decodeDictionaries(d arrow.ArrayData, to arrow.DataType) (arrow.ArrayData, error) {
	if _, isDict := d.DataType().(*arrow.DictionaryType); isDict {
		if _, stays := to.(*arrow.DictionaryType); !stays {
			return decodeDictionary(d, to)
		}
	}
	var toChildren []arrow.DataType
	switch x := to.(type) {
	case *arrow.StructType:
		for _, f := range x.Fields() {
			toChildren = append(toChildren, f.Type)
		}
	case *arrow.MapType:
		toChildren = []arrow.DataType{x.Elem()}
	case arrow.ListLikeType:
		toChildren = []arrow.DataType{x.Elem()}
	}
	children := d.Children()
	if len(toChildren) != len(children) {
		return nil, fmt.Errorf("cannot turn %s into %s", d.DataType(), to)
	}
	out := make([]arrow.ArrayData, len(children))
	defer func() {
		for _, c := range out {
			if c != nil {
				c.Release()
			}
		}
	}()
	for i, c := range children {
		if arrow.TypeEqual(c.DataType(), toChildren[i]) {
			c.Retain()
			out[i] = c
			continue
		}
		nc, err := decodeDictionaries(c, toChildren[i])
		if err != nil {
			return nil, err
		}
		out[i] = nc
	}
	return array.NewData(to, d.Len(), d.Buffers(), out, d.NullN(), d.Offset()), nil
}

// decodeDictionary turns a dictionary of text into the text of each entry.
func decodeDictionary(d arrow.ArrayData, to arrow.DataType) (arrow.ArrayData, error) {
	a := array.MakeFromData(d).(*array.Dictionary)
	defer a.Release()
	dict, ok := a.Dictionary().(interface{ Value(int) string })
	if !ok {
		return nil, fmt.Errorf("ENUM members are %s, not text", a.Dictionary().DataType())
	}
	b := array.NewBuilder(memory.DefaultAllocator, to)
	defer b.Release()
	sb, ok := b.(interface {
		Append(string)
		AppendNull()
	})
	if !ok {
		return nil, fmt.Errorf("cannot write ENUM members as %s", to)
	}
	b.Reserve(a.Len())
	for j := 0; j < a.Len(); j++ {
		if a.IsNull(j) {
			sb.AppendNull()
		} else {
			sb.Append(dict.Value(a.GetValueIndex(j)))
		}
	}
	arr := b.NewArray()
	defer arr.Release()
	out := arr.Data()
	out.Retain()
	return out, nil
}

// fillPlan writes a column that holds ENUMs inside nested types: DuckDB converted it from
// Arrow with VARCHAR in their place; the plan copies the value into the declared type,
// writing each ENUM's positions. A nil child plan is a part without ENUMs, copied as is.
type fillPlan struct {
	kind     bindings.Type // TypeEnum, TypeStruct, TypeList (MAP too) or TypeArray
	enum     *enumColumn
	children []*fillPlan
	size     int // of an ARRAY
}

// nestedEnumType returns the type a column or child of Arrow field f must be declared as when
// it holds marked ENUMs inside (lt is what DuckDB converted it to), and the plan to fill it.
// A nil plan means the field holds none (and no type is returned).
func nestedEnumType(f arrow.Field, lt bindings.LogicalType) (bindings.LogicalType, *fillPlan, error) {
	if text, ok := f.Metadata.GetValue(enumMetadataKey); ok && bindings.GetTypeId(lt) == bindings.TypeVarchar {
		var members []string
		if err := json.Unmarshal([]byte(text), &members); err != nil {
			return bindings.LogicalType{}, nil, fmt.Errorf("%s: bad ENUM members %q: %w", f.Name, text, err)
		}
		ec := &enumColumn{members: members, pos: make(map[string]uint32, len(members))}
		for j, m := range members {
			ec.pos[m] = uint32(j)
		}
		t := bindings.CreateEnumType(members)
		ec.internal = bindings.EnumInternalType(t)
		return t, &fillPlan{kind: bindings.TypeEnum, enum: ec}, nil
	}
	switch bindings.GetTypeId(lt) {
	case bindings.TypeStruct:
		st, ok := f.Type.(*arrow.StructType)
		n := int(bindings.StructTypeChildCount(lt))
		if !ok || st.NumFields() != n {
			return bindings.LogicalType{}, nil, nil
		}
		types := make([]bindings.LogicalType, n)
		names := make([]string, n)
		plans := make([]*fillPlan, n)
		defer func() {
			for i := range types {
				bindings.DestroyLogicalType(&types[i])
			}
		}()
		changed := false
		for i := 0; i < n; i++ {
			c := bindings.StructTypeChildType(lt, bindings.IdxT(i))
			names[i] = bindings.StructTypeChildName(lt, bindings.IdxT(i))
			nt, p, err := nestedEnumType(st.Field(i), c)
			if err != nil {
				bindings.DestroyLogicalType(&c)
				return bindings.LogicalType{}, nil, err
			}
			if p != nil {
				bindings.DestroyLogicalType(&c)
				types[i], plans[i], changed = nt, p, true
			} else {
				types[i] = c
			}
		}
		if !changed {
			return bindings.LogicalType{}, nil, nil
		}
		return bindings.CreateStructType(types, names), &fillPlan{kind: bindings.TypeStruct, children: plans}, nil
	case bindings.TypeList, bindings.TypeArray:
		lf, ok := f.Type.(arrow.ListLikeType)
		if !ok {
			return bindings.LogicalType{}, nil, nil
		}
		var c bindings.LogicalType
		isList := bindings.GetTypeId(lt) == bindings.TypeList
		if isList {
			c = bindings.ListTypeChildType(lt)
		} else {
			c = bindings.ArrayTypeChildType(lt)
		}
		defer bindings.DestroyLogicalType(&c)
		nt, p, err := nestedEnumType(lf.ElemField(), c)
		if err != nil || p == nil {
			return bindings.LogicalType{}, nil, err
		}
		defer bindings.DestroyLogicalType(&nt)
		if isList {
			return bindings.CreateListType(nt), &fillPlan{kind: bindings.TypeList, children: []*fillPlan{p}}, nil
		}
		size := bindings.ArrayTypeArraySize(lt)
		return bindings.CreateArrayType(nt, size), &fillPlan{kind: bindings.TypeArray, children: []*fillPlan{p}, size: int(size)}, nil
	case bindings.TypeMap:
		mt, ok := f.Type.(*arrow.MapType)
		if !ok {
			return bindings.LogicalType{}, nil, nil
		}
		k, v := bindings.MapTypeKeyType(lt), bindings.MapTypeValueType(lt)
		defer bindings.DestroyLogicalType(&k)
		defer bindings.DestroyLogicalType(&v)
		kt, kp, err := nestedEnumType(mt.KeyField(), k)
		if err != nil {
			return bindings.LogicalType{}, nil, err
		}
		vt, vp, err := nestedEnumType(mt.ItemField(), v)
		if err != nil {
			if kp != nil {
				bindings.DestroyLogicalType(&kt)
			}
			return bindings.LogicalType{}, nil, err
		}
		if kp == nil && vp == nil {
			return bindings.LogicalType{}, nil, nil
		}
		if kp == nil {
			kt = k
		} else {
			defer bindings.DestroyLogicalType(&kt)
		}
		if vp == nil {
			vt = v
		} else {
			defer bindings.DestroyLogicalType(&vt)
		}
		// A MAP's vector is a LIST of STRUCT(key, value).
		entries := &fillPlan{kind: bindings.TypeStruct, children: []*fillPlan{kp, vp}}
		return bindings.CreateMapType(kt, vt), &fillPlan{kind: bindings.TypeList, children: []*fillPlan{entries}}, nil
	}
	return bindings.LogicalType{}, nil, nil
}

// fill writes the first n rows of src (DuckDB's conversion) into dst (the declared type).
func (p *fillPlan) fill(dst, src bindings.Vector, n int) error {
	if n == 0 {
		return nil
	}
	switch p.kind {
	case bindings.TypeEnum:
		return p.enum.fillFromText(dst, src, n)
	case bindings.TypeStruct:
		copyValidity(dst, src, n)
		for i, c := range p.children {
			d := bindings.StructVectorGetChild(dst, bindings.IdxT(i))
			s := bindings.StructVectorGetChild(src, bindings.IdxT(i))
			if err := fillOrCopy(c, d, s, n); err != nil {
				return err
			}
		}
	case bindings.TypeList:
		copyValidity(dst, src, n)
		// list_entry_t{offset, length uint64} per row, pointing into the child vector.
		const entry = 16
		copy(unsafe.Slice((*byte)(bindings.VectorGetData(dst)), n*entry), unsafe.Slice((*byte)(bindings.VectorGetData(src)), n*entry))
		size := bindings.ListVectorGetSize(src)
		if bindings.ListVectorReserve(dst, size) == bindings.StateError {
			return fmt.Errorf("cannot reserve %d list entries", size)
		}
		if err := fillOrCopy(p.children[0], bindings.ListVectorGetChild(dst), bindings.ListVectorGetChild(src), int(size)); err != nil {
			return err
		}
		if bindings.ListVectorSetSize(dst, size) == bindings.StateError {
			return fmt.Errorf("cannot set the list size to %d", size)
		}
	case bindings.TypeArray:
		copyValidity(dst, src, n)
		return fillOrCopy(p.children[0], bindings.ArrayVectorGetChild(dst), bindings.ArrayVectorGetChild(src), n*p.size)
	}
	return nil
}

func fillOrCopy(p *fillPlan, dst, src bindings.Vector, n int) error {
	if p != nil {
		return p.fill(dst, src, n)
	}
	if n == 0 {
		return nil
	}
	sel := bindings.CreateSelectionVector(bindings.IdxT(n))
	defer bindings.DestroySelectionVector(&sel)
	idx := unsafe.Slice((*uint32)(unsafe.Pointer(bindings.SelectionVectorGetDataPtr(sel))), n)
	for i := range idx {
		idx[i] = uint32(i)
	}
	bindings.VectorCopySel(src, dst, sel, bindings.IdxT(n), 0, 0)
	return nil
}

// copyValidity makes the first n rows of dst valid where those of src are.
func copyValidity(dst, src bindings.Vector, n int) {
	sv := bindings.VectorGetValidity(src)
	bindings.VectorEnsureValidityWritable(dst)
	dv := unsafe.Slice((*uint64)(bindings.VectorGetValidity(dst)), (n+63)/64)
	if sv == nil {
		for i := range dv {
			dv[i] = ^uint64(0)
		}
		return
	}
	copy(dv, unsafe.Slice((*uint64)(sv), (n+63)/64))
}

// fillFromText writes the positions of the members named by src, a VARCHAR vector, into dst,
// an ENUM vector.
func (ec *enumColumn) fillFromText(dst, src bindings.Vector, n int) error {
	copyValidity(dst, src, n)
	sv := bindings.VectorGetValidity(src)
	strs := bindings.VectorGetData(src)
	data := bindings.VectorGetData(dst)
	for j := 0; j < n; j++ {
		var p uint32
		if sv == nil || bindings.ValidityRowIsValid(sv, bindings.IdxT(j)) {
			s := duckString(unsafe.Add(strs, 16*j))
			var ok bool
			if p, ok = ec.pos[s]; !ok {
				return fmt.Errorf("%q is not one of the ENUM's members", s)
			}
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

// duckString reads a duckdb_string_t: a 4-byte length, then up to 12 bytes inline, or (for a
// longer string) a 4-byte prefix and a pointer to the bytes. The result aliases DuckDB's
// memory: use it before the vector is released.
func duckString(p unsafe.Pointer) string {
	n := *(*uint32)(p)
	if n <= 12 {
		return unsafe.String((*byte)(unsafe.Add(p, 4)), n)
	}
	return unsafe.String(*(**byte)(unsafe.Add(p, 8)), n)
}

// enumInUnion tells whether lt holds an ENUM inside a UNION (at any depth), which markEnums
// does not reach: DuckDB would read it back as VARCHAR.
func enumInUnion(lt bindings.LogicalType, inUnion bool) bool {
	child := func(c bindings.LogicalType, inUnion bool) bool {
		defer bindings.DestroyLogicalType(&c)
		return enumInUnion(c, inUnion)
	}
	switch bindings.GetTypeId(lt) {
	case bindings.TypeEnum:
		return inUnion
	case bindings.TypeMap:
		return child(bindings.MapTypeKeyType(lt), inUnion) || child(bindings.MapTypeValueType(lt), inUnion)
	case bindings.TypeList:
		return child(bindings.ListTypeChildType(lt), inUnion)
	case bindings.TypeArray:
		return child(bindings.ArrayTypeChildType(lt), inUnion)
	case bindings.TypeStruct:
		for i := bindings.IdxT(0); i < bindings.StructTypeChildCount(lt); i++ {
			if child(bindings.StructTypeChildType(lt, i), inUnion) {
				return true
			}
		}
	case bindings.TypeUnion:
		for i := bindings.IdxT(0); i < bindings.UnionTypeMemberCount(lt); i++ {
			if child(bindings.UnionTypeMemberType(lt, i), true) {
				return true
			}
		}
	}
	return false
}

// nestedEnumColumns finds the columns of schema holding marked ENUMs inside nested types and
// replaces their types (as DuckDB converted them, VARCHAR in the ENUMs' place) by the declared
// ones. The replaced types are destroyed. Columns in enums (ENUM columns) are left alone.
func nestedEnumColumns(schema *arrow.Schema, types []bindings.LogicalType, enums map[int]*enumColumn) (map[int]*fillPlan, error) {
	var out map[int]*fillPlan
	for i, f := range schema.Fields() {
		if enums[i] != nil {
			continue
		}
		t, p, err := nestedEnumType(f, types[i])
		if err != nil {
			return nil, err
		}
		if p == nil {
			continue
		}
		bindings.DestroyLogicalType(&types[i])
		types[i] = t
		if out == nil {
			out = map[int]*fillPlan{}
		}
		out[i] = p
	}
	return out, nil
}
