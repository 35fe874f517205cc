package pgwire

import (
	"context"
	"strings"

	bindings "github.com/duckdb/duckdb-go-bindings"

	"github.com/ankaflow/ankaflow/engine"
	"github.com/ankaflow/ankaflow/pgwire/rewrite"
)

type stmtKind int

const (
	kindEmpty     stmtKind = iota // no statement: EmptyQueryResponse
	kindDuck                      // a DuckDB prepared statement
	kindGUC                       // SET/RESET/SHOW of a parameter the server emulates
	kindTxn                       // BEGIN/START TRANSACTION with modes DuckDB cannot parse
	kindCopyStdio                 // COPY … FROM STDIN / TO STDOUT
	kindCursor                    // DECLARE … CURSOR, FETCH, CLOSE (SQL-level cursors)
)

type txnOp int

const (
	txnNone txnOp = iota
	txnOpBegin
	txnOpCommit
	txnOpRollback
)

// stmt is a prepared statement: named or unnamed in the extended protocol, or one statement of
// a simple Query.
type stmt struct {
	name  string
	text  string // the statement's SQL ("" when unknown)
	kind  stmtKind
	duck  *engine.Prepared
	stype engine.StatementType
	txn   txnOp
	guc   *gucCmd

	// the gate (policy.go) of a restricted session: the SQL DuckDB prepared, and whether it
	// was checked and not yet run since (so its first run needs no second check)
	sql     string
	checked bool

	refs    int  // portals using the statement
	dropped bool // closed or replaced by the client; released when the last portal closes

	paramOIDs  []uint32          // as announced in ParameterDescription (declared ones win)
	paramTypes []engine.TypeInfo // DuckDB's inferred types
	cols       []resultCol       // result columns; nil when the statement returns no rows
	// DuckDB describes the result only once the parameters are bound (a table function with
	// a parameter argument, tap($1)): cols is its placeholder, and Describe of a portal starts
	// the statement to describe it
	unresolved bool
}

type resultCol struct {
	name string
	typ  pgColType
	// the table column it is (PostgreSQL's RowDescription fields), 0 for computed columns
	tableOID uint32
	attnum   int16
}

// release drops the client's handle on the statement; the DuckDB statement goes once no portal
// uses it (PostgreSQL portals outlive the statement they were bound from).
func (st *stmt) release() {
	st.dropped = true
	if st.refs == 0 {
		st.close()
	}
}

func (st *stmt) close() {
	if st.duck != nil {
		st.duck.Close()
		st.duck = nil
	}
}

// returnsRows reports whether st produces a result set (RowDescription + DataRows) rather than
// just a command tag. DuckDB reports a row count (a "Count" column) for INSERT/UPDATE/DELETE
// and a "Success" column for statements without a result.
func returnsRows(t engine.StatementType, cols []engine.Column) bool {
	isCount := len(cols) == 1 && cols[0].Name == "Count" && cols[0].Type.ID == bindings.TypeBigInt
	isSuccess := len(cols) == 1 && cols[0].Name == "Success" && cols[0].Type.ID == bindings.TypeBoolean
	switch t {
	case bindings.StatementTypeSelect, bindings.StatementTypeExplain, bindings.StatementTypeRelation,
		bindings.StatementTypeLogicalPlan:
		return len(cols) > 0
	case bindings.StatementTypePragma, bindings.StatementTypeCall, bindings.StatementTypeExecute,
		bindings.StatementTypeInsert, bindings.StatementTypeUpdate, bindings.StatementTypeDelete,
		bindings.StatementTypeMergeInto:
		return len(cols) > 0 && !isCount && !isSuccess
	}
	return false
}

// txnOpOf classifies a transaction statement by its first keyword (DuckDB only says
// "TRANSACTION").
func txnOpOf(text string) txnOp {
	switch firstWord(text) {
	case "BEGIN", "START":
		return txnOpBegin
	case "COMMIT", "END":
		return txnOpCommit
	case "ROLLBACK", "ABORT":
		return txnOpRollback
	}
	return txnNone
}

