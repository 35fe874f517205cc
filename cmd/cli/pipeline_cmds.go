package cli

import (
	"context"
	_ "embed"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/ankaflow/ankaflow/connectors"
	"github.com/ankaflow/ankaflow/engine"
	"github.com/ankaflow/ankaflow/pipeline"
)

const demoName = "DEMO"

//go:embed demo/demo.yaml
var demoYAML []byte

var runFlags = []flagSpec{
	{names: []string{"-v", "--var"}, arity: 1, repeat: true, meta: "key=value", help: "pipeline variable (variables.key)"},
	{names: []string{"-c", "--context"}, arity: 1, repeat: true, meta: "key=value", help: "template context value (context.key and context.user.key)"},
	{names: []string{"--db"}, arity: 1, meta: "PATH", help: "DuckDB database file (default: in memory)"},
	{names: []string{"--config"}, arity: 1, meta: "FILE", help: "run-wide connection configuration (YAML: local: {bucket, data_prefix, …})"},
	{names: []string{"-o", "--output"}, arity: 2, meta: "FORMAT PATH", help: "write the last stage's data as csv, parquet or json"},
	{names: []string{"--memory-limit"}, arity: 1, meta: "SIZE", help: "DuckDB memory limit: a size (4GB) or a share of physical memory (50%); tables beyond it go to DuckDB's temp directory (default: DuckDB's, 80%)"},
}

// openSession opens a database (in memory for "") and a session on it; closing the database
// closes the session.
func openSession(ctx context.Context, path string, settings map[string]string) (*engine.DB, *engine.Session, error) {
	db, err := engine.Open(ctx, engine.Options{Path: path, Settings: settings})
	if err != nil {
		return nil, nil, err
	}
	s, err := db.NewSession(ctx)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, s, nil
}

// loadChecked loads a pipeline and validates it with DuckDB's parser on s: every problem of
// both passes, sorted by position.
func loadChecked(ctx context.Context, file string, s *engine.Session, persistentDB bool, cfg connectors.Config) (*pipeline.Pipeline, pipeline.Problems) {
	pl, probs := loadPipeline(file)
	if len(pl.Stages) > 0 {
		probs = append(probs, pipeline.Validate(ctx, pl, pipeline.ValidateOptions{Session: s, PersistentDB: persistentDB, Config: cfg})...)
		probs.Sort()
	}
	return pl, probs
}

// loadPipeline loads a pipeline file, or the embedded demo for DEMO.
func loadPipeline(name string) (*pipeline.Pipeline, pipeline.Problems) {
	if strings.EqualFold(name, demoName) {
		return pipeline.Parse("demo.yaml", demoYAML)
	}
	return pipeline.LoadFile(name)
}

// runSetup is what run and plan share: the pipeline, a database, and the run's values.
type runSetup struct {
	p      *pipeline.Pipeline
	db     *engine.DB
	s      *engine.Session
	opts   pipeline.Options
	probs  pipeline.Problems
	dbPath string
}

func (rs *runSetup) close() {
	if rs.s != nil {
		rs.s.Close()
	}
	if rs.db != nil {
		rs.db.Close()
	}
}

func setup(ctx context.Context, p *parsed, io *stdio, allowDB bool) (*runSetup, error) {
	file, err := oneArg(p, "pipeline file (or DEMO)")
	if err != nil {
		return nil, err
	}
	vars, err := keyValues("-v", p.all("-v"))
	if err != nil {
		return nil, err
	}
	user, err := keyValues("-c", p.all("-c"))
	if err != nil {
		return nil, err
	}
	cfg, err := runConfig(p.str("--config"))
	if err != nil {
		return nil, err
	}
	rs := &runSetup{}
	if allowDB {
		rs.dbPath = p.str("--db")
	}
	var settings map[string]string
	if v := p.str("--memory-limit"); v != "" {
		// A run's tables may be larger than memory: DuckDB keeps what exceeds the limit in its
		// temp directory, so the limit bounds the process, not the data.
		limit, err := memoryLimitSetting(v)
		if err != nil {
			return nil, err
		}
		settings = map[string]string{"memory_limit": limit}
	}
	if rs.db, rs.s, err = openSession(ctx, rs.dbPath, settings); err != nil {
		return nil, err
	}
	// Validation sees everything the run will see: DuckDB's parser checks queries.
	rs.p, rs.probs = loadChecked(ctx, file, rs.s, rs.dbPath != "", cfg)
	rs.opts = pipeline.Options{
		DB:           rs.db,
		Session:      rs.s,
		Variables:    vars,
		Context:      buildContext(user),
		Config:       cfg,
		Stdout:       io.out,
		Stderr:       io.err,
		Live:         isTerminal(io.err),
		PersistentDB: rs.dbPath != "",
	}
	if o := p.values["-o"]; len(o) > 0 {
		rs.opts.Output = &pipeline.Output{Format: o[0][0], Path: o[0][1]}
		switch strings.ToLower(o[0][0]) {
		case "csv", "parquet", "json":
		default:
			rs.close()
			return nil, usagef("-o: unsupported output format %q: use csv, parquet or json", o[0][0])
		}
	}
	if err := reportProblems(rs.probs, io); err != nil {
		rs.close()
		return nil, err
	}
	rs.opts.Validated = true
	return rs, nil
}

