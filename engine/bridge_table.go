package engine

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	bindings "github.com/duckdb/duckdb-go-bindings"

	"github.com/ankaflow/ankaflow/engine/capi"
)

// TableFunction is a DuckDB table function whose rows come from a Go Arrow reader:
//
//	SELECT * FROM name(arg1, arg2, key := value)
//
// DuckDB calls Bind while it binds the query (the reader's schema becomes the function's result
// columns), then streams the reader's batches into the query. Batches are handed over without
// copying fixed-width data (DuckDB takes ownership of the exported Arrow buffers) and batches
// longer than DuckDB's vector size are sliced zero-copy. At most a couple of batches are in
// flight: one being read ahead by a goroutine, one being handed to DuckDB.
//
// Memory: a batch is exported through the Arrow C data interface and DuckDB owns the export
// until it calls its release callback (back into Go), possibly after our callback returned and
// on another thread. Until then a cgo.Handle keeps the batch's Go memory reachable, and Go's
// collector never moves heap memory, so DuckDB's pointers stay valid; memory from a C allocator
// (arrow's mallocator) works the same way.
type TableFunction struct {
	// Name is the SQL name (registered database-wide, in DuckDB's system catalog).
	Name string
	// Args are the positional parameters.
	Args []ArgType
	// Optional is how many of the trailing Args may be omitted (one overload per arity is
	// registered); Bind then receives fewer args.
	Optional int
	// Named are the named parameters (name := value); Bind receives only those given.
	Named map[string]ArgType
	// Bind returns the rows of one call. caller is the session running the query (nil when the
	// query runs on a connection that is not a Session, e.g. the database/sql pool); ctx is the
	// caller's statement context, cancelled when the statement is cancelled or finished. The
	// reader is released when the query ends, successfully or not. A prepared statement
	// executed again calls Bind again for fresh rows (its schema must not change).
	Bind func(ctx context.Context, caller *Session, args []any, named map[string]any) (array.RecordReader, error)
	// Schema, when set, tells the result columns without doing the work: DuckDB calls it
	// while it binds the query, and Bind only when the query executes. So planning a query
	// (EXPLAIN, PREPARE, a wire client's Parse and Describe) never runs a pipeline, writes a
	// file or reads a remote system's rows. The reader Bind returns must have these columns
	// (names and types), or the query fails. A nil schema (and no error) means "not known
	// cheaply": Bind is then called at bind time, as without Schema.
	Schema func(ctx context.Context, caller *Session, args []any, named map[string]any) (*arrow.Schema, error)
	// Parallel lets several DuckDB threads convert and consume batches of the reader at once
	// (the reader itself is always read by one goroutine). DuckDB only runs a table function on
	// several threads where row order does not matter (it keeps insertion order otherwise).
	Parallel bool
}

// tableRegistration is the extra info of a registered table function.
type tableRegistration struct {
	db    *DB
	fn    TableFunction
	owner bool // owns the database's optionalFns entry (dropped with the database)
}

// RegisterTableFunction registers f in the database (every session sees it). A name can be
// registered once per database.
//
// DuckDB's C API cannot add overloads to a table function, so a function with Optional
// arguments is registered with its full arity (callable from any connection with every
// argument given, NULL for the omitted ones) and, in every session, shadowed by a TEMP table
// macro whose trailing parameters default to NULL, so that `name(a)` and `name(a, b)` both work.
// Omitted optional arguments reach Bind as nil (as do NULLs). Sessions opened before the
// registration, other than s, do not get the shorter forms.
func (s *Session) RegisterTableFunction(f TableFunction) error {
	if f.Name == "" || f.Bind == nil {
		return errors.New("register table function: Name and Bind are required")
	}
	if f.Optional < 0 || f.Optional > len(f.Args) {
		return fmt.Errorf("register table function %s: Optional must be between 0 and len(Args)", f.Name)
	}
	// DuckDB silently keeps the first function of a name (C API registrations cannot replace or
	// overload): say so instead. The names registered through us are tracked per database;
	// asking DuckDB (duckdb_functions()) would cost ~10 ms per name on every Open.
	if !s.db.claimFunction(f.Name) {
		return fmt.Errorf("register table function %s: a table function %s already exists in this database", f.Name, f.Name)
	}
	if err := s.registerTableOverload(f.Name, f, nil); err != nil {
		return err
	}
	if f.Optional == 0 {
		return nil
	}
	reg := &tableRegistration{db: s.db, fn: f}
	if err := s.registerTableOverload(fullName(f.Name), f, reg); err != nil {
		return err
	}
	optionalFns.Lock()
	if optionalFns.m[s.db] == nil {
		optionalFns.m[s.db] = map[string]TableFunction{}
	}
	optionalFns.m[s.db][f.Name] = f
	optionalFns.Unlock()
	return s.createOptionalMacro(context.Background(), f)
}