// isTxnExit reports whether a statement may run in a failed transaction (COMMIT or ROLLBACK).
func isTxnExit(text string) bool {
	switch txnOpOf(text) {
	case txnOpCommit, txnOpRollback:
		return !strings.EqualFold(strings.Join(leadingWords(text, 2), " "), "ROLLBACK TO") // savepoints are not supported
	}
	return false
}

// isCopyStdio reports whether a COPY statement reads from STDIN or writes to STDOUT — the
// client's side of the connection, which DuckDB would take for the server's own stdin/stdout.
func isCopyStdio(text string) bool {
	if firstWord(text) != "COPY" {
		return false
	}
	depth := 0
	toks := tokenize(text)
	for i, t := range toks {
		switch {
		case t.kind == tokPunct && t.text == "(":
			depth++
		case t.kind == tokPunct && t.text == ")":
			depth--
		case depth == 0 && t.kind == tokWord && (t.upper == "STDIN" || t.upper == "STDOUT") && i > 0 &&
			(toks[i-1].upper == "FROM" || toks[i-1].upper == "TO"):
			return true
		}
	}
	return false
}

// interceptKind says whether the server handles a statement's text itself, before DuckDB.
func interceptKind(text string) (stmtKind, *gucCmd) {
	if text == "" {
		return kindDuck, nil
	}
	if cmd := parseGUCStatement(text); interceptsGUC(cmd) {
		return kindGUC, cmd
	}
	if isCopyStdio(text) {
		return kindCopyStdio, nil
	}
	if parseCursorCmd(text) != nil {
		return kindCursor, nil
	}
	return kindDuck, nil
}

