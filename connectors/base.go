package connectors

import (
	"context"
	"log/slog"
	"sync"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/ankaflow/ankaflow/engine"
)

// Env is what a run gives the connections of its stages.
type Env struct {
	// DB is the database the run uses.
	DB *engine.DB
	// Variables is the live pipeline variable map (Variable connections read and write it).
	Variables map[string]any
	// Context is the read-only template context.
	Context map[string]any
	// Config is the run-wide connection configuration; a connection's own config overrides it
	// field by field.
	Config Config
	// Logger receives connection logs; secrets must never be logged.
	Logger *slog.Logger
}

// Base is embedded by every connection. It gives the connection its identity and
// environment, and default implementations that report unsupported operations.
type Base struct {
	self    Connection
	kind    *Kind
	name    string
	locator string
	params  map[string]any
	// paramOrder is the written order of params' keys.
	paramOrder []string
	config     Config
	fields     []Field
	query      string
	env        *Env
	origin     string
	session    *engine.Session
	sessionMu  sync.Mutex
}

func (b *Base) base() *Base { return b }

// Init is the hook called after construction; the default does nothing.
func (b *Base) Init(ctx context.Context) error { return nil }

// Tap reports that the connection cannot tap.
func (b *Base) Tap(ctx context.Context, query string) (array.RecordReader, error) {
	return nil, Unsupported(b.self, "tap")
}

// Sink reports that the connection cannot sink.
func (b *Base) Sink(ctx context.Context, rows array.RecordReader) (int64, error) {
	return 0, Unsupported(b.self, "sink")
}

// SQL reports that the connection cannot run statements.
func (b *Base) SQL(ctx context.Context, statement string) (array.RecordReader, error) {
	return nil, Unsupported(b.self, "sql")
}

// ShowSchema reports that the connection cannot describe its data.
func (b *Base) ShowSchema(ctx context.Context) ([]Field, error) {
	return nil, Unsupported(b.self, "show_schema")
}

// Name is the stage name the connection belongs to (and the name SQL knows it by).
func (b *Base) Name() string { return b.name }

// Kind is the connection kind ("Parquet", "CustomConnection", …).
func (b *Base) Kind() string { return b.kind.Name }

// KindLabel names the kind for messages: "Parquet" or "myapp.connectors.database.MySQL".
func (b *Base) KindLabel() string { return b.kind.Label() }

// Locator is the connection's locator as written (after template rendering).
func (b *Base) Locator() string { return b.locator }

// Locate resolves the locator against the connection configuration (see Config.Locate).
// Taps and show_schema use the locator wildcard; sinks do not.
func (b *Base) Locate(useWildcard bool) (string, error) {
	return b.config.Locate(b.locator, useWildcard)
}

// RawParams are the rendered params as given in YAML (the typed struct the constructor
// received is the better way to read them). Treat as read-only.
func (b *Base) RawParams() map[string]any { return b.params }

// Config is the effective connection configuration (run-wide merged with the connection's own).
func (b *Base) Config() Config { return b.config }

// Fields are the declared fields (schema) of the connection, if any.
func (b *Base) Fields() []Field { return b.fields }

// Query is the stage's rendered query ("" when none).
func (b *Base) Query() string { return b.query }

// Origin tells where the connection was defined ("pipeline.yaml:12").
func (b *Base) Origin() string { return b.origin }

// Logger is the run's logger with the stage name attached.
func (b *Base) Logger() *slog.Logger {
	l := slog.Default()
	if b.env != nil && b.env.Logger != nil {
		l = b.env.Logger
	}
	return l.With("stage", b.name)
}

// Variables is the live pipeline variable map.
func (b *Base) Variables() map[string]any {
	if b.env == nil || b.env.Variables == nil {
		return map[string]any{}
	}
	return b.env.Variables
}

// TemplateContext is the run's read-only context.
func (b *Base) TemplateContext() map[string]any {
	if b.env == nil {
		return nil
	}
	return b.env.Context
}

// DB is the DuckDB database of the run.
func (b *Base) DB() *engine.DB {
	if b.env == nil {
		return nil
	}
	return b.env.DB
}

// DuckDB returns a DuckDB session private to this connection, on the run's database, to run
// SQL from inside Tap/Sink/SQL/ShowSchema (the session that called the connection is busy
// running the statement that called it). Tables it creates are visible to every session;
// TEMP objects are not.
func (b *Base) DuckDB(ctx context.Context) (*engine.Session, error) {
	b.sessionMu.Lock()
	defer b.sessionMu.Unlock()
	if b.session != nil {
		return b.session, nil
	}
	db := b.DB()
	if db == nil {
		return nil, Unsupported(b.self, "DuckDB access (no database in this environment)")
	}
	s, err := db.NewSession(ctx)
	if err != nil {
		return nil, err
	}
	b.session = s
	return s, nil
}

// Close releases what Base holds (the private DuckDB session). Connections with resources of
// their own should implement Close, release them, and call Base.Close.
func (b *Base) Close() error {
	b.sessionMu.Lock()
	defer b.sessionMu.Unlock()
	if b.session != nil {
		err := b.session.Close()
		b.session = nil
		return err
	}
	return nil
}
