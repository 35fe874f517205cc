package pgwire

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	bindings "github.com/duckdb/duckdb-go-bindings"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/ankaflow/ankaflow/engine"
)

// COPY … TO STDOUT and COPY … FROM STDIN: the client's end of the connection, which DuckDB
// cannot see (to DuckDB, STDIN and STDOUT would be the server's own). The server runs them
// itself: TO STDOUT streams a query's rows as CopyData; FROM STDIN parses the client's
// CopyData into Arrow batches that DuckDB inserts (engine.Session.ScanArrow). Formats text,
// csv and binary, with PostgreSQL's options and its older WITH DELIMITER … NULL … syntax.

type copyFormat int

const (
	copyText copyFormat = iota
	copyCSV
	copyBinary
)

type copyCmd struct {
	from      bool   // FROM STDIN (else TO STDOUT)
	table     string // table reference as written, or "" with query
	columns   []string
	query     string // COPY (query) TO STDOUT
	format    copyFormat
	delim     byte
	null      string
	header    bool
	quote     byte
	escape    byte
	forceQAll bool
}

var binaryCopySignature = []byte("PGCOPY\n\xff\r\n\x00")

// parseCopy reads a COPY statement aimed at STDIN or STDOUT.
func parseCopy(text string) (*copyCmd, *pgError) {
	toks := tokenize(text)
	for len(toks) > 0 && toks[len(toks)-1].text == ";" {
		toks = toks[:len(toks)-1]
	}
	bad := func(format string, args ...any) *pgError {
		return newError(codeSyntaxError, "COPY: "+format, args...)
	}
	if len(toks) < 4 || toks[0].upper != "COPY" {
		return nil, bad("not a COPY statement")
	}
	cmd := &copyCmd{}
	i := 1
	if toks[i].text == "(" {
		depth, j := 0, i
		for ; j < len(toks); j++ {
			switch toks[j].text {
			case "(":
				depth++
			case ")":
				depth--
			}
			if depth == 0 {
				break
			}
		}
		if j >= len(toks) {
			return nil, bad("unbalanced parentheses")
		}
		cmd.query = strings.TrimSpace(text[toks[i].end:toks[j].start])
		i = j + 1
	} else {
		start := i
		for i < len(toks) && toks[i].text != "(" && toks[i].upper != "FROM" && toks[i].upper != "TO" {
			i++
		}
		if i == start || i >= len(toks) {
			return nil, bad("expected a table name")
		}
		cmd.table = text[toks[start].start:toks[i-1].end]
		if toks[i].text == "(" {
			i++
			for i < len(toks) && toks[i].text != ")" {
				if toks[i].text != "," {
					cmd.columns = append(cmd.columns, text[toks[i].start:toks[i].end])
				}
				i++
			}
			i++
		}
	}
	if i+1 >= len(toks) {
		return nil, bad("expected FROM STDIN or TO STDOUT")
	}
	switch {
	case toks[i].upper == "FROM" && toks[i+1].upper == "STDIN":
		cmd.from = true
	case toks[i].upper == "TO" && toks[i+1].upper == "STDOUT":
	default:
		return nil, bad("expected FROM STDIN or TO STDOUT")
	}
	if cmd.from && cmd.query != "" {
		return nil, bad("COPY (query) FROM is not valid")
	}
	opts := toks[i+2:]
	var delim, null, quote, escape *string
	optString := func(j int) (string, int, *pgError) {
		if j < len(opts) && opts[j].upper == "AS" {
			j++
		}
		if j >= len(opts) || (opts[j].kind != tokString && opts[j].kind != tokWord && opts[j].kind != tokNumber) {
			return "", j, bad("option value expected")
		}
		return opts[j].text, j + 1, nil
	}
	j := 0
	if j < len(opts) && opts[j].upper == "WITH" {
		j++
	}
	if j < len(opts) && opts[j].text == "(" { // WITH (option value, …)
		j++
		for j < len(opts) && opts[j].text != ")" {
			if opts[j].text == "," {
				j++
				continue
			}
			name := opts[j].upper
			j++
			var val string
			hasVal := j < len(opts) && opts[j].text != "," && opts[j].text != ")"
			if hasVal {
				if opts[j].text == "(" || opts[j].text == "*" { // FORCE_QUOTE (cols) / *
					if opts[j].text == "*" {
						cmd.forceQAll = true
						j++
					} else {
						for j < len(opts) && opts[j].text != ")" {
							j++
						}
						j++
					}
					continue
				}
				val = opts[j].text
				j++
			}
			switch name {
			case "FORMAT":
				switch strings.ToLower(val) {
				case "text":
					cmd.format = copyText
				case "csv":
					cmd.format = copyCSV
				case "binary":
					cmd.format = copyBinary
				default:
					return nil, bad("COPY format %q not recognized", val)
				}
			case "DELIMITER":
				delim = &val
			case "NULL":
				null = &val
			case "HEADER":
				b := true
				if hasVal && !strings.EqualFold(val, "match") {
					v, err := parseBool(val)
					if err != nil {
						return nil, bad("header requires a Boolean value")
					}
					b = v
				}
				cmd.header = b
			case "QUOTE":
				quote = &val
			case "ESCAPE":
				escape = &val
			case "ENCODING":
				if _, pe := checkEncoding(val); pe != nil {
					return nil, pe
				}
			case "FREEZE", "FORCE_NOT_NULL", "FORCE_NULL", "FORCE_QUOTE", "DEFAULT":
			default:
				return nil, bad("option %q not recognized", strings.ToLower(name))
			}
		}
	} else { // pre-9.0 syntax: [BINARY] [DELIMITER [AS] 'd'] [NULL [AS] 'n'] [CSV [HEADER] [QUOTE …] [ESCAPE …] [FORCE …]]
		for j < len(opts) {
			var err *pgError
			switch opts[j].upper {
			case "BINARY":
				cmd.format = copyBinary
				j++
			case "CSV":
				cmd.format = copyCSV
				j++
			case "HEADER":
				cmd.header = true
				j++
			case "DELIMITER":
				var v string
				v, j, err = optString(j + 1)
				delim = &v
			case "NULL":
				var v string
				v, j, err = optString(j + 1)
				null = &v
			case "QUOTE":
				var v string
				v, j, err = optString(j + 1)
				quote = &v
			case "ESCAPE":
				var v string
				v, j, err = optString(j + 1)
				escape = &v
			case "FORCE":
				// FORCE QUOTE cols|* / FORCE NOT NULL cols: accepted, no effect besides QUOTE *.
				j++
				for j < len(opts) && opts[j].upper != "CSV" && opts[j].upper != "HEADER" && opts[j].upper != "DELIMITER" && opts[j].upper != "NULL" {
					if opts[j].text == "*" {
						cmd.forceQAll = true
					}
					j++
				}
			default:
				return nil, bad("syntax error at or near %q", opts[j].text)
			}
			if err != nil {
				return nil, err
			}
		}
	}
	// Defaults per format, then the options.
	cmd.delim, cmd.null, cmd.quote, cmd.escape = '\t', `\N`, '"', '"'
	if cmd.format == copyCSV {
		cmd.delim, cmd.null = ',', ""
	}
	oneByte := func(name string, v *string, dst *byte) *pgError {
		if v == nil {
			return nil
		}
		if len(*v) != 1 {
			return bad("%s must be a single one-byte character", name)
		}
		*dst = (*v)[0]
		return nil
	}
	if err := oneByte("delimiter", delim, &cmd.delim); err != nil {
		return nil, err
	}
	if err := oneByte("quote", quote, &cmd.quote); err != nil {
		return nil, err
	}
	cmd.escape = cmd.quote
	if err := oneByte("escape", escape, &cmd.escape); err != nil {
		return nil, err
	}
	if null != nil {
		cmd.null = *null
	}
	if cmd.format == copyBinary && (delim != nil || null != nil || cmd.header) {
		return nil, bad("cannot specify DELIMITER, NULL or HEADER in BINARY mode")
	}
	return cmd, nil
}

