package pgwire

import (
	"strings"
	"unicode/utf8"

	"github.com/ankaflow/ankaflow/engine/sqlast"
)

// This file holds the little lexing the server does on SQL text. It never decides how a query
// string splits into statements — DuckDB's parser does that (engine.Session.ExtractStatements).
// It only:
//   - finds the text of each statement DuckDB extracted, so that statement can be labelled
//     (CREATE TABLE vs CREATE VIEW, BEGIN vs COMMIT) and so PostgreSQL-only statements
//     (SET extra_float_digits, SHOW TimeZone, COPY … FROM STDIN) can be intercepted; the split
//     is trusted only when it yields exactly as many statements as DuckDB found;
//   - reads the leading keywords of one statement.

// sqlPiece is the text of one statement and its byte offset in the query string.
type sqlPiece struct {
	text  string
	start int
}

// splitStatements finds the texts of a query's statements (sqlast.Pieces).
func splitStatements(q string) []sqlPiece {
	var out []sqlPiece
	for _, p := range sqlast.Pieces(q) {
		out = append(out, sqlPiece{text: p.Text, start: p.Start})
	}
	return out
}

func skipToken(q string, i int) int            { return sqlast.SkipToken(q, i) }
func dollarTag(q string, i int) (string, bool) { return sqlast.DollarTag(q, i) }
func isIdentStart(c byte) bool                 { return sqlast.IsIdentStart(c) }
func isIdentChar(c byte) bool                  { return sqlast.IsIdentChar(c) }
func blankSQL(s string) bool                   { return sqlast.Blank(s) }
func skipBlank(s string, i int) int            { return sqlast.SkipBlank(s, i) }

// sqlToken is one lexical token of a statement, as far as the interceptors care.
type sqlToken struct {
	text       string // as written (the value, for literals and quoted identifiers)
	upper      string // upper-cased for keywords and bare identifiers
	kind       tokKind
	start, end int // byte offsets in the statement
}

type tokKind int

const (
	tokWord   tokKind = iota // keyword or bare identifier
	tokQIdent                // "quoted identifier" (text is the unquoted name)
	tokString                // string literal (text is the value)
	tokNumber
	tokPunct
)

// tokenize lexes a single statement into tokens (whitespace and comments dropped).
func tokenize(s string) []sqlToken {
	var toks []sqlToken
	for i := skipBlank(s, 0); i < len(s); i = skipBlank(s, i) {
		c := s[i]
		j := skipToken(s, i)
		switch {
		case c == '\'' || ((c == 'E' || c == 'e') && j == i+1 && i+1 < len(s) && s[i+1] == '\''):
			if c != '\'' { // E'…'
				j = skipToken(s, i+1)
				v := unquoteEscape(s[i+2 : max(i+2, j-1)])
				toks = append(toks, sqlToken{text: v, kind: tokString})
			} else {
				v := strings.ReplaceAll(s[i+1:max(i+1, j-1)], "''", "'")
				toks = append(toks, sqlToken{text: v, kind: tokString})
			}
		case c == '"':
			v := strings.ReplaceAll(s[i+1:max(i+1, j-1)], `""`, `"`)
			toks = append(toks, sqlToken{text: v, upper: strings.ToUpper(v), kind: tokQIdent})
		case c == '$' && j > i+1:
			tag, _ := dollarTag(s, i)
			v := s[i+len(tag) : max(i+len(tag), j-len(tag))]
			toks = append(toks, sqlToken{text: v, kind: tokString})
		case isIdentStart(c):
			w := s[i:j]
			toks = append(toks, sqlToken{text: w, upper: strings.ToUpper(w), kind: tokWord})
		case c >= '0' && c <= '9' || (c == '.' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9'):
			j = i + 1
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '.' || s[j] == 'e' || s[j] == 'E' ||
				((s[j] == '+' || s[j] == '-') && (s[j-1] == 'e' || s[j-1] == 'E'))) {
				j++
			}
			toks = append(toks, sqlToken{text: s[i:j], upper: s[i:j], kind: tokNumber})
		default:
			// Multi-byte runes and punctuation: one rune per token.
			_, size := utf8.DecodeRuneInString(s[i:])
			j = i + size
			toks = append(toks, sqlToken{text: s[i:j], upper: s[i:j], kind: tokPunct})
		}
		toks[len(toks)-1].start, toks[len(toks)-1].end = i, j
		i = j
	}
	return toks
}

func unquoteEscape(s string) string {
	if !strings.Contains(s, `\`) {
		return strings.ReplaceAll(s, "''", "'")
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\'' && i+1 < len(s) && s[i+1] == '\'' {
			b.WriteByte('\'')
			i++
			continue
		}
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch s[i] {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// leadingWords returns up to n leading keywords (upper-cased) of a statement.
func leadingWords(s string, n int) []string {
	var out []string
	for i := skipBlank(s, 0); i < len(s) && len(out) < n; i = skipBlank(s, i) {
		if !isIdentStart(s[i]) {
			break
		}
		j := i + 1
		for j < len(s) && isIdentChar(s[j]) {
			j++
		}
		out = append(out, strings.ToUpper(s[i:j]))
		i = j
	}
	return out
}

// firstWord is the statement's first keyword, upper-cased ("" if none).
func firstWord(s string) string {
	if w := leadingWords(s, 1); len(w) == 1 {
		return w[0]
	}
	return ""
}

// runeOffset converts a byte offset in s to a 0-based character offset.
func runeOffset(s string, byteOff int) int {
	if byteOff > len(s) {
		byteOff = len(s)
	}
	return utf8.RuneCountInString(s[:byteOff])
}
