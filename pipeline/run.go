package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ankaflow/ankaflow/connectors"
	"github.com/ankaflow/ankaflow/engine"
	"github.com/ankaflow/ankaflow/pipeline/template"
)

// Options configure a run (or a plan).
type Options struct {
	// DB is the database to run in (required).
	DB *engine.DB
	// Session runs the pipeline; when nil, a new session is opened and closed at the end.
	Session *engine.Session
	// Variables are the pipeline variables (-v); the run writes into this map.
	Variables map[string]any
	// Context is the read-only template context (-c values, environment).
	Context map[string]any
	// Config is the run-wide connection configuration.
	Config connectors.Config
	// Stdout receives show/show_schema/explain output; Stderr the per-stage progress lines.
	Stdout, Stderr io.Writer
	// Live shows a running indicator for stages that take more than a second (terminals).
	Live bool
	// Logger receives warnings and debug messages (default: slog to Stderr).
	Logger *slog.Logger
	// Template tunes the template engine (time/size bounds, clock).
	Template template.Options
	// Output writes the last stage's data to a file after the run (-o FORMAT PATH).
	Output *Output
	// PersistentDB tells validation that tables may pre-exist (a --db file).
	PersistentDB bool
	// Validated skips validation in Run and Plan: the caller has validated (and reported).
	Validated bool
	// guard, for runs from SQL, refuses to replace objects the pipeline did not create.
	guard *objectGuard
}

// Output is `-o FORMAT PATH`.
type Output struct {
	Format string // csv, parquet, json
	Path   string
}

// StageResult reports one executed (or skipped, or failed) stage.
type StageResult struct {
	Name    string
	Kind    string
	Status  string // ok, skipped, failed, continued (failed with on_error: continue)
	Rows    int64
	HasRows bool // false for views and loops
	Elapsed time.Duration
	Depth   int
	Err     error
}

// Result of a run.
type Result struct {
	Stages []StageResult
	// Last is the final "previous stage": the data `-o` writes.
	Last      string
	Variables map[string]any
}

// StageError is a stage failure; its message names the stage and its place in the file.
type StageError struct {
	Stage *Stage
	Err   error
}

func (e *StageError) Error() string {
	return e.Stage.Label() + ": " + clipTo(e.Err.Error(), maxMessageText)
}
func (e *StageError) Unwrap() error { return e.Err }

// Runner walks a pipeline's stages, renders each just before it runs, lowers it into a block
// and either executes the block (run) or prints it (plan).
type Runner struct {
	opts     Options
	planOnly bool
	session  *engine.Session
	env      *connectors.Env
	tmpl     *template.Engine
	vars     map[string]any
	ctxMap   map[string]any
	out      io.Writer
	print    *printer
	log      *slog.Logger
	level    *slog.LevelVar
	results  []StageResult
	conns    map[connectors.Connection]bool // built but not (yet) owned by the session catalog
	warnings []string                       // printed after the running stage's progress line
}

func newRunner(ctx context.Context, opts Options, planOnly bool) (*Runner, error) {
	if opts.DB == nil {
		return nil, errors.New("pipeline: Options.DB is required")
	}
	if opts.Variables == nil {
		opts.Variables = map[string]any{}
	}
	if opts.Stdout == nil {
		opts.Stdout = io.Discard
	}
	if opts.Stderr == nil {
		opts.Stderr = io.Discard
	}
	r := &Runner{opts: opts, planOnly: planOnly, vars: opts.Variables, ctxMap: opts.Context, out: opts.Stdout, level: new(slog.LevelVar), conns: map[connectors.Connection]bool{}}
	r.log = opts.Logger
	if r.log == nil {
		r.log = slog.New(&humanHandler{w: opts.Stderr, level: r.level})
	}
	topts := opts.Template
	if topts.Warn == nil {
		topts.Warn = func(msg string) { r.log.Warn(msg) }
	}
	r.tmpl = template.New(topts)
	r.session = opts.Session
	if r.session == nil {
		s, err := opts.DB.NewSession(ctx)
		if err != nil {
			return nil, err
		}
		r.session = s
	}
	r.env = &connectors.Env{DB: opts.DB, Variables: r.vars, Context: r.ctxMap, Config: opts.Config, Logger: r.log}
	return r, nil
}

