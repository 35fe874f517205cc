package catalog

import (
	"context"
	"fmt"
	"strings"
	"sync"
)

// The snapshot: the relations that describe tables (pg_class, pg_attribute, pg_constraint,
// pg_index and what they are built from) are views over duckdb_tables(), duckdb_columns(),
// duckdb_constraints() and duckdb_indexes(), which DuckDB recomputes in full, for every table,
// at every use; and their definitions are large enough that planning one of psql's \d queries
// over them takes tens of milliseconds. With a thousand tables each of psql's queries took
// between 0.2 and 1 s.
//
// So the catalog also keeps a copy of those relations in tables, in the schema
// ankaflow_pg.snap, next to a second set of the views and macros that read them (same
// definitions, the snapshot's names). The live set stays the truth: the server points a
// query at the snapshot only when the snapshot shows what the live views would show that
// session — the session is outside a transaction block, has no temporary objects and reads the
// default database — and refreshes the snapshot first whenever anything may have changed the
// catalog since it was taken (pgwire keeps that count). What a session's own transaction or
// temporary objects change is seen in the live views.

// snapSchema holds the snapshot tables and the views and macros over them.
const snapSchema = Name + ".snap"

// snapshotted are the relations the snapshot holds as tables, in the order they are built
// (each from the snapshot of the ones before it). They read only the database's catalog,
// nothing of the session (its user, search path, variables), and nothing that changes without
// a statement that changes the catalog. Relation sizes and row counts are not among them:
// they change with the data.
var snapshotted = []string{"pg_namespace", "pg_type", "ankaflow_constraints", "ankaflow_indexes", "ankaflow_relations",
	"pg_attribute", "pg_attrdef", "pg_class", "pg_constraint", "pg_index"}

// snapshotBases are the DuckDB catalog functions the snapshotted relations read more than
// once: a snapshot reads each once, into a table of its own (ankaflow_base_NAME) holding the
// rows of the default and temporary databases, and builds the relations from those.
var snapshotBases = []string{"duckdb_columns", "duckdb_tables"}

func baseTable(fn string) string { return sq("ankaflow_base_" + fn) }

// readBases points a snapshotted relation's body at the snapshot's copies of snapshotBases.
func readBases(body string) string {
	for _, fn := range snapshotBases {
		body = strings.ReplaceAll(body, fn+"()", baseTable(fn))
	}
	return body
}

// baseStatements (re)create the snapshot's copies of snapshotBases.
func baseStatements(verb string) []string {
	var out []string
	for _, fn := range snapshotBases {
		out = append(out, verb+" "+baseTable(fn)+" AS SELECT * FROM "+fn+"() WHERE database_name IN (current_database(), 'temp')")
	}
	return out
}

// sq qualifies a name in the snapshot schema.
func sq(name string) string { return snapSchema + "." + name }

var (
	snapOnce  sync.Once
	snapObjs  []object        // the snapshot's objects, in dependency order (tables' bodies build them)
	snapNames map[string]bool // the objects that have a snapshot version
)

// snapshotObjects returns the objects of the snapshot schema: a table for each snapshotted
// relation and a copy of every view and macro that reads one of them, directly or not.
func snapshotObjects() ([]object, map[string]bool) {
	snapOnce.Do(func() {
		snapNames = map[string]bool{}
		isTable := map[string]bool{}
		for _, n := range snapshotted {
			isTable[n] = true
		}
		byName := map[string]object{}
		for _, o := range objects() {
			byName[o.name] = o
		}
		var tables []object
		for _, n := range snapshotted {
			o, ok := byName[n]
			if !ok || o.macro || o.table {
				panic("catalog: snapshotted relation " + n + " is not a view")
			}
			snapNames[n] = true
			tables = append(tables, object{name: n, table: true, body: readBases(snapBody(o.body))})
		}
		var rest []object
		for _, o := range objects() { // dependency order: a copy comes after what it reads
			if isTable[o.name] || o.table || !readsSnapshot(o.body) {
				continue
			}
			snapNames[o.name] = true
			rest = append(rest, object{name: o.name, macro: o.macro, body: snapBody(o.body)})
		}
		snapObjs = append(tables, rest...)
	})
	return snapObjs, snapNames
}

