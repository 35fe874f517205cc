package engine

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	bindings "github.com/duckdb/duckdb-go-bindings"
	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/ankaflow/ankaflow/engine/capi"
)

// StatementType is DuckDB's classification of a prepared statement (SELECT, INSERT, CREATE…).
type StatementType = bindings.StatementType

// Statement types callers commonly branch on.
const (
	StatementSelect      = bindings.StatementTypeSelect
	StatementInsert      = bindings.StatementTypeInsert
	StatementUpdate      = bindings.StatementTypeUpdate
	StatementDelete      = bindings.StatementTypeDelete
	StatementCreate      = bindings.StatementTypeCreate
	StatementCopy        = bindings.StatementTypeCopy
	StatementTransaction = bindings.StatementTypeTransaction
	StatementExplain     = bindings.StatementTypeExplain
	StatementDrop        = bindings.StatementTypeDrop
	StatementPragma      = bindings.StatementTypePragma
	StatementSet         = bindings.StatementTypeSet
	StatementVariableSet = bindings.StatementTypeVariableSet
	StatementMerge       = bindings.StatementTypeMergeInto
)

// Prepared is a prepared statement on a session. It knows its parameter and result types
// before it runs, which is what the wire server's Describe needs.
type Prepared struct {
	s      *Session
	stmt   bindings.PreparedStatement
	closed bool
}

// Prepare prepares a single statement.
func (s *Session) Prepare(ctx context.Context, query string) (*Prepared, error) {
	defer s.enter(ctx)()
	var stmt bindings.PreparedStatement
	if bindings.Prepare(s.raw, query, &stmt) == bindings.StateError {
		msg := bindings.PrepareError(stmt)
		bindings.DestroyPrepare(&stmt)
		return nil, duckError(msg, duckdb.ErrorTypeInvalid)
	}
	return &Prepared{s: s, stmt: stmt}, nil
}

// Close releases the statement.
func (p *Prepared) Close() {
	if !p.closed {
		p.closed = true
		bindings.DestroyPrepare(&p.stmt)
	}
}

// StatementType is DuckDB's type of the statement.
func (p *Prepared) StatementType() StatementType { return bindings.PreparedStatementType(p.stmt) }

// NumParams is the number of parameters ($1…$n or ?).
func (p *Prepared) NumParams() int { return int(bindings.NParams(p.stmt)) }

// ParamType describes parameter i (0-based). DuckDB infers it from the statement; a parameter
// whose type cannot be inferred reports TypeID() == bindings.TypeInvalid or TypeAny.
func (p *Prepared) ParamType(i int) TypeInfo {
	lt := bindings.ParamLogicalType(p.stmt, bindings.IdxT(i+1))
	if lt.Ptr == nil { // DuckDB could not infer the type (e.g. SELECT $1)
		return TypeInfo{ID: bindings.TypeInvalid}
	}
	defer bindings.DestroyLogicalType(&lt)
	return typeInfo(lt)
}

// Columns describes the result columns without running the statement.
func (p *Prepared) Columns() []Column {
	n := int(bindings.PreparedStatementColumnCount(p.stmt))
	cols := make([]Column, n)
	for i := 0; i < n; i++ {
		lt := bindings.PreparedStatementColumnLogicalType(p.stmt, bindings.IdxT(i))
		cols[i] = Column{Name: bindings.PreparedStatementColumnName(p.stmt, bindings.IdxT(i)), Type: typeInfo(lt)}
		bindings.DestroyLogicalType(&lt)
	}
	return cols
}

// ArrowSchema is the Arrow schema results of this statement will have.
func (p *Prepared) ArrowSchema() (*arrow.Schema, error) {
	n := int(bindings.PreparedStatementColumnCount(p.stmt))
	types := make([]bindings.LogicalType, n)
	names := make([]string, n)
	for i := 0; i < n; i++ {
		types[i] = bindings.PreparedStatementColumnLogicalType(p.stmt, bindings.IdxT(i))
		names[i] = bindings.PreparedStatementColumnName(p.stmt, bindings.IdxT(i))
	}
	defer func() {
		for i := range types {
			bindings.DestroyLogicalType(&types[i])
		}
	}()
	var opts bindings.ArrowOptions
	bindings.ConnectionGetArrowOptions(p.s.raw, &opts)
	defer bindings.DestroyArrowOptions(&opts)
	return arrowSchema(opts, types, names)
}

