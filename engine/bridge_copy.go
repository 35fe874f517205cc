package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	bindings "github.com/duckdb/duckdb-go-bindings"

	"github.com/ankaflow/ankaflow/engine/capi"
)

// CopyTarget is a COPY format whose rows go to a Go function:
//
//	COPY (SELECT …) TO 'target' (FORMAT <Format>, option value, …)
//	COPY some_table TO 'target' (FORMAT <Format>)
//
// When the COPY starts, Sink is called on its own goroutine with a reader of the rows, which
// DuckDB converts chunk by chunk into Arrow record batches (in the order DuckDB produces them:
// COPY (SELECT … ORDER BY …) delivers them sorted). The COPY finishes when Sink returns; an error
// from Sink, at any time, fails the COPY with Sink's message. If the COPY fails or is
// cancelled before all rows were delivered, the reader ends with an error (never a clean end),
// so a sink that commits only after a clean end leaves nothing behind.
type CopyTarget struct {
	// Format is the name used in (FORMAT name).
	Format string
	// Options lists the options the target accepts (case-insensitive); COPY rejects any other
	// at bind time. Nil accepts every option.
	Options []string
	// Sink consumes the rows. target is the string after TO; options are the COPY options
	// other than FORMAT, keyed by lower-case name (a flag given without value is true). caller
	// is the session running the COPY (nil when it is not a Session); ctx is its statement
	// context, cancelled if the COPY is cancelled or fails. rows must not be used after Sink
	// returns. The returned count is informational: DuckDB reports the rows it delivered.
	Sink func(ctx context.Context, caller *Session, target string, options map[string]any, rows array.RecordReader) (int64, error)
	// Exact, when set, tells for a target whether Sink wants the rows in Arrow that keeps every
	// DuckDB type (DuckDB's arrow_lossless_conversion: UUID, HUGEINT, TIME WITH TIME ZONE,
	// BIT, JSON arrive as DuckDB's Arrow extension types, which DuckDB reads back as the same
	// types). Otherwise those arrive as plain Arrow types (UUID as text…).
	Exact func(caller *Session, target string) bool
}

type copyRegistration struct {
	db *DB
	t  CopyTarget
}

// RegisterCopyTarget registers t in the database (every session sees it).
func (s *Session) RegisterCopyTarget(t CopyTarget) error {
	if t.Format == "" || t.Sink == nil {
		return errors.New("register copy target: Format and Sink are required")
	}
	if !registerCopyFunction(s.raw.Ptr, t.Format, &copyRegistration{db: s.db, t: t}) {
		return fmt.Errorf("register copy target %s: DuckDB refused it", t.Format)
	}
	return nil
}

// copyBindData is what COPY's bind learned: the columns (as an Arrow schema) and the options.
type copyBindData struct {
	reg     *copyRegistration
	schema  *arrow.Schema
	options map[string]any
	opts    bindings.ArrowOptions
	// exactSchema and exactOpts are the lossless conversion (CopyTarget.Exact); exactOut is
	// the schema Sink sees (markEnums: nested ENUMs as text).
	exactSchema *arrow.Schema
	exactOut    *arrow.Schema
	exactOpts   bindings.ArrowOptions
}

func (bd *copyBindData) close() {
	if bd.opts.Ptr != nil {
		bindings.DestroyArrowOptions(&bd.opts)
	}
	if bd.exactOpts.Ptr != nil {
		bindings.DestroyArrowOptions(&bd.exactOpts)
	}
}

func copyBind(reg *copyRegistration, info unsafe.Pointer) {
	format := reg.t.Format
	var caller *Session
	if id, ok := connectionIDOf(copyBindClientContext(info)); ok {
		caller = reg.db.SessionByID(id)
	}
	options := map[string]any{}
	if m, ok := valueToGo(rawValue(copyBindOptions(info))).(map[string]any); ok {
		for k, v := range m {
			options[strings.ToLower(k)] = v
		}
	}
	if reg.t.Options != nil {
		allowed := map[string]bool{}
		for _, o := range reg.t.Options {
			allowed[strings.ToLower(o)] = true
		}
		var unknown []string
		for k := range options {
			if !allowed[k] {
				unknown = append(unknown, k)
			}
		}
		if len(unknown) > 0 {
			sort.Strings(unknown)
			msg := fmt.Sprintf("COPY … (FORMAT %s): unknown option %s", format, strings.ToUpper(strings.Join(unknown, ", ")))
			if len(reg.t.Options) == 0 {
				msg += "; this format takes no options"
			} else {
				msg += "; accepted options: " + strings.ToUpper(strings.Join(reg.t.Options, ", "))
			}
			copyBindError(info, msg)
			return
		}
	}
	conn, err := reg.db.conversionConn(caller)
	if err != nil {
		copyBindError(info, err.Error())
		return
	}
	n := copyBindColumnCount(info)
	types := make([]unsafePointer, n)
	for i := range types {
		types[i] = copyBindColumnType(info, i)
	}
	defer func() {
		for _, t := range types {
			lt := bindings.LogicalType{Ptr: t}
			bindings.DestroyLogicalType(&lt)
		}
	}()
	bd := &copyBindData{reg: reg, options: options}
	bindings.ConnectionGetArrowOptions(bindings.Connection{Ptr: conn}, &bd.opts)
	bd.schema, err = capi.ArrowSchema(bd.opts.Ptr, types, copyBindNames(info, n))
	if err == nil && reg.t.Exact != nil {
		var exact *Session
		if exact, err = reg.db.exactSession(); err == nil {
			bindings.ConnectionGetArrowOptions(exact.raw, &bd.exactOpts)
			bd.exactSchema, err = capi.ArrowSchema(bd.exactOpts.Ptr, types, copyBindNames(info, n))
			if err == nil {
				bd.exactSchema = completeMarks(bd.exactOpts.Ptr, bd.exactSchema, types)
				bd.exactOut = markEnums(bd.exactSchema, types)
				for i, t := range types {
					if enumInUnion(bindings.LogicalType{Ptr: t}, false) {
						err = fmt.Errorf("column %s: a UNION holding an ENUM cannot be kept exactly (it would come back as VARCHAR): cast the ENUM to VARCHAR in the query", QuoteIdent(bd.exactSchema.Field(i).Name))
						break
					}
				}
			}
		}
	}
	if err != nil {
		bd.close()
		copyBindError(info, fmt.Sprintf("COPY … (FORMAT %s): cannot describe the rows as Arrow: %v", format, err))
		return
	}
	copyBindSetData(info, bd)
}

