package pgwire

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	bindings "github.com/duckdb/duckdb-go-bindings"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/ankaflow/ankaflow/engine"
)

// portal is a statement with bound parameters and, once executed, its (possibly suspended)
// result.
type portal struct {
	name    string
	stmt    *stmt
	args    []any   // decoded parameters
	formats []int16 // result format per column
	// Bind's result format codes, kept for a statement described only once it runs
	// (stmt.unresolved)
	resultFormats []int16

	started bool
	done    bool
	ctx     context.Context
	cancel  context.CancelCauseFunc
	rows    *engine.Rows        // streaming result, nil once drained or materialised
	pending []arrow.RecordBatch // remaining batches after materialize
	cur     arrow.RecordBatch   // batch being sent (retained)
	pos     int                 // next row of cur
	cols    []resultCol         // the result columns once started; nil for a command
	enc     *rowEncoder
	count   int64
	tag     string

	cursor   bool  // a SQL cursor (DECLARE): FETCH drives it, no PortalSuspended/CommandComplete
	hold     bool  // WITH HOLD: survives the end of its transaction
	lastSent int64 // rows sent by the last run (FETCH's count)
}

func (p *portal) close() {
	if p.cur != nil {
		p.cur.Release()
		p.cur = nil
	}
	for _, b := range p.pending {
		b.Release()
	}
	p.pending = nil
	if p.rows != nil {
		p.rows.Close()
		p.rows = nil
	}
	if p.cancel != nil {
		p.cancel(context.Canceled)
	}
	if st := p.stmt; st != nil && st.refs > 0 {
		st.refs--
		if st.dropped && st.refs == 0 {
			st.close()
		}
	}
	p.stmt = nil
}

// materialize reads the rest of a suspended portal's streaming result into memory, freeing the
// DuckDB connection for other statements.
func (p *portal) materialize() error {
	if p.rows == nil {
		return nil
	}
	for p.rows.Next() {
		b := p.rows.RecordBatch()
		b.Retain()
		p.pending = append(p.pending, b)
	}
	err := p.rows.Err()
	p.rows.Close()
	p.rows = nil
	return err
}

// nextBatch moves to the next batch of rows; false at the end of the result.
func (p *portal) nextBatch() (bool, error) {
	if p.cur != nil {
		p.cur.Release()
		p.cur = nil
	}
	p.pos = 0
	if len(p.pending) > 0 {
		p.cur = p.pending[0]
		p.pending = p.pending[1:]
		return true, nil
	}
	if p.rows == nil {
		return false, nil
	}
	if !p.rows.Next() {
		err := p.rows.Err()
		p.rows.Close()
		p.rows = nil
		return false, err
	}
	p.cur = p.rows.RecordBatch()
	p.cur.Retain()
	return true, nil
}

