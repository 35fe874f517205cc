package pipeline

import (
	"strings"
	"unicode"

	"github.com/ankaflow/ankaflow/engine/sqlast"
)

// stripLeadingComments drops whitespace and comments at the start of a statement.
func stripLeadingComments(s string) string {
	return s[sqlast.SkipBlank(s, 0):]
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