func (r *Runner) close() {
	if r.opts.Session == nil && r.session != nil {
		r.session.Close()
	}
}

func (r *Runner) scope() *template.Scope {
	return &template.Scope{Context: r.ctxMap, Variables: r.vars}
}

// track remembers a connection the run built, to close it at the end unless the session
// catalog has taken it over.
func (r *Runner) track(c connectors.Connection) { r.conns[c] = true }

// Run validates and runs a pipeline.
func Run(ctx context.Context, p *Pipeline, opts Options) (*Result, error) {
	if err := validateFirst(ctx, p, opts); err != nil {
		return nil, err
	}
	r, err := newRunner(ctx, opts, false)
	if err != nil {
		return nil, err
	}
	defer r.close()
	res := &Result{Variables: r.vars}
	err = r.runPipeline(ctx, p, res)
	res.Stages = r.results
	return res, err
}

// validateFirst refuses to start a pipeline that does not validate.
func validateFirst(ctx context.Context, p *Pipeline, opts Options) error {
	if opts.Validated {
		return nil
	}
	return Validate(ctx, p, ValidateOptions{Session: opts.Session, PersistentDB: opts.PersistentDB, Config: opts.Config}).Err()
}

// Plan prints the SQL script Run would execute, with control steps as comments.
func Plan(ctx context.Context, p *Pipeline, opts Options, w io.Writer) error {
	if err := validateFirst(ctx, p, opts); err != nil {
		return err
	}
	r, err := newRunner(ctx, opts, true)
	if err != nil {
		return err
	}
	defer r.close()
	r.print = &printer{w: w}
	r.print.line("-- ankaflow plan of %s", p.File)
	r.print.line("-- Loop-free parts run as written in DuckDB; lines starting with '-- ankaflow:' are steps")
	r.print.line("-- that ankaflow itself performs, and '-- | ' lines run once per loop row.")
	r.print.line("")
	return r.runPipeline(ctx, p, &Result{})
}

func (r *Runner) runPipeline(ctx context.Context, p *Pipeline, res *Result) error {
	defer func() {
		for c := range r.conns {
			connectors.Close(c)
		}
	}()
	if err := r.installMacros(ctx, p); err != nil {
		return err
	}
	last, err := r.runStages(ctx, p.Stages, 0)
	res.Last = last
	if err != nil {
		return err
	}
	if r.opts.Output != nil {
		return r.output(ctx, last)
	}
	return nil
}

// runStages runs a list of stages in order and returns the final previous stage.
func (r *Runner) runStages(ctx context.Context, stages []*Stage, depth int) (string, error) {
	prev := ""
	defer r.level.Set(slog.LevelInfo) // log_level is sticky within a run and reset at its end
	for _, st := range stages {
		if st.Kind == KindHeader {
			continue
		}
		if err := ctx.Err(); err != nil {
			return prev, err
		}
		if st.LogLevel != "" {
			r.level.Set(parseLevel(st.LogLevel))
		}
		produced, err := r.runStage(ctx, st, prev, depth)
		switch {
		case err != nil && st.OnError == "continue":
			r.warnf("%s (on_error: continue, the run goes on)", err)
		case err != nil:
			return prev, err
		case produced != "":
			prev = produced
		}
		if st.Throttle > 0 && !r.planOnly {
			select {
			case <-time.After(time.Duration(st.Throttle * float64(time.Second))):
			case <-ctx.Done():
				return prev, ctx.Err()
			}
		}
	}
	return prev, nil
}

func parseLevel(s string) slog.Level {
	switch strings.ToUpper(s) {
	case "DEBUG":
		return slog.LevelDebug
	case "WARNING":
		return slog.LevelWarn
	case "ERROR":
		return slog.LevelError
	}
	return slog.LevelInfo
}