// runPortal executes (or resumes) a portal, sending up to maxRows rows (0 = all).
// simple is the simple-query protocol: it sends RowDescription itself.
func (c *conn) runPortal(p *portal, maxRows int64, simple bool) error {
	st := p.stmt
	defer func() {
		if p.done && changesCatalog(st) {
			c.catalogChanged()
		}
	}()
	p.lastSent = 0
	if p.done {
		switch {
		case p.cursor:
		case st.kind == kindEmpty:
			c.send(&pgproto3.EmptyQueryResponse{})
		default:
			c.send(&pgproto3.CommandComplete{CommandTag: []byte(p.tag)})
		}
		return nil
	}
	if !p.started {
		c.srv.log.Debug("pgwire: statement", "pid", c.pid, "portal", p.name, "sql", st.text, "txn", string(c.txn))
	}
	if !p.started && c.txn == txnFailed && !isTxnExit(st.text) {
		return newError(codeInFailedSQLTransaction, "current transaction is aborted, commands ignored until end of transaction block")
	}
	switch st.kind {
	case kindEmpty:
		p.done = true
		c.send(&pgproto3.EmptyQueryResponse{})
		return nil
	case kindGUC:
		return c.runGUCPortal(p, simple)
	case kindCopyStdio:
		return c.runCopy(p)
	case kindTxn:
		return c.runTxn(p)
	case kindCursor:
		if !simple {
			return newError(codeFeatureNotSupported, "DECLARE, FETCH and CLOSE of cursors are supported in the simple query protocol only")
		}
		return c.runCursorCmd(p)
	}
	if st.txn != txnNone {
		return c.runTxn(p)
	}

	stop, err := c.armPortal(p, !simple && c.next != 'S')
	if err != nil {
		return err
	}
	defer stop()
	if !p.started {
		// No Describe came first in the simple protocol: describe the result as DuckDB
		// produced it. So too for an unresolved statement executed without a Describe of the
		// portal (pgjdbc binds its named statements from the 6th execution on without one).
		if err := c.startPortal(p, simple || st.unresolved); err != nil {
			return err
		}
		if simple && p.cols != nil {
			c.send(rowDescription(p.cols, p.formats))
		}
	}
	if p.cols == nil {
		return c.finishCommand(p)
	}
	var sent int64
	for {
		if p.cur == nil || p.pos >= int(p.cur.NumRows()) {
			more, err := p.nextBatch()
			if err != nil {
				return c.causeOr(p, err)
			}
			if !more {
				break
			}
		}
		n := int(p.cur.NumRows()) - p.pos
		if maxRows > 0 && int64(n) > maxRows-sent {
			n = int(maxRows - sent)
		}
		c.out = p.enc.encode(c.out, p.cur, p.pos, p.pos+n)
		p.pos += n
		p.count += int64(n)
		sent += int64(n)
		if len(c.out) >= flushThreshold {
			if err := c.flush(); err != nil {
				return errClientGone
			}
		}
		if maxRows > 0 && sent >= maxRows {
			p.lastSent = sent
			if !p.cursor {
				c.send(&pgproto3.PortalSuspended{})
			}
			return nil
		}
	}
	p.lastSent = sent
	p.done = true
	if p.cursor {
		return nil
	}
	p.tag = commandTag(st, p.count, true)
	c.send(&pgproto3.CommandComplete{CommandTag: []byte(p.tag)})
	return nil
}

// armPortal gets a DuckDB portal ready to run: the first time, it binds the parameters (after
// reading any other suspended portal into memory and, when more of an extended-protocol batch
// follows, opening the implicit transaction block) and creates the context that CancelRequest
// and statement_timeout cancel; every time, it makes the portal the session's running
// statement. The caller defers the returned function.
func (c *conn) armPortal(p *portal, moreInBatch bool) (func(), error) {
	if p.ctx == nil {
		c.statements++
		if err := c.quiesce(p); err != nil {
			return nil, err
		}
		if err := c.beginImplicit(moreInBatch, p.stmt); err != nil {
			return nil, err
		}
		if err := bindArgs(p.stmt.duck, p.args); err != nil {
			return nil, err
		}
		if c.restricted() {
			// Again at each run: the parameters' values, and the catalog (a view) may have
			// changed since Parse.
			if st := p.stmt; st.checked {
				st.checked = false
			} else if pe := c.checkStmt(c.ctx, st.sql, st.stype, p.args, false); pe != nil {
				return nil, pe
			}
		}
		p.ctx, p.cancel = context.WithCancelCause(c.ctx)
	}
	c.setRunning(p.cancel)
	var t *time.Timer
	if c.stmtTimeout > 0 {
		t = time.AfterFunc(c.stmtTimeout, func() { p.cancel(errStatementTimeout) })
	}
	return func() {
		if t != nil {
			t.Stop()
		}
		c.setRunning(nil)
	}, nil
}

// startPortal starts an armed portal's DuckDB statement and sets up its row encoder. With
// fromResult the columns are described from DuckDB's result instead of the prepared statement:
// in the simple protocol, and for a portal (described or executed) whose statement DuckDB could
// only describe once its parameters were bound (stmt.unresolved).
func (c *conn) startPortal(p *portal, fromResult bool) error {
	st := p.stmt
	p.started = true
	rows, err := st.duck.Query(p.ctx)
	if err != nil {
		return c.causeOr(p, err)
	}
	p.rows = rows
	p.cols = st.cols
	if fromResult && p.cols != nil {
		actual := rows.Columns()
		p.cols = make([]resultCol, len(actual))
		for i, col := range actual {
			p.cols[i] = resultCol{name: col.Name, typ: pgTypeFor(col.Type)}
			if len(st.cols) == len(actual) { // the table columns they are
				p.cols[i].tableOID, p.cols[i].attnum = st.cols[i].tableOID, st.cols[i].attnum
			}
		}
		if st.unresolved {
			if !returnsRows(st.stype, actual) {
				p.cols = nil
			}
			if n := len(p.resultFormats); n > 1 && n != len(p.cols) {
				return newError(codeProtocolViolation, "bind message has %d result formats but query has %d columns", n, len(p.cols))
			}
			p.formats = expandFormats(p.resultFormats, len(p.cols))
		}
	}
	if p.cols == nil {
		return nil
	}
	enc, err := c.encoderFor(p.cols, rows, p.formats)
	if err != nil {
		return err
	}
	p.enc = enc
	return nil
}

