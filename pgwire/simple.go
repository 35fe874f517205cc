package pgwire

import (
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/ankaflow/ankaflow/engine"
)

// simpleUnit is one statement of a simple Query: its text (when known) and how to prepare it.
type simpleUnit struct {
	piece   sqlPiece
	prepare func() (*engine.Prepared, error)
}

// simpleQuery runs a Query message: one or more statements, each with its own results and
// CommandComplete; the first error stops the rest. Outside an explicit transaction block the
// statements form an implicit one: they commit together at the end, and an error rolls back the
// ones before it (unless a COMMIT among them ended the block earlier).
func (c *conn) simpleQuery(q string) {
	c.snap.simple = true
	defer func() { c.snap.simple = false }()
	// A simple Query destroys the unnamed statement and portal.
	c.dropStmt("")
	if p := c.portals[""]; p != nil {
		p.close()
		delete(c.portals, "")
	}
	q = rewriteLiterals(q)
	var pe *pgError
	if c.restricted() {
		pe = c.precheckScript(q)
	}
	units, cleanup := []simpleUnit(nil), func() {}
	if pe == nil {
		units, cleanup, pe = c.splitQuery(q)
	}
	defer cleanup()
	if pe != nil {
		c.sendError(pe)
		if c.txn == txnBlock {
			c.txn = txnFailed
		}
		return
	}
	if len(units) == 0 {
		c.send(&pgproto3.EmptyQueryResponse{})
		return
	}
	for i, u := range units {
		if c.txn == txnFailed && !isTxnExit(u.piece.text) {
			c.sendError(newError(codeInFailedSQLTransaction, "current transaction is aborted, commands ignored until end of transaction block"))
			return
		}
		st, err := c.newStmt(c.ctx, u.piece.text, u.prepare, nil)
		if err == nil {
			if err = c.beginImplicit(i < len(units)-1, st); err == nil {
				st.refs++
				p := &portal{stmt: st}
				if st.cols != nil {
					p.formats = make([]int16, len(st.cols))
				}
				err = c.runPortal(p, 0, true)
				p.close()
			}
			st.release()
		}
		if err != nil {
			c.reportSimpleError(err, q, u.piece)
			return
		}
		if c.writeErr != nil {
			c.endReason = "client connection lost"
			return
		}
	}
	if err := c.endImplicit(true); err != nil {
		c.reportSimpleError(err, q, sqlPiece{})
	}
}

// reportSimpleError sends a statement's error; false when the connection must end.
func (c *conn) reportSimpleError(err error, q string, piece sqlPiece) bool {
	if c.writeErr != nil {
		c.endReason = "client connection lost"
		return false
	}
	pe := c.toPGError(err, q, piece)
	c.sendError(pe)
	if pe.Severity == "FATAL" {
		c.endReason = pe.Message
		return false
	}
	if c.txn == txnBlock {
		c.txn = txnFailed
	}
	c.abortImplicit()
	return true
}

// splitQuery turns a Query string into statements. DuckDB's parser splits it
// (ExtractStatements); the texts of the statements come from splitStatements and are used only
// when it finds the same number of statements. If DuckDB cannot parse the string because of
// PostgreSQL-only statements the server handles itself (SET TRANSACTION …, BEGIN ISOLATION
// LEVEL …), each piece is checked on its own; any other parse error is reported before
// anything runs, as in PostgreSQL. The returned cleanup releases the parsed statements.
func (c *conn) splitQuery(q string) ([]simpleUnit, func(), *pgError) {
	noop := func() {}
	if err := c.quiesce(nil); err != nil {
		return nil, noop, c.toPGError(err, q, sqlPiece{})
	}
	ext, err := c.sess.ExtractStatements(c.ctx, q)
	pieces := splitStatements(q)
	if err == nil {
		n := ext.Len()
		if n == 0 {
			ext.Close()
			return nil, noop, nil
		}
		if len(pieces) != n {
			c.srv.log.Debug("pgwire: statement texts unknown: split mismatch", "duckdb", n, "split", len(pieces))
			pieces = make([]sqlPiece, n)
		}
		units := make([]simpleUnit, n)
		for i := range units {
			text := pieces[i].text
			units[i] = simpleUnit{piece: pieces[i], prepare: func() (*engine.Prepared, error) {
				p, err := ext.Prepare(c.ctx, i)
				if err != nil && text != "" {
					// Prepared alone, DuckDB's message carries the LINE/caret context.
					return c.sess.Prepare(c.ctx, text)
				}
				return p, err
			}}
		}
		return units, ext.Close, nil
	}
	// DuckDB could not parse the string.
	origErr := convertError(err, q, sqlPiece{})
	var units []simpleUnit
	var exts []*engine.Statements
	cleanup := func() {
		for _, e := range exts {
			e.Close()
		}
	}
	for _, pc := range pieces {
		if kind, _ := interceptKind(pc.text); kind != kindDuck || isBeginWithModes(pc.text) {
			units = append(units, simpleUnit{piece: pc, prepare: func() (*engine.Prepared, error) {
				return nil, newError(codeSyntaxError, "statement cannot be prepared")
			}})
			continue
		}
		e, err := c.sess.ExtractStatements(c.ctx, pc.text)
		if err != nil {
			cleanup()
			return nil, noop, convertError(err, q, pc)
		}
		exts = append(exts, e)
		if e.Len() != 1 {
			cleanup()
			return nil, noop, origErr
		}
		units = append(units, simpleUnit{piece: pc, prepare: func() (*engine.Prepared, error) {
			return e.Prepare(c.ctx, 0)
		}})
	}
	return units, cleanup, nil
}