func (r *Runner) runStage(ctx context.Context, st *Stage, prev string, depth int) (string, error) {
	start := time.Now()
	res := StageResult{Name: st.Name, Kind: st.Kind, Depth: depth}
	finish := func(status string, err error) {
		res.Status, res.Err, res.Elapsed = status, err, time.Since(start)
		r.results = append(r.results, res)
		if !r.planOnly {
			r.progressLine(res, st)
		}
	}
	fail := func(err error) (string, error) {
		var se *StageError
		if !errors.As(err, &se) || se.Stage != st {
			err = &StageError{Stage: st, Err: err}
		}
		status := "failed"
		if st.OnError == "continue" {
			status = "continued"
		}
		finish(status, err)
		return "", err
	}

	rs, err := r.render(st)
	if err != nil {
		return fail(err)
	}
	if rs.Skip {
		if r.planOnly {
			r.print.skipped(st, "skip_if is true")
		}
		finish("skipped", nil)
		return "", nil
	}
	b, err := r.lower(ctx, st, rs, prev)
	if err != nil {
		return fail(err)
	}
	if r.planOnly {
		r.print.block(b)
		for _, s := range b.Steps {
			switch s.Kind {
			case StepNested:
				if _, err := r.runStages(ctx, s.Stages, depth+1); err != nil {
					return "", err
				}
			case StepLoop:
				r.print.comment++
				saved, had := r.vars["loop_control"]
				delete(r.vars, "loop_control")
				_, err := r.runStages(ctx, s.Stages, depth+1)
				if had {
					r.vars["loop_control"] = saved
				}
				r.print.comment--
				if err != nil {
					return "", err
				}
			}
		}
		finish("planned", nil)
		return b.Produces, nil
	}
	if g := r.opts.guard; g != nil {
		if name := stageObject(b); name != "" {
			if err := g.check(ctx, st.Name, name); err != nil {
				return fail(err)
			}
		}
	}
	stop := r.live(st)
	var shown bytes.Buffer // previews follow the stage's progress line
	rows, hasRows, err := r.exec(ctx, b, depth, &shown)
	stop()
	res.Rows, res.HasRows = rows, hasRows
	if err != nil {
		return fail(err)
	}
	finish("ok", nil)
	for _, w := range r.warnings {
		fmt.Fprintln(r.opts.Stderr, w)
	}
	r.warnings = r.warnings[:0]
	r.out.Write(shown.Bytes())
	return b.Produces, nil
}