// selectSQL is the query whose rows COPY TO sends, or whose columns COPY FROM fills.
func (cmd *copyCmd) selectSQL() string {
	if cmd.query != "" {
		return cmd.query
	}
	cols := "*"
	if len(cmd.columns) > 0 {
		cols = strings.Join(cmd.columns, ", ")
	}
	return "SELECT " + cols + " FROM " + cmd.table
}

// runCopy executes a COPY … STDIN/STDOUT statement.
func (c *conn) runCopy(p *portal) error {
	c.statements++
	cmd, pe := parseCopy(p.stmt.text)
	if pe != nil {
		return pe
	}
	if err := c.quiesce(p); err != nil {
		return err
	}
	p.done = true
	if cmd.from {
		return c.copyIn(p, cmd)
	}
	return c.copyOut(p, cmd)
}

func (c *conn) copyOut(p *portal, cmd *copyCmd) error {
	if c.restricted() {
		if pe := c.gateSQL(c.ctx, cmd.selectSQL(), nil); pe != nil {
			return pe
		}
	}
	prep, err := c.sess.Prepare(c.ctx, cmd.selectSQL())
	if err != nil {
		return c.toPGError(err, cmd.selectSQL(), sqlPiece{})
	}
	defer prep.Close()
	p.ctx, p.cancel = context.WithCancelCause(c.ctx)
	c.setRunning(p.cancel)
	defer c.setRunning(nil)
	rows, err := prep.Query(p.ctx)
	if err != nil {
		return c.causeOr(p, err)
	}
	defer rows.Close()
	cols := rows.Columns()
	types := make([]pgColType, len(cols))
	formats := make([]int16, len(cols))
	for i, col := range cols {
		types[i] = pgTypeFor(col.Type)
		if cmd.format == copyBinary {
			formats[i] = 1
		}
	}
	enc, err := newRowEncoder(rows.Schema().Fields(), types, formats, encodeOpts{tz: c.tz})
	if err != nil {
		return newError(codeFeatureNotSupported, "%v", err)
	}
	overall := byte(0)
	if cmd.format == copyBinary {
		overall = 1
	}
	c.send(&pgproto3.CopyOutResponse{OverallFormat: overall, ColumnFormatCodes: u16(formats)})
	var line []byte
	data := func(b []byte) {
		c.send(&pgproto3.CopyData{Data: b})
	}
	switch {
	case cmd.format == copyBinary:
		hdr := append([]byte(nil), binaryCopySignature...)
		hdr = binary.BigEndian.AppendUint32(hdr, 0)
		hdr = binary.BigEndian.AppendUint32(hdr, 0)
		data(hdr)
	case cmd.header:
		line = line[:0]
		for i, col := range cols {
			if i > 0 {
				line = append(line, cmd.delim)
			}
			line = cmd.appendField(line, []byte(col.Name))
		}
		data(append(line, '\n'))
	}
	var n int64
	for rows.Next() {
		rec := rows.RecordBatch()
		nr := int(rec.NumRows())
		enc.encodeColumns(rec, 0, nr)
		for r := 0; r < nr; r++ {
			line = line[:0]
			if cmd.format == copyBinary {
				line = binary.BigEndian.AppendUint16(line, uint16(len(cols)))
			}
			for ci := range cols {
				v := enc.bufs[ci].value(r)
				switch {
				case cmd.format == copyBinary:
					if v == nil {
						line = binary.BigEndian.AppendUint32(line, 0xffffffff)
					} else {
						line = binary.BigEndian.AppendUint32(line, uint32(len(v)))
						line = append(line, v...)
					}
					continue
				case ci > 0:
					line = append(line, cmd.delim)
				}
				if v == nil {
					line = append(line, cmd.null...)
				} else {
					line = cmd.appendField(line, v)
				}
			}
			if cmd.format != copyBinary {
				line = append(line, '\n')
			}
			data(line)
			if c.writeErr != nil {
				return errClientGone
			}
		}
		n += int64(nr)
	}
	if err := rows.Err(); err != nil {
		return c.causeOr(p, err)
	}
	if cmd.format == copyBinary {
		data([]byte{0xff, 0xff})
	}
	c.send(&pgproto3.CopyDone{})
	p.tag = "COPY " + strconv.FormatInt(n, 10)
	c.send(&pgproto3.CommandComplete{CommandTag: []byte(p.tag)})
	return nil
}