// fullName is the name of the full-arity function behind a macro with optional arguments.
func fullName(name string) string { return "__ankaflow_" + name }

// optionalFns are, per database, the table functions with optional arguments, whose macros
// every new session creates.
var optionalFns = struct {
	sync.Mutex
	m map[*DB]map[string]TableFunction
}{m: map[*DB]map[string]TableFunction{}}

func (s *Session) createOptionalMacro(ctx context.Context, f TableFunction) error {
	var params, args []string
	for i := range f.Args {
		p := QuoteIdent(fmt.Sprintf("arg%d", i+1))
		args = append(args, p)
		if i >= len(f.Args)-f.Optional {
			p += " := NULL"
		}
		params = append(params, p)
	}
	names := make([]string, 0, len(f.Named))
	for n := range f.Named {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		params = append(params, QuoteIdent(n)+" := NULL")
		args = append(args, QuoteIdent(n)+" := "+QuoteIdent(n))
	}
	q := "CREATE OR REPLACE TEMP MACRO " + QuoteIdent(f.Name) + "(" + strings.Join(params, ", ") + ") AS TABLE SELECT * FROM " +
		QuoteIdent(fullName(f.Name)) + "(" + strings.Join(args, ", ") + ")"
	if _, err := s.conn.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("register table function %s: %w", f.Name, err)
	}
	return nil
}

func (reg *tableRegistration) close() {
	if !reg.owner {
		return
	}
	optionalFns.Lock()
	delete(optionalFns.m, reg.db)
	optionalFns.Unlock()
}

func (s *Session) registerTableOverload(name string, f TableFunction, reg *tableRegistration) error {
	tf := bindings.CreateTableFunction()
	defer bindings.DestroyTableFunction(&tf)
	bindings.TableFunctionSetName(tf, name)
	for _, a := range f.Args {
		lt, err := a.logicalType()
		if err != nil {
			return fmt.Errorf("register table function %s: %w", f.Name, err)
		}
		bindings.TableFunctionAddParameter(tf, lt)
		bindings.DestroyLogicalType(&lt)
	}
	for name, a := range f.Named {
		lt, err := a.logicalType()
		if err != nil {
			return fmt.Errorf("register table function %s: parameter %s: %w", f.Name, name, err)
		}
		bindings.TableFunctionAddNamedParameter(tf, name, lt)
		bindings.DestroyLogicalType(&lt)
	}
	if reg == nil {
		reg = &tableRegistration{db: s.db, fn: f}
	} else {
		reg.owner = true
	}
	bindings.TableFunctionSetExtraInfo(tf, newHandle(reg), cbDeleteHandle)
	bindings.TableFunctionSetBind(tf, cbTableBind)
	bindings.TableFunctionSetInit(tf, cbTableInit)
	bindings.TableFunctionSetLocalInit(tf, cbTableLocalInit)
	bindings.TableFunctionSetFunction(tf, cbTableScan)
	if bindings.RegisterTableFunction(s.raw, tf) == bindings.StateError {
		return fmt.Errorf("register table function %s: DuckDB refused it", name)
	}
	return nil
}

// tableBindData is the bind data of one call: its arguments, the result schema and the reader
// opened at bind time (taken by the first execution).
type tableBindData struct {
	reg    *tableRegistration
	caller *Session
	args   []any
	named  map[string]any
	schema *arrow.Schema
	conv   capi.ConvertedSchema
	conn   unsafe.Pointer // connection whose settings drive the Arrow conversion
	enums  map[int]*enumColumn
	nested map[int]*fillPlan
	// colTypes are the result columns' DuckDB types.
	colTypes []TypeInfo

	mu          sync.Mutex
	first       array.RecordReader
	firstCancel context.CancelFunc
}

