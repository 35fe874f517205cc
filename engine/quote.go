package engine

import "strings"

// QuoteIdent quotes a DuckDB (and PostgreSQL) identifier. Every name that reaches SQL text —
// stage names, column names, schema names — goes through here, so a stage called
// `a"b; DROP TABLE x` is just a strange table name.
func QuoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// QuoteLiteral quotes a SQL string literal (standard conforming strings: only ' is special).
func QuoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// QuoteQualified quotes a dotted name part by part: QuoteQualified("s", "t") = "s"."t".
func QuoteQualified(parts ...string) string {
	q := make([]string, len(parts))
	for i, p := range parts {
		q[i] = QuoteIdent(p)
	}
	return strings.Join(q, ".")
}
