package pipeline

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/ankaflow/ankaflow/connectors"
	"github.com/ankaflow/ankaflow/engine"
	"github.com/ankaflow/ankaflow/engine/sqlast"
	"github.com/ankaflow/ankaflow/pipeline/template"
)

// Block is one stage lowered: the SQL it runs and the control steps SQL cannot express. `plan`
// prints blocks; `run` executes them.
type Block struct {
	Stage *Stage
	// Notes describe control that is not SQL (skip_if, on_error, throttle…), printed as comments.
	Notes []string
	Steps []Step
	// Produces is the stage that becomes "previous" ("" leaves it unchanged).
	Produces string
}

// StepKind says what a step does.
type StepKind int

// Step kinds.
const (
	StepSQL        StepKind = iota // run SQL
	StepRegister                   // register a connection in the session, for tap()/COPY/connection_sql()
	StepMkdir                      // create the parent directory of a sink target
	StepNested                     // run nested stages once
	StepLoop                       // run nested stages once per row of a table
	StepShow                       // print rows of a table
	StepShowSchema                 // print the columns of a table or connection
	StepExplain                    // print DuckDB's plan of a query
	StepSinkCreate                 // run a sink's CREATE statement, which must create the stage's object
	StepAppend                     // create a tap's table, or insert into it when it exists (mode: append)
	StepRejects                    // count (and warn of) the CSV rows a tap skipped
	StepSinkStart                  // SQL removes the temporary file an earlier, killed sink to Path left
	StepSinkEnd                    // SQL renames the COPY's temporary file onto Path (removed on failure)
)

// Step is one action of a block.
type Step struct {
	Kind StepKind
	SQL  string
	// Count marks the SQL whose affected-row count is the stage's row count.
	Count  bool
	Conn   connectors.Connection
	Path   string
	Target string // table shown/described, or the loop's source table
	Rows   int    // rows to show (-1: all)
	// Staged marks a StepSQL that the run performs through Conn instead (a
	// connectors.StagedSinker or StagedTapper); Source is the sink's rows query or the tap query.
	Staged bool
	Source string
	Stages []*Stage
}

// q quotes an identifier (every stage name that reaches SQL goes through it).
func q(name string) string { return engine.QuoteIdent(name) }

func trimStmt(s string) string { return strings.TrimRight(strings.TrimSpace(s), "; \t\r\n") }

// connection builds the stage's connection. At plan time custom connections are not constructed
// (their Init may connect to a server); they are lowered to the SQL functions anyway.
func (r *Runner) connection(ctx context.Context, st *Stage, rs *renderedStage) (connectors.Connection, *connectors.Kind, error) {
	k, err := connectors.Resolve(*rs.Conn)
	if err != nil {
		return nil, nil, err
	}
	if r.planOnly && (k.IsCustom() || len(rs.Deferred) > 0) {
		return nil, k, nil
	}
	c, err := connectors.New(ctx, *rs.Conn, r.env)
	if err != nil {
		return nil, k, err
	}
	r.track(c)
	return c, k, nil
}