func (bd *tableBindData) open() (array.RecordReader, context.CancelFunc, error) {
	ctx := context.Background()
	if bd.caller != nil {
		ctx = bd.caller.Context()
	}
	cctx, cancel := context.WithCancel(ctx)
	r, err := bd.reg.fn.Bind(cctx, bd.caller, bd.args, bd.named)
	if err != nil {
		cancel()
		return nil, nil, err
	}
	if r == nil {
		cancel()
		return nil, nil, fmt.Errorf("%s: no rows (nil reader)", bd.reg.fn.Name)
	}
	return r, cancel, nil
}

func (bd *tableBindData) close() {
	bd.mu.Lock()
	r, cancel := bd.first, bd.firstCancel
	bd.first, bd.firstCancel = nil, nil
	bd.mu.Unlock()
	if r != nil {
		r.Release() // before cancelling: see prefetch
		cancel()
	}
	bd.conv.Close()
}

func tableBind(info unsafe.Pointer) {
	bi := bindings.BindInfo{Ptr: info}
	reg, _ := handleValue(bindings.BindGetExtraInfo(bi)).(*tableRegistration)
	if reg == nil {
		bindings.BindSetError(bi, "ankaflow: table function state is missing")
		return
	}
	var cc bindings.ClientContext
	bindings.TableFunctionGetClientContext(bi, &cc)
	var caller *Session
	if cc.Ptr != nil {
		caller = reg.db.SessionByID(uint64(bindings.ClientContextGetConnectionId(cc)))
		bindings.DestroyClientContext(&cc)
	}
	bd := &tableBindData{reg: reg, caller: caller, named: map[string]any{}}
	n := int(bindings.BindGetParameterCount(bi))
	for i := 0; i < n; i++ {
		bd.args = append(bd.args, valueToGo(bindings.BindGetParameter(bi, bindings.IdxT(i))))
	}
	for name := range reg.fn.Named {
		v := bindings.BindGetNamedParameter(bi, name)
		if v.Ptr != nil {
			if x := valueToGo(v); x != nil {
				bd.named[name] = x
			}
		}
	}
	conn, err := reg.db.conversionConn(caller)
	if err != nil {
		bindings.BindSetError(bi, err.Error())
		return
	}
	bd.conn = conn
	var r array.RecordReader
	var cancel context.CancelFunc
	if reg.fn.Schema != nil {
		ctx := context.Background()
		if caller != nil {
			ctx = caller.Context()
		}
		schema, err := reg.fn.Schema(ctx, caller, bd.args, bd.named)
		if err != nil {
			bindings.BindSetError(bi, err.Error())
			return
		}
		bd.schema = schema
	}
	if bd.schema == nil {
		if r, cancel, err = bd.open(); err != nil {
			bindings.BindSetError(bi, err.Error())
			return
		}
		bd.schema = r.Schema()
	}
	fail := func(err error) {
		if r != nil {
			r.Release() // before cancelling: see prefetch
			cancel()
		}
		bd.conv.Close()
		bindings.BindSetError(bi, err.Error())
	}
	if bd.schema == nil || bd.schema.NumFields() == 0 {
		fail(fmt.Errorf("%s: the rows have no columns", reg.fn.Name))
		return
	}
	if bd.conv, err = capi.SchemaFromArrow(conn, bd.schema); err != nil {
		fail(fmt.Errorf("%s: cannot convert the Arrow schema %s: %w", reg.fn.Name, bd.schema, err))
		return
	}
	types, err := duckTypes(conn, bd.schema, bd.conv)
	if err != nil {
		if col := nestedDictionary(bd.schema); col != "" {
			// DuckDB's own error here is an internal one with a stack trace: say what to do.
			err = fmt.Errorf("column %s holds a dictionary (an ENUM) inside a LIST, which DuckDB cannot read from Arrow: give its values as text", QuoteIdent(col))
		}
		fail(fmt.Errorf("%s: %w", reg.fn.Name, err))
		return
	}
	if bd.enums, err = enumColumns(bd.schema, types); err == nil {
		bd.nested, err = nestedEnumColumns(bd.schema, types, bd.enums)
	}
	if err != nil {
		for i := range types {
			bindings.DestroyLogicalType(&types[i])
		}
		fail(fmt.Errorf("%s: %w", reg.fn.Name, err))
		return
	}
	for i, f := range bd.schema.Fields() {
		bindings.BindAddResultColumn(bi, f.Name, types[i])
		bd.colTypes = append(bd.colTypes, typeInfo(types[i]))
		bindings.DestroyLogicalType(&types[i])
	}
	bd.first, bd.firstCancel = r, cancel
	bindings.BindSetBindData(bi, newHandle(bd), cbDeleteHandle)
}