// readsSnapshot reports whether a body names an object that has a snapshot version (objects
// come in dependency order, so those it names are known by then).
func readsSnapshot(body string) bool {
	found := false
	eachRef(body, func(name string) {
		if snapNames[name] {
			found = true
		}
	})
	return found
}

// snapBody is body with the names of the objects that have a snapshot version pointed at it.
func snapBody(body string) string {
	var b strings.Builder
	last := 0
	prefix := Name + ".main."
	eachRefAt(body, func(name string, start int) {
		if snapNames[name] {
			b.WriteString(body[last:start])
			b.WriteString(snapSchema + ".")
			last = start + len(prefix)
		}
	})
	b.WriteString(body[last:])
	return b.String()
}

func eachRef(body string, f func(name string)) {
	eachRefAt(body, func(name string, _ int) { f(name) })
}

// eachRefAt calls f with every catalog object name body qualifies (ankaflow_pg.main.NAME) and
// the offset of the qualification.
func eachRefAt(body string, f func(name string, start int)) {
	prefix := Name + ".main."
	for i := 0; ; {
		j := strings.Index(body[i:], prefix)
		if j < 0 {
			return
		}
		start := i + j
		end := start + len(prefix)
		for end < len(body) && isIdentChar(body[end]) {
			end++
		}
		f(body[start+len(prefix):end], start)
		i = end
	}
}

// snapshotStatements create the snapshot schema, its (empty) tables and the copies of the
// views and macros that read them.
func snapshotStatements() []string {
	objs, _ := snapshotObjects()
	out := append([]string{"CREATE SCHEMA IF NOT EXISTS " + snapSchema}, baseStatements("CREATE TABLE IF NOT EXISTS")...)
	for _, o := range objs {
		switch {
		case o.table:
			out = append(out, "CREATE TABLE IF NOT EXISTS "+sq(o.name)+" AS SELECT * FROM ("+o.body+") LIMIT 0")
		case o.macro:
			out = append(out, "CREATE OR REPLACE MACRO "+sq(o.name)+o.body)
		default:
			out = append(out, "CREATE OR REPLACE VIEW "+sq(o.name)+" AS "+o.body)
		}
	}
	return out
}

var refreshMu sync.Mutex

// Refresh takes the snapshot again, in one transaction, from the catalog as ex's session sees
// it. ex must be outside a transaction; the caller says when the snapshot is due (it is taken
// whole whatever changed).
func Refresh(ctx context.Context, ex Execer) error {
	refreshMu.Lock()
	defer refreshMu.Unlock()
	objs, _ := snapshotObjects()
	if _, err := ex.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return err
	}
	for _, s := range baseStatements("CREATE OR REPLACE TABLE") {
		if _, err := ex.ExecContext(ctx, s); err != nil {
			_, _ = ex.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
			return fmt.Errorf("catalog: snapshot: %w", err)
		}
	}
	for _, o := range objs {
		if !o.table {
			continue
		}
		// Replaced rather than emptied: the old table's storage goes with it.
		if _, err := ex.ExecContext(ctx, "CREATE OR REPLACE TABLE "+sq(o.name)+" AS "+o.body); err != nil {
			_, _ = ex.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
			return fmt.Errorf("catalog: snapshot of %s: %w", o.name, err)
		}
	}
	if _, err := ex.ExecContext(ctx, "COMMIT"); err != nil {
		_, _ = ex.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		return err
	}
	return nil
}

// SnapshotQualified returns the name a query reads a relation or function by when it reads
// the snapshot: its snapshot version when it has one, else the live one.
func SnapshotQualified(qualified string) string {
	_, names := snapshotObjects()
	if name, ok := strings.CutPrefix(qualified, Name+".main."); ok && names[name] {
		return sq(name)
	}
	return qualified
}
