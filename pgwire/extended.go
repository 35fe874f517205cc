package pgwire

import (
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/ankaflow/ankaflow/engine"
)

// The extended query protocol: Parse, Bind, Describe, Execute, Close (Sync and Flush are in
// conn.dispatch). An error makes the connection skip to the next Sync.

func (c *conn) parse(m *pgproto3.Parse) error {
	if m.Name != "" {
		if _, exists := c.stmts[m.Name]; exists {
			return newError(codeDuplicatePreparedStmt, "prepared statement %q already exists", m.Name)
		}
	}
	text := rewriteLiterals(m.Query)
	if c.txn == txnFailed && !blankSQL(text) && !isTxnExit(text) {
		return newError(codeInFailedSQLTransaction, "current transaction is aborted, commands ignored until end of transaction block")
	}
	var st *stmt
	if blankSQL(text) {
		st = &stmt{text: text, kind: kindEmpty}
	} else {
		var err error
		st, err = c.parseOne(text, m.ParameterOIDs)
		if err != nil {
			return err
		}
	}
	st.name = m.Name
	if old := c.stmts[m.Name]; old != nil { // the unnamed statement is replaced
		c.dropStmt(m.Name)
	}
	c.stmts[m.Name] = st
	c.send(&pgproto3.ParseComplete{})
	return nil
}

// parseOne prepares a single statement for Parse. Several statements in one Parse are an error,
// as in PostgreSQL; DuckDB's parser does the splitting.
func (c *conn) parseOne(text string, declared []uint32) (*stmt, error) {
	if kind, _ := interceptKind(text); kind != kindDuck {
		return c.newStmt(c.ctx, text, nil, declared)
	}
	if err := c.quiesce(nil); err != nil {
		return nil, err
	}
	if c.restricted() {
		if pe := c.precheckScript(text); pe != nil {
			return nil, pe
		}
	}
	ext, err := c.sess.ExtractStatements(c.ctx, text)
	if err != nil {
		if isBeginWithModes(text) || parseGUCStatement(text) != nil {
			return c.newStmt(c.ctx, text, func() (*engine.Prepared, error) { return nil, err }, declared)
		}
		return nil, c.toPGError(err, text, sqlPiece{text: text})
	}
	defer ext.Close()
	switch ext.Len() {
	case 0:
		return &stmt{text: text, kind: kindEmpty}, nil
	case 1:
	default:
		return nil, newError(codeSyntaxError, "cannot insert multiple commands into a prepared statement")
	}
	st, err := c.newStmt(c.ctx, text, func() (*engine.Prepared, error) {
		p, err := ext.Prepare(c.ctx, 0)
		if err != nil {
			// Prepared from the text, DuckDB's message carries the LINE/caret context.
			return c.sess.Prepare(c.ctx, text)
		}
		return p, nil
	}, declared)
	if err != nil {
		return nil, c.toPGError(err, text, sqlPiece{text: text})
	}
	return st, nil
}

func (c *conn) dropStmt(name string) {
	if st := c.stmts[name]; st != nil {
		delete(c.stmts, name)
		st.release()
	}
}