// sameDuckColumns tells whether a reader with schema gives the columns bound (same names,
// same DuckDB types) though its Arrow types differ, and returns its own conversion then.
func (bd *tableBindData) sameDuckColumns(schema *arrow.Schema) (*capi.ConvertedSchema, bool) {
	if len(bd.enums) > 0 || len(bd.nested) > 0 || schema.NumFields() != len(bd.colTypes) {
		return nil, false
	}
	for i, f := range schema.Fields() {
		if f.Name != bd.schema.Field(i).Name {
			return nil, false
		}
	}
	conv, err := capi.SchemaFromArrow(bd.conn, schema)
	if err != nil {
		return nil, false
	}
	types, err := duckTypes(bd.conn, schema, conv)
	if err != nil {
		conv.Close()
		return nil, false
	}
	same := true
	for i := range types {
		if !reflect.DeepEqual(typeInfo(types[i]), bd.colTypes[i]) {
			same = false
		}
		bindings.DestroyLogicalType(&types[i])
	}
	if !same {
		conv.Close()
		return nil, false
	}
	return &conv, true
}

// sameColumns compares column names and types (not nullability or metadata, which Arrow
// producers set differently for the same data).
func sameColumns(a, b *arrow.Schema) bool {
	if a.NumFields() != b.NumFields() {
		return false
	}
	for i := range a.Fields() {
		fa, fb := a.Field(i), b.Field(i)
		if fa.Name != fb.Name || !arrow.TypeEqual(fa.Type, fb.Type) {
			return false
		}
	}
	return true
}

// duckTypes finds the DuckDB types an Arrow schema converts to, by converting an empty batch.
func duckTypes(conn unsafe.Pointer, schema *arrow.Schema, conv capi.ConvertedSchema) ([]bindings.LogicalType, error) {
	cols := make([]arrow.Array, schema.NumFields())
	for i, f := range schema.Fields() {
		b := array.NewBuilder(memory.DefaultAllocator, f.Type)
		cols[i] = b.NewArray()
		b.Release()
	}
	rec := array.NewRecordBatch(schema, cols, 0)
	for _, c := range cols {
		c.Release()
	}
	defer rec.Release()
	chunk, err := capi.ChunkFromRecord(conn, rec, conv)
	if err != nil {
		return nil, fmt.Errorf("cannot convert the Arrow schema %s: %w", schema, err)
	}
	dc := bindings.DataChunk{Ptr: chunk}
	defer bindings.DestroyDataChunk(&dc)
	types := make([]bindings.LogicalType, schema.NumFields())
	for i := range types {
		types[i] = bindings.VectorGetColumnType(bindings.DataChunkGetVector(dc, bindings.IdxT(i)))
	}
	return types, nil
}

// tableScanState is the global state of one execution: a goroutine reads the reader ahead,
// DuckDB threads take vector-sized slices of the current batch.
type tableScanState struct {
	name    string
	conn    unsafe.Pointer
	conv    capi.ConvertedSchema
	ownConv *capi.ConvertedSchema // this execution's own conversion of the reader (or nil), closed with the state
	ncols   int
	enums   map[int]*enumColumn
	nested  map[int]*fillPlan
	ctx     context.Context
	cancel  context.CancelFunc
	ch      chan scanItem
	stop    chan struct{}
	exited  chan struct{}

	inNext atomic.Bool // the prefetcher is inside the reader's Next

	mu   sync.Mutex
	cur  arrow.RecordBatch
	off  int64
	eof  bool
	err  error
	once sync.Once
}

type scanItem struct {
	rec arrow.RecordBatch
	err error
}