// appendField writes one non-NULL value in text or CSV format.
func (cmd *copyCmd) appendField(dst, v []byte) []byte {
	if cmd.format == copyCSV {
		needQuote := cmd.forceQAll || len(v) == 0 || string(v) == cmd.null
		for _, ch := range v {
			if ch == cmd.delim || ch == cmd.quote || ch == '\n' || ch == '\r' {
				needQuote = true
				break
			}
		}
		if !needQuote {
			return append(dst, v...)
		}
		dst = append(dst, cmd.quote)
		for _, ch := range v {
			if ch == cmd.quote || ch == cmd.escape {
				dst = append(dst, cmd.escape)
			}
			dst = append(dst, ch)
		}
		return append(dst, cmd.quote)
	}
	for _, ch := range v {
		switch ch {
		case '\\':
			dst = append(dst, '\\', '\\')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '\v':
			dst = append(dst, '\\', 'v')
		default:
			if ch == cmd.delim {
				dst = append(dst, '\\')
			}
			dst = append(dst, ch)
		}
	}
	return dst
}

// --- COPY FROM STDIN ---

// copyColumn says how one target column is filled: the Arrow type its values are collected
// as, and the SQL that turns them into the column's type.
type copyColumn struct {
	name  string
	duck  engine.TypeInfo
	oid   uint32
	arrow arrow.DataType
	cast  string // SQL expression over the scanned column "c<i>"
}

