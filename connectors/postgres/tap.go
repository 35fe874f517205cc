package postgres

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/jackc/pgx/v5/pgconn"
)

// Batch limits of a tap: a batch closes at batchRows rows or when its values reach
// batchBytes, whichever comes first. Together with the socket's read buffer (copyConn) and the
// decoder's frame buffer (frameBuffer), they bound a tap's memory whatever the table's size.
const (
	batchRows   = 64 * 1024
	batchBytes  = 16 << 20
	frameBuffer = 256 << 10
)

// Tap streams the stage's query, run on PostgreSQL, or the whole table when there is none.
func (c *Postgres) Tap(ctx context.Context, q string) (array.RecordReader, error) {
	pc, err := c.acquire(ctx)
	if err != nil {
		return nil, err
	}
	r, err := c.tap(ctx, pc, q)
	if err != nil {
		c.release(ctx, pc, isServerError(err))
		return nil, c.wrap(err)
	}
	return r, nil
}

// isServerError reports an error PostgreSQL raised for a statement: the connection is still
// usable afterwards (unlike network errors or cancellations).
func isServerError(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && !strings.EqualFold(pe.Severity, "FATAL")
}

// tapQuery is the query a tap runs: the stage's query, else the whole table.
func (c *Postgres) tapQuery(ctx context.Context, pc *pgconn.PgConn, q string) (string, error) {
	q = trimStatement(q)
	if q != "" {
		return q, nil
	}
	t, err := c.needTable("tap")
	if err != nil {
		return "", err
	}
	tn, err := parseTable(ctx, pc, t)
	if err != nil {
		return "", err
	}
	return "SELECT * FROM " + tn.sql(), nil
}

// trimStatement drops surrounding blanks and trailing semicolons, so the query can be wrapped.
func trimStatement(q string) string {
	return strings.TrimRight(strings.TrimSpace(q), "; \t\r\n")
}

// describe prepares q (without running it) and maps its result columns to Arrow.
func describe(ctx context.Context, pc *pgconn.PgConn, q string) ([]pgconn.FieldDescription, []*pgType, error) {
	sd, err := pc.Prepare(ctx, "", q, nil)
	if err != nil {
		return nil, nil, err
	}
	oids := make([]uint32, len(sd.Fields))
	for i, f := range sd.Fields {
		oids[i] = f.DataTypeOID
	}
	info, err := resolveTypes(ctx, pc, oids)
	if err != nil {
		return nil, nil, err
	}
	types := make([]*pgType, len(sd.Fields))
	for i, f := range sd.Fields {
		types[i] = newPgType(f.DataTypeOID, f.TypeModifier, info, false)
	}
	return sd.Fields, types, nil
}

// schemaOf is the Arrow schema of a result. Repeated column names (legal in PostgreSQL, not in
// a DuckDB table) get a suffix: a, a_1, a_2.
func schemaOf(fields []pgconn.FieldDescription, types []*pgType) *arrow.Schema {
	af := make([]arrow.Field, len(fields))
	used := map[string]bool{}
	for i, f := range fields {
		name := f.Name
		for n := 1; used[strings.ToLower(name)]; n++ {
			name = f.Name + "_" + strconv.Itoa(n)
		}
		used[strings.ToLower(name)] = true
		af[i] = arrow.Field{Name: name, Type: types[i].arrow, Nullable: true, Metadata: types[i].meta}
	}
	return arrow.NewSchema(af, nil)
}

func (c *Postgres) tap(ctx context.Context, pc *pgconn.PgConn, stageQuery string) (array.RecordReader, error) {
	q, err := c.tapQuery(ctx, pc, stageQuery)
	if err != nil {
		return nil, err
	}
	// A whole plain table is copied as a table (COPY t TO): PostgreSQL then reads the heap
	// directly instead of running a query through its executor, about twice as fast. It is not
	// split into ctid ranges copied in parallel: measured on PostgreSQL 15, a TID range scan's
	// COPY of half the table costs the server about 85% of the CPU of COPY t of all of it, so
	// two ranges cost ~1.7 times the server's CPU, a loss wherever PostgreSQL and the tap share
	// a couple of cores.
	plainTable := ""
	if trimStatement(stageQuery) == "" {
		tn, err := parseTable(ctx, pc, c.table())
		if err != nil {
			return nil, err
		}
		kind, err := query(ctx, pc, "SELECT relkind FROM pg_catalog.pg_class WHERE oid = to_regclass($1)", tn.sql())
		if err != nil {
			return nil, err
		}
		if len(kind) == 1 && kind[0][0] == "r" {
			plainTable = tn.sql()
		}
	}
	fields, types, err := describe(ctx, pc, q)
	if err != nil {
		return nil, err
	}
	if len(fields) == 0 {
		return nil, errors.New("the tap query returns no rows (run statements in a sql stage)")
	}
	// Columns without a binary decoder are cast to text on the server: the query is wrapped and
	// its columns renamed positionally, so duplicate or odd names do not matter.
	inner := q
	cast := false
	for _, t := range types {
		cast = cast || t.castText != ""
	}
	if cast {
		var names, sel []string
		for i, t := range types {
			n := quoteIdent("c" + strconv.Itoa(i+1))
			names = append(names, n)
			if t.castText != "" {
				n += "::" + t.castText
			}
			sel = append(sel, n)
		}
		inner = "SELECT " + strings.Join(sel, ", ") + " FROM (" + q + "\n) AS ankaflow_q(" + strings.Join(names, ", ") + ")"
	}
	copySQL := "COPY (" + inner + "\n) TO STDOUT (FORMAT binary)"
	if plainTable != "" && !cast {
		copySQL = "COPY " + plainTable + " TO STDOUT (FORMAT binary)"
	}
	return newCopyReader(ctx, c, pc, schemaOf(fields, types), types, copySQL), nil
}