// describePortal answers Describe for a portal.
func (c *conn) describePortal(p *portal) error {
	st := p.stmt
	if st.unresolved && !p.started {
		// DuckDB tells the result columns only once the parameters are bound (PostgreSQL
		// plans a portal at Bind): start the statement now; Execute streams its rows.
		c.srv.log.Debug("pgwire: statement", "pid", c.pid, "portal", p.name, "sql", st.text, "txn", string(c.txn))
		stop, err := c.armPortal(p, true) // Execute follows
		if err != nil {
			return err
		}
		err = c.startPortal(p, true)
		stop()
		if err != nil {
			return err
		}
	}
	cols := st.cols
	if p.started {
		cols = p.cols
	}
	if cols == nil {
		c.send(&pgproto3.NoData{})
	} else {
		c.send(rowDescription(cols, p.formats))
	}
	return nil
}

// causeOr turns a statement failure into the reason it was cancelled, if it was.
func (c *conn) causeOr(p *portal, err error) error {
	if p.ctx != nil {
		if cause := context.Cause(p.ctx); cause != nil {
			switch {
			case errors.Is(cause, errUserCancel), errors.Is(cause, errStatementTimeout), errors.Is(cause, errShutdown), errors.Is(cause, errClientGone):
				return cause
			}
		}
	}
	return err
}

// encoderFor builds the row encoder for a result whose columns were described as cols. A
// column whose type changed since it was described (a table altered between Parse and
// Execute) fails as in PostgreSQL, unless it was described as text.
func (c *conn) encoderFor(cols []resultCol, rows *engine.Rows, formats []int16) (*rowEncoder, error) {
	actual := rows.Columns()
	fields := rows.Schema().Fields()
	changed := newError(codeCachedPlanChangedResults, "cached plan must not change result type")
	if len(actual) != len(cols) {
		return nil, changed
	}
	types := make([]pgColType, len(cols))
	for i, col := range cols {
		a := pgTypeFor(actual[i].Type)
		if a.oid != col.typ.oid && col.typ.oid != oidText && col.typ.oid != oidVarchar {
			return nil, changed
		}
		types[i] = col.typ
		if a.oid == col.typ.oid {
			types[i] = a
		}
	}
	enc, err := newRowEncoder(fields, types, expandFormats(formats, len(cols)), encodeOpts{tz: c.tz})
	if err != nil {
		return nil, newError(codeFeatureNotSupported, "%v", err)
	}
	return enc, nil
}

func expandFormats(f []int16, n int) []int16 {
	out := make([]int16, n)
	switch len(f) {
	case 0:
	case 1:
		for i := range out {
			out[i] = f[0]
		}
	default:
		copy(out, f)
	}
	return out
}

// finishCommand completes a statement that returns no rows: it reads DuckDB's count row (rows
// inserted, updated, copied…) for the command tag.
func (c *conn) finishCommand(p *portal) error {
	var n int64
	var haveRow bool
	for {
		more, err := p.nextBatch()
		if err != nil {
			return c.causeOr(p, err)
		}
		if !more {
			break
		}
		if !haveRow && p.cur.NumRows() > 0 && p.cur.NumCols() > 0 {
			if a, ok := p.cur.Column(0).(*array.Int64); ok && a.IsValid(0) {
				n = a.Value(0)
				haveRow = true
			}
		}
	}
	p.done = true
	st := p.stmt
	if st.stype == bindings.StatementTypeCreate && haveRow {
		p.tag = "SELECT " + strconv.FormatInt(n, 10) // CREATE TABLE … AS, as PostgreSQL tags it
	} else {
		p.tag = commandTag(st, n, false)
	}
	c.send(&pgproto3.CommandComplete{CommandTag: []byte(p.tag)})
	return nil
}