func arrowSchema(opts bindings.ArrowOptions, types []bindings.LogicalType, names []string) (*arrow.Schema, error) {
	ptrs := make([]unsafePointer, len(types))
	for i, t := range types {
		ptrs[i] = t.Ptr
	}
	schema, err := capi.ArrowSchema(opts.Ptr, ptrs, names)
	if err != nil {
		return nil, err
	}
	return completeMarks(opts.Ptr, schema, ptrs), nil
}

// Bind binds Go values to the parameters, in order. Supported: nil, bool, all integer kinds,
// float32/64, string, []byte, time.Time (TIMESTAMP WITH TIME ZONE semantics: an instant),
// *big.Int, and TypedValue for anything that needs an explicit DuckDB type.
func (p *Prepared) Bind(args []any) error {
	if bindings.ClearBindings(p.stmt) == bindings.StateError {
		return errors.New("clear bindings failed")
	}
	for i, a := range args {
		idx := bindings.IdxT(i + 1)
		var st bindings.State
		switch v := a.(type) {
		case nil:
			st = bindings.BindNull(p.stmt, idx)
		case bool:
			st = bindings.BindBoolean(p.stmt, idx, v)
		case int:
			st = bindings.BindInt64(p.stmt, idx, int64(v))
		case int8:
			st = bindings.BindInt8(p.stmt, idx, v)
		case int16:
			st = bindings.BindInt16(p.stmt, idx, v)
		case int32:
			st = bindings.BindInt32(p.stmt, idx, v)
		case int64:
			st = bindings.BindInt64(p.stmt, idx, v)
		case uint8:
			st = bindings.BindUInt8(p.stmt, idx, v)
		case uint16:
			st = bindings.BindUInt16(p.stmt, idx, v)
		case uint32:
			st = bindings.BindUInt32(p.stmt, idx, v)
		case uint64:
			st = bindings.BindUInt64(p.stmt, idx, v)
		case float32:
			st = bindings.BindFloat(p.stmt, idx, v)
		case float64:
			st = bindings.BindDouble(p.stmt, idx, v)
		case string:
			st = bindings.BindVarchar(p.stmt, idx, v)
		case []byte:
			st = bindings.BindBlob(p.stmt, idx, v)
		case time.Time:
			st = bindings.BindTimestampTZ(p.stmt, idx, bindings.NewTimestamp(v.UnixMicro()))
		case *big.Int:
			if v == nil {
				st = bindings.BindNull(p.stmt, idx)
				break
			}
			// Bind through text: DuckDB casts it to the parameter's numeric type exactly.
			st = bindings.BindVarchar(p.stmt, idx, v.String())
		case TypedValue:
			st = v.bind(p.stmt, idx)
		default:
			return fmt.Errorf("parameter $%d: unsupported Go type %T", i+1, a)
		}
		if st == bindings.StateError {
			return fmt.Errorf("parameter $%d: cannot bind %T value", i+1, a)
		}
	}
	return nil
}

// Query runs the bound statement and streams its result. The session must not run anything
// else until the Rows are closed.
func (p *Prepared) Query(ctx context.Context) (*Rows, error) {
	s := p.s
	leave := s.enter(ctx)
	stop := s.watch(ctx)
	var pending bindings.PendingResult
	if bindings.PendingPreparedStreaming(p.stmt, &pending) == bindings.StateError {
		msg := bindings.PendingError(pending)
		bindings.DestroyPending(&pending)
		stop()
		leave()
		return nil, duckError(msg, duckdb.ErrorTypeInvalid)
	}
	var res bindings.Result
	err := s.runPending(ctx, pending, &res)
	bindings.DestroyPending(&pending)
	if err != nil {
		bindings.DestroyResult(&res)
		stop()
		leave()
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%v)", ctx.Err(), err)
		}
		return nil, err
	}
	r := &Rows{s: s, res: res, stmtType: bindings.ResultStatementType(res), done: func() { stop(); leave() }}
	r.refs.Store(1)
	if err := r.init(); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// watch interrupts DuckDB when ctx is cancelled, until the returned stop is called.