func tableInit(info unsafe.Pointer) {
	ii := bindings.InitInfo{Ptr: info}
	bd, _ := handleValue(bindings.InitGetBindData(ii)).(*tableBindData)
	if bd == nil {
		bindings.InitSetError(ii, "ankaflow: table function bind data is missing")
		return
	}
	bd.mu.Lock()
	r, cancel := bd.first, bd.firstCancel
	bd.first, bd.firstCancel = nil, nil
	bd.mu.Unlock()
	var ownConv *capi.ConvertedSchema
	if r == nil {
		// Executed (again, for a prepared statement; or for the first time when the columns
		// came from Schema): open the reader now, for fresh rows.
		var err error
		if r, cancel, err = bd.open(); err != nil {
			bindings.InitSetError(ii, err.Error())
			return
		}
		if !sameColumns(r.Schema(), bd.schema) {
			// Columns told from a declaration (TableFunction.Schema) may be spelled otherwise
			// in Arrow (int32 for an INTEGER, a large string for a VARCHAR): the reader is
			// accepted, with its own conversion, when DuckDB reads it as the same columns.
			if own, ok := bd.sameDuckColumns(r.Schema()); ok {
				ownConv = own
			} else {
				r.Release() // before cancelling: see prefetch
				cancel()
				bindings.InitSetError(ii, fmt.Sprintf("%s: the columns changed since the statement was planned (now %s, was %s): prepare it again; a connection's TapSchema or show_schema must report the columns its tap gives", bd.reg.fn.Name, r.Schema(), bd.schema))
				return
			}
		}
	}
	st := &tableScanState{
		name:    bd.reg.fn.Name,
		conn:    bd.conn,
		conv:    bd.conv,
		ownConv: ownConv,
		ncols:   bd.schema.NumFields(),
		enums:   bd.enums,
		nested:  bd.nested,
		cancel:  cancel,
		ch:      make(chan scanItem, 1),
		stop:    make(chan struct{}),
		exited:  make(chan struct{}),
	}
	st.ctx = context.Background()
	if bd.caller != nil {
		st.ctx = bd.caller.Context()
	}
	go st.prefetch(r)
	if bd.reg.fn.Parallel {
		bindings.InitSetMaxThreads(ii, bindings.IdxT(runtime.GOMAXPROCS(0)))
	}
	bindings.InitSetInitData(ii, newHandle(st), cbDeleteHandle)
}

// prefetch reads the reader on its own goroutine, one batch ahead of DuckDB, and releases the
// reader when it is done or the query has ended.
//
// The reader's context is cancelled only after the reader was released, unless the query ends
// while the reader is inside Next (then the cancellation is what gets it out). A reader that
// runs a query of its own (a DuckDB session's Rows) would otherwise see its session interrupted
// after its query was done, and the interrupt could hit that session's next statement.
func (st *tableScanState) prefetch(r array.RecordReader) {
	defer close(st.exited)
	defer st.cancel()
	defer r.Release()
	defer st.drain()
	for {
		select {
		case <-st.stop:
			return
		default:
		}
		st.inNext.Store(true)
		more := r.Next()
		st.inNext.Store(false)
		if !more {
			break
		}
		rec := r.RecordBatch()
		if rec == nil || rec.NumRows() == 0 {
			continue
		}
		rec.Retain()
		select {
		case st.ch <- scanItem{rec: rec}:
		case <-st.stop:
			rec.Release()
			return
		}
	}
	err := r.Err()
	if err == nil {
		err = errEndOfRows
	}
	select {
	case st.ch <- scanItem{err: err}:
	case <-st.stop:
	}
}

var errEndOfRows = errors.New("end of rows")

// drain releases batches read ahead that DuckDB will not take (called once the query ended).
func (st *tableScanState) drain() {
	select {
	case <-st.stop:
	default:
		return // the scan is still running: it takes what is queued
	}
	for {
		select {
		case it := <-st.ch:
			if it.rec != nil {
				it.rec.Release()
			}
		default:
			return
		}
	}
}

// close runs when DuckDB drops the global state (the query ended or failed).
func (st *tableScanState) close() {
	st.once.Do(func() {
		close(st.stop)
		if st.inNext.Load() {
			st.cancel()
		}
		st.mu.Lock()
		if st.cur != nil {
			st.cur.Release()
			st.cur = nil
		}
		if st.ownConv != nil {
			st.ownConv.Close()
		}
		st.mu.Unlock()
		// The prefetcher may be parked on a full channel: unblock it by draining here too.
		st.drain()
	})
}

