package engine

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"unsafe"

	duckdb "github.com/duckdb/duckdb-go/v2"
	"github.com/duckdb/duckdb-go/v2/mapping"
)

// Session is one DuckDB connection with its own transaction state, temporary objects and
// session-scoped connections. A session runs one statement at a time; it is not safe for
// concurrent use, except that Interrupt and Context may be called from any goroutine.
type Session struct {
	db   *DB
	conn *sql.Conn
	raw  mapping.Connection
	id   uint64

	mu     sync.Mutex
	ctx    context.Context // context of the statement running now, for callbacks into Go
	values map[string]any
	closed bool
}

// NewSession opens a new DuckDB connection on the database and applies the extensions.
func (db *DB) NewSession(ctx context.Context) (*Session, error) {
	conn, err := db.sqldb.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("new session: %w", err)
	}
	raw, err := rawConnection(conn)
	if err != nil {
		conn.Close()
		return nil, err
	}
	id, err := duckdb.ConnId(conn)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("new session: %w", err)
	}
	s := &Session{db: db, conn: conn, raw: raw, id: id, ctx: context.Background(), values: map[string]any{}}
	db.mu.Lock()
	if db.closed {
		db.mu.Unlock()
		conn.Close()
		return nil, fmt.Errorf("new session: database is closed")
	}
	db.sessions[id] = s
	runOpen := !db.opened
	db.opened = true
	db.mu.Unlock()

	if runOpen {
		for _, e := range db.exts {
			if e.OnOpen == nil {
				continue
			}
			if err := e.OnOpen(ctx, db, s); err != nil {
				s.Close()
				return nil, fmt.Errorf("extension %s: %w", e.Name, err)
			}
		}
	}
	for _, e := range db.exts {
		if e.OnSession == nil {
			continue
		}
		if err := e.OnSession(ctx, s); err != nil {
			s.Close()
			return nil, fmt.Errorf("extension %s: %w", e.Name, err)
		}
	}
	return s, nil
}

// rawConnection digs the C connection handle out of duckdb-go's driver connection. duckdb-go
// keeps it unexported, but the C API functions it does not wrap (COPY functions, streaming
// Arrow conversion, table functions fed from Arrow) need it. TestRawConnection guards the
// layout: it fails loudly if a duckdb-go upgrade renames the field.
func rawConnection(c *sql.Conn) (mapping.Connection, error) {
	var out mapping.Connection
	err := c.Raw(func(dc any) error {
		v := reflect.ValueOf(dc)
		if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
			return fmt.Errorf("unexpected driver connection type %T", dc)
		}
		f := v.Elem().FieldByName("conn")
		if !f.IsValid() || f.Type() != reflect.TypeOf(mapping.Connection{}) {
			return fmt.Errorf("duckdb-go driver connection layout changed: no field conn of type mapping.Connection in %T", dc)
		}
		out = *(*mapping.Connection)(unsafe.Pointer(f.UnsafeAddr()))
		return nil
	})
	if err == nil && out.Ptr == nil {
		err = fmt.Errorf("duckdb-go driver connection has no native handle")
	}
	return out, err
}

// DB is the database this session belongs to.
func (s *Session) DB() *DB { return s.db }

// ID is DuckDB's connection id, which DuckDB reports to table functions and COPY targets.
func (s *Session) ID() uint64 { return s.id }

// Raw is the native connection handle, for the C API calls duckdb-go does not wrap.
func (s *Session) Raw() mapping.Connection { return s.raw }

// Conn is the database/sql connection behind the session.
func (s *Session) Conn() *sql.Conn { return s.conn }

// Context returns the context of the statement running now on this session (Background when
// idle). Functions that DuckDB calls back into Go use it to honour cancellation.
func (s *Session) Context() context.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ctx
}

// enter records ctx as the running statement's context; the returned func restores the previous
// one (statements can nest: a table function may run a pipeline that runs statements).
func (s *Session) enter(ctx context.Context) func() {
	s.mu.Lock()
	prev := s.ctx
	s.ctx = ctx
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		s.ctx = prev
		s.mu.Unlock()
	}
}

// Set attaches a value to the session (layers above the engine keep per-session state here,
// for example the pipeline variables a Variable connection reads).
func (s *Session) Set(key string, v any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v == nil {
		delete(s.values, key)
		return
	}
	s.values[key] = v
}

// Get returns a value attached with Set, or else the database's value for key (DB.Set).
func (s *Session) Get(key string) any {
	s.mu.Lock()
	v, ok := s.values[key]
	s.mu.Unlock()
	if ok {
		return v
	}
	return s.db.Get(key)
}

// ExecContext runs one or more statements and returns the driver result of the last one.
// Statements without parameters run through runPending (no busy wait while DuckDB's workers
// run the query).
func (s *Session) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	defer s.enter(ctx)()
	if len(args) == 0 {
		return s.execRaw(ctx, query)
	}
	return s.conn.ExecContext(ctx, query, args...)
}

// Exec runs statements and returns the rows affected by the last one (for CREATE TABLE AS and
// COPY, DuckDB reports the rows written).
func (s *Session) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := s.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, nil
	}
	return n, nil
}

// QueryContext runs a query through database/sql (convenient for small results).
func (s *Session) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	defer s.enter(ctx)()
	return s.conn.QueryContext(ctx, query, args...)
}

// QueryRowContext runs a query expected to return at most one row.
func (s *Session) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	defer s.enter(ctx)()
	return s.conn.QueryRowContext(ctx, query, args...)
}

// Interrupt asks DuckDB to stop the statement running on this session. It is a no-op once
// Close has begun: duckdb_interrupt on a disconnected connection dereferences freed memory and
// aborts the whole process. Holding s.mu across the C call makes interrupt and close mutually
// exclusive, because Close marks the session closed under the same lock before it disconnects.
func (s *Session) Interrupt() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	mapping.Interrupt(s.raw)
}

// Close drops the session's connections and closes the DuckDB connection.
func (s *Session) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	// From here on Interrupt does nothing (see Interrupt); watchers still alive for
	// statements that outlive the session cannot touch the connection being freed.
	s.closed = true
	s.mu.Unlock()
	s.db.catalog.dropSession(s.id)
	s.forgetNotedErrors()
	s.db.mu.Lock()
	delete(s.db.sessions, s.id)
	s.db.mu.Unlock()
	// A session's DuckDB connection dies with it: returned to database/sql's pool, the next
	// session would inherit its temporary objects, settings and any open transaction.
	// ErrBadConn from Raw makes database/sql close the connection instead of pooling it.
	s.conn.Raw(func(any) error { return driver.ErrBadConn })
	if err := s.conn.Close(); err != nil && !errors.Is(err, sql.ErrConnDone) {
		return err
	}
	return nil
}