// copyReader streams a binary COPY … TO STDOUT as Arrow record batches: the rows are read from
// the socket (copyConn) and decoded straight into Arrow builders. The COPY starts at the first
// Next, so a reader whose schema is all that is asked for costs one Prepare.
type copyReader struct {
	refs    atomic.Int64
	ctx     context.Context
	cancel  context.CancelFunc
	c       *Postgres
	pc      *pgconn.PgConn
	schema  *arrow.Schema
	sql     string
	bld     *array.RecordBuilder
	dec     []decoder
	names   []string
	vals    []*array.BinaryBuilder // the variable-width columns' value builders (nil for others)
	valLen  []int                  // their value bytes in the last full batch
	started bool
	batches int // full batches so far
	in      *frameReader
	cc      *copyConn // the COPY in progress (nil before and after)
	cur     arrow.RecordBatch
	err     error
	eof     bool
	closed  bool
	once    sync.Once
}

func newCopyReader(ctx context.Context, c *Postgres, pc *pgconn.PgConn, schema *arrow.Schema, types []*pgType, sql string) *copyReader {
	cctx, cancel := context.WithCancel(ctx)
	r := &copyReader{ctx: cctx, cancel: cancel, c: c, pc: pc, schema: schema, sql: sql}
	r.bld = array.NewRecordBuilder(newBufferPool(), schema)
	for i, t := range types {
		r.dec = append(r.dec, newDecoder(t, r.bld.Field(i)))
		r.names = append(r.names, schema.Field(i).Name)
		var vb *array.BinaryBuilder
		switch b := r.bld.Field(i).(type) {
		case *array.StringBuilder:
			vb = b.BinaryBuilder
		case *array.BinaryBuilder:
			vb = b
		}
		r.vals = append(r.vals, vb)
	}
	r.valLen = make([]int, len(r.vals))
	r.refs.Store(1)
	return r
}

// Schema implements array.RecordReader.
func (r *copyReader) Schema() *arrow.Schema { return r.schema }

// RecordBatch is the current batch, valid until the next Next.
func (r *copyReader) RecordBatch() arrow.RecordBatch { return r.cur }

// Record implements the deprecated half of array.RecordReader.
func (r *copyReader) Record() arrow.RecordBatch { return r.cur }

// Err is the error that stopped the stream.
func (r *copyReader) Err() error { return r.err }

// Retain implements array.RecordReader.
func (r *copyReader) Retain() { r.refs.Add(1) }

func (r *copyReader) start() error {
	r.started = true
	cc, err := startCopy(r.ctx, r.pc, r.sql)
	if err != nil {
		return err
	}
	r.pc = nil // taken over by cc; finish gives it back
	r.cc = cc
	r.in = &frameReader{r: cc, buf: make([]byte, 0, frameBuffer)}
	return nil
}

// Next decodes the next batch.
func (r *copyReader) Next() bool {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	if r.eof || r.closed || r.err != nil {
		return false
	}
	if !r.started {
		err := r.start()
		if err == nil {
			err = r.header()
		}
		if err != nil {
			r.fail(err)
			return false
		}
	}
	if r.batches > 0 {
		// Full batches follow a full one: size the builders once instead of doubling them
		// from empty (and copying) a dozen times per batch.
		// Text values too: their buffer would otherwise double its way up (about twice the
		// bytes allocated and copied); the last full batch's size is the guess.
		r.bld.Reserve(batchRows)
		for i, vb := range r.vals {
			if vb != nil {
				vb.ReserveData(r.valLen[i])
			}
		}
	}
	n := 0
	start := r.in.consumed
	for n < batchRows && r.in.consumed-start < batchBytes {
		more, err := r.row()
		if err != nil {
			r.fail(err)
			return false
		}
		if !more {
			r.finish()
			break
		}
		n++
	}
	if r.err != nil {
		return false
	}
	if n == 0 {
		return false
	}
	if n == batchRows {
		r.batches++
		for i, vb := range r.vals {
			if vb != nil {
				r.valLen[i] = vb.DataLen()
			}
		}
	}
	r.cur = r.bld.NewRecordBatch()
	return true
}

var copySignature = []byte("PGCOPY\n\377\r\n\x00")