// exec runs a block's steps.
func (r *Runner) exec(ctx context.Context, b *Block, depth int, out io.Writer) (rows int64, counted bool, err error) {
	var created []string // directories this block made, removed again if the block fails
	defer func() {
		if err != nil {
			for _, s := range b.Steps {
				switch s.Kind {
				case StepRejects:
					// A failed tap's recorded rows must not count for the next tap.
					r.session.Exec(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS temp."+rejectsTable+"; DROP TABLE IF EXISTS temp."+rejectsScanTable)
				case StepSinkEnd:
					connectors.AbortSink(s.Path)
				}
			}
			for i := len(created) - 1; i >= 0; i-- {
				os.Remove(created[i]) // only succeeds while still empty
			}
		}
	}()
	for _, s := range b.Steps {
		switch s.Kind {
		case StepSQL:
			r.log.Debug(s.SQL, "stage", b.Stage.Name)
			var n int64
			var handled bool
			var err error
			if s.Staged {
				n, handled, err = r.staged(ctx, b, s)
			}
			if !handled && err == nil {
				n, err = r.session.Exec(ctx, s.SQL)
			}
			if err != nil {
				return rows, counted, err
			}
			if s.Count {
				rows, counted = n, true
				if b.Produces != "" && strings.HasPrefix(s.SQL, "CREATE OR REPLACE TABLE ") {
					// DuckDB reports no row count for CREATE TABLE AS; the progress line
					// counts the new table instead (a metadata-speed count(*) in DuckDB).
					if err := r.session.QueryRowContext(ctx, "SELECT count(*) FROM "+q(b.Produces)).Scan(&rows); err != nil {
						return rows, counted, err
					}
				}
			}
		case StepAppend:
			r.log.Debug(s.SQL, "stage", b.Stage.Name)
			n, err := appendRows(ctx, r.session, s.Target, s.SQL)
			if err != nil {
				return rows, counted, err
			}
			rows, counted = n, true
		case StepSinkCreate:
			r.log.Debug(s.SQL, "stage", b.Stage.Name)
			if err := runSinkCreate(ctx, r.session, s.Target, s.SQL); err != nil {
				return rows, counted, err
			}
		case StepRegister:
			// From here the session's catalog owns the connection (it closes it when it is
			// replaced, e.g. by the next loop iteration's, or when the session ends).
			r.opts.DB.Catalog().Put(r.session.ID(), connectors.CatalogEntry(s.Conn))
			delete(r.conns, s.Conn)
		case StepSinkStart, StepSinkEnd:
			r.log.Debug(s.SQL, "stage", b.Stage.Name)
			if _, err := r.session.Exec(ctx, s.SQL); err != nil {
				return rows, counted, err
			}
		case StepRejects:
			w, err := r.countRejects(ctx, b.Stage)
			if err != nil {
				return rows, counted, err
			}
			if w != "" {
				r.warnings = append(r.warnings, w)
			}
		case StepMkdir:
			made, err := mkdirAll(s.Path)
			created = append(created, made...)
			if err != nil {
				return rows, counted, fmt.Errorf("create directory for sink: %w", err)
			}
		case StepNested:
			if _, err := r.runStages(ctx, s.Stages, depth+1); err != nil {
				return rows, counted, err
			}
		case StepLoop:
			n, err := r.loop(ctx, s, depth)
			if err != nil {
				return rows, counted, err
			}
			rows, counted = n, true
		case StepShow:
			if err := showRows(ctx, out, r.session, s.Target, s.Rows); err != nil {
				return rows, counted, fmt.Errorf("show: %w", err)
			}
		case StepShowSchema:
			if err := showSchema(ctx, out, r.session, s.Conn, s.Target); err != nil {
				r.log.Warn("cannot show schema", "stage", b.Stage.Name, "error", err.Error())
			}
		case StepExplain:
			if err := explain(ctx, out, r.session, b.Stage.Name, s.SQL); err != nil {
				return rows, counted, fmt.Errorf("explain: %w", err)
			}
		}
	}
	return rows, counted, nil
}

// loop runs nested stages once per row of a table, with the row in variables.loop_control.
// Inside a nested loop the enclosing row is variables.loop_parent; both are restored when the
// loop ends, so an outer loop's row survives an inner loop (AnkaFlow lost it).
func (r *Runner) loop(ctx context.Context, s Step, depth int) (int64, error) {
	recs, _, err := readRows(ctx, r.session, "SELECT * FROM "+q(s.Target), -1)
	if err != nil {
		return 0, err
	}
	savedCtl, hadCtl := r.vars["loop_control"]
	savedParent, hadParent := r.vars["loop_parent"]
	defer func() {
		restore(r.vars, "loop_control", savedCtl, hadCtl)
		restore(r.vars, "loop_parent", savedParent, hadParent)
	}()
	for i, rec := range recs {
		if hadCtl {
			r.vars["loop_parent"] = savedCtl
		}
		r.vars["loop_control"] = rec
		if _, err := r.runStages(ctx, s.Stages, depth+1); err != nil {
			return int64(i), fmt.Errorf("iteration %d of %d (loop_control: %s): %w", i+1, len(recs), describeRow(rec), err)
		}
	}
	return int64(len(recs)), nil
}

func restore(m map[string]any, k string, v any, had bool) {
	if had {
		m[k] = v
	} else {
		delete(m, k)
	}
}

// Environment is the process environment as a template value (context.env).
func Environment() map[string]any {
	env := map[string]any{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	return env
}

// mkdirAll creates dir and its missing parents, returning the directories it created (outermost
// first).
func mkdirAll(dir string) ([]string, error) {
	var missing []string
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			break
		}
		missing = append([]string{d}, missing...)
		if filepath.Dir(d) == d {
			break
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return missing, nil
}

// staged runs a step through its connection (see Step.Staged); handled is false when the
// connection left it to the step's SQL.
func (r *Runner) staged(ctx context.Context, b *Block, s Step) (n int64, handled bool, err error) {
	if c, ok := s.Conn.(connectors.StagedSinker); ok && b.Stage.Kind == KindSink {
		n, err = c.SinkStaged(ctx, r.session, s.Source)
		return n, true, err
	}
	if c, ok := s.Conn.(connectors.StagedTapper); ok && b.Stage.Kind == KindTap {
		return c.TapStaged(ctx, r.session, s.Source, func(sel string) (int64, error) {
			return r.session.Exec(ctx, "CREATE OR REPLACE TABLE "+q(b.Stage.Name)+" AS "+sel)
		})
	}
	return 0, false, nil
}
