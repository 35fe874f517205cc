package engine

import (
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	bindings "github.com/duckdb/duckdb-go-bindings"

	"github.com/ankaflow/ankaflow/engine/capi"
)

// DuckDB (v1.5) leaves out marks its own types need from the Arrow schemas it produces:
//
//   - JSON is marked (extension arrow.json) only with arrow_lossless_conversion, and even then
//     not inside a MAP. DuckDB prints a JSON element of a LIST unquoted, unlike a VARCHAR, so a
//     reader of the rows (value.Format) must know which elements are JSON.
//   - With arrow_lossless_conversion, UUID, HUGEINT, UHUGEINT, TIME WITH TIME ZONE, BIT and
//     BIGNUM inside a MAP arrive in their lossless layout but without their extension mark, so
//     they would read back as bytes (and DuckDB would read them back as BLOB).
//
// completeMarks adds the missing marks from the DuckDB logical types of the columns. The
// layout of the data is not changed: only field metadata, which the rows imported with the
// returned schema carry along. It applies to query results (Rows) and to the rows of COPY
// targets that keep rows exactly; other COPY targets (sinks writing to other systems) get
// DuckDB's plain form, JSON as text, as before.

const (
	arrowExtName = "ARROW:extension:name"
	arrowExtMeta = "ARROW:extension:metadata"
)

// completeMarks returns schema (DuckDB's Arrow form of types, in order, under options) with
// the extension marks DuckDB left out; schema itself when none were missing.
func completeMarks(options unsafe.Pointer, schema *arrow.Schema, types []unsafePointer) *arrow.Schema {
	fields := schema.Fields()
	changed := false
	for i, t := range types {
		if i >= len(fields) {
			break
		}
		if f, ok := markField(options, fields[i], bindings.LogicalType{Ptr: t}); ok {
			fields[i], changed = f, true
		}
	}
	if !changed {
		return schema
	}
	md := schema.Metadata()
	return arrow.NewSchema(fields, &md)
}

// markField returns f with the marks of lt (its DuckDB type) completed, and whether anything
// changed.
func markField(options unsafe.Pointer, f arrow.Field, lt bindings.LogicalType) (arrow.Field, bool) {
	return rewriteField(f, lt, 0, func(f arrow.Field, lt bindings.LogicalType, _ int) (arrow.Field, bool) {
		switch bindings.GetTypeId(lt) {
		case bindings.TypeVarchar:
			if bindings.LogicalTypeGetAlias(lt) == "JSON" && !hasExtension(f) && (f.Type.ID() == arrow.STRING || f.Type.ID() == arrow.LARGE_STRING || f.Type.ID() == arrow.STRING_VIEW) {
				f.Metadata = withMetadata(f.Metadata, map[string]string{arrowExtName: "arrow.json", arrowExtMeta: ""})
				return f, true
			}
		case bindings.TypeUUID, bindings.TypeHugeInt, bindings.TypeUHugeInt, bindings.TypeTimeTZ, bindings.TypeBit, bindings.TypeBigNum:
			switch f.Type.ID() {
			case arrow.FIXED_SIZE_BINARY, arrow.BINARY, arrow.LARGE_BINARY, arrow.BINARY_VIEW:
			default:
				return f, false // the plain form (text, a decimal): nothing to mark
			}
			if hasExtension(f) {
				return f, false
			}
			// DuckDB's own field for the type alone carries the mark: take it when the layout
			// is the same (it is not without lossless conversion, where these types are text).
			alone, err := capi.ArrowSchema(options, []unsafePointer{lt.Ptr}, []string{f.Name})
			if err != nil || alone.NumFields() != 1 {
				return f, false
			}
			a := alone.Field(0)
			if !hasExtension(a) || !arrow.TypeEqual(a.Type, f.Type) {
				return f, false
			}
			f.Metadata = withMetadata(f.Metadata, metadataMap(a.Metadata))
			return f, true
		}
		return f, false
	})
}

