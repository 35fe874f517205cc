// Package catalog answers PostgreSQL's catalog questions (pg_catalog relations and functions)
// from DuckDB's live catalog, for the wire server. Its relations are views over DuckDB's
// duckdb_tables(), duckdb_columns(), duckdb_constraints()… and its functions are macros, all
// kept in one attached in-memory database (Name) that is created once per DuckDB database: every
// question is answered from the catalog as it is at that moment, never from a copy.
//
// DuckDB has a pg_catalog schema of its own, but it answers in DuckDB's terms (pg_attribute's
// atttypid holds DuckDB type ids, constraint keys are 0-based, main is not public). The server
// rewrites client SQL (package pgwire/rewrite) so that pg_catalog.pg_class and friends resolve
// here instead; Relations and Functions list what is defined.
//
// Values that belong to the client's session (its user, the database it asked for, its
// backend pid) are read from DuckDB variables the server sets on the session (SessionVars).
package catalog

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Name is the attached in-memory database holding the catalog's views and macros. No user
// listing shows it.
const Name = "ankaflow_pg"

// Variables set on each session (SET VARIABLE) that the catalog reads.
const (
	VarUser     = "ankaflow_pg_user"     // the authenticated user
	VarDatabase = "ankaflow_pg_database" // the startup database
	VarPID      = "ankaflow_pg_pid"      // the backend pid sent in BackendKeyData
	VarRoles    = "ankaflow_pg_roles"    // every user of the users file (VARCHAR[])
	VarAdmins   = "ankaflow_pg_admins"   // the users with role admin, the session's own user when it is one (VARCHAR[])
)

// OID bases of things DuckDB has no catalog entry for. DuckDB's own OIDs are small (tens of
// thousands); PostgreSQL's built-in objects are below 16384.
const (
	constraintOIDBase = 1000000000 // + table_oid*1000 + constraint_index*2 (+1: its index)
	roleOIDBase       = 16384      // users of the users file, in name order; oid 10 is the session user
	databaseOID       = 16385
)

// Execer runs statements (an engine session or *sql.Conn).
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

var installMu sync.Mutex

// readyMarker is created in the same transaction as everything else: once it exists, the
// catalog is complete.
const readyMarker = "ankaflow_pg_ready"

// Install creates the catalog database on the database behind ex, unless it exists. It is safe
// to call from concurrent sessions.
func Install(ctx context.Context, ex Execer) error {
	installMu.Lock()
	defer installMu.Unlock()
	if q, ok := ex.(interface {
		QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	}); ok {
		var n int
		if err := q.QueryRowContext(ctx, "SELECT count(*) FROM duckdb_schemas() WHERE database_name = '"+Name+"' AND schema_name = '"+readyMarker+"'").Scan(&n); err == nil && n > 0 {
			return nil
		}
	}
	if _, err := ex.ExecContext(ctx, "ATTACH IF NOT EXISTS ':memory:' AS "+Name); err != nil {
		return fmt.Errorf("catalog: attach: %w", err)
	}
	if _, err := ex.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return err
	}
	for _, s := range append(statements(), snapshotStatements()...) {
		if _, err := ex.ExecContext(ctx, s); err != nil {
			_, _ = ex.ExecContext(ctx, "ROLLBACK")
			return fmt.Errorf("catalog: %w\n%s", err, s)
		}
	}
	if _, err := ex.ExecContext(ctx, "CREATE SCHEMA "+Name+"."+readyMarker); err != nil {
		_, _ = ex.ExecContext(ctx, "ROLLBACK")
		return err
	}
	_, err := ex.ExecContext(ctx, "COMMIT")
	return err
}

// q qualifies a catalog object name.
func q(name string) string { return Name + ".main." + name }

// object is one view or macro of the catalog.
type object struct {
	name  string
	macro bool
	table bool   // a table the server maintains (body: its columns)
	body  string // the view's query, or the macro's "(params) AS expr" overloads
}

var (
	objOnce sync.Once
	objs    []object
)

