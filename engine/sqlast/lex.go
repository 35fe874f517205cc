// Package sqlast holds the project's one SQL statement splitter and its DuckDB-parser
// helpers. DuckDB's own parser (extract_statements) decides how a script splits into
// statements; the small lexer here only finds each statement's text and leading words.
package sqlast

import "strings"

// Piece is the text of one statement and its byte offset in the script.
type Piece struct {
	Text  string
	Start int
}

// Pieces splits a query at top-level semicolons, skipping string literals ('…', E'…' with
// backslash escapes), quoted identifiers, dollar-quoted strings and comments (-- and nested
// /* */). Pieces with nothing but blanks and comments are dropped, as DuckDB drops empty
// statements. It only finds texts: Split has DuckDB's parser decide what the statements are.
func Pieces(q string) []Piece {
	var out []Piece
	start := 0
	emit := func(end int) {
		text := q[start:end]
		if !Blank(text) {
			out = append(out, Piece{Text: text, Start: start})
		}
	}
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == ';':
			emit(i)
			i++
			start = i
		default:
			i = SkipToken(q, i)
		}
	}
	emit(len(q))
	return out
}

// SkipToken returns the index just past the lexical element starting at i: a literal, quoted
// identifier, comment, or a single byte.
func SkipToken(q string, i int) int {
	c := q[i]
	switch {
	case c == '\'':
		return skipQuoted(q, i+1, '\'', isEscapeString(q, i))
	case c == '"':
		return skipQuoted(q, i+1, '"', false)
	case c == '-' && i+1 < len(q) && q[i+1] == '-':
		j := strings.IndexByte(q[i:], '\n')
		if j < 0 {
			return len(q)
		}
		return i + j + 1
	case c == '/' && i+1 < len(q) && q[i+1] == '*':
		depth := 0
		j := i
		for j < len(q) {
			if j+1 < len(q) && q[j] == '/' && q[j+1] == '*' {
				depth++
				j += 2
				continue
			}
			if j+1 < len(q) && q[j] == '*' && q[j+1] == '/' {
				depth--
				j += 2
				if depth == 0 {
					return j
				}
				continue
			}
			j++
		}
		return len(q)
	case c == '$':
		if tag, ok := DollarTag(q, i); ok {
			end := strings.Index(q[i+len(tag):], tag)
			if end < 0 {
				return len(q)
			}
			return i + len(tag) + end + len(tag)
		}
		return i + 1
	case IsIdentStart(c):
		j := i + 1
		for j < len(q) && IsIdentChar(q[j]) {
			j++
		}
		return j
	}
	return i + 1
}

// isEscapeString reports whether the quote at i opens an E'…' string.
func isEscapeString(q string, i int) bool {
	if i == 0 || (q[i-1] != 'E' && q[i-1] != 'e') {
		return false
	}
	return i == 1 || !IsIdentChar(q[i-2])
}

func skipQuoted(q string, i int, quote byte, backslash bool) int {
	for i < len(q) {
		c := q[i]
		if backslash && c == '\\' {
			i += 2
			continue
		}
		if c == quote {
			if i+1 < len(q) && q[i+1] == quote {
				i += 2
				continue
			}
			return i + 1
		}
		i++
	}
	return len(q)
}

// DollarTag recognises a dollar-quote opener ($$ or $tag$) at i; $1 is a parameter.
func DollarTag(q string, i int) (string, bool) {
	if i > 0 && IsIdentChar(q[i-1]) {
		return "", false
	}
	j := i + 1
	if j < len(q) && q[j] >= '0' && q[j] <= '9' {
		return "", false
	}
	for j < len(q) && q[j] != '$' && IsIdentChar(q[j]) { // the tag itself has no '$'
		j++
	}
	if j < len(q) && q[j] == '$' {
		return q[i : j+1], true
	}
	return "", false
}

// IsIdentStart reports whether c can start a bare identifier (any non-ASCII byte can).
func IsIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80
}

// IsIdentChar reports whether c can continue a bare identifier.
func IsIdentChar(c byte) bool {
	return IsIdentStart(c) || (c >= '0' && c <= '9') || c == '$'
}

// Blank reports whether s holds only whitespace and comments.
func Blank(s string) bool {
	return SkipBlank(s, 0) >= len(s)
}

// SkipBlank skips whitespace and comments from i.
func SkipBlank(s string, i int) int {
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == '-' && i+1 < len(s) && s[i+1] == '-', c == '/' && i+1 < len(s) && s[i+1] == '*':
			i = SkipToken(s, i)
		default:
			return i
		}
	}
	return i
}
