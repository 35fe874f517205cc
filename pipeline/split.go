package pipeline

import (
	"strings"
	"unicode"
)

// SplitStatements splits a SQL script into statements at top-level semicolons, respecting
// string literals ('…', E'…'), quoted identifiers ("…"), dollar quotes ($tag$…$tag$) and
// comments (-- and nested /* */). Empty statements (only whitespace or comments) are dropped.
// Statements keep their text as written, without the trailing semicolon.
func SplitStatements(sql string) []string {
	var out []string
	start := 0
	i := 0
	n := len(sql)
	flush := func(end int) {
		stmt := strings.TrimSpace(sql[start:end])
		if stmt != "" && !onlyComments(stmt) {
			out = append(out, stmt)
		}
		start = end + 1
	}
	for i < n {
		c := sql[i]
		switch {
		case c == '\'':
			escapes := i > 0 && (sql[i-1] == 'E' || sql[i-1] == 'e') && (i < 2 || !isIdentByte(sql[i-2]))
			i = skipQuoted(sql, i, '\'', escapes)
		case c == '"':
			i = skipQuoted(sql, i, '"', false)
		case c == '-' && i+1 < n && sql[i+1] == '-':
			for i < n && sql[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < n && sql[i+1] == '*':
			depth := 0
			for i < n {
				if i+1 < n && sql[i] == '/' && sql[i+1] == '*' {
					depth++
					i += 2
					continue
				}
				if i+1 < n && sql[i] == '*' && sql[i+1] == '/' {
					depth--
					i += 2
					if depth == 0 {
						break
					}
					continue
				}
				i++
			}
		case c == '$' && (i == 0 || !isIdentByte(sql[i-1])):
			if tag, ok := dollarTag(sql[i:]); ok {
				end := strings.Index(sql[i+len(tag):], tag)
				if end < 0 {
					i = n
				} else {
					i += len(tag) + end + len(tag)
				}
				continue
			}
			i++
		case c == ';':
			flush(i)
			i++
		default:
			i++
		}
	}
	if start < n {
		flush(n)
	}
	return out
}

func isIdentByte(b byte) bool {
	return b == '_' || b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
}

// skipQuoted returns the index just past the closing quote (doubled quotes stay inside).
func skipQuoted(s string, i int, q byte, backslash bool) int {
	i++
	for i < len(s) {
		switch {
		case backslash && s[i] == '\\':
			i += 2
			continue
		case s[i] == q:
			if i+1 < len(s) && s[i+1] == q {
				i += 2
				continue
			}
			return i + 1
		}
		i++
	}
	return i
}

// dollarTag recognises $$ or $tag$ at the start of s.
func dollarTag(s string) (string, bool) {
	for j := 1; j < len(s); j++ {
		if s[j] == '$' {
			return s[:j+1], true
		}
		r := rune(s[j])
		if !(r == '_' || unicode.IsLetter(r) || (j > 1 && unicode.IsDigit(r))) {
			return "", false
		}
	}
	return "", false
}

// onlyComments reports whether a statement is nothing but comments.
func onlyComments(s string) bool {
	return stripLeadingComments(s) == ""
}

// stripLeadingComments drops whitespace and comments at the start of a statement.
func stripLeadingComments(s string) string {
	for {
		s = strings.TrimSpace(s)
		switch {
		case strings.HasPrefix(s, "--"):
			if i := strings.IndexByte(s, '\n'); i >= 0 {
				s = s[i+1:]
			} else {
				return ""
			}
		case strings.HasPrefix(s, "/*"):
			if i := strings.Index(s, "*/"); i >= 0 {
				s = s[i+2:]
			} else {
				return ""
			}
		default:
			return s
		}
	}
}

// leadingKeyword is the statement's first keyword, upper-cased ("(" for a parenthesised query).
func leadingKeyword(stmt string) string {
	s := stripLeadingComments(stmt)
	if strings.HasPrefix(s, "(") {
		return "("
	}
	end := strings.IndexFunc(s, func(r rune) bool { return !(unicode.IsLetter(r) || r == '_') })
	if end < 0 {
		end = len(s)
	}
	return strings.ToUpper(s[:end])
}
