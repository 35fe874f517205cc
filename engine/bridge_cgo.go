package engine

// The C side of the Arrow bridge: the callbacks DuckDB calls for our table functions and COPY
// targets, and the copy-function C API, which duckdb-go-bindings does not wrap. As in
// engine/capi, functions are declared here with opaque (void*) handles rather than by
// including duckdb.h; the symbols come from the static DuckDB library the bindings link.
//
// This file uses //export, so its preamble holds declarations only.

/*
#include <stdint.h>
#include <stdlib.h>

typedef uint64_t af_idx_t;

// Copy functions (stable since DuckDB v1.5.6).
extern void* duckdb_create_copy_function(void);
extern void duckdb_copy_function_set_name(void*, const char*);
extern void duckdb_copy_function_set_extra_info(void*, void*, void (*)(void*));
extern void duckdb_copy_function_set_bind(void*, void (*)(void*));
extern void duckdb_copy_function_set_global_init(void*, void (*)(void*));
extern void duckdb_copy_function_set_sink(void*, void (*)(void*, void*));
extern void duckdb_copy_function_set_finalize(void*, void (*)(void*));
extern int duckdb_register_copy_function(void*, void*);
extern void duckdb_destroy_copy_function(void**);

extern void duckdb_copy_function_bind_set_error(void*, const char*);
extern void* duckdb_copy_function_bind_get_extra_info(void*);
extern void* duckdb_copy_function_bind_get_client_context(void*);
extern af_idx_t duckdb_copy_function_bind_get_column_count(void*);
extern void* duckdb_copy_function_bind_get_column_type(void*, af_idx_t);
extern void* duckdb_copy_function_bind_get_options(void*);
extern void duckdb_copy_function_bind_set_bind_data(void*, void*, void (*)(void*));

extern void duckdb_copy_function_global_init_set_error(void*, const char*);
extern void* duckdb_copy_function_global_init_get_client_context(void*);
extern void* duckdb_copy_function_global_init_get_bind_data(void*);
extern const char* duckdb_copy_function_global_init_get_file_path(void*);
extern void duckdb_copy_function_global_init_set_global_state(void*, void*, void (*)(void*));

extern void duckdb_copy_function_sink_set_error(void*, const char*);
extern void* duckdb_copy_function_sink_get_global_state(void*);

extern void duckdb_copy_function_finalize_set_error(void*, const char*);
extern void* duckdb_copy_function_finalize_get_global_state(void*);

// Client contexts (to find the calling connection).
extern af_idx_t duckdb_client_context_get_connection_id(void*);
extern void duckdb_destroy_client_context(void**);

// Our callbacks (defined in Go below).
void afTableBind(void*);
void afTableInit(void*);
void afTableLocalInit(void*);
void afTableScan(void*, void*);
void afCopyBind(void*);
void afCopyInit(void*);
void afCopySink(void*, void*);
void afCopyFinalize(void*);
void afDeleteHandle(void*);
*/
import "C"

import (
	"fmt"
	"log/slog"
	"runtime/cgo"
	"runtime/debug"
	"strings"
	"unsafe"

	bindings "github.com/duckdb/duckdb-go-bindings"
)

// Function pointers of the callbacks, for the registration code.
var (
	cbTableBind      = unsafe.Pointer(C.afTableBind)
	cbTableInit      = unsafe.Pointer(C.afTableInit)
	cbTableLocalInit = unsafe.Pointer(C.afTableLocalInit)
	cbTableScan      = unsafe.Pointer(C.afTableScan)
	cbDeleteHandle   = unsafe.Pointer(C.afDeleteHandle)
)

// newHandle stores a Go value behind a C-allocated slot, so that DuckDB can carry it as
// extra info, bind data or state and hand it back to our callbacks; afDeleteHandle frees it.
func newHandle(v any) unsafe.Pointer {
	p := C.malloc(C.size_t(unsafe.Sizeof(C.uintptr_t(0))))
	*(*C.uintptr_t)(p) = C.uintptr_t(cgo.NewHandle(v))
	return p
}

// handleValue returns the Go value stored by newHandle.
func handleValue(p unsafe.Pointer) any {
	if p == nil {
		return nil
	}
	return cgo.Handle(*(*C.uintptr_t)(p)).Value()
}

// closer is implemented by handle values that hold resources to free when DuckDB drops them.
type closer interface{ close() }

//export afDeleteHandle
func afDeleteHandle(p unsafe.Pointer) {
	if p == nil {
		return
	}
	h := cgo.Handle(*(*C.uintptr_t)(p))
	if c, ok := h.Value().(closer); ok {
		c.close()
	}
	h.Delete()
	C.free(p)
}

func cString(s string) *C.char { return C.CString(s) }

func freeCString(s *C.char) { C.free(unsafe.Pointer(s)) }

// connectionIDOf reads the connection id of a client context and destroys the context.
func connectionIDOf(clientContext unsafe.Pointer) (uint64, bool) {
	if clientContext == nil {
		return 0, false
	}
	id := uint64(C.duckdb_client_context_get_connection_id(clientContext))
	C.duckdb_destroy_client_context(&clientContext)
	return id, true
}

// ---- table functions ----

