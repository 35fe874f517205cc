package pipeline

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/ankaflow/ankaflow/connectors"
	"github.com/ankaflow/ankaflow/engine"
)

// The SQL functions that need the pipeline package: run_pipeline(file) and load_pipeline(file).
func init() {
	engine.RegisterExtension(engine.Extension{
		Name: "pipeline",
		OnOpen: func(ctx context.Context, db *engine.DB, s *engine.Session) error {
			named := map[string]engine.ArgType{"variables": engine.ArgAny, "context": engine.ArgAny}
			runNamed := map[string]engine.ArgType{"variables": engine.ArgAny, "context": engine.ArgAny, "replace": engine.ArgBoolean}
			if err := s.RegisterTableFunction(engine.TableFunction{
				Name: "run_pipeline", Args: []engine.ArgType{engine.ArgVarchar}, Named: runNamed, Bind: runPipelineFunc,
				// The pipeline runs when the query executes, never when it is planned.
				Schema: fixedSchema(stageRowsSchema),
			}); err != nil {
				return err
			}
			return s.RegisterTableFunction(engine.TableFunction{
				Name: "load_pipeline", Args: []engine.ArgType{engine.ArgVarchar}, Named: named, Bind: loadPipelineFunc,
				Schema: fixedSchema(loadedSchema),
			})
		},
	})
}

const configKey = "ankaflow.pipeline.config"

// SetSessionConfig sets the run-wide connection configuration that pipelines run from SQL in
// this session use (run_pipeline, load_pipeline).
func SetSessionConfig(s *engine.Session, cfg connectors.Config) { s.Set(configKey, cfg) }

// SetDefaultConfig sets the run-wide connection configuration for every session of db.
func SetDefaultConfig(db *engine.DB, cfg connectors.Config) { db.Set(configKey, cfg) }

// SessionConfig is the configuration pipelines run from SQL in s use.
func SessionConfig(s *engine.Session) connectors.Config {
	if cfg, ok := s.Get(configKey).(connectors.Config); ok {
		return cfg
	}
	return connectors.Config{}
}

// helperSession opens the session a SQL-called pipeline works on: the calling session is busy
// running the very statement that called us.
func helperSession(ctx context.Context, caller *engine.Session, fn string) (*engine.Session, error) {
	if caller == nil {
		return nil, fmt.Errorf("%s must be called from an ankaflow session (ankaflow sql, serve, or a pipeline)", fn)
	}
	return caller.DB().NewSession(ctx)
}

func sqlArgs(ctx context.Context, caller *engine.Session, fn string, args []any, named map[string]any) (*Pipeline, map[string]any, map[string]any, error) {
	file, _ := args[0].(string)
	if file == "" {
		return nil, nil, nil, fmt.Errorf("%s: give the pipeline file, e.g. %s('pipeline.yaml')", fn, fn)
	}
	vars, err := mapArg(fn, "variables", named["variables"])
	if err != nil {
		return nil, nil, nil, err
	}
	ctxMap, err := mapArg(fn, "context", named["context"])
	if err != nil {
		return nil, nil, nil, err
	}
	if _, ok := ctxMap["env"]; !ok {
		// As on the command line, the process environment is context.env.
		ctxMap["env"] = Environment()
	}
	p, probs := loadForSQL(ctx, caller, fn, file)
	if probs.HasErrors() {
		return nil, nil, nil, probs.Err()
	}
	return p, vars, ctxMap, nil
}

func mapArg(fn, name string, v any) (map[string]any, error) {
	if v == nil {
		return map[string]any{}, nil
	}
	m, ok := connectors.Plain(v).(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: %s must be a struct or map such as {'day': '2024-01-01'}, got %T", fn, name, v)
	}
	return m, nil
}

// runPipelineFunc: SELECT * FROM run_pipeline('p.yaml', variables := {'day': '2024-01-01'}).
// It runs the pipeline on a helper session of the same database (tables are shared), hands
// the pipeline's connections to the calling session (so tap('Stage') works afterwards) and
// returns a row per stage. A failing stage fails the statement, as `ankaflow run` exits 1, and
// its connections are closed with the helper session. The run replaces only the objects the
// pipeline created, unless replace := true (see objectGuard).
func runPipelineFunc(ctx context.Context, caller *engine.Session, args []any, named map[string]any) (array.RecordReader, error) {
	p, vars, ctxMap, err := sqlArgs(ctx, caller, "run_pipeline", args, named)
	if err != nil {
		return nil, err
	}
	replace, _ := named["replace"].(bool)
	s, err := helperSession(ctx, caller, "run_pipeline")
	if err != nil {
		return nil, err
	}
	defer s.Close()
	guard := newObjectGuard(s, p.File, replace)
	res, err := Run(ctx, p, Options{DB: caller.DB(), Session: s, Variables: vars, Context: ctxMap, Config: SessionConfig(caller), guard: guard})
	guard.mark(context.WithoutCancel(ctx))
	if err != nil {
		return nil, caller.NoteError(err)
	}
	caller.DB().Catalog().Move(s.ID(), caller.ID())
	return stageRows(res.Stages), nil
}