func copyColumnFor(i int, name string, t engine.TypeInfo) copyColumn {
	cc := copyColumn{name: name, duck: t, oid: pgTypeFor(t).oid}
	src := "c" + strconv.Itoa(i)
	target := t.SQL()
	switch {
	case t.ID == bindings.TypeBoolean:
		cc.arrow = arrow.FixedWidthTypes.Boolean
	case cc.oid == oidBytea:
		cc.arrow = arrow.BinaryTypes.Binary
	case pgTypes[cc.oid].elem != 0:
		cc.arrow = arrow.ListOf(arrow.BinaryTypes.String)
	default:
		cc.arrow = arrow.BinaryTypes.String
	}
	switch {
	case cc.oid == oidJSON && t.Alias != "JSON" && t.ID != bindings.TypeVarchar:
		// Nested types travel as JSON (as they are shown): cast through JSON.
		cc.cast = "CAST(CAST(" + src + " AS JSON) AS " + target + ")"
	default:
		cc.cast = "CAST(" + src + " AS " + target + ")"
	}
	return cc
}

// copyIn runs COPY … FROM STDIN: CopyInResponse, then the client's CopyData, parsed into Arrow
// batches that an INSERT … SELECT reads while they arrive.
func (c *conn) copyIn(p *portal, cmd *copyCmd) error {
	prep, err := c.sess.Prepare(c.ctx, cmd.selectSQL())
	if err != nil {
		return c.toPGError(err, cmd.selectSQL(), sqlPiece{})
	}
	dcols := prep.Columns()
	prep.Close()
	cols := make([]copyColumn, len(dcols))
	fields := make([]arrow.Field, len(dcols))
	targets := make([]string, len(dcols))
	casts := make([]string, len(dcols))
	for i, dc := range dcols {
		cols[i] = copyColumnFor(i, dc.Name, dc.Type)
		fields[i] = arrow.Field{Name: "c" + strconv.Itoa(i), Type: cols[i].arrow, Nullable: true}
		targets[i] = engine.QuoteIdent(dc.Name)
		casts[i] = cols[i].cast
	}
	if len(cmd.columns) > 0 {
		copy(targets, cmd.columns)
	}
	formats := make([]int16, len(cols))
	overall := byte(0)
	if cmd.format == copyBinary {
		overall = 1
		for i := range formats {
			formats[i] = 1
		}
	}
	p.ctx, p.cancel = context.WithCancelCause(c.ctx)
	c.setRunning(p.cancel)
	defer c.setRunning(nil)
	c.send(&pgproto3.CopyInResponse{OverallFormat: overall, ColumnFormatCodes: u16(formats)})
	if err := c.flush(); err != nil {
		return errClientGone
	}
	rd := &copyInReader{c: c, ctx: p.ctx, cmd: cmd, cols: cols, schema: arrow.NewSchema(fields, nil), refs: 1}
	from, release := c.sess.ScanArrow(rd)
	sql := "INSERT INTO " + cmd.table + " (" + strings.Join(targets, ", ") + ") SELECT " + strings.Join(casts, ", ") + " FROM " + from
	n, err := c.sess.Exec(p.ctx, sql)
	release()
	// Whatever happened, the client's copy stream must be consumed up to its end.
	rd.drain()
	if rd.endReason != "" {
		c.endReason = rd.endReason
		return errClientGone
	}
	if rd.err != nil {
		return rd.err
	}
	if err != nil {
		return c.causeOr(p, err)
	}
	p.tag = "COPY " + strconv.FormatInt(n, 10)
	c.send(&pgproto3.CommandComplete{CommandTag: []byte(p.tag)})
	return nil
}

