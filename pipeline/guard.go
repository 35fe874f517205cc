package pipeline

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/ankaflow/ankaflow/engine"
)

// A pipeline run from SQL (run_pipeline) shares the database with its users, so it never
// silently replaces an object it did not create: before a stage creates (or appends to) the
// table or view named like the stage, objectGuard checks the database. An existing object of
// that name (compared case-insensitively, as DuckDB resolves names) may be replaced only when
//
//   - this run created it (a loop's stage, or two stages of the same name), or
//   - an earlier run of the same pipeline file created it: after a run every object the run
//     created carries the comment "ankaflow pipeline <absolute file>", or
//   - the call says so: run_pipeline('p.yaml', replace := true).
//
// Otherwise the stage fails with an ObjectConflictError naming the object and its kind.

// ownerComment marks the objects a pipeline file created.
func ownerComment(file string) string {
	if abs, err := filepath.Abs(file); err == nil {
		file = abs
	}
	return "ankaflow pipeline " + file
}

// ObjectConflictError: a stage would replace an object its pipeline did not create.
type ObjectConflictError struct {
	Stage, Kind, Schema, Object, Comment string
}

// SQLState is PostgreSQL's duplicate_table (42P07), as CREATE TABLE of an existing name.
func (e *ObjectConflictError) SQLState() string { return "42P07" }

func (e *ObjectConflictError) Error() string {
	owner := "was not created by this pipeline"
	if e.Comment != "" && strings.HasPrefix(e.Comment, "ankaflow pipeline ") {
		owner = "was created by another pipeline (" + strings.TrimPrefix(e.Comment, "ankaflow pipeline ") + ")"
	}
	return fmt.Sprintf("stage '%s' would replace the %s %s.%s, which %s; rename the stage, drop the %s, or run with replace := true",
		e.Stage, e.Kind, engine.QuoteIdent(e.Schema), engine.QuoteIdent(e.Object), owner, e.Kind)
}

// objectGuard implements the rule for one run on session s.
type objectGuard struct {
	s       *engine.Session
	comment string
	replace bool
	created map[string]string // lower-case name → name as created, by this run
}

func newObjectGuard(s *engine.Session, file string, replace bool) *objectGuard {
	return &objectGuard{s: s, comment: ownerComment(file), replace: replace, created: map[string]string{}}
}

// check is called before a stage creates the object named name.
func (g *objectGuard) check(ctx context.Context, stage, name string) error {
	key := strings.ToLower(name)
	if _, ok := g.created[key]; ok || g.replace {
		g.created[key] = name
		return nil
	}
	var kind, schema, object, comment string
	err := g.s.QueryRowContext(ctx, `
		SELECT kind, schema_name, name, coalesce(comment, '') FROM (
			SELECT 'table' AS kind, schema_name, table_name AS name, comment, database_name, temporary FROM duckdb_tables()
			UNION ALL
			SELECT 'view', schema_name, view_name, comment, database_name, temporary FROM duckdb_views() WHERE NOT internal)
		WHERE database_name = current_database() AND schema_name = current_schema() AND NOT temporary
		  AND lower(name) = lower(?)
		LIMIT 1`, name).Scan(&kind, &schema, &object, &comment)
	if err == nil && comment != g.comment {
		return &ObjectConflictError{Stage: stage, Kind: kind, Schema: schema, Object: object, Comment: comment}
	}
	g.created[key] = name
	return nil
}

// mark comments every object this run created as the pipeline's own (those that exist: a
// failed stage may have created nothing).
func (g *objectGuard) mark(ctx context.Context) {
	for _, name := range g.created {
		var kind string
		if err := g.s.QueryRowContext(ctx, `
			SELECT 'TABLE' FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = current_schema() AND lower(table_name) = lower(?1) AND NOT temporary
			UNION ALL
			SELECT 'VIEW' FROM duckdb_views() WHERE database_name = current_database() AND schema_name = current_schema() AND lower(view_name) = lower(?1) AND NOT temporary AND NOT internal
			LIMIT 1`, name).Scan(&kind); err != nil {
			continue
		}
		g.s.Exec(ctx, "COMMENT ON "+kind+" "+engine.QuoteIdent(name)+" IS "+engine.QuoteLiteral(g.comment))
	}
}

// stageObject is the table or view a block creates or appends to, named like its stage, or "".
func stageObject(b *Block) string {
	name := q(b.Stage.Name)
	for _, s := range b.Steps {
		switch {
		case s.Kind == StepAppend:
			return s.Target
		case s.Kind == StepSQL && (strings.HasPrefix(s.SQL, "CREATE OR REPLACE TABLE "+name+" ") ||
			strings.HasPrefix(s.SQL, "CREATE OR REPLACE VIEW "+name+" ")):
			return b.Stage.Name
		}
	}
	return ""
}