func rowDescription(cols []resultCol, formats []int16) *pgproto3.RowDescription {
	f := expandFormats(formats, len(cols))
	rd := &pgproto3.RowDescription{Fields: make([]pgproto3.FieldDescription, len(cols))}
	for i, col := range cols {
		rd.Fields[i] = pgproto3.FieldDescription{
			Name:                 []byte(col.name),
			TableOID:             col.tableOID,
			TableAttributeNumber: uint16(col.attnum),
			DataTypeOID:          col.typ.oid,
			DataTypeSize:         col.typ.size,
			TypeModifier:         col.typ.mod,
			Format:               f[i],
		}
	}
	return rd
}

// bindArgs binds decoded parameters to the DuckDB statement.
func bindArgs(p *engine.Prepared, args []any) error {
	if p.NumParams() != len(args) {
		return newError(codeProtocolViolation, "bind message supplies %d parameters, but prepared statement requires %d", len(args), p.NumParams())
	}
	scalars := args
	var lists map[int]engine.ListArg
	for i, a := range args {
		if l, ok := a.(engine.ListArg); ok {
			if lists == nil {
				lists = map[int]engine.ListArg{}
				scalars = append([]any(nil), args...)
			}
			lists[i] = l
			scalars[i] = nil
		}
	}
	if err := p.Bind(scalars); err != nil {
		return newError(codeInvalidParameterValue, "%v", err)
	}
	for i, l := range lists {
		if err := p.BindList(i, l); err != nil {
			return newError(codeInvalidParameterValue, "%v", err)
		}
	}
	return nil
}

// runGUCPortal executes an intercepted SET/RESET/SHOW.
func (c *conn) runGUCPortal(p *portal, simple bool) error {
	c.statements++
	tag, show, pe := c.runGUC(p.stmt.guc)
	if pe != nil {
		return pe
	}
	if show != nil {
		if simple {
			c.send(rowDescription(p.stmt.cols, p.formats))
		}
		c.send(&pgproto3.DataRow{Values: [][]byte{[]byte(*show)}})
		tag = "SHOW"
	}
	p.done, p.tag = true, tag
	c.send(&pgproto3.CommandComplete{CommandTag: []byte(tag)})
	return nil
}

// runTxn executes BEGIN/COMMIT/ROLLBACK with PostgreSQL's semantics on top of DuckDB's
// transactions: BEGIN inside a block and COMMIT/ROLLBACK outside one only warn; COMMIT of a
// failed transaction rolls back.
func (c *conn) runTxn(p *portal) error {
	c.statements++
	st := p.stmt
	p.done = true
	tag := "BEGIN"
	if firstWord(st.text) == "START" {
		tag = "START TRANSACTION"
	}
	exec := func(sql string) error {
		if err := c.quiesce(p); err != nil {
			return err
		}
		_, err := c.sess.Exec(c.ctx, sql)
		return err
	}
	switch st.txn {
	case txnOpBegin:
		switch c.txn {
		case txnIdle:
			// Inside an implicit block, BEGIN makes it explicit: the statements before it in
			// the Query or batch become part of the transaction, as in PostgreSQL.
			if !c.implicit {
				if err := exec("BEGIN TRANSACTION"); err != nil {
					return err
				}
			}
			c.implicit = false
			c.txn = txnBlock
		case txnBlock:
			c.sendNotice(&pgError{Severity: "WARNING", Code: codeActiveSQLTransaction, Message: "there is already a transaction in progress"})
		case txnFailed:
			return newError(codeInFailedSQLTransaction, "current transaction is aborted, commands ignored until end of transaction block")
		}
	case txnOpCommit, txnOpRollback:
		tag = "COMMIT"
		if st.txn == txnOpRollback || c.txn == txnFailed {
			tag = "ROLLBACK"
		}
		switch c.txn {
		case txnIdle:
			// Also inside an implicit block, which COMMIT / ROLLBACK end as PostgreSQL does.
			c.sendNotice(&pgError{Severity: "WARNING", Code: codeNoActiveSQLTransaction, Message: "there is no transaction in progress"})
			if c.implicit {
				if err := c.quiesce(p); err != nil {
					return err
				}
				c.closePortals(p)
				if err := c.endImplicit(st.txn == txnOpCommit); err != nil {
					return err
				}
			}
		default:
			sql := "COMMIT"
			if tag == "ROLLBACK" {
				sql = "ROLLBACK"
			}
			err := exec(sql)
			c.closePortals(p)
			c.txn = txnIdle
			if err != nil {
				if sql == "COMMIT" {
					c.sess.Exec(c.ctx, "ROLLBACK") // make sure DuckDB is out of the transaction
				}
				return err
			}
		}
	}
	p.tag = tag
	c.send(&pgproto3.CommandComplete{CommandTag: []byte(tag)})
	return nil
}