// copyInReader is an array.RecordReader over the client's CopyData messages.
type copyInReader struct {
	c      *conn
	ctx    context.Context
	cmd    *copyCmd
	cols   []copyColumn
	schema *arrow.Schema

	mu        sync.Mutex
	buf       []byte // received, not yet parsed
	scanAt    int    // text/CSV: bytes of buf already searched for the line end
	scanQuote bool   // CSV: inside quotes at scanAt
	ended     bool   // CopyDone (or CopyFail / error) seen
	gotHdr    bool   // binary header / CSV header consumed
	line      int64
	cur       arrow.RecordBatch
	err       *pgError
	refs      int64
	finished  bool
	endReason string // set when the client went away: the connection must end
}

const copyBatchRows = 4096

// maxCopyField bounds one COPY line (text, CSV), one binary field and the binary header
// extension: larger ones would have to be buffered whole.
const maxCopyField = maxMessageLen

func (r *copyInReader) Schema() *arrow.Schema { return r.schema }
func (r *copyInReader) Retain()               { r.mu.Lock(); r.refs++; r.mu.Unlock() }
func (r *copyInReader) Release() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.refs--
	if r.refs <= 0 && r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
}
func (r *copyInReader) RecordBatch() arrow.RecordBatch { return r.cur }
func (r *copyInReader) Record() arrow.RecordBatch      { return r.cur }
func (r *copyInReader) Err() error {
	if r.err != nil {
		return r.err
	}
	return nil
}

func (r *copyInReader) fail(e *pgError) bool {
	if r.err == nil {
		r.err = e
	}
	return false
}

// receive waits for the next copy message; false at CopyDone or on failure.
func (r *copyInReader) receive() bool {
	if r.ended {
		return false
	}
	for {
		select {
		case <-r.ctx.Done():
			r.ended = true
			return false
		case m := <-r.c.in:
			m = r.c.take(m)
			if m.err != nil {
				r.ended = true
				r.endReason = "client connection lost during COPY"
				return r.fail(newError(codeProtocolViolation, "unexpected EOF on client connection with an open transaction"))
			}
			switch msg := m.msg.(type) {
			case *pgproto3.CopyData:
				r.buf = append(r.buf, msg.Data...)
				return true
			case *pgproto3.CopyDone:
				r.ended = true
				return false
			case *pgproto3.CopyFail:
				r.ended = true
				return r.fail(newError(codeQueryCanceled, "COPY from stdin failed: %s", msg.Message))
			case *pgproto3.Flush, *pgproto3.Sync:
				// ignored during COPY, as in PostgreSQL
			case *pgproto3.Terminate:
				r.ended = true
				r.endReason = "client terminated during COPY"
				return r.fail(newError(codeProtocolViolation, "client terminated during COPY"))
			default:
				r.ended = true
				return r.fail(newError(codeProtocolViolation, "unexpected message type 0x%02X during COPY from stdin", typeByte(m.msg)))
			}
		}
	}
}

func typeByte(m pgproto3.FrontendMessage) byte {
	b, err := m.Encode(nil)
	if err != nil || len(b) == 0 {
		return 0
	}
	return b[0]
}

// drain consumes the rest of the client's copy stream after the INSERT ended early.
func (r *copyInReader) drain() {
	for !r.ended {
		r.buf = r.buf[:0]
		r.receive()
	}
}

func (r *copyInReader) Next() bool {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	if r.err != nil || r.finished {
		return false
	}
	bld := array.NewRecordBuilder(memory.DefaultAllocator, r.schema)
	defer bld.Release()
	rows := 0
	for rows < copyBatchRows {
		rec, ok := r.nextRecord()
		if r.err != nil {
			return false
		}
		if !ok {
			r.finished = true
			break
		}
		if rec == nil {
			continue
		}
		if err := r.appendRow(bld, rec); err != nil {
			return r.fail(err)
		}
		rows++
	}
	if rows == 0 {
		return false
	}
	r.cur = bld.NewRecordBatch()
	return true
}

