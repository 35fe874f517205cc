package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ankaflow/ankaflow/engine"
)

// A sink's query comes in two forms, told apart by DuckDB's parser:
//
//   - a query that returns rows (SELECT, VALUES, FROM-first…): ankaflow makes it the stage's
//     view, `CREATE OR REPLACE VIEW "<stage>" AS <query>`, and writes that;
//   - AnkaFlow's form, a statement that creates the object named like the stage
//     (`CREATE [OR REPLACE] [TEMP] VIEW|TABLE "<stage>" AS …`): it runs as written, and the
//     object it created is written.
//
// json_serialize_sql serialises exactly the row-returning statements (SELECT nodes) and answers
// "not implemented" for every other statement it could parse. Which name a CREATE statement
// creates is not in any AST DuckDB exposes, so it is read from DuckDB's catalog: the statement
// runs in a transaction, and unless it created (or, with IF NOT EXISTS, left) the stage's
// view or table in the main schema, the transaction is rolled back and the stage fails with the
// name it must create. Nothing is left behind and nothing is written. Validation runs the same
// check before the run, in a scratch database (sink_create_check.go).

// sinkQueryCreates reports whether a sink query is a statement to run as written (true) rather
// than a query whose rows become the stage's view (false). Syntax errors come back as DuckDB's.
func sinkQueryCreates(ctx context.Context, s *engine.Session, query string) (bool, error) {
	var js string
	if err := s.QueryRowContext(ctx, "SELECT json_serialize_sql(?::VARCHAR)::VARCHAR", query).Scan(&js); err != nil {
		return false, err
	}
	var ast struct {
		Error      bool   `json:"error"`
		ErrorType  string `json:"error_type"`
		ErrorMsg   string `json:"error_message"`
		Statements []any  `json:"statements"`
	}
	if err := json.Unmarshal([]byte(js), &ast); err != nil {
		return false, fmt.Errorf("cannot inspect the sink query: %w", err)
	}
	switch {
	case !ast.Error && len(ast.Statements) == 1:
		return false, nil
	case !ast.Error:
		return false, fmt.Errorf("a sink query must be one statement, got %d", len(ast.Statements))
	case ast.ErrorType != "not implemented":
		return false, fmt.Errorf("sink query: %s error: %s", ast.ErrorType, ast.ErrorMsg)
	}
	// Parsed, but not a SELECT: count the statements with DuckDB's splitter.
	st, err := s.ExtractStatements(ctx, query)
	if err != nil {
		return false, err
	}
	defer st.Close()
	if st.Len() != 1 {
		return false, fmt.Errorf("a sink query must be one statement, got %d", st.Len())
	}
	return true, nil
}

// sinkQueryError is a verdict on a sink's statement (it is not a query returning rows and does
// not create the stage's object), as opposed to a failure to run it. Validation reports it
// before the run when the statement can be tried in a scratch database (sink_create_check.go).
type sinkQueryError struct{ msg string }

func (e *sinkQueryError) Error() string { return e.msg }

// sinkCreateHint says which statement a sink with a CREATE query must run.
func sinkCreateHint(stage string) string {
	return fmt.Sprintf("a sink's query either returns rows (SELECT …) or creates the object named like the stage: CREATE OR REPLACE VIEW %s AS SELECT …", engine.QuoteIdent(stage))
}

// catalogObject is a view or table in DuckDB's catalog.
type catalogObject struct {
	Database, Schema, Name, Type string
	OID                          int64
}

func (o catalogObject) String() string {
	return fmt.Sprintf("%s %s", strings.ToLower(o.Type), engine.QuoteIdent(o.Name))
}

// catalogObjects lists the user views and tables the session can see.
func catalogObjects(ctx context.Context, s *engine.Session) (map[int64]catalogObject, error) {
	rows, err := s.QueryContext(ctx, `
		SELECT database_name, schema_name, view_name, 'VIEW', view_oid FROM duckdb_views() WHERE NOT internal
		UNION ALL
		SELECT database_name, schema_name, table_name, 'TABLE', table_oid FROM duckdb_tables() WHERE NOT internal`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]catalogObject{}
	for rows.Next() {
		var o catalogObject
		if err := rows.Scan(&o.Database, &o.Schema, &o.Name, &o.Type, &o.OID); err != nil {
			return nil, err
		}
		out[o.OID] = o
	}
	return out, rows.Err()
}

// runSinkCreate runs a sink's CREATE statement and checks, in DuckDB's catalog, that it created
// the object named like the stage (see the comment at the top of this file).
func runSinkCreate(ctx context.Context, s *engine.Session, stage, stmt string) error {
	p, err := s.Prepare(ctx, stmt)
	if err != nil {
		return err
	}
	typ := p.StatementType()
	p.Close()
	if typ != engine.StatementCreate {
		return &sinkQueryError{notCreateMsg(stage)}
	}
	if _, err := s.Exec(ctx, "BEGIN TRANSACTION"); err != nil {
		return err
	}
	done := false
	defer func() {
		if !done {
			s.Exec(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()
	before, err := catalogObjects(ctx, s)
	if err != nil {
		return err
	}
	if _, err := s.Exec(ctx, stmt); err != nil {
		return err
	}
	after, err := catalogObjects(ctx, s)
	if err != nil {
		return err
	}
	var created []catalogObject
	stageExists := false
	for oid, o := range after {
		isStage := strings.EqualFold(o.Name, stage) && o.Schema == "main"
		stageExists = stageExists || isStage
		if _, old := before[oid]; !old {
			created = append(created, o)
		}
	}
	ok := stageExists
	for _, o := range created {
		if !strings.EqualFold(o.Name, stage) || o.Schema != "main" {
			ok = false
		}
	}
	if !ok {
		what := "creates nothing named " + engine.QuoteIdent(stage)
		if len(created) > 0 {
			names := make([]string, len(created))
			for i, o := range created {
				names[i] = o.String()
				if o.Schema != "main" {
					names[i] += " in schema " + engine.QuoteIdent(o.Schema)
				}
			}
			what = "creates " + strings.Join(names, ", ")
		}
		return &sinkQueryError{fmt.Sprintf("the sink query %s, not the stage's own %s (nothing was written); %s", what, engine.QuoteIdent(stage), sinkCreateHint(stage))}
	}
	if _, err := s.Exec(ctx, "COMMIT"); err != nil {
		return err
	}
	done = true
	return nil
}

// notCreateMsg is the error of a sink statement that neither returns rows nor creates anything.
func notCreateMsg(stage string) string {
	return "the sink query is neither a query returning rows nor a CREATE statement: " + sinkCreateHint(stage)
}

// checkSinkQuery reports a sink query DuckDB cannot parse, one of several statements, and a
// statement that is neither a query nor a CREATE (when DuckDB can bind it here). A statement
// that may create something is tried later in a scratch database (sink_create_check.go), which
// tells which name it creates.
func (v *validator) checkSinkQuery(s *Stage, query string) {
	if v.opts.Session == nil || strings.TrimSpace(query) == "" || hasTemplate(query) {
		return
	}
	creates, err := sinkQueryCreates(v.ctx, v.opts.Session, query)
	if err != nil {
		v.probs.add(s.At("query"), s.Name, err.Error())
		return
	}
	if !creates {
		return
	}
	p, err := v.opts.Session.Prepare(v.ctx, query)
	if err == nil {
		typ := p.StatementType()
		p.Close()
		if typ != engine.StatementCreate {
			v.probs.add(s.At("query"), s.Name, notCreateMsg(s.Name))
			return
		}
	} // else: it typically reads stages that do not exist before the run
	v.markCreateCheck(s)
}