// copyNamesLayout tells whether copyBindNames may read the column names out of DuckDB's copy
// bind info. The C API (v1.5.6) gives a COPY function its column count and types but not the
// names, which a sink needs (a Parquet file or a table needs its column names). DuckDB's
// internal bind info is {ClientContext&, CopyFunctionBindInput&, const vector<LogicalType>&,
// const vector<string>&, …}; with the libstdc++ ABI a vector is {begin, end, capacity} and a
// string {data, size, buffer[16]}. The layout is checked against DuckDB's own column count
// and only trusted for the DuckDB versions it was verified on (TestCopyColumnNames guards it);
// otherwise columns are named column0, column1, …
var copyNamesLayout = strings.HasPrefix(bindings.LibraryVersion(), "v1.5.")

func copyBindNames(info unsafe.Pointer, n int) []string {
	generic := func() []string {
		names := make([]string, n)
		for i := range names {
			names[i] = fmt.Sprintf("column%d", i)
		}
		return names
	}
	const ptr = unsafe.Sizeof(uintptr(0))
	const strSize = 4 * ptr
	if !copyNamesLayout || info == nil || ptr != 8 {
		return generic()
	}
	vec := *(*unsafe.Pointer)(unsafe.Add(info, 3*ptr))
	types := *(*unsafe.Pointer)(unsafe.Add(info, 2*ptr))
	if vec == nil || types == nil {
		return generic()
	}
	begin := *(*unsafe.Pointer)(vec)
	end := *(*unsafe.Pointer)(unsafe.Add(vec, ptr))
	if begin == nil || uintptr(end)-uintptr(begin) != uintptr(n)*strSize {
		return generic()
	}
	names := make([]string, n)
	for i := range names {
		s := unsafe.Add(begin, uintptr(i)*strSize)
		data := *(*unsafe.Pointer)(s)
		size := *(*uintptr)(unsafe.Add(s, ptr))
		if data == nil || size > 1<<20 {
			return generic()
		}
		names[i] = string(unsafe.Slice((*byte)(data), size))
	}
	return names
}

// copyState is one running COPY: DuckDB's sink callbacks feed a bounded channel that Sink
// reads through copyReader on its own goroutine.
type copyState struct {
	bd     *copyBindData
	schema *arrow.Schema         // the rows' Arrow schema as DuckDB converts them (bd's plain or exact one)
	opts   bindings.ArrowOptions // the conversion that goes with schema
	out    *arrow.Schema         // the schema Sink reads: schema, or exactOut
	ch     chan arrow.RecordBatch
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{} // closed when Sink has returned

	rows      int64
	finalized bool
	closeOnce sync.Once

	mu       sync.Mutex
	abortErr error // why the rows ended early (the reader's Err)
	sinkN    int64
	sinkErr  error
}

// copyQueue is how many converted batches may wait for Sink.
const copyQueue = 4

func copyInit(bd *copyBindData, target string, connID uint64, haveID bool) (*copyState, error) {
	if err := checkTmpTarget(bd.reg.t.Format, target); err != nil {
		return nil, err
	}
	var caller *Session
	if haveID {
		caller = bd.reg.db.SessionByID(connID)
	}
	ctx := context.Background()
	if caller != nil {
		ctx = caller.Context()
	}
	st := &copyState{bd: bd, ch: make(chan arrow.RecordBatch, copyQueue), done: make(chan struct{}),
		schema: bd.schema, opts: bd.opts, out: bd.schema}
	if bd.exactSchema != nil && bd.reg.t.Exact(caller, target) {
		st.schema, st.opts, st.out = bd.exactSchema, bd.exactOpts, bd.exactOut
	}
	st.ctx, st.cancel = context.WithCancel(ctx)
	rd := &copyReader{st: st, schema: st.out}
	rd.refs.Store(1)
	go func() {
		defer close(st.done)
		n, err := bd.reg.t.Sink(st.ctx, caller, target, bd.options, rd)
		if rd.cur != nil { // Sink must not use the rows after returning
			rd.cur.Release()
			rd.cur = nil
		}
		st.mu.Lock()
		st.sinkN, st.sinkErr = n, err
		st.mu.Unlock()
	}()
	return st, nil
}