// A panic must not unwind into DuckDB's C++ frames: callbacks turn panics into errors. The
// stack trace goes to the log, never into the error (which reaches SQL and wire clients).
func recovered(setError func(string)) {
	if r := recover(); r != nil {
		slog.Error("ankaflow: panic in a Go callback of DuckDB", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		setError(PanicMessage(r))
	}
}

// PanicMessage is the short error a recovered panic becomes: what panicked, not where (the
// stack trace is logged). Wire servers map it to SQLSTATE XX000.
func PanicMessage(r any) string {
	msg := strings.Join(strings.Fields(fmt.Sprint(r)), " ")
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	return InternalErrorPrefix + msg + " (the server log has the details)"
}

// InternalErrorPrefix starts the message of an error that is a bug in ankaflow, not in the
// query.
const InternalErrorPrefix = "ankaflow internal error: "

//export afTableBind
func afTableBind(info unsafe.Pointer) {
	defer recovered(func(msg string) { bindings.BindSetError(bindings.BindInfo{Ptr: info}, msg) })
	tableBind(info)
}

//export afTableInit
func afTableInit(info unsafe.Pointer) {
	defer recovered(func(msg string) { bindings.InitSetError(bindings.InitInfo{Ptr: info}, msg) })
	tableInit(info)
}

//export afTableLocalInit
func afTableLocalInit(info unsafe.Pointer) {}

//export afTableScan
func afTableScan(info, output unsafe.Pointer) {
	defer recovered(func(msg string) { bindings.FunctionSetError(bindings.FunctionInfo{Ptr: info}, msg) })
	tableScan(info, output)
}

// ---- copy functions ----

//export afCopyBind
func afCopyBind(info unsafe.Pointer) {
	defer recovered(func(msg string) { copyBindError(info, msg) })
	extra := C.duckdb_copy_function_bind_get_extra_info(info)
	reg, _ := handleValue(extra).(*copyRegistration)
	if reg == nil {
		copyBindError(info, "ankaflow: copy function state is missing")
		return
	}
	copyBind(reg, info)
}

func copyBindError(info unsafe.Pointer, msg string) {
	cs := cString(msg)
	defer freeCString(cs)
	C.duckdb_copy_function_bind_set_error(info, cs)
}

func copyBindClientContext(info unsafe.Pointer) unsafe.Pointer {
	return C.duckdb_copy_function_bind_get_client_context(info)
}

func copyBindColumnCount(info unsafe.Pointer) int {
	return int(C.duckdb_copy_function_bind_get_column_count(info))
}

func copyBindColumnType(info unsafe.Pointer, i int) unsafe.Pointer {
	return C.duckdb_copy_function_bind_get_column_type(info, C.af_idx_t(i))
}

func copyBindOptions(info unsafe.Pointer) unsafe.Pointer {
	return C.duckdb_copy_function_bind_get_options(info)
}

func copyBindSetData(info unsafe.Pointer, v any) {
	C.duckdb_copy_function_bind_set_bind_data(info, newHandle(v), (*[0]byte)(cbDeleteHandle))
}

//export afCopyInit
func afCopyInit(info unsafe.Pointer) {
	defer recovered(func(msg string) { copyInitError(info, msg) })
	bd, _ := handleValue(C.duckdb_copy_function_global_init_get_bind_data(info)).(*copyBindData)
	if bd == nil {
		copyInitError(info, "ankaflow: copy bind data is missing")
		return
	}
	path := C.GoString(C.duckdb_copy_function_global_init_get_file_path(info))
	id, ok := connectionIDOf(C.duckdb_copy_function_global_init_get_client_context(info))
	st, err := copyInit(bd, path, id, ok)
	if err != nil {
		copyInitError(info, err.Error())
		return
	}
	C.duckdb_copy_function_global_init_set_global_state(info, newHandle(st), (*[0]byte)(cbDeleteHandle))
}

func copyInitError(info unsafe.Pointer, msg string) {
	cs := cString(msg)
	defer freeCString(cs)
	C.duckdb_copy_function_global_init_set_error(info, cs)
}

//export afCopySink
func afCopySink(info, chunk unsafe.Pointer) {
	defer recovered(func(msg string) { sinkError(info, msg) })
	st, _ := handleValue(C.duckdb_copy_function_sink_get_global_state(info)).(*copyState)
	if st == nil {
		return
	}
	if err := st.sink(chunk); err != nil {
		sinkError(info, err.Error())
	}
}

func sinkError(info unsafe.Pointer, msg string) {
	cs := cString(msg)
	defer freeCString(cs)
	C.duckdb_copy_function_sink_set_error(info, cs)
}

//export afCopyFinalize
func afCopyFinalize(info unsafe.Pointer) {
	defer recovered(func(msg string) { finalizeError(info, msg) })
	st, _ := handleValue(C.duckdb_copy_function_finalize_get_global_state(info)).(*copyState)
	if st == nil {
		return
	}
	if err := st.finalize(); err != nil {
		finalizeError(info, err.Error())
	}
}

func finalizeError(info unsafe.Pointer, msg string) {
	cs := cString(msg)
	defer freeCString(cs)
	C.duckdb_copy_function_finalize_set_error(info, cs)
}

// registerCopyFunction registers a copy function named name whose callbacks dispatch to reg.
func registerCopyFunction(conn unsafe.Pointer, name string, reg *copyRegistration) bool {
	cf := C.duckdb_create_copy_function()
	defer C.duckdb_destroy_copy_function(&cf)
	cs := cString(name)
	defer freeCString(cs)
	C.duckdb_copy_function_set_name(cf, cs)
	C.duckdb_copy_function_set_extra_info(cf, newHandle(reg), (*[0]byte)(cbDeleteHandle))
	C.duckdb_copy_function_set_bind(cf, (*[0]byte)(C.afCopyBind))
	C.duckdb_copy_function_set_global_init(cf, (*[0]byte)(C.afCopyInit))
	C.duckdb_copy_function_set_sink(cf, (*[0]byte)(C.afCopySink))
	C.duckdb_copy_function_set_finalize(cf, (*[0]byte)(C.afCopyFinalize))
	return C.duckdb_register_copy_function(conn, cf) == 0
}