func objects() []object {
	objOnce.Do(func() {
		objs = dependencyOrder(append(append(append(macros(), views()...), infoSchemaObjects()...), sizeObjects()...))
	})
	return objs
}

func statements() []string {
	var out []string
	for _, o := range objects() {
		switch {
		case o.table:
			out = append(out, "CREATE TABLE IF NOT EXISTS "+q(o.name)+" "+o.body)
		case o.macro:
			out = append(out, "CREATE OR REPLACE MACRO "+q(o.name)+o.body)
		default:
			out = append(out, "CREATE OR REPLACE VIEW "+q(o.name)+" AS "+o.body)
		}
	}
	// information_schema._pg_expandarray (pgjdbc's getPrimaryKeys/getIndexInfo): PostgreSQL
	// arrays of keys are 1-based like DuckDB's lists.
	// pgjdbc calls it in a select list and reads (keys).x and (keys).n: a set of structs.
	out = append(out, "CREATE OR REPLACE MACRO "+ExpandArray+"(a) AS unnest(list_transform(generate_series(1, len(a)), ankaflow_i -> {'x': a[ankaflow_i], 'n': ankaflow_i}))")
	return out
}

// ExpandArray is the qualified name of information_schema._pg_expandarray.
const ExpandArray = Name + ".main.ankaflow_pg_expandarray"

// Relations lists the relations (views) the catalog defines, lower-case.
func Relations() []string {
	var out []string
	for _, o := range objects() {
		if !o.macro && !o.table && !strings.HasPrefix(o.name, "ankaflow_") {
			out = append(out, o.name)
		}
	}
	sort.Strings(out)
	return out
}

// Functions maps the PostgreSQL functions the catalog defines (lower-case) to their qualified
// names. Those that DuckDB also has (current_database, current_user…) are stored under an
// ankaflow_ prefix: inside the catalog's own views the unqualified name must still be DuckDB's.
func Functions() map[string]string {
	out := map[string]string{}
	for _, o := range objects() {
		if !o.macro {
			continue
		}
		name := o.name
		if shadowed[strings.TrimPrefix(name, "ankaflow_")] {
			name = strings.TrimPrefix(name, "ankaflow_")
		} else if strings.HasPrefix(name, "ankaflow_") {
			continue
		}
		out[name] = q(o.name)
	}
	return out
}

// shadowed are PostgreSQL functions DuckDB has under the same name with its own meaning.
var shadowed = map[string]bool{"current_user": true, "session_user": true, "current_role": true,
	"current_database": true, "current_catalog": true, "current_schema": true, "current_schemas": true}

// Helper returns the qualified name of one of the catalog's internal helpers (ankaflow_regclass_oid…).
func Helper(name string) string { return q("ankaflow_" + name) }

// Qualified returns the catalog's own name of a relation or function: ankaflow_pg.main.name.
func Qualified(name string) string { return q(name) }

// dependencyOrder orders objects so that each comes after the catalog objects it names: DuckDB
// binds a view's query and a macro's subqueries when they are created.
func dependencyOrder(in []object) []object {
	var out []object
	done := map[string]bool{}
	var visit func(o object)
	visiting := map[string]bool{}
	byName := map[string]object{}
	for _, o := range in {
		byName[o.name] = o
	}
	visit = func(o object) {
		if done[o.name] || visiting[o.name] {
			return
		}
		visiting[o.name] = true
		for _, d := range in {
			if d.name != o.name && strings.Contains(o.body, q(d.name)+"(") || d.name != o.name && containsWord(o.body, q(d.name)) {
				visit(byName[d.name])
			}
		}
		done[o.name] = true
		out = append(out, o)
	}
	for _, o := range in {
		visit(o)
	}
	return out
}

// containsWord reports whether name occurs in s followed by a character that cannot continue
// an identifier.
func containsWord(s, name string) bool {
	for i := 0; ; {
		j := strings.Index(s[i:], name)
		if j < 0 {
			return false
		}
		end := i + j + len(name)
		if end == len(s) || !isIdentChar(s[end]) {
			return true
		}
		i = end
	}
}

func isIdentChar(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