// rewriteField walks f and lt (its DuckDB type) together, depth first: at each node fn may
// return a replacement (true); otherwise the node's children are walked and the node rebuilt
// around the replaced ones. depth is 0 for a column.
func rewriteField(f arrow.Field, lt bindings.LogicalType, depth int, fn func(arrow.Field, bindings.LogicalType, int) (arrow.Field, bool)) (arrow.Field, bool) {
	if nf, ok := fn(f, lt, depth); ok {
		return nf, true
	}
	switch bindings.GetTypeId(lt) {
	case bindings.TypeStruct:
		st, ok := f.Type.(*arrow.StructType)
		n := int(bindings.StructTypeChildCount(lt))
		if !ok || st.NumFields() != n {
			return f, false
		}
		children := st.Fields()
		changed := false
		for i := range children {
			c := bindings.StructTypeChildType(lt, bindings.IdxT(i))
			if nf, ok := rewriteField(children[i], c, depth+1, fn); ok {
				children[i], changed = nf, true
			}
			bindings.DestroyLogicalType(&c)
		}
		if changed {
			f.Type = arrow.StructOf(children...)
			return f, true
		}
	case bindings.TypeList, bindings.TypeArray:
		var c bindings.LogicalType
		if bindings.GetTypeId(lt) == bindings.TypeList {
			c = bindings.ListTypeChildType(lt)
		} else {
			c = bindings.ArrayTypeChildType(lt)
		}
		defer bindings.DestroyLogicalType(&c)
		switch x := f.Type.(type) {
		case *arrow.ListType:
			if e, ok := rewriteField(x.ElemField(), c, depth+1, fn); ok {
				f.Type = arrow.ListOfField(e)
				return f, true
			}
		case *arrow.LargeListType:
			if e, ok := rewriteField(x.ElemField(), c, depth+1, fn); ok {
				f.Type = arrow.LargeListOfField(e)
				return f, true
			}
		case *arrow.ListViewType:
			if e, ok := rewriteField(x.ElemField(), c, depth+1, fn); ok {
				f.Type = arrow.ListViewOfField(e)
				return f, true
			}
		case *arrow.FixedSizeListType:
			if e, ok := rewriteField(x.ElemField(), c, depth+1, fn); ok {
				f.Type = arrow.FixedSizeListOfField(x.Len(), e)
				return f, true
			}
		}
	case bindings.TypeMap:
		mt, ok := f.Type.(*arrow.MapType)
		if !ok {
			return f, false
		}
		k, v := bindings.MapTypeKeyType(lt), bindings.MapTypeValueType(lt)
		defer bindings.DestroyLogicalType(&k)
		defer bindings.DestroyLogicalType(&v)
		kf, kok := rewriteField(mt.KeyField(), k, depth+1, fn)
		vf, vok := rewriteField(mt.ItemField(), v, depth+1, fn)
		if kok || vok {
			kf.Nullable = false // Arrow map keys are never null
			nt := arrow.MapOfFields(kf, vf)
			nt.KeysSorted = mt.KeysSorted
			f.Type = nt
			return f, true
		}
	}
	return f, false
}

func hasExtension(f arrow.Field) bool {
	if _, ok := f.Type.(arrow.ExtensionType); ok {
		return true
	}
	_, ok := f.Metadata.GetValue(arrowExtName)
	return ok
}

func metadataMap(md arrow.Metadata) map[string]string {
	m := make(map[string]string, md.Len())
	for i, k := range md.Keys() {
		m[k] = md.Values()[i]
	}
	return m
}

// withMetadata returns md with the entries of add set (existing keys replaced), in order.
func withMetadata(md arrow.Metadata, add map[string]string) arrow.Metadata {
	keys := append([]string(nil), md.Keys()...)
	vals := append([]string(nil), md.Values()...)
	for _, k := range []string{arrowExtName, arrowExtMeta} { // the usual order first
		if v, ok := add[k]; ok {
			keys, vals = setKey(keys, vals, k, v)
		}
	}
	for k, v := range add {
		if k != arrowExtName && k != arrowExtMeta {
			keys, vals = setKey(keys, vals, k, v)
		}
	}
	return arrow.NewMetadata(keys, vals)
}

func setKey(keys, vals []string, k, v string) ([]string, []string) {
	for i := range keys {
		if keys[i] == k {
			vals[i] = v
			return keys, vals
		}
	}
	return append(keys, k), append(vals, v)
}