func (r *copyReader) header() error {
	h, err := r.in.next(19)
	if err != nil {
		return err
	}
	if !bytes.Equal(h[:11], copySignature) {
		return errors.New("not a binary COPY stream")
	}
	ext := int(binary.BigEndian.Uint32(h[15:]))
	_, err = r.in.next(ext)
	return err
}

// row decodes one tuple; false at the trailer. The whole tuple is brought into the buffer
// first, so its fields are sliced out in place (no call per field to the frame reader).
func (r *copyReader) row() (bool, error) {
	need := 2
	for {
		if err := r.in.ensure(need); err != nil {
			return false, err
		}
		b := r.in.buf[r.in.pos:]
		nf := int16(binary.BigEndian.Uint16(b))
		if nf == -1 {
			r.in.skip(2)
			return false, nil
		}
		if int(nf) != len(r.dec) {
			return false, fmt.Errorf("COPY row has %d fields, expected %d", nf, len(r.dec))
		}
		if need = tupleLen(b, len(r.dec)); need > 0 {
			continue // the tuple (or at least its next length word) goes past the buffer
		}
		off := 2
		for i, dec := range r.dec {
			l := int(int32(binary.BigEndian.Uint32(b[off:])))
			off += 4
			var v []byte
			if l >= 0 {
				v = b[off : off+l : off+l]
				off += l
			}
			if err := dec(v); err != nil {
				return false, fmt.Errorf("column %q: %w", r.names[i], err)
			}
		}
		r.in.skip(off)
		return true, nil
	}
}

// tupleLen checks that b holds a whole tuple of nf fields: 0 if it does, else how many bytes
// must be buffered to learn more (at least one more length word or value).
func tupleLen(b []byte, nf int) int {
	off := 2
	for range nf {
		if len(b) < off+4 {
			return off + 4
		}
		l := int(int32(binary.BigEndian.Uint32(b[off:])))
		off += 4
		if l > 0 {
			off += l
		}
		if len(b) < off {
			return off
		}
	}
	return 0
}

// finish reads the end of the COPY and hands the connection back.
func (r *copyReader) finish() {
	r.eof = true
	pc, err := r.cc.finish()
	r.cc = nil
	r.pc = pc
	if err != nil {
		r.fail(err)
		return
	}
	r.once.Do(func() { r.c.release(r.ctx, r.pc, true) })
}

func (r *copyReader) fail(err error) {
	// Whether the caller cancelled, asked before r.cancel below cancels r.ctx itself (a remote
	// error is not a cancellation, and keeps its SQLSTATE for the caller).
	ctxErr := r.ctx.Err()
	r.abort()
	if ctxErr != nil && !errors.Is(err, ctxErr) {
		err = fmt.Errorf("%w (%w)", ctxErr, err)
	}
	r.err = r.c.wrap(err)
	r.once.Do(func() { r.c.release(r.ctx, r.pc, isServerError(err)) })
}

// abort stops a COPY in progress (the decoder stopped first: bad value, cancelled context, an
// early Release): the query is cancelled on the server and the connection closed.
func (r *copyReader) abort() {
	if r.cc != nil {
		r.cancel()
		r.cc.close()
		r.cc = nil
	}
}

// Release implements array.RecordReader. Releasing before the end stops the COPY (the server
// connection is then closed, not reused).
func (r *copyReader) Release() {
	if r.refs.Add(-1) > 0 || r.closed {
		return
	}
	r.closed = true
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	r.abort()
	r.once.Do(func() { r.c.release(r.ctx, r.pc, !r.started) })
	r.cancel()
	r.bld.Release()
}

// frameReader hands out byte ranges of a stream without copying them twice: next(n) returns
// the next n bytes, valid until the following call.
type frameReader struct {
	r        io.Reader
	buf      []byte
	pos      int
	consumed int
}

func (f *frameReader) next(n int) ([]byte, error) {
	if len(f.buf)-f.pos < n {
		if err := f.fill(n); err != nil {
			return nil, err
		}
	}
	b := f.buf[f.pos : f.pos+n : f.pos+n]
	f.pos += n
	f.consumed += n
	return b, nil
}

// ensure makes n unread bytes available in buf[pos:].
func (f *frameReader) ensure(n int) error {
	if len(f.buf)-f.pos < n {
		return f.fill(n)
	}
	return nil
}

// skip consumes n bytes made available by ensure.
func (f *frameReader) skip(n int) {
	f.pos += n
	f.consumed += n
}

func (f *frameReader) fill(n int) error {
	// Move the unread bytes to the front; grow for values larger than the buffer.
	rest := copy(f.buf[:cap(f.buf)], f.buf[f.pos:])
	f.buf = f.buf[:rest]
	f.pos = 0
	if cap(f.buf) < n {
		nb := make([]byte, rest, n+frameBuffer)
		copy(nb, f.buf)
		f.buf = nb
	}
	for len(f.buf) < n {
		m, err := f.r.Read(f.buf[len(f.buf):cap(f.buf)])
		f.buf = f.buf[:len(f.buf)+m]
		if err != nil {
			if len(f.buf) >= n {
				return nil
			}
			if err == io.EOF {
				return io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}