// nextRecord returns the next row's raw fields (nil entries are NULLs); ok is false at the end
// of the data. For binary format the fields are the binary values.
func (r *copyInReader) nextRecord() (fields [][]byte, ok bool) {
	for {
		if r.cmd.format == copyBinary {
			f, need, pe := r.parseBinary()
			if pe != nil {
				r.fail(pe)
				return nil, false
			}
			if need == 0 {
				return f, f != nil
			}
		} else if end := r.lineEnd(); r.err != nil {
			return nil, false
		} else if end >= 0 {
			raw := r.buf[:end]
			r.buf = r.buf[end+1:]
			r.line++
			if len(raw) > 0 && raw[len(raw)-1] == '\r' {
				raw = raw[:len(raw)-1]
			}
			if r.cmd.format == copyText && string(raw) == `\.` {
				r.drainRest()
				return nil, false
			}
			if r.cmd.header && !r.gotHdr {
				r.gotHdr = true
				return nil, true
			}
			f, pe := r.splitFields(raw)
			if pe != nil {
				r.fail(pe)
				return nil, false
			}
			return f, true
		}
		if !r.receive() {
			if r.err != nil {
				return nil, false
			}
			// End of data: a last line without newline still counts.
			if r.cmd.format != copyBinary && len(r.buf) > 0 {
				r.buf = append(r.buf, '\n')
				continue
			}
			if r.cmd.format == copyBinary && len(r.buf) > 0 {
				r.fail(newError(codeInvalidBinaryRepr, "unexpected EOF in COPY data"))
			}
			return nil, false
		}
	}
}

// drainRest skips data after the \. end marker.
func (r *copyInReader) drainRest() {
	r.buf, r.scanAt, r.scanQuote = r.buf[:0], 0, false
	for r.receive() {
		r.buf = r.buf[:0]
	}
}

// lineEnd finds the end of the next complete line in buf (quote-aware for CSV), or -1.
// The scan resumes where the previous call stopped, so a long line arriving in many CopyData
// messages costs linear time; a line longer than maxCopyField fails the COPY.
func (r *copyInReader) lineEnd() int {
	i, inQuote := r.scanAt, r.scanQuote
	found := func(end int) int {
		r.scanAt, r.scanQuote = 0, false
		return end
	}
	for ; i < len(r.buf); i++ {
		ch := r.buf[i]
		if r.cmd.format == copyText {
			if ch == '\n' {
				return found(i)
			}
			continue
		}
		if inQuote && ch == r.cmd.escape && r.cmd.escape != r.cmd.quote {
			if i+1 == len(r.buf) {
				break // decide when the next byte has arrived
			}
			if r.buf[i+1] == r.cmd.quote || r.buf[i+1] == r.cmd.escape {
				i++
			}
			continue
		}
		switch {
		case ch == r.cmd.quote:
			inQuote = !inQuote
		case ch == '\n' && !inQuote:
			return found(i)
		}
	}
	r.scanAt, r.scanQuote = i, inQuote
	if i > maxCopyField {
		r.fail(newError(codeProgramLimitExceeded, "COPY line %d is longer than %d bytes", r.line+1, maxCopyField))
	}
	return -1
}

func (r *copyInReader) splitFields(line []byte) ([][]byte, *pgError) {
	var out [][]byte
	if r.cmd.format == copyText {
		for _, raw := range bytes.Split(line, []byte{r.cmd.delim}) {
			if string(raw) == r.cmd.null {
				out = append(out, nil)
				continue
			}
			out = append(out, unescapeCopyText(raw))
		}
	} else {
		i := 0
		for {
			var field []byte
			quoted := false
			for i < len(line) && line[i] != r.cmd.delim {
				ch := line[i]
				if ch == r.cmd.quote {
					quoted = true
					i++
					for i < len(line) {
						ch = line[i]
						if ch == r.cmd.escape && i+1 < len(line) && (line[i+1] == r.cmd.quote || (r.cmd.escape != r.cmd.quote && line[i+1] == r.cmd.escape)) {
							field = append(field, line[i+1])
							i += 2
							continue
						}
						if ch == r.cmd.quote {
							i++
							break
						}
						field = append(field, ch)
						i++
					}
					continue
				}
				field = append(field, ch)
				i++
			}
			if !quoted && string(field) == r.cmd.null {
				out = append(out, nil)
			} else {
				if field == nil {
					field = []byte{}
				}
				out = append(out, field)
			}
			if i >= len(line) {
				break
			}
			i++ // delimiter
		}
	}
	if len(out) != len(r.cols) {
		if len(out) < len(r.cols) {
			return nil, newError("22P04", "missing data for column %q (line %d)", r.cols[len(out)].name, r.line)
		}
		return nil, newError("22P04", "extra data after last expected column (line %d)", r.line)
	}
	return out, nil
}

