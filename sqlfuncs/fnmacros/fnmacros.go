// Package fnmacros installs the Fn SQL macros (Fn.add, Fn.dt, Fn.calendar(), ...) of the
// original AnkaFlow into a DuckDB session, in pure SQL.
//
// Where the macros live: DuckDB cannot create a schema in its temp catalog ("Cannot create
// non-temporary entry in temporary catalog"), so a session-private `Fn` schema is impossible.
// Instead Install attaches an in-memory database named Fn (ATTACH IF NOT EXISTS ':memory:'
// AS Fn) and creates the macros in Fn.main. DuckDB resolves the two-part name Fn.add as
// catalog Fn, default schema main, so every AnkaFlow call form works unchanged. Attached
// in-memory databases are never written to the main database file and vanish when the
// database closes, so nothing is persisted. The Fn catalog is shared by all sessions of one
// database: built-ins are created once (IF NOT EXISTS) and user macros are created with
// CREATE OR REPLACE, so the last Install of a user macro wins for the whole database.
package fnmacros

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// Execer is satisfied by *sql.Conn, *sql.DB and our engine session.
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// Macro is a user macro: Body like "(a, b) AS a + b" or "(t) AS TABLE SELECT ...".
type Macro struct{ Name, Body string }

// Catalog is the name of the attached in-memory database holding the macros.
const Catalog = "Fn"

var (
	// installMu serialises Install calls: concurrent CREATE MACRO statements on the shared Fn
	// catalog from two sessions would otherwise fail with a catalog write-write conflict.
	installMu sync.Mutex

	scriptOnce sync.Once
	script     string

	builtinSet map[string]bool // lower-cased names
)

func init() {
	builtinSet = make(map[string]bool, len(builtins))
	for _, b := range builtins {
		builtinSet[strings.ToLower(b.name)] = true
	}
}

// BuiltinNames lists the built-in macro names in their canonical spelling (dt_YYYY, not
// dt_yyyy: DuckDB names are case-insensitive, so both spellings call the same macro).
func BuiltinNames() []string {
	out := make([]string, len(builtins))
	for i, b := range builtins {
		out[i] = b.name
	}
	return out
}

// quoteIdent quotes a DuckDB identifier. It mirrors engine.QuoteIdent; this package does not
// import engine so that engine (or its extensions) can call Install without an import cycle.
func quoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

func qualified(name string) string {
	return quoteIdent(Catalog) + ".main." + quoteIdent(name)
}

// readyMarker is a schema created in the Fn catalog in the same transaction as the built-ins:
// when it exists, every built-in exists.
const readyMarker = "ankaflow_fnmacros_ready"

func builtinScript() string {
	scriptOnce.Do(func() {
		var b strings.Builder
		b.WriteString("ATTACH IF NOT EXISTS ':memory:' AS " + quoteIdent(Catalog) + ";\nBEGIN TRANSACTION;\n")
		for _, m := range builtins {
			b.WriteString("CREATE OR REPLACE MACRO " + qualified(m.name) + " " + m.body + ";\n")
		}
		b.WriteString("CREATE SCHEMA IF NOT EXISTS " + quoteIdent(Catalog) + "." + quoteIdent(readyMarker) + ";\nCOMMIT;\n")
		script = b.String()
	})
	return script
}

// queryer is the optional interface Install uses to skip the built-ins when the database
// already has them (*sql.Conn, *sql.DB and engine sessions all have it).
type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// installed reports whether the database behind ex already has every built-in.
func installed(ctx context.Context, ex Execer) bool {
	q, ok := ex.(queryer)
	if !ok {
		return false
	}
	var n int
	err := q.QueryRowContext(ctx, "SELECT count(*) FROM duckdb_schemas() WHERE database_name = ? AND schema_name = ?",
		Catalog, readyMarker).Scan(&n)
	return err == nil && n > 0
}

// Install creates the Fn catalog, every built-in macro and the given user macros in the
// session behind ex. It is safe (and cheap) to call once per new session; see the package
// documentation for where the macros live. User macros are validated first; nothing is
// created when one is invalid.
func Install(ctx context.Context, ex Execer, user []Macro) error {
	norm := make([]Macro, 0, len(user))
	seen := map[string]bool{}
	for _, m := range user {
		if err := Validate(m); err != nil {
			return err
		}
		n := normalize(m)
		key := strings.ToLower(n.Name)
		if seen[key] {
			return fmt.Errorf("macro '%s' is defined twice: names are case-insensitive, keep one definition", n.Name)
		}
		seen[key] = true
		norm = append(norm, n)
	}

	installMu.Lock()
	defer installMu.Unlock()
	if !installed(ctx, ex) {
		if _, err := ex.ExecContext(ctx, builtinScript()); err != nil {
			// Leave the session usable if the failure happened inside the transaction.
			_, _ = ex.ExecContext(ctx, "ROLLBACK")
			return fmt.Errorf("install Fn macros: %w", err)
		}
	}
	if len(norm) == 0 {
		return nil
	}
	// All user macros in one round trip; when DuckDB rejects one, create them one by one to
	// name the culprit (CREATE OR REPLACE makes the retry harmless).
	stmts := make([]string, len(norm))
	for i, m := range norm {
		stmts[i] = "CREATE OR REPLACE MACRO " + qualified(m.Name) + " " + m.Body
	}
	if _, err := ex.ExecContext(ctx, strings.Join(stmts, ";\n")); err == nil {
		return nil
	}
	for i, m := range norm {
		if _, err := ex.ExecContext(ctx, stmts[i]); err != nil {
			return fmt.Errorf("macro '%s': %w", m.Name, err)
		}
	}
	return nil
}

var identRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func normalize(m Macro) Macro {
	body := strings.TrimSpace(m.Body)
	for strings.HasSuffix(body, ";") {
		body = strings.TrimSpace(strings.TrimSuffix(body, ";"))
	}
	return Macro{Name: strings.TrimSpace(m.Name), Body: body}
}

// Validate checks a user macro: the name is an identifier and not a built-in name, and the
// body (trailing ';' trimmed) is "(params) AS expression" or "(params) AS TABLE query", a
// single statement.
func Validate(m Macro) error {
	m = normalize(m)
	if m.Name == "" {
		return fmt.Errorf("macro has no name")
	}
	if !identRe.MatchString(m.Name) {
		return fmt.Errorf("macro name '%s' is not an identifier: use letters, digits and _, not starting with a digit", m.Name)
	}
	if builtinSet[strings.ToLower(m.Name)] {
		return fmt.Errorf("macro '%s' already exists as a built-in Fn macro: choose another name", m.Name)
	}
	if m.Body == "" {
		return fmt.Errorf("macro '%s' has no body: write it like \"(a, b) AS a + b\"", m.Name)
	}
	if m.Body[0] != '(' {
		return fmt.Errorf("macro '%s': body must start with the parameter list, like \"(a, b) AS a + b\"", m.Name)
	}
	end, err := scanSQL(m.Body)
	if err != nil {
		return fmt.Errorf("macro '%s': %v", m.Name, err)
	}
	rest := strings.TrimLeft(m.Body[end+1:], " \t\r\n")
	if len(rest) < 2 || !strings.EqualFold(rest[:2], "AS") || len(rest) > 2 && !isSpace(rest[2]) {
		return fmt.Errorf("macro '%s': expected AS after the parameter list, like \"(a, b) AS a + b\"", m.Name)
	}
	if strings.TrimSpace(rest[2:]) == "" {
		return fmt.Errorf("macro '%s': nothing after AS", m.Name)
	}
	return nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// scanSQL walks body (which starts with '(') and returns the index of the parenthesis that
// closes the parameter list. It also rejects a ';' outside quotes and comments, which would
// smuggle a second statement into the CREATE MACRO, and unbalanced quotes or parentheses.
func scanSQL(body string) (int, error) {
	depth := 0
	closeAt := -1
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c == '\'' || c == '"':
			j := i + 1
			for ; j < len(body); j++ {
				if body[j] == c {
					if j+1 < len(body) && body[j+1] == c { // doubled quote
						j++
						continue
					}
					break
				}
			}
			if j >= len(body) {
				return 0, fmt.Errorf("unterminated %c quote", c)
			}
			i = j
		case c == '-' && i+1 < len(body) && body[i+1] == '-':
			j := strings.IndexByte(body[i:], '\n')
			if j < 0 {
				i = len(body)
			} else {
				i += j
			}
		case c == '/' && i+1 < len(body) && body[i+1] == '*':
			j := strings.Index(body[i+2:], "*/")
			if j < 0 {
				return 0, fmt.Errorf("unterminated /* comment")
			}
			i += j + 3
		case c == '$':
			// Dollar-quoted string $tag$...$tag$.
			k := i + 1
			for k < len(body) && (body[k] == '_' || body[k] >= 'a' && body[k] <= 'z' || body[k] >= 'A' && body[k] <= 'Z' || body[k] >= '0' && body[k] <= '9') {
				k++
			}
			if k < len(body) && body[k] == '$' {
				tag := body[i : k+1]
				j := strings.Index(body[k+1:], tag)
				if j < 0 {
					return 0, fmt.Errorf("unterminated %s string", tag)
				}
				i = k + 1 + j + len(tag) - 1
			}
		case c == '(':
			depth++
		case c == ')':
			depth--
			if depth < 0 {
				return 0, fmt.Errorf("unbalanced ')'")
			}
			if depth == 0 && closeAt < 0 {
				closeAt = i
			}
		case c == ';':
			return 0, fmt.Errorf("body must be a single statement (found ';')")
		}
	}
	if depth != 0 {
		return 0, fmt.Errorf("unbalanced '('")
	}
	if closeAt < 0 {
		return 0, fmt.Errorf("missing parameter list")
	}
	return closeAt, nil
}

// sortedBuiltinNames is used by the docs test.
func sortedBuiltinNames() []string {
	n := BuiltinNames()
	sort.Strings(n)
	return n
}