// registerPipelines loads pipelines and registers their connections: in session s, or for
// every session of the database when s is nil (serve). Stages whose connections cannot be
// rendered before a run (loop_control) are reported and skipped.
func registerPipelines(ctx context.Context, files []string, db *engine.DB, s *engine.Session, opts pipeline.Options, io *stdio, log *slog.Logger) error {
	for _, file := range files {
		check := s
		if check == nil {
			var err error
			if check, err = db.NewSession(ctx); err != nil {
				return err
			}
		}
		pl, probs := loadChecked(ctx, file, check, true, opts.Config)
		if check != s {
			check.Close()
		}
		if err := reportProblems(probs, io); err != nil {
			return err
		}
		opts.DB, opts.Session, opts.Validated = db, s, true
		loaded, err := pipeline.LoadConnections(ctx, pl, opts, s == nil)
		if err != nil {
			return err
		}
		for _, l := range loaded {
			if l.Err != nil {
				log.Warn("connection not loaded", "stage", l.Stage.Name, "origin", l.Stage.Pos.Short(), "error", l.Err.Error())
				continue
			}
			log.Info("connection registered", "name", l.Stage.Name, "origin", l.Stage.Pos.Short())
		}
	}
	return nil
}

// runConfig is the run-wide connection configuration: the environment, overridden by --config.
func runConfig(file string) (connectors.Config, error) {
	cfg, err := connectors.ConfigFromEnv(os.Getenv)
	if err != nil {
		return cfg, usagef("%s", err)
	}
	if file != "" {
		fileCfg, err := pipeline.LoadConfigFile(file)
		if err != nil {
			return cfg, usagef("--config: %s", err)
		}
		cfg = cfg.Merge(fileCfg)
	}
	return cfg, nil
}

// buildContext makes the template context: -c pairs as context.KEY (convenient) and
// context.user.KEY (AnkaFlow's CLI), and the process environment as context.env.
func buildContext(user map[string]any) map[string]any {
	env := pipeline.Environment()
	ctx := map[string]any{}
	for k, v := range user {
		ctx[k] = v
	}
	ctx["user"] = user
	ctx["env"] = env
	return ctx
}

func reportProblems(probs pipeline.Problems, io *stdio) error {
	if len(probs) > 0 {
		fmt.Fprintln(io.err, probs.String())
	}
	if probs.HasErrors() {
		n := len(probs.Errors())
		fmt.Fprintf(io.err, "%d error(s): nothing was run\n", n)
		return &invalid{n}
	}
	return nil
}

func cmdRun(ctx context.Context, args []string, io *stdio) error {
	p, err := parseArgs(args, runFlags)
	if err != nil {
		return err
	}
	rs, err := setup(ctx, p, io, true)
	if err != nil {
		return err
	}
	defer rs.close()
	if _, err := pipeline.Run(ctx, rs.p, rs.opts); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		fmt.Fprintf(io.err, "error: %s\n", err)
		return errReported
	}
	if rs.opts.Output != nil {
		fmt.Fprintf(io.err, "output written to %s as %s\n", rs.opts.Output.Path, strings.ToUpper(rs.opts.Output.Format))
	}
	return nil
}

func cmdPlan(ctx context.Context, args []string, io *stdio) error {
	p, err := parseArgs(args, runFlags)
	if err != nil {
		return err
	}
	rs, err := setup(ctx, p, io, false)
	if err != nil {
		return err
	}
	defer rs.close()
	return pipeline.Plan(ctx, rs.p, rs.opts, io.out)
}

func cmdValidate(ctx context.Context, args []string, io *stdio) error {
	p, err := parseArgs(args, validateFlags)
	if err != nil {
		return err
	}
	file, err := oneArg(p, "pipeline file")
	if err != nil {
		return err
	}
	db, s, err := openSession(ctx, "", nil)
	if err != nil {
		return err
	}
	defer db.Close()
	cfg, _ := runConfig("") // the environment's configuration, as a run without --config has
	pl, probs := loadChecked(ctx, file, s, p.has("--db"), cfg)
	if p.has("--json") {
		fmt.Fprintln(io.out, string(probs.JSON()))
		if probs.HasErrors() {
			return &invalid{len(probs.Errors())}
		}
		return nil
	}
	if len(probs) > 0 {
		fmt.Fprintln(io.out, probs.String())
	}
	if probs.HasErrors() {
		fmt.Fprintf(io.out, "%d error(s)\n", len(probs.Errors()))
		return &invalid{len(probs.Errors())}
	}
	fmt.Fprintf(io.out, "%s: ok\n", pl.File)
	return nil
}

func cmdConnections(args []string, io *stdio) error {
	p, err := parseArgs(args, nil)
	if err != nil {
		return err
	}
	if len(p.args) > 0 {
		return usagef("connections takes no arguments")
	}
	fmt.Fprintln(io.out, "Connection kinds:")
	for _, k := range connectors.Kinds() {
		fmt.Fprintf(io.out, "  %-12s %-28s %s\n", k.Name, "("+k.Ops.String()+")", k.Summary)
	}
	fmt.Fprintln(io.out, "Custom connections (kind: CustomConnection):")
	customs := connectors.CustomKinds()
	if len(customs) == 0 {
		fmt.Fprintln(io.out, "  none compiled into this binary (see docs/custom-connection.md)")
	}
	for _, k := range customs {
		fmt.Fprintf(io.out, "  module: %s  classname: %s  (%s)  %s\n", k.Module, k.Classname, k.Ops, k.Summary)
		for _, pr := range k.Params.Params {
			flags := []string{pr.Type}
			if pr.Required {
				flags = append(flags, "required")
			}
			if pr.Secret {
				flags = append(flags, "secret")
			}
			if pr.Default != "" {
				flags = append(flags, "default "+pr.Default)
			}
			fmt.Fprintf(io.out, "      params.%-16s %s  %s\n", pr.Name, strings.Join(flags, ", "), pr.Doc)
		}
	}
	return nil
}