// next returns the next slice of at most one vector of rows (nil at the end).
func (st *tableScanState) next() (arrow.RecordBatch, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	size := int64(bindings.VectorSize())
	for {
		if st.cur != nil {
			if n := st.cur.NumRows(); st.off < n {
				end := min(st.off+size, n)
				var s arrow.RecordBatch
				if st.off == 0 && end == n {
					st.cur.Retain()
					s = st.cur
				} else {
					s = st.cur.NewSlice(st.off, end)
				}
				st.off = end
				return s, nil
			}
			st.cur.Release()
			st.cur = nil
		}
		if st.eof {
			return nil, st.err
		}
		select {
		case it := <-st.ch:
			if it.rec == nil {
				st.eof = true
				if it.err != errEndOfRows {
					st.err = it.err
				}
				continue
			}
			st.cur, st.off = it.rec, 0
		case <-st.ctx.Done():
			st.eof = true
			st.err = st.ctx.Err()
		}
	}
}

func tableScan(info, output unsafe.Pointer) {
	fi := bindings.FunctionInfo{Ptr: info}
	out := bindings.DataChunk{Ptr: output}
	st, _ := handleValue(bindings.FunctionGetInitData(fi)).(*tableScanState)
	if st == nil {
		bindings.FunctionSetError(fi, "ankaflow: table function state is missing")
		return
	}
	rec, err := st.next()
	if err != nil {
		bindings.DataChunkSetSize(out, 0)
		bindings.FunctionSetError(fi, err.Error())
		return
	}
	if rec == nil {
		bindings.DataChunkSetSize(out, 0)
		return
	}
	conv := st.conv
	if st.ownConv != nil {
		conv = *st.ownConv
	}
	chunk, err := capi.ChunkFromRecord(st.conn, rec, conv)
	if err != nil {
		rec.Release()
		bindings.DataChunkSetSize(out, 0)
		bindings.FunctionSetError(fi, fmt.Sprintf("%s: cannot convert Arrow batch: %v", st.name, err))
		return
	}
	dc := bindings.DataChunk{Ptr: chunk}
	for i := 0; i < st.ncols; i++ {
		dst, src := bindings.DataChunkGetVector(out, bindings.IdxT(i)), bindings.DataChunkGetVector(dc, bindings.IdxT(i))
		var err error
		switch ec, p := st.enums[i], st.nested[i]; {
		case ec != nil:
			err = ec.fill(dst, rec.Column(i))
		case p != nil:
			err = p.fill(dst, src, int(bindings.DataChunkGetSize(dc)))
		default:
			bindings.VectorReferenceVector(dst, src)
		}
		if err != nil {
			name := rec.ColumnName(i)
			rec.Release()
			bindings.DestroyDataChunk(&dc)
			bindings.DataChunkSetSize(out, 0)
			bindings.FunctionSetError(fi, fmt.Sprintf("%s: column %s: %v", st.name, name, err))
			return
		}
	}
	rec.Release()
	bindings.DataChunkSetSize(out, bindings.DataChunkGetSize(dc))
	bindings.DestroyDataChunk(&dc)
}

// conversionConn is the connection whose settings drive Arrow conversions for a query: the
// caller's own, or (for callers that are not sessions) a session the bridge keeps per database.
func (db *DB) conversionConn(caller *Session) (unsafe.Pointer, error) {
	if caller != nil {
		return caller.raw.Ptr, nil
	}
	s, err := db.bridgeSession()
	if err != nil {
		return nil, err
	}
	return s.raw.Ptr, nil
}

var bridgeSessions = struct {
	sync.Mutex
	m map[*DB]*Session
}{m: map[*DB]*Session{}}

// bridgeSession is a session the bridge opens (once per database, on first need) for Arrow
// conversions on behalf of callers that are not sessions. The database closes it with the rest.
func (db *DB) bridgeSession() (*Session, error) {
	bridgeSessions.Lock()
	defer bridgeSessions.Unlock()
	if s := bridgeSessions.m[db]; s != nil {
		s.mu.Lock()
		closed := s.closed
		s.mu.Unlock()
		if !closed {
			return s, nil
		}
		delete(bridgeSessions.m, db)
	}
	s, err := db.NewSession(context.Background())
	if err != nil {
		return nil, err
	}
	bridgeSessions.m[db] = s
	return s, nil
}
