// Package engine owns the embedded DuckDB database: opening it, handing out sessions (one DuckDB
// connection each), streaming results as Arrow, and the catalog of connections that SQL
// functions such as tap('Name') resolve against.
package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// Extension adds functions, macros or settings to a database. Packages register extensions in
// their init functions (as database/sql drivers do); Open applies every registered extension.
type Extension struct {
	Name string
	// OnOpen runs once per database, on its first session (register table/COPY functions here:
	// DuckDB keeps them in the database-wide system catalog).
	OnOpen func(ctx context.Context, db *DB, s *Session) error
	// OnSession runs for every new session (per-connection state such as TEMP macros).
	OnSession func(ctx context.Context, s *Session) error
}

var (
	extMu      sync.Mutex
	extensions []Extension
)

// RegisterExtension adds an extension applied by every later Open. Registering the same name
// twice panics: it is a programming error.
func RegisterExtension(e Extension) {
	extMu.Lock()
	defer extMu.Unlock()
	for _, x := range extensions {
		if x.Name == e.Name {
			panic("engine: extension registered twice: " + e.Name)
		}
	}
	extensions = append(extensions, e)
}

func registeredExtensions() []Extension {
	extMu.Lock()
	defer extMu.Unlock()
	return append([]Extension(nil), extensions...)
}

// Options configure Open.
type Options struct {
	// Path of the database file; "" or ":memory:" for an in-memory database.
	Path string
	// Settings are DuckDB configuration options applied when the database is created
	// (for example threads, memory_limit).
	Settings map[string]string
}

// DB is one DuckDB database shared by all sessions (pipeline runs, SQL shells, wire clients).
type DB struct {
	path      string
	connector *duckdb.Connector
	sqldb     *sql.DB
	exts      []Extension
	catalog   *Catalog

	mu       sync.Mutex
	sessions map[uint64]*Session
	opened   bool // OnOpen hooks ran
	closed   bool

	fileKey string // absolute path of a file database, shared by every Open of that file
	refs    int    // Opens not yet closed (file databases)

	functions map[string]bool // table functions registered through RegisterTableFunction
	values    map[string]any  // see Set

	exactMu sync.Mutex
	exact   *Session // see exactSession
}

// Set attaches a database-wide value (layers above the engine keep defaults here that every
// session sees, such as the run-wide connection configuration of `serve --config`).
func (db *DB) Set(key string, v any) {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.values == nil {
		db.values = map[string]any{}
	}
	db.values[key] = v
}

// Get returns a value attached with DB.Set.
func (db *DB) Get(key string) any {
	db.mu.Lock()
	defer db.mu.Unlock()
	return db.values[key]
}

// claimFunction records a table function name; false when it is already taken.
func (db *DB) claimFunction(name string) bool {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.functions == nil {
		db.functions = map[string]bool{}
	}
	if db.functions[strings.ToLower(name)] {
		return false
	}
	db.functions[strings.ToLower(name)] = true
	return true
}

// files holds the open file databases. DuckDB allows one instance per file in a process (and
// duckdb-go hands out the same instance for the same path), so a second Open of a file returns
// the same DB: its functions, sessions and catalog are the instance's.
var files = struct {
	sync.Mutex
	m map[string]*DB
}{m: map[string]*DB{}}

// Open opens (or creates) a database and applies the registered extensions. Opening a file
// that is already open in this process returns the same DB (closed by the last Close); its
// Settings are those of the first Open.
func Open(ctx context.Context, opts Options) (*DB, error) {
	if opts.Path == "" || opts.Path == ":memory:" {
		return open(ctx, opts, "")
	}
	key, err := filepath.Abs(opts.Path)
	if err != nil {
		return nil, fmt.Errorf("open database %q: %w", opts.Path, err)
	}
	files.Lock()
	defer files.Unlock()
	if db := files.m[key]; db != nil {
		db.refs++
		return db, nil
	}
	db, err := open(ctx, opts, key)
	if err != nil {
		return nil, err
	}
	db.refs = 1
	files.m[key] = db
	return db, nil
}

func open(ctx context.Context, opts Options, fileKey string) (*DB, error) {
	dsn := opts.Path
	if dsn == ":memory:" {
		dsn = ""
	}
	if len(opts.Settings) > 0 {
		q := url.Values{}
		keys := make([]string, 0, len(opts.Settings))
		for k := range opts.Settings {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			q.Set(k, opts.Settings[k])
		}
		dsn += "?" + q.Encode()
	}
	connector, err := duckdb.NewConnector(dsn, nil)
	if err != nil {
		return nil, fmt.Errorf("open database %q: %w", opts.Path, err)
	}
	db := &DB{
		path:      opts.Path,
		connector: connector,
		sqldb:     sql.OpenDB(connector),
		exts:      registeredExtensions(),
		sessions:  map[uint64]*Session{},
		fileKey:   fileKey,
	}
	db.catalog = newCatalog()
	// The first session runs the database-wide extension hooks (OnOpen).
	s, err := db.NewSession(ctx)
	if err != nil {
		db.sqldb.Close()
		return nil, err
	}
	s.Close()
	return db, nil
}

// Path is the database file, "" when in memory.
func (db *DB) Path() string { return db.path }

// SQL exposes the database/sql handle (a pool of DuckDB connections with the extensions
// applied). Prefer sessions for anything stateful.
func (db *DB) SQL() *sql.DB { return db.sqldb }

// Catalog is the database-wide connection catalog.
func (db *DB) Catalog() *Catalog { return db.catalog }

// Close closes every session and the database (for a file opened several times, the last
// Close does).
func (db *DB) Close() error {
	if db.fileKey != "" {
		files.Lock()
		db.refs--
		last := db.refs <= 0
		if last && files.m[db.fileKey] == db {
			delete(files.m, db.fileKey)
		}
		files.Unlock()
		if !last {
			return nil
		}
	}
	db.mu.Lock()
	if db.closed {
		db.mu.Unlock()
		return nil
	}
	db.closed = true
	// The bridge's conversion session is one of db.sessions (closed below); forget it so the
	// closed database is not kept reachable.
	bridgeSessions.Lock()
	delete(bridgeSessions.m, db)
	bridgeSessions.Unlock()
	sessions := make([]*Session, 0, len(db.sessions))
	for _, s := range db.sessions {
		sessions = append(sessions, s)
	}
	db.mu.Unlock()
	var errs []error
	for _, s := range sessions {
		errs = append(errs, s.Close())
	}
	errs = append(errs, db.sqldb.Close())
	return errors.Join(errs...)
}

// sessionByID finds the live session behind a DuckDB connection id (table functions and COPY
// targets learn the id of the calling connection from DuckDB's client context).
func (db *DB) sessionByID(id uint64) *Session {
	db.mu.Lock()
	defer db.mu.Unlock()
	return db.sessions[id]
}

// SessionByID returns the session with the given DuckDB connection id, or nil.
func (db *DB) SessionByID(id uint64) *Session { return db.sessionByID(id) }
