// Package capi declares the few DuckDB C API functions that duckdb-go does not wrap without
// build tags: the Arrow C data interface conversions (chunk <-> Arrow). Declaring them here,
// with opaque pointers, lets every package build with a plain `go build` while linking against
// the same static DuckDB library that duckdb-go-bindings already pulls in.
//
// Handles are passed as unsafe.Pointer (the C API's handles are all pointers to opaque structs),
// and wrapped back into duckdb-go-bindings' handle types by callers.
package capi

/*
#include <stdint.h>
#include <stdlib.h>

typedef uint64_t af_idx_t;

// Arrow C data interface structs are an ABI fixed by the Arrow specification; we only need their
// sizes here, the contents are filled and read by DuckDB and arrow-go.
struct af_ArrowSchema { const char* format; const char* name; const char* metadata; int64_t flags;
	int64_t n_children; void** children; void* dictionary; void (*release)(void*); void* private_data; };
struct af_ArrowArray { int64_t length; int64_t null_count; int64_t offset; int64_t n_buffers;
	int64_t n_children; const void** buffers; void** children; void* dictionary;
	void (*release)(void*); void* private_data; };

extern void* duckdb_to_arrow_schema(void* arrow_options, void** types, const char** names, af_idx_t column_count, void* out_schema);
extern void* duckdb_data_chunk_to_arrow(void* arrow_options, void* chunk, void* out_arrow_array);
extern void* duckdb_schema_from_arrow(void* connection, void* schema, void** out_types);
extern void* duckdb_data_chunk_from_arrow(void* connection, void* arrow_array, void* converted_schema, void** out_chunk);
extern void duckdb_destroy_arrow_converted_schema(void** converted_schema);
extern int duckdb_error_data_has_error(void* error_data);
extern const char* duckdb_error_data_message(void* error_data);
extern void duckdb_destroy_error_data(void** error_data);

static void* af_alloc_schema(void) { return calloc(1, sizeof(struct af_ArrowSchema)); }
static void* af_alloc_array(void) { return calloc(1, sizeof(struct af_ArrowArray)); }
*/
import "C"

import (
	"errors"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/cdata"
)

// takeError converts a duckdb_error_data into a Go error and destroys it.
func takeError(ed unsafe.Pointer) error {
	if ed == nil {
		return nil
	}
	defer C.duckdb_destroy_error_data(&ed)
	if C.duckdb_error_data_has_error(ed) == 0 {
		return nil
	}
	return errors.New(C.GoString(C.duckdb_error_data_message(ed)))
}

// ArrowSchema builds the Arrow schema DuckDB produces for the given logical types and names.
// options is a duckdb_arrow_options handle (from a result or a connection).
func ArrowSchema(options unsafe.Pointer, types []unsafe.Pointer, names []string) (*arrow.Schema, error) {
	n := len(types)
	cTypes := C.calloc(C.size_t(n+1), C.size_t(unsafe.Sizeof(uintptr(0))))
	defer C.free(cTypes)
	cNames := C.calloc(C.size_t(n+1), C.size_t(unsafe.Sizeof(uintptr(0))))
	defer C.free(cNames)
	typeSlice := unsafe.Slice((*unsafe.Pointer)(cTypes), n+1)
	nameSlice := unsafe.Slice((**C.char)(cNames), n+1)
	for i := 0; i < n; i++ {
		typeSlice[i] = types[i]
		nameSlice[i] = C.CString(names[i])
	}
	defer func() {
		for i := 0; i < n; i++ {
			C.free(unsafe.Pointer(nameSlice[i]))
		}
	}()
	out := C.af_alloc_schema()
	defer func() {
		cdata.ReleaseCArrowSchema((*cdata.CArrowSchema)(out))
		C.free(out)
	}()
	if err := takeError(C.duckdb_to_arrow_schema(options, (*unsafe.Pointer)(cTypes), (**C.char)(cNames), C.af_idx_t(n), out)); err != nil {
		return nil, err
	}
	return cdata.ImportCArrowSchema((*cdata.CArrowSchema)(out))
}

// ChunkToRecord converts a DuckDB data chunk into an Arrow record batch with the given schema.
// The batch owns its memory (DuckDB copies the chunk's data into Arrow buffers).
func ChunkToRecord(options, chunk unsafe.Pointer, schema *arrow.Schema) (arrow.RecordBatch, error) {
	out := C.af_alloc_array()
	defer func() {
		cdata.ReleaseCArrowArray((*cdata.CArrowArray)(out))
		C.free(out)
	}()
	if err := takeError(C.duckdb_data_chunk_to_arrow(options, chunk, out)); err != nil {
		return nil, err
	}
	return cdata.ImportCRecordBatchWithSchema((*cdata.CArrowArray)(out), schema)
}

// ConvertedSchema is a DuckDB duckdb_arrow_converted_schema: DuckDB's view of an Arrow schema.
type ConvertedSchema struct{ ptr unsafe.Pointer }

// SchemaFromArrow converts an Arrow schema for later ChunkFromRecord calls on conn.
func SchemaFromArrow(conn unsafe.Pointer, schema *arrow.Schema) (ConvertedSchema, error) {
	cs := C.af_alloc_schema()
	defer func() {
		cdata.ReleaseCArrowSchema((*cdata.CArrowSchema)(cs))
		C.free(cs)
	}()
	cdata.ExportArrowSchema(schema, (*cdata.CArrowSchema)(cs))
	var out unsafe.Pointer
	if err := takeError(C.duckdb_schema_from_arrow(conn, cs, &out)); err != nil {
		if out != nil {
			C.duckdb_destroy_arrow_converted_schema(&out)
		}
		return ConvertedSchema{}, err
	}
	return ConvertedSchema{ptr: out}, nil
}

// Close releases the converted schema.
func (s *ConvertedSchema) Close() {
	if s.ptr != nil {
		C.duckdb_destroy_arrow_converted_schema(&s.ptr)
		s.ptr = nil
	}
}

// ChunkFromRecord converts an Arrow record batch (at most one vector of rows) into a new DuckDB
// data chunk, which the caller must destroy. DuckDB takes ownership of the exported Arrow data;
// fixed-width buffers are referenced, not copied.
func ChunkFromRecord(conn unsafe.Pointer, rec arrow.RecordBatch, schema ConvertedSchema) (unsafe.Pointer, error) {
	arr := C.af_alloc_array()
	defer C.free(arr)
	cdata.ExportArrowRecordBatch(rec, (*cdata.CArrowArray)(arr), nil)
	var chunk unsafe.Pointer
	err := takeError(C.duckdb_data_chunk_from_arrow(conn, arr, schema.ptr, &chunk))
	// If DuckDB did not take ownership (it nulls release when it does), release it here.
	cdata.ReleaseCArrowArray((*cdata.CArrowArray)(arr))
	if err != nil {
		return nil, err
	}
	return chunk, nil
}