func (c *conn) bind(m *pgproto3.Bind) error {
	st := c.stmts[m.PreparedStatement]
	if st == nil {
		return newError(codeInvalidSQLStatementName, "prepared statement %q does not exist", m.PreparedStatement)
	}
	if c.txn == txnFailed && !isTxnExit(st.text) {
		return newError(codeInFailedSQLTransaction, "current transaction is aborted, commands ignored until end of transaction block")
	}
	nparams := len(st.paramOIDs)
	if len(m.Parameters) != nparams {
		return newError(codeProtocolViolation, "bind message supplies %d parameters, but prepared statement %q requires %d", len(m.Parameters), m.PreparedStatement, nparams)
	}
	pf := m.ParameterFormatCodes
	if len(pf) != 0 && len(pf) != 1 && len(pf) != nparams {
		return newError(codeProtocolViolation, "bind message has %d parameter formats but %d parameters", len(pf), nparams)
	}
	for _, f := range pf {
		if f != 0 && f != 1 {
			return newError(codeProtocolViolation, "unsupported format code: %d", f)
		}
	}
	pformats := expandFormats(pf, nparams)
	args := make([]any, nparams)
	for i, raw := range m.Parameters {
		var duckType engine.TypeInfo
		if i < len(st.paramTypes) {
			duckType = st.paramTypes[i]
		}
		v, err := decodeParam(st.paramOIDs[i], pformats[i], raw, duckType)
		if err != nil {
			if pe, ok := err.(*pgError); ok {
				pe.Message = "parameter $" + itoa(i+1) + ": " + pe.Message
				return pe
			}
			return newError(codeInvalidParameterValue, "parameter $%d: %v", i+1, err)
		}
		args[i] = v
	}
	ncols := len(st.cols)
	rf := m.ResultFormatCodes
	if len(rf) != 0 && len(rf) != 1 && len(rf) != ncols && !st.unresolved {
		return newError(codeProtocolViolation, "bind message has %d result formats but query has %d columns", len(rf), ncols)
	}
	for _, f := range rf {
		if f != 0 && f != 1 {
			return newError(codeProtocolViolation, "unsupported format code: %d", f)
		}
	}
	if m.DestinationPortal != "" {
		if _, exists := c.portals[m.DestinationPortal]; exists {
			return newError("42P03", "cursor %q already exists", m.DestinationPortal)
		}
	} else if old := c.portals[""]; old != nil {
		old.close()
		delete(c.portals, "")
	}
	st.refs++
	c.portals[m.DestinationPortal] = &portal{
		name:    m.DestinationPortal,
		stmt:    st,
		args:    args,
		formats: expandFormats(rf, ncols),
	}
	if st.unresolved {
		c.portals[m.DestinationPortal].resultFormats = append([]int16(nil), rf...)
	}
	c.send(&pgproto3.BindComplete{})
	return nil
}

func (c *conn) describe(m *pgproto3.Describe) error {
	switch m.ObjectType {
	case 'S':
		st := c.stmts[m.Name]
		if st == nil {
			return newError(codeInvalidSQLStatementName, "prepared statement %q does not exist", m.Name)
		}
		c.send(&pgproto3.ParameterDescription{ParameterOIDs: st.paramOIDs})
		if st.cols == nil {
			c.send(&pgproto3.NoData{})
		} else {
			c.send(rowDescription(st.cols, nil))
		}
	case 'P':
		p := c.portals[m.Name]
		if p == nil {
			return newError(codeInvalidCursorName, "portal %q does not exist", m.Name)
		}
		if err := c.describePortal(p); err != nil {
			// A portal that failed to start cannot be executed.
			p.close()
			delete(c.portals, m.Name)
			return err
		}
	default:
		return newError(codeProtocolViolation, "invalid DESCRIBE message subtype %d", m.ObjectType)
	}
	return nil
}

func (c *conn) execute(m *pgproto3.Execute) error {
	p := c.portals[m.Portal]
	if p == nil {
		return newError(codeInvalidCursorName, "portal %q does not exist", m.Portal)
	}
	err := c.runPortal(p, int64(m.MaxRows), false)
	if err != nil {
		// A failed portal cannot be resumed.
		p.close()
		delete(c.portals, m.Portal)
	}
	return err
}

func (c *conn) closeMsg(m *pgproto3.Close) error {
	switch m.ObjectType {
	case 'S':
		c.dropStmt(m.Name)
	case 'P':
		if p := c.portals[m.Name]; p != nil {
			p.close()
			delete(c.portals, m.Name)
		}
	default:
		return newError(codeProtocolViolation, "invalid CLOSE message subtype %d", m.ObjectType)
	}
	c.send(&pgproto3.CloseComplete{})
	return nil
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}