func (s *Session) watch(ctx context.Context) (stop func()) {
	if ctx.Done() == nil {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		select {
		case <-ctx.Done():
			s.Interrupt()
		case <-done:
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

// QueryArrow prepares, binds and runs a single statement, streaming the result as Arrow.
func (s *Session) QueryArrow(ctx context.Context, query string, args ...any) (*Rows, error) {
	p, err := s.Prepare(ctx, query)
	if err != nil {
		return nil, err
	}
	if err := p.Bind(args); err != nil {
		p.Close()
		return nil, err
	}
	r, err := p.Query(ctx)
	if err != nil {
		p.Close()
		return nil, err
	}
	r.prepared = p
	return r, nil
}

// Rows streams a result chunk by chunk (DuckDB's vector size, 2048 rows) as Arrow record
// batches. It implements array.RecordReader, so it can be handed to any Arrow consumer.
type Rows struct {
	s        *Session
	res      bindings.Result
	prepared *Prepared // owned, closed with the rows (QueryArrow)
	opts     bindings.ArrowOptions
	schema   *arrow.Schema
	cols     []Column
	stmtType StatementType
	cur      arrow.RecordBatch
	err      error
	eof      bool
	closed   bool
	done     func()
	refs     atomic.Int64
	rows     int64
}

func (r *Rows) init() error {
	n := int(bindings.ColumnCount(&r.res))
	types := make([]bindings.LogicalType, n)
	names := make([]string, n)
	r.cols = make([]Column, n)
	for i := 0; i < n; i++ {
		types[i] = bindings.ColumnLogicalType(&r.res, bindings.IdxT(i))
		names[i] = bindings.ColumnName(&r.res, bindings.IdxT(i))
		r.cols[i] = Column{Name: names[i], Type: typeInfo(types[i])}
	}
	defer func() {
		for i := range types {
			bindings.DestroyLogicalType(&types[i])
		}
	}()
	r.opts = bindings.ResultGetArrowOptions(&r.res)
	schema, err := arrowSchema(r.opts, types, names)
	if err != nil {
		return err
	}
	r.schema = schema
	return nil
}

// StatementType of the statement that produced these rows.
func (r *Rows) StatementType() StatementType { return r.stmtType }

// Columns describes the result columns with DuckDB's types.
func (r *Rows) Columns() []Column { return r.cols }

// IsChangedRows reports whether the result is a row count (INSERT/UPDATE/DELETE…) rather
// than a query result.
func (r *Rows) IsChangedRows() bool {
	return bindings.ResultReturnType(r.res) == bindings.ResultTypeChangedRows
}

// RowsChanged is the count of rows changed by an INSERT/UPDATE/DELETE (valid after the rows
// have been read).
func (r *Rows) RowsChanged() int64 { return int64(bindings.RowsChanged(&r.res)) }

// RowCount is the number of rows read so far.
func (r *Rows) RowCount() int64 { return r.rows }

// Schema implements array.RecordReader.
func (r *Rows) Schema() *arrow.Schema { return r.schema }

// Next fetches the next chunk; it returns false at the end or on error (see Err).
func (r *Rows) Next() bool {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	if r.eof || r.closed || r.err != nil {
		return false
	}
	for {
		chunk := bindings.FetchChunk(r.res)
		if chunk.Ptr == nil {
			r.eof = true
			if msg := bindings.ResultError(&r.res); msg != "" {
				r.err = duckError(msg, duckdb.ErrorType(bindings.ResultErrorType(&r.res)))
			}
			if ctxErr := r.s.Context().Err(); ctxErr != nil && r.err != nil {
				r.err = fmt.Errorf("%w (%v)", ctxErr, r.err)
			}
			return false
		}
		size := bindings.DataChunkGetSize(chunk)
		if size == 0 {
			bindings.DestroyDataChunk(&chunk)
			continue
		}
		rec, err := capi.ChunkToRecord(r.opts.Ptr, chunk.Ptr, r.schema)
		bindings.DestroyDataChunk(&chunk)
		if err != nil {
			r.err = err
			return false
		}
		r.cur = rec
		r.rows += int64(size)
		return true
	}
}

// RecordBatch implements array.RecordReader: the current batch, valid until the next Next.
func (r *Rows) RecordBatch() arrow.RecordBatch { return r.cur }

// Record implements the deprecated half of array.RecordReader.
func (r *Rows) Record() arrow.RecordBatch { return r.cur }

// Err is the error that stopped iteration, if any.
func (r *Rows) Err() error { return r.err }

// Retain implements array.RecordReader.
func (r *Rows) Retain() { r.refs.Add(1) }

// Release implements array.RecordReader; the last release closes the rows.
func (r *Rows) Release() {
	if r.refs.Add(-1) <= 0 {
		r.Close()
	}
}

// Close releases the result (and the statement if QueryArrow prepared it). Safe to call twice.
func (r *Rows) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	if r.opts.Ptr != nil {
		bindings.DestroyArrowOptions(&r.opts)
	}
	bindings.DestroyResult(&r.res)
	if r.prepared != nil {
		r.prepared.Close()
	}
	if r.done != nil {
		r.done()
	}
	return r.err
}