func unescapeCopyText(raw []byte) []byte {
	if bytes.IndexByte(raw, '\\') < 0 {
		return append([]byte{}, raw...)
	}
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		ch := raw[i]
		if ch != '\\' || i+1 >= len(raw) {
			out = append(out, ch)
			continue
		}
		i++
		switch e := raw[i]; e {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'v':
			out = append(out, '\v')
		case 'x':
			v, n := 0, 0
			for n < 2 && i+1 < len(raw) && unhexValid(raw[i+1]) >= 0 {
				v = v*16 + unhexValid(raw[i+1])
				i++
				n++
			}
			if n == 0 {
				out = append(out, 'x')
			} else {
				out = append(out, byte(v))
			}
		case '0', '1', '2', '3', '4', '5', '6', '7':
			v := int(e - '0')
			for n := 1; n < 3 && i+1 < len(raw) && raw[i+1] >= '0' && raw[i+1] <= '7'; n++ {
				v = v*8 + int(raw[i+1]-'0')
				i++
			}
			out = append(out, byte(v))
		default:
			out = append(out, e)
		}
	}
	return out
}

// parseBinary reads the next tuple of binary COPY data. need > 0 means more bytes are
// required; fields == nil with need == 0 is the trailer.
func (r *copyInReader) parseBinary() (fields [][]byte, need int, pe *pgError) {
	b := r.buf
	if !r.gotHdr {
		if len(b) < len(binaryCopySignature)+8 {
			return nil, 1, nil
		}
		if !bytes.Equal(b[:len(binaryCopySignature)], binaryCopySignature) {
			return nil, 0, newError(codeBadCopyFileFormat, "COPY file signature not recognized")
		}
		flags := binary.BigEndian.Uint32(b[len(binaryCopySignature):])
		if flags&(1<<16) != 0 {
			return nil, 0, newError(codeBadCopyFileFormat, "invalid COPY file header (WITH OIDS)")
		}
		if flags>>17 != 0 {
			return nil, 0, newError(codeBadCopyFileFormat, "unrecognized critical flags in COPY file header")
		}
		ext := int(int32(binary.BigEndian.Uint32(b[len(binaryCopySignature)+4:])))
		if ext < 0 || ext > maxCopyField {
			return nil, 0, newError(codeBadCopyFileFormat, "invalid COPY file header (extension of %d bytes)", ext)
		}
		hl := len(binaryCopySignature) + 8 + ext
		if len(b) < hl {
			return nil, 1, nil
		}
		r.buf = b[hl:]
		r.gotHdr = true
		return r.parseBinary()
	}
	if len(b) < 2 {
		return nil, 1, nil
	}
	n := int(int16(binary.BigEndian.Uint16(b)))
	if n == -1 {
		r.buf = b[2:]
		return nil, 0, nil
	}
	if n != len(r.cols) {
		return nil, 0, newError(codeBadCopyFileFormat, "row field count is %d, expected %d", n, len(r.cols))
	}
	// Check every length word already present before waiting for (or allocating) more.
	p := 2
	for i := 0; i < n; i++ {
		if len(b) < p+4 {
			return nil, 1, nil
		}
		l := int(int32(binary.BigEndian.Uint32(b[p:])))
		p += 4
		if l == -1 {
			continue
		}
		if l < 0 {
			return nil, 0, newError(codeBadCopyFileFormat, "invalid field size %d (COPY line %d, column %s)", l, r.line+1, r.cols[i].name)
		}
		if l > maxCopyField {
			return nil, 0, newError(codeProgramLimitExceeded, "field of %d bytes exceeds the maximum of %d (COPY line %d, column %s)", l, maxCopyField, r.line+1, r.cols[i].name)
		}
		if len(b) < p+l {
			return nil, 1, nil
		}
		p += l
	}
	p = 2
	fields = make([][]byte, n)
	for i := range fields {
		l := int(int32(binary.BigEndian.Uint32(b[p:])))
		p += 4
		if l < 0 {
			continue
		}
		fields[i] = b[p : p+l : p+l]
		p += l
	}
	r.buf = b[p:]
	r.line++
	return fields, 0, nil
}

