package pgwire

import (
	"strings"

	"github.com/ankaflow/ankaflow/engine"
)

// rewriteLiterals rewrites the two kinds of PostgreSQL literals DuckDB reads differently, when
// their type is spelled out next to them ('…'::type or CAST('…' AS type)):
//
//   - bytea in hex format, '\x00ff'::bytea: PostgreSQL reads two bytes, DuckDB reads \x00 and
//     the characters "ff". Rewritten to from_hex('00ff'). psycopg2 sends every bytes parameter
//     this way, pgx's simple protocol as CAST('\x…' AS BYTEA).
//   - arrays, '{1,2,3}'::int[]: DuckDB cannot cast that text to a list. Rewritten to a list of
//     string literals, ['1','2','3'], which the cast converts element by element.
//
// Anything else is left alone. The query is returned unchanged when nothing matched.
func rewriteLiterals(q string) string {
	q = rewritePGNames(q)
	if !strings.Contains(q, `'\x`) && !strings.Contains(q, `'\X`) && !strings.Contains(q, "'{") {
		return q
	}
	toks := tokenize(q)
	var edits []textEdit
	for i, t := range toks {
		if t.kind != tokString || q[t.start] != '\'' { // plain '…' only, not E'…' or $$…$$
			continue
		}
		typ := literalType(toks, i)
		if typ == "" {
			continue
		}
		switch {
		case (typ == "BYTEA" || typ == "BLOB") && isHexBytea(t.text):
			edits = append(edits, textEdit{t.start, t.end, "from_hex(" + engine.QuoteLiteral(t.text[2:]) + ")"})
		case strings.HasSuffix(typ, "[]") && strings.HasPrefix(strings.TrimSpace(t.text), "{"):
			elems, err := parseArrayText(t.text)
			if err != nil {
				continue
			}
			parts := make([]string, len(elems))
			for k, e := range elems {
				if e == nil {
					parts[k] = "NULL"
				} else {
					parts[k] = engine.QuoteLiteral(*e)
				}
			}
			edits = append(edits, textEdit{t.start, t.end, "[" + strings.Join(parts, ", ") + "]"})
		}
	}
	return applyEdits(q, edits)
}

// textEdit replaces q[start:end] with repl.
type textEdit struct {
	start, end int
	repl       string
}

// applyEdits applies edits, in order and not overlapping, to q.
func applyEdits(q string, edits []textEdit) string {
	if len(edits) == 0 {
		return q
	}
	var b strings.Builder
	last := 0
	for _, e := range edits {
		b.WriteString(q[last:e.start])
		b.WriteString(e.repl)
		last = e.end
	}
	b.WriteString(q[last:])
	return b.String()
}

// literalType returns the upper-cased type a string literal is cast to right next to it
// ("BYTEA", "INT[]", …), or "".
func literalType(toks []sqlToken, i int) string {
	typeAt := func(j int) string {
		if j >= len(toks) || toks[j].kind != tokWord {
			return ""
		}
		name := toks[j].upper
		// qualified names: pg_catalog.bytea
		for j+2 < len(toks) && toks[j+1].text == "." && toks[j+2].kind == tokWord {
			j += 2
			name = toks[j].upper
		}
		if j+2 < len(toks) && toks[j+1].text == "[" && toks[j+2].text == "]" {
			name += "[]"
		}
		return name
	}
	// '…'::type
	if i+3 < len(toks) && toks[i+1].text == ":" && toks[i+2].text == ":" && toks[i+1].end == toks[i+2].start {
		return typeAt(i + 3)
	}
	// CAST('…' AS type)
	if i >= 2 && toks[i-1].text == "(" && toks[i-2].upper == "CAST" && i+2 < len(toks) && toks[i+1].upper == "AS" {
		return typeAt(i + 2)
	}
	return ""
}

func isHexBytea(s string) bool {
	if len(s) < 2 || s[0] != '\\' || (s[1] != 'x' && s[1] != 'X') || len(s)%2 != 0 {
		return false
	}
	for i := 2; i < len(s); i++ {
		if unhexValid(s[i]) < 0 {
			return false
		}
	}
	return true
}

func unhexValid(c byte) int {
	switch {
	case c >= '0' && c <= '9', c >= 'a' && c <= 'f', c >= 'A' && c <= 'F':
		return int(unhex(c))
	}
	return -1
}
