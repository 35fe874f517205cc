package rewrite

// PostgreSQL's LIKE and ILIKE take the backslash as escape character unless ESCAPE names
// another; DuckDB's have none. psql's tab completion sends `relname LIKE 'big\_%'` for a word
// with an underscore, which DuckDB would match only against a literal backslash.

// likeEscapes maps DuckDB's LIKE operators to their three-argument ESCAPE forms.
var likeEscapes = map[string]string{"~~": "like_escape", "!~~": "not_like_escape", "~~*": "ilike_escape", "!~~*": "not_ilike_escape"}

// likeEscape gives a LIKE or ILIKE without ESCAPE PostgreSQL's default escape, the backslash.
func (r *rewriter) likeEscape(n node, name string, children []any) (any, bool) {
	to, ok := likeEscapes[name]
	if b, _ := n["is_operator"].(bool); !ok || !b || len(children) != 2 {
		return n, false
	}
	r.changed = true
	return keepAlias(n, call(to, children[0], children[1], constant(`\`))), true
}