// appendRow adds one row's fields to the batch builders.
func (r *copyInReader) appendRow(bld *array.RecordBuilder, fields [][]byte) *pgError {
	for i, col := range r.cols {
		f := fields[i]
		fb := bld.Field(i)
		if f == nil {
			fb.AppendNull()
			continue
		}
		bad := func(err error) *pgError {
			if pe, ok := err.(*pgError); ok {
				pe.Message = fmt.Sprintf("%s (COPY line %d, column %s)", pe.Message, r.line, col.name)
				return pe
			}
			return newError(codeInvalidTextRepr, "%v (COPY line %d, column %s)", err, r.line, col.name)
		}
		if r.cmd.format == copyBinary {
			v, err := decodeBinary(col.oid, f)
			if err != nil {
				return bad(err)
			}
			if err := appendGoValue(fb, v); err != nil {
				return bad(err)
			}
			continue
		}
		switch b := fb.(type) {
		case *array.BooleanBuilder:
			v, err := parseBool(string(f))
			if err != nil {
				return bad(err)
			}
			b.Append(v)
		case *array.BinaryBuilder:
			v, err := parseByteaText(string(f))
			if err != nil {
				return bad(err)
			}
			b.Append(v)
		case *array.ListBuilder:
			elems, err := parseArrayText(string(f))
			if err != nil {
				return bad(err)
			}
			appendStringList(b, elems)
		case *array.StringBuilder:
			b.BinaryBuilder.Append(f)
		}
	}
	return nil
}

func appendStringList(b *array.ListBuilder, elems []*string) {
	b.Append(true)
	vb := b.ValueBuilder().(*array.StringBuilder)
	for _, e := range elems {
		if e == nil {
			vb.AppendNull()
		} else {
			vb.Append(*e)
		}
	}
}

// appendGoValue adds a decoded binary parameter value to a builder of the column's COPY type.
func appendGoValue(fb array.Builder, v any) error {
	switch b := fb.(type) {
	case *array.BooleanBuilder:
		x, ok := v.(bool)
		if !ok {
			return fmt.Errorf("expected a boolean, got %T", v)
		}
		b.Append(x)
		return nil
	case *array.BinaryBuilder:
		x, ok := v.([]byte)
		if !ok {
			return fmt.Errorf("expected bytea, got %T", v)
		}
		b.Append(x)
		return nil
	case *array.ListBuilder:
		l, ok := v.(engine.ListArg)
		if !ok {
			return fmt.Errorf("expected an array, got %T", v)
		}
		elems := make([]*string, len(l.Values))
		for i, e := range l.Values {
			if e != nil {
				s := goValueText(e)
				elems[i] = &s
			}
		}
		appendStringList(b, elems)
		return nil
	case *array.StringBuilder:
		b.Append(goValueText(v))
		return nil
	}
	return errors.New("unsupported column type for binary COPY")
}

// goValueText renders a decoded binary value as text DuckDB casts from.
func goValueText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(appendByteaText(nil, x))
	case bool:
		return strconv.FormatBool(x)
	case int16:
		return strconv.FormatInt(int64(x), 10)
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case int64:
		return strconv.FormatInt(x, 10)
	case float32:
		return string(appendFloat(nil, float64(x), 32))
	case float64:
		return string(appendFloat(nil, x, 64))
	case time.Time:
		return x.UTC().Format("2006-01-02 15:04:05.999999-07:00")
	case engine.TypedValue:
		switch x.Type {
		case bindings.TypeDate:
			return x.Time.Format("2006-01-02")
		case bindings.TypeTimestamp:
			return x.Time.Format("2006-01-02 15:04:05.999999")
		case bindings.TypeTime:
			return string(appendClock(nil, x.Micros))
		case bindings.TypeInterval:
			return string(appendInterval(nil, x.Months, x.Days, x.Micros))
		}
		return x.Text
	}
	return fmt.Sprint(v)
}

func u16(f []int16) []uint16 {
	out := make([]uint16, len(f))
	for i, v := range f {
		out[i] = uint16(v)
	}
	return out
}