// lower turns a rendered stage into a block. prev is the previous stage ("" when none).
func (r *Runner) lower(ctx context.Context, st *Stage, rs *renderedStage, prev string) (*Block, error) {
	b := &Block{Stage: st}
	name := q(st.Name)
	addViews := func(selectSQL string) {
		if st.Explain && selectSQL != "" {
			b.Steps = append(b.Steps, Step{Kind: StepExplain, SQL: selectSQL})
		}
	}
	switch st.Kind {
	case KindTap:
		c, k, err := r.connection(ctx, st, rs)
		if err != nil {
			return nil, err
		}
		// Every connection is registered, so tap('Name') and show_schema('Name') work in the
		// session after the run too; file taps still read with plain SQL.
		b.Steps = append(b.Steps, Step{Kind: StepRegister, Conn: c, Target: st.Name, Path: k.Label()})
		var sel string
		rc, countRejects := c.(connectors.RejectCounter)
		countRejects = countRejects && rc.CountRejects(rejectsTable, rejectsScanTable)
		if low, ok := c.(connectors.SQLLowerer); ok {
			if sel, err = low.TapSQL(ctx, r.session, rs.Query); err != nil {
				return nil, err
			}
		} else {
			sel = "SELECT * FROM tap(" + engine.QuoteLiteral(st.Name)
			if rs.HasQuery {
				sel += ", " + engine.QuoteLiteral(rs.Query)
			}
			sel += ")"
		}
		if st.Mode == ModeAppend {
			b.Steps = append(b.Steps, Step{Kind: StepAppend, SQL: sel, Target: st.Name, Count: true})
		} else {
			step := Step{Kind: StepSQL, SQL: "CREATE OR REPLACE TABLE " + name + " AS " + sel, Count: true}
			if _, staged := c.(connectors.StagedTapper); staged {
				// The plan shows the statement; the run lets the connection build the table's
				// SELECT (see connectors.StagedTapper).
				step.Conn, step.Staged, step.Source = c, true, rs.Query
			}
			b.Steps = append(b.Steps, step)
		}
		if countRejects {
			b.Steps = append(b.Steps, Step{Kind: StepRejects, Target: st.Name})
		}
		b.Produces = st.Name
		if st.ShowSchema {
			b.Steps = append(b.Steps, Step{Kind: StepShowSchema, Conn: c, Target: st.Name})
		}
		addViews("SELECT * FROM " + name)
	case KindTransform:
		b.Steps = append(b.Steps, Step{Kind: StepSQL, SQL: "CREATE OR REPLACE VIEW " + name + " AS " + trimStmt(rs.Query)})
		b.Produces = st.Name
		if st.ShowSchema {
			b.Steps = append(b.Steps, Step{Kind: StepShowSchema, Target: st.Name})
		}
		addViews("SELECT * FROM " + name)
	case KindSink:
		var from string
		source := prev // the stage whose rows are written (connectors.SinkInfo.From)
		if rs.HasQuery {
			source = st.Name
			// Sink with a query: the query's result is the stage's own view, or (AnkaFlow's
			// form) the query creates that object itself; then it is written.
			creates, err := false, error(nil)
			if !r.planOnly || !template.HasTemplate(rs.Query) { // plan: a query known only at run time prints as written
				if creates, err = sinkQueryCreates(ctx, r.session, rs.Query); err != nil {
					return nil, err
				}
			}
			if creates {
				b.Steps = append(b.Steps, Step{Kind: StepSinkCreate, SQL: trimStmt(rs.Query), Target: st.Name})
			} else {
				b.Steps = append(b.Steps, Step{Kind: StepSQL, SQL: "CREATE OR REPLACE VIEW " + name + " AS " + trimStmt(rs.Query)})
			}
			from = "SELECT * FROM " + name
		} else {
			if prev == "" {
				return nil, fmt.Errorf("sink '%s' has nothing to write: no stage before it produced data (add a query, or put a tap or transform before it)", st.Name)
			}
			from = "SELECT * FROM " + q(prev)
		}
		c, k, err := r.connection(ctx, st, rs)
		if err != nil {
			return nil, err
		}
		b.Steps = append(b.Steps, Step{Kind: StepRegister, Conn: c, Target: st.Name, Path: k.Label()})
		if low, ok := c.(connectors.SQLLowerer); ok {
			target, err := low.SinkTarget()
			if err != nil {
				return nil, err
			}
			copySQL, err := low.SinkSQL(from)
			if err != nil {
				return nil, err
			}
			local := !connectors.IsRemote(target)
			if local {
				b.Steps = append(b.Steps, Step{Kind: StepMkdir, Path: filepath.Dir(target)},
					Step{Kind: StepSinkStart, Path: target, SQL: SinkBeginSQL(target)})
			}
			step := Step{Kind: StepSQL, SQL: copySQL, Count: true}
			if _, staged := c.(connectors.StagedSinker); staged && !local {
				// The plan shows the COPY; the run writes the rows of from directly (see
				// connectors.StagedSinker).
				step.Conn, step.Staged, step.Source = c, true, from
			}
			b.Steps = append(b.Steps, step)
			if local {
				b.Steps = append(b.Steps, Step{Kind: StepSinkEnd, Path: target, SQL: SinkCommitSQL(target)})
			}
		} else {
			// USE_TMP_FILE false: the target names a connection, not a file; left to itself DuckDB
			// would rename a temp file over a same-named file in the working directory.
			b.Steps = append(b.Steps, Step{Kind: StepSQL, SQL: "COPY (" + from + ") TO " + engine.QuoteLiteral(st.Name) + " (FORMAT ankaflow, USE_TMP_FILE FALSE, SOURCE " + engine.QuoteLiteral(source) + ")", Count: true})
		}
		addViews(from)
	case KindSQL:
		c, k, err := r.connection(ctx, st, rs)
		if err != nil {
			return nil, err
		}
		b.Steps = append(b.Steps, Step{Kind: StepRegister, Conn: c, Target: st.Name, Path: k.Label()})
		b.Steps = append(b.Steps, Step{Kind: StepSQL, Count: true,
			SQL: "CREATE OR REPLACE TABLE " + name + " AS SELECT * FROM connection_sql(" + engine.QuoteLiteral(st.Name) + ", " + engine.QuoteLiteral(rs.Query) + ")"})
		b.Produces = st.Name
	case KindInternal:
		stmts, err := sqlast.Split(ctx, r.session, rs.Query)
		if err != nil {
			return nil, fmt.Errorf("internal stage '%s': %w", st.Name, err)
		}
		if len(stmts) == 0 {
			return nil, fmt.Errorf("internal stage '%s' has an empty query", st.Name)
		}
		for _, s := range stmts[:len(stmts)-1] {
			b.Steps = append(b.Steps, Step{Kind: StepSQL, SQL: s})
		}
		last := stmts[len(stmts)-1]
		switch leadingKeyword(last) {
		case "SELECT", "WITH", "FROM", "VALUES", "TABLE", "(", "PIVOT", "UNPIVOT":
			// The result becomes the stage's table, whatever `show` says (AnkaFlow kept it only
			// when show was set).
			b.Steps = append(b.Steps, Step{Kind: StepSQL, SQL: "CREATE OR REPLACE TABLE " + name + " AS " + last, Count: true})
			b.Produces = st.Name
		case "SHOW", "DESCRIBE", "DESC", "SUMMARIZE":
			b.Steps = append(b.Steps, Step{Kind: StepSQL, SQL: "CREATE OR REPLACE TABLE " + name + " AS SELECT * FROM (" + last + ")", Count: true})
			b.Produces = st.Name
		default:
			b.Steps = append(b.Steps, Step{Kind: StepSQL, SQL: last, Count: true})
		}
		if b.Produces != "" && st.ShowSchema {
			b.Steps = append(b.Steps, Step{Kind: StepShowSchema, Target: st.Name})
		}
	case KindPipeline:
		if prev == "" {
			b.Steps = append(b.Steps, Step{Kind: StepNested, Stages: st.Stages})
		} else {
			b.Steps = append(b.Steps, Step{Kind: StepLoop, Target: prev, Stages: st.Stages})
		}
	default:
		return nil, fmt.Errorf("unknown stage kind %q", st.RawKind)
	}
	if st.Show != 0 && b.Produces != "" {
		b.Steps = append(b.Steps, Step{Kind: StepShow, Target: b.Produces, Rows: st.Show})
	}
	if st.OnError == "continue" {
		b.Notes = append(b.Notes, "on_error: continue — a failure here is reported as a warning and the run goes on")
	}
	if st.Throttle > 0 {
		b.Notes = append(b.Notes, fmt.Sprintf("throttle: wait %gs after this stage", st.Throttle))
	}
	for _, d := range rs.Deferred {
		b.Notes = append(b.Notes, "rendered at run time: "+d)
	}
	return b, nil
}

// SinkBeginSQL and SinkCommitSQL are the plan's file steps around a local sink's COPY (see
// sqlfuncs/sinkfile.go): remove an earlier run's leftover, then rename the complete file.
func SinkBeginSQL(target string) string {
	return "CALL ankaflow_sink_begin(" + engine.QuoteLiteral(target) + ")"
}

func SinkCommitSQL(target string) string {
	return "CALL ankaflow_sink_commit(" + engine.QuoteLiteral(target) + ")"
}
