package pgwire

import (
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgproto3"
)

// SQL cursors: DECLARE name CURSOR FOR query, FETCH [FORWARD] n FROM name, CLOSE name. DuckDB has
// none; the server keeps them as portals (in PostgreSQL a cursor is a portal), which is what
// psycopg2's named (server-side) cursors need.

type cursorKind int

const (
	cursorDeclare cursorKind = iota + 1
	cursorFetch
	cursorClose
)

type cursorCmd struct {
	kind  cursorKind
	name  string // "" with CLOSE ALL
	query string // DECLARE
	count int64  // FETCH: rows, 0 = ALL
	hold  bool
	bin   bool
}

// parseCursorCmd recognises DECLARE … CURSOR, FETCH and CLOSE; nil for anything else.
func parseCursorCmd(text string) *cursorCmd {
	toks := tokenize(text)
	for len(toks) > 0 && toks[len(toks)-1].text == ";" {
		toks = toks[:len(toks)-1]
	}
	if len(toks) < 2 || toks[0].kind != tokWord {
		return nil
	}
	ident := func(t sqlToken) (string, bool) {
		switch t.kind {
		case tokQIdent:
			return t.text, true
		case tokWord:
			return strings.ToLower(t.text), true
		}
		return "", false
	}
	switch toks[0].upper {
	case "DECLARE":
		name, ok := ident(toks[1])
		if !ok {
			return nil
		}
		cmd := &cursorCmd{kind: cursorDeclare, name: name}
		i := 2
		for ; i < len(toks) && toks[i].upper != "CURSOR"; i++ {
			switch toks[i].upper {
			case "BINARY":
				cmd.bin = true
			case "INSENSITIVE", "ASENSITIVE", "NO", "SCROLL":
			default:
				return nil
			}
		}
		if i >= len(toks) {
			return nil
		}
		for i++; i < len(toks) && toks[i].upper != "FOR"; i++ {
			switch toks[i].upper {
			case "WITH":
				cmd.hold = true
			case "WITHOUT":
				cmd.hold = false
				i++
			case "HOLD":
			default:
				return nil
			}
		}
		if i >= len(toks)-1 {
			return nil
		}
		cmd.query = strings.TrimSpace(text[toks[i+1].start:])
		cmd.query = strings.TrimSuffix(strings.TrimSpace(cmd.query), ";")
		return cmd
	case "FETCH":
		cmd := &cursorCmd{kind: cursorFetch, count: 1}
		i := 1
		switch toks[i].upper {
		case "FORWARD":
			i++
			cmd.count = 1
			if i < len(toks) && toks[i].upper == "ALL" {
				cmd.count = 0
				i++
			} else if i < len(toks) && toks[i].kind == tokNumber {
				n, err := strconv.ParseInt(toks[i].text, 10, 64)
				if err != nil || n < 0 {
					return nil
				}
				cmd.count = n
				i++
			}
		case "NEXT":
			i++
		case "ALL":
			cmd.count = 0
			i++
		default:
			if toks[i].kind == tokNumber {
				n, err := strconv.ParseInt(toks[i].text, 10, 64)
				if err != nil || n < 0 {
					return nil
				}
				cmd.count = n
				i++
			}
		}
		if i < len(toks) && (toks[i].upper == "FROM" || toks[i].upper == "IN") {
			i++
		}
		if i != len(toks)-1 {
			return nil
		}
		name, ok := ident(toks[i])
		if !ok {
			return nil
		}
		cmd.name = name
		return cmd
	case "CLOSE":
		if len(toks) != 2 {
			return nil
		}
		if toks[1].kind == tokWord && toks[1].upper == "ALL" {
			return &cursorCmd{kind: cursorClose}
		}
		name, ok := ident(toks[1])
		if !ok {
			return nil
		}
		return &cursorCmd{kind: cursorClose, name: name}
	}
	return nil
}

// runCursorCmd executes DECLARE / FETCH / CLOSE.
func (c *conn) runCursorCmd(p *portal) error {
	c.statements++
	cmd := parseCursorCmd(p.stmt.text)
	p.done = true
	switch cmd.kind {
	case cursorDeclare:
		if c.txn != txnBlock && !cmd.hold {
			return newError(codeNoActiveSQLTransaction, "DECLARE CURSOR can only be used in transaction blocks")
		}
		if _, exists := c.portals[cmd.name]; exists {
			return newError("42P03", "cursor %q already exists", cmd.name)
		}
		st, err := c.parseOne(cmd.query, nil)
		if err != nil {
			return err
		}
		if st.kind != kindDuck || st.cols == nil || st.txn != txnNone {
			st.close()
			return newError("42P11", "cannot open a cursor for a statement that returns no rows")
		}
		if len(st.paramOIDs) > 0 {
			st.close()
			return newError("42P02", "there is no parameter $1")
		}
		formats := make([]int16, len(st.cols))
		if cmd.bin {
			for i := range formats {
				formats[i] = 1
			}
		}
		st.refs++
		st.dropped = true // owned by the cursor alone
		c.portals[cmd.name] = &portal{name: cmd.name, stmt: st, formats: formats, cursor: true, hold: cmd.hold}
		p.tag = "DECLARE CURSOR"
	case cursorFetch:
		cur := c.portals[cmd.name]
		if cur == nil || !cur.cursor {
			return newError(codeInvalidCursorName, "cursor %q does not exist", cmd.name)
		}
		c.send(rowDescription(cur.stmt.cols, cur.formats))
		if err := c.runPortal(cur, cmd.count, false); err != nil {
			cur.close()
			delete(c.portals, cmd.name)
			return err
		}
		p.tag = "FETCH " + strconv.FormatInt(cur.lastSent, 10)
	case cursorClose:
		if cmd.name == "" {
			for name, cur := range c.portals {
				if cur.cursor {
					cur.close()
					delete(c.portals, name)
				}
			}
			p.tag = "CLOSE CURSOR ALL"
			break
		}
		cur := c.portals[cmd.name]
		if cur == nil || !cur.cursor {
			return newError(codeInvalidCursorName, "cursor %q does not exist", cmd.name)
		}
		cur.close()
		delete(c.portals, cmd.name)
		p.tag = "CLOSE CURSOR"
	}
	c.send(&pgproto3.CommandComplete{CommandTag: []byte(p.tag)})
	return nil
}