func (st *copyState) result() (int64, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.sinkN, st.sinkErr
}

// sink converts one DuckDB chunk and queues it for Sink.
func (st *copyState) sink(chunk unsafe.Pointer) error {
	size := bindings.DataChunkGetSize(bindings.DataChunk{Ptr: chunk})
	if size == 0 {
		return nil
	}
	select {
	case <-st.done:
		return st.stoppedErr()
	default:
	}
	rec, err := capi.ChunkToRecord(st.opts.Ptr, chunk, st.schema)
	if err != nil {
		return fmt.Errorf("COPY … (FORMAT %s): cannot convert rows to Arrow: %w", st.bd.reg.t.Format, err)
	}
	if st.out != st.schema {
		if rec, err = exactBatch(rec, st.out); err != nil {
			return fmt.Errorf("COPY … (FORMAT %s): cannot convert rows to Arrow: %w", st.bd.reg.t.Format, err)
		}
	}
	select {
	case st.ch <- rec:
		st.rows += int64(size)
		return nil
	case <-st.done:
		rec.Release()
		return st.stoppedErr()
	}
}

// stoppedErr is the error for rows arriving after Sink returned: Sink's error, or nothing when
// Sink chose to stop reading early.
func (st *copyState) stoppedErr() error {
	_, err := st.result()
	return err
}

// finalize ends the rows and waits for Sink's result.
func (st *copyState) finalize() error {
	st.finalized = true
	close(st.ch)
	<-st.done
	for rec := range st.ch { // Sink stopped reading early
		rec.Release()
	}
	_, err := st.result()
	return err
}

// close runs when DuckDB drops the state: after finalize, or instead of it when the COPY
// failed or was cancelled, in which case the reader ends with an error and Sink is awaited.
func (st *copyState) close() {
	st.closeOnce.Do(func() {
		if !st.finalized {
			st.mu.Lock()
			st.abortErr = fmt.Errorf("COPY … (FORMAT %s) was aborted before all rows were delivered", st.bd.reg.t.Format)
			st.mu.Unlock()
			st.cancel()
			close(st.ch)
			<-st.done
			for rec := range st.ch {
				rec.Release()
			}
		}
		st.cancel()
	})
}

// copyReader is the array.RecordReader Sink reads.
type copyReader struct {
	st     *copyState
	schema *arrow.Schema
	cur    arrow.RecordBatch
	err    error
	refs   atomic.Int64
}

func (r *copyReader) Schema() *arrow.Schema { return r.schema }

func (r *copyReader) Next() bool {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	if r.err != nil {
		return false
	}
	select {
	case rec, ok := <-r.st.ch:
		if !ok {
			r.st.mu.Lock()
			r.err = r.st.abortErr
			r.st.mu.Unlock()
			return false
		}
		r.cur = rec
		return true
	case <-r.st.ctx.Done():
		r.st.mu.Lock()
		r.err = r.st.abortErr
		r.st.mu.Unlock()
		if r.err == nil {
			r.err = r.st.ctx.Err()
		}
		return false
	}
}

func (r *copyReader) RecordBatch() arrow.RecordBatch { return r.cur }
func (r *copyReader) Record() arrow.RecordBatch      { return r.cur }
func (r *copyReader) Err() error                     { return r.err }
func (r *copyReader) Retain()                        { r.refs.Add(1) }
func (r *copyReader) Release() {
	if r.refs.Add(-1) == 0 && r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
}

// checkTmpTarget refuses a COPY that DuckDB set up to write a temporary file: when a file named
// like the target exists, DuckDB hands the COPY function "tmp_<target>" and, after the COPY,
// deletes the existing file and renames the temporary one over it. Our targets are not files:
// that would delete an unrelated file (and then fail). Failing here, before any row moves,
// leaves everything as it was.
func checkTmpTarget(format, target string) error {
	dir, base := filepath.Split(target)
	real, ok := strings.CutPrefix(base, "tmp_")
	if !ok || real == "" {
		return nil
	}
	if fi, err := os.Stat(filepath.Join(dir, real)); err != nil || !fi.Mode().IsRegular() {
		return nil
	}
	name := filepath.Join(dir, real)
	return fmt.Errorf("COPY … TO '%s' (FORMAT %s): a file named %s exists, so DuckDB would write a temporary file and then replace that file with it; add USE_TMP_FILE false to the COPY options (the target names a connection, not a file)", name, format, name)
}