// writesData: statements that change the database (data or catalog) and so must roll back
// with their implicit block.
func writesData(t bindings.StatementType) bool {
	switch t {
	case bindings.StatementTypeInsert, bindings.StatementTypeUpdate, bindings.StatementTypeDelete,
		bindings.StatementTypeMergeInto, bindings.StatementTypeCopy, bindings.StatementTypeCopyDatabase,
		bindings.StatementTypeCreate, bindings.StatementTypeCreateFunc, bindings.StatementTypeDrop,
		bindings.StatementTypeAlter, bindings.StatementTypeExecute, bindings.StatementTypeMulti:
		return true
	}
	return false
}

// commandTag is the CommandComplete tag for a statement, from DuckDB's statement type. The
// statement text only refines the object kind of CREATE/DROP/ALTER (TABLE, VIEW…).
func commandTag(st *stmt, n int64, rows bool) string {
	count := strconv.FormatInt(n, 10)
	switch st.stype {
	case bindings.StatementTypeSelect, bindings.StatementTypeRelation, bindings.StatementTypeLogicalPlan:
		return "SELECT " + count
	case bindings.StatementTypeInsert:
		return "INSERT 0 " + count
	case bindings.StatementTypeUpdate:
		return "UPDATE " + count
	case bindings.StatementTypeDelete:
		return "DELETE " + count
	case bindings.StatementTypeMergeInto:
		return "MERGE " + count
	case bindings.StatementTypeCopy:
		return "COPY " + count
	case bindings.StatementTypeCreate:
		return "CREATE" + objectKind(st.text, 1)
	case bindings.StatementTypeCreateFunc:
		return "CREATE FUNCTION"
	case bindings.StatementTypeDrop:
		if w := leadingWords(st.text, 2); len(w) > 0 && w[0] == "DEALLOCATE" {
			return "DEALLOCATE"
		}
		return "DROP" + objectKind(st.text, 1)
	case bindings.StatementTypeAlter:
		return "ALTER" + objectKind(st.text, 1)
	case bindings.StatementTypeSet, bindings.StatementTypeVariableSet:
		if firstWord(st.text) == "RESET" {
			return "RESET"
		}
		return "SET"
	case bindings.StatementTypeExplain:
		return "EXPLAIN"
	case bindings.StatementTypePrepare:
		return "PREPARE"
	case bindings.StatementTypeExecute, bindings.StatementTypePragma, bindings.StatementTypeCall:
		if rows {
			return "SELECT " + count
		}
		switch st.stype {
		case bindings.StatementTypeExecute:
			return "EXECUTE"
		case bindings.StatementTypeCall:
			return "CALL"
		}
		return "PRAGMA"
	case bindings.StatementTypeAnalyze:
		return "ANALYZE"
	case bindings.StatementTypeVacuum:
		return "VACUUM"
	case bindings.StatementTypeLoad:
		return "LOAD"
	case bindings.StatementTypeAttach:
		return "ATTACH"
	case bindings.StatementTypeDetach:
		return "DETACH"
	case bindings.StatementTypeExport:
		return "EXPORT"
	case bindings.StatementTypeCopyDatabase:
		return "COPY DATABASE"
	case bindings.StatementTypeUpdateExtensions:
		return "UPDATE EXTENSIONS"
	}
	if rows {
		return "SELECT " + count
	}
	if w := firstWord(st.text); w != "" {
		return w
	}
	return "OK"
}

// objectKind reads the object type after CREATE/DROP/ALTER (skipping OR REPLACE, TEMP,
// UNIQUE, IF [NOT] EXISTS…): " TABLE", " VIEW", " MACRO"… or "" when unknown.
func objectKind(text string, skip int) string {
	words := leadingWords(text, 8)
	if len(words) <= skip {
		return ""
	}
	for _, w := range words[skip:] {
		switch w {
		case "OR", "REPLACE", "TEMP", "TEMPORARY", "UNIQUE", "PERSISTENT", "GLOBAL", "LOCAL", "UNLOGGED":
			continue
		case "TABLE", "VIEW", "SCHEMA", "SEQUENCE", "INDEX", "MACRO", "FUNCTION", "TYPE", "SECRET", "DATABASE":
			return " " + w
		}
		return ""
	}
	return ""
}