// newStmt builds a statement from its text and, for DuckDB statements, a prepare function.
// declared are the parameter OIDs from Parse (0 = let DuckDB infer).
func (c *conn) newStmt(ctx context.Context, text string, prepare func() (*engine.Prepared, error), declared []uint32) (*stmt, error) {
	st := &stmt{text: text, kind: kindDuck}
	if kind, cmd := interceptKind(text); kind != kindDuck {
		st.kind, st.guc = kind, cmd
		if cmd != nil && cmd.kind == gucShow {
			g := lookupGUC(cmd.name)
			st.cols = []resultCol{{name: g.name, typ: pgTypeFor(engine.TypeInfo{ID: bindings.TypeVarchar})}}
		}
		st.paramOIDs = declared
		return st, nil
	}
	if err := c.quiesce(nil); err != nil {
		return nil, err
	}
	if c.restricted() {
		if text == "" {
			return nil, c.deny("this statement", "cannot be checked without its text: send it as a query of its own")
		}
		if pe := c.precheck(text); pe != nil {
			return nil, pe
		}
	}
	var src *rewrite.Source // the table the result columns come from
	prepared := text        // the SQL DuckDB prepares, which the gate checks (policy.go)
	if text != "" {
		if q, pe := c.showStatement(ctx, text); pe != nil {
			return nil, pe
		} else if q != "" {
			prepare = func() (*engine.Prepared, error) { prepared = q; return c.sess.Prepare(ctx, q) }
		} else if rw, from := c.pgRewrite(ctx, text); rw != text || from != nil {
			src = from
			orig := prepare
			prepare = func() (*engine.Prepared, error) {
				if rw == text {
					return orig()
				}
				p, err := c.sess.Prepare(ctx, rw)
				if err != nil {
					c.srv.log.Debug("pgwire: rewritten statement fails", "sql", rw, "err", err)
					// The error of the statement as the client wrote it: its positions are
					// the client's.
					return orig()
				}
				prepared = rw
				return p, nil
			}
		}
	}
	p, err := prepare()
	if err != nil {
		// PostgreSQL-only transaction modes (BEGIN ISOLATION LEVEL …): DuckDB cannot parse
		// them; DuckDB transactions are snapshot isolated whatever is asked.
		if isBeginWithModes(text) {
			st.kind, st.txn = kindTxn, txnOpBegin
			return st, nil
		}
		// SHOW of a DuckDB setting (DuckDB's own SHOW describes tables).
		if cmd := parseGUCStatement(text); cmd != nil && cmd.kind == gucShow && cmd.name != "" {
			q := "SELECT CAST(current_setting(" + engine.QuoteLiteral(cmd.name) + ") AS VARCHAR) AS " + engine.QuoteIdent(cmd.name)
			if p2, err2 := c.sess.Prepare(ctx, q); err2 == nil {
				p, err, prepared = p2, nil, q
			}
		}
		if err != nil {
			if c.restricted() {
				return nil, scrubBindError(err)
			}
			return nil, err
		}
	}
	st.duck = p
	st.stype = p.StatementType()
	if st.stype == bindings.StatementTypeCopy && text == "" {
		// Without its text the server cannot tell COPY … FROM STDIN (the client's data) from a
		// COPY of a file, and DuckDB would take STDIN for the server's own.
		p.Close()
		return nil, newError(codeFeatureNotSupported, "COPY cannot run in this multi-statement query: send it as a query of its own")
	}
	if st.stype == bindings.StatementTypeTransaction {
		st.txn = txnOpOf(text)
	}
	n := p.NumParams()
	if c.restricted() {
		// Checked before the client sees anything of the statement (its columns may name
		// what a file holds); statements with parameters again at Execute, with their values.
		st.sql = prepared
		pe := c.checkStmt(ctx, prepared, st.stype, make([]any, n), isUnresolved(p))
		p.Close()
		st.duck = nil
		if pe != nil {
			st.close()
			return nil, pe
		}
		// Prepared again after the check: a statement prepared before another one ran on
		// the connection loses ankaflow's Go table functions' bind state.
		if p, err = c.sess.Prepare(ctx, prepared); err != nil {
			return nil, err
		}
		st.duck = p
		st.checked = n == 0
	}
	st.paramTypes = make([]engine.TypeInfo, n)
	st.paramOIDs = make([]uint32, n)
	for i := 0; i < n; i++ {
		st.paramTypes[i] = p.ParamType(i)
		if i < len(declared) && declared[i] != 0 {
			st.paramOIDs[i] = declared[i]
		} else {
			st.paramOIDs[i] = paramOID(st.paramTypes[i])
		}
	}
	cols := p.Columns()
	// DuckDB's placeholder for a result it cannot describe before the parameters are bound.
	st.unresolved = n > 0 && len(cols) == 1 && cols[0].Name == "unknown" && cols[0].Type.ID == bindings.TypeInvalid
	if returnsRows(st.stype, cols) {
		st.cols = make([]resultCol, len(cols))
		for i, col := range cols {
			st.cols[i] = resultCol{name: col.Name, typ: pgTypeFor(col.Type)}
		}
		c.describeSource(ctx, st.cols, src)
	}
	return st, nil
}

// isBeginWithModes recognises BEGIN / START TRANSACTION followed by PostgreSQL transaction
// modes (ISOLATION LEVEL …, READ WRITE, READ ONLY, [NOT] DEFERRABLE).
func isBeginWithModes(text string) bool {
	toks := tokenize(text)
	for len(toks) > 0 && toks[len(toks)-1].text == ";" {
		toks = toks[:len(toks)-1]
	}
	if len(toks) == 0 || toks[0].kind != tokWord {
		return false
	}
	i := 1
	switch toks[0].upper {
	case "BEGIN":
		if i < len(toks) && (toks[i].upper == "WORK" || toks[i].upper == "TRANSACTION") {
			i++
		}
	case "START":
		if i >= len(toks) || toks[i].upper != "TRANSACTION" {
			return false
		}
		i++
	default:
		return false
	}
	allowed := map[string]bool{"ISOLATION": true, "LEVEL": true, "SERIALIZABLE": true, "REPEATABLE": true,
		"READ": true, "COMMITTED": true, "UNCOMMITTED": true, "WRITE": true, "ONLY": true, "NOT": true, "DEFERRABLE": true, ",": true}
	for ; i < len(toks); i++ {
		if !allowed[toks[i].upper] {
			return false
		}
	}
	return true
}