// loadPipelineFunc: SELECT * FROM load_pipeline('p.yaml') registers the pipeline's connections
// in the calling session without running anything.
func loadPipelineFunc(ctx context.Context, caller *engine.Session, args []any, named map[string]any) (array.RecordReader, error) {
	p, vars, ctxMap, err := sqlArgs(ctx, caller, "load_pipeline", args, named)
	if err != nil {
		return nil, err
	}
	s, err := helperSession(ctx, caller, "load_pipeline")
	if err != nil {
		return nil, err
	}
	defer s.Close()
	loaded, err := LoadConnections(ctx, p, Options{DB: caller.DB(), Session: s, Variables: vars, Context: ctxMap, Config: SessionConfig(caller)}, false)
	caller.DB().Catalog().Move(s.ID(), caller.ID())
	if err != nil {
		return nil, err
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, loadedSchema)
	defer b.Release()
	for _, l := range loaded {
		b.Field(0).(*array.StringBuilder).Append(l.Stage.Name)
		b.Field(1).(*array.StringBuilder).Append(l.Stage.Kind)
		kind := l.Stage.Conn.Kind
		if l.Conn != nil {
			kind = connectors.KindOf(l.Conn).Label()
		}
		b.Field(2).(*array.StringBuilder).Append(kind)
		if l.Err != nil {
			b.Field(3).(*array.StringBuilder).Append("not loaded")
			b.Field(4).(*array.StringBuilder).Append(l.Err.Error())
		} else {
			b.Field(3).(*array.StringBuilder).Append("loaded")
			b.Field(4).(*array.StringBuilder).AppendNull()
		}
	}
	return oneBatch(b)
}

var (
	loadedSchema = arrow.NewSchema([]arrow.Field{
		{Name: "name", Type: arrow.BinaryTypes.String},
		{Name: "stage_kind", Type: arrow.BinaryTypes.String},
		{Name: "connection_kind", Type: arrow.BinaryTypes.String},
		{Name: "status", Type: arrow.BinaryTypes.String},
		{Name: "note", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	stageRowsSchema = arrow.NewSchema([]arrow.Field{
		{Name: "name", Type: arrow.BinaryTypes.String},
		{Name: "kind", Type: arrow.BinaryTypes.String},
		{Name: "status", Type: arrow.BinaryTypes.String},
		{Name: "rows", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "elapsed_ms", Type: arrow.PrimitiveTypes.Float64},
		{Name: "depth", Type: arrow.PrimitiveTypes.Int64},
		{Name: "error", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
)

func fixedSchema(s *arrow.Schema) func(context.Context, *engine.Session, []any, map[string]any) (*arrow.Schema, error) {
	return func(context.Context, *engine.Session, []any, map[string]any) (*arrow.Schema, error) { return s, nil }
}

func stageRows(stages []StageResult) array.RecordReader {
	b := array.NewRecordBuilder(memory.DefaultAllocator, stageRowsSchema)
	defer b.Release()
	for _, st := range stages {
		b.Field(0).(*array.StringBuilder).Append(st.Name)
		b.Field(1).(*array.StringBuilder).Append(st.Kind)
		b.Field(2).(*array.StringBuilder).Append(st.Status)
		if st.HasRows {
			b.Field(3).(*array.Int64Builder).Append(st.Rows)
		} else {
			b.Field(3).(*array.Int64Builder).AppendNull()
		}
		b.Field(4).(*array.Float64Builder).Append(float64(st.Elapsed.Microseconds()) / 1000)
		b.Field(5).(*array.Int64Builder).Append(int64(st.Depth))
		if st.Err != nil {
			b.Field(6).(*array.StringBuilder).Append(st.Err.Error())
		} else {
			b.Field(6).(*array.StringBuilder).AppendNull()
		}
	}
	r, _ := oneBatch(b)
	return r
}

func oneBatch(b *array.RecordBuilder) (array.RecordReader, error) {
	rec := b.NewRecordBatch()
	defer rec.Release()
	return array.NewRecordReader(rec.Schema(), []arrow.RecordBatch{rec})
}
