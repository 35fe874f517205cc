package mysql_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/connectors"
	"github.com/ankaflow/ankaflow/engine"
	"github.com/ankaflow/ankaflow/examples/mysql"
	"github.com/ankaflow/ankaflow/examples/mysql/mariadbtest"
)

// One MariaDB server for the whole package (starting one takes a second or two); every test
// gets its own database on it.
var shared struct {
	once sync.Once
	srv  *mariadbtest.Server
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.srv != nil {
		if err := shared.srv.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stop MariaDB:", err)
		}
	}
	os.Exit(code)
}

func server(t testing.TB) *mariadbtest.Server {
	t.Helper()
	mariadbtest.Require(t)
	shared.once.Do(func() { shared.srv, shared.err = mariadbtest.New(mariadbtest.Options{}) })
	require.NoError(t, shared.err)
	return shared.srv
}

// fixture is one test's database on the shared server, a DuckDB database, and helpers.
type fixture struct {
	t      *testing.T
	ctx    context.Context
	srv    *mariadbtest.Server
	dbName string
	my     *sql.DB // direct MySQL access as the test user, to set up and check
	duck   *engine.DB
}

// quiet drops connection logs (the sink logs a line per load), which would otherwise break up
// the benchmark result lines.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

var nonIdent = regexp.MustCompile(`[^A-Za-z0-9_]+`)

func newFixture(t *testing.T) *fixture {
	t.Helper()
	srv := server(t)
	name := strings.ToLower(nonIdent.ReplaceAllString(t.Name(), "_"))
	if len(name) > 60 {
		name = name[:60]
	}
	require.NoError(t, srv.CreateDatabase(name))
	my, err := srv.Open(name)
	require.NoError(t, err)
	t.Cleanup(func() { my.Close() })
	ctx := context.Background()
	duck, err := engine.Open(ctx, engine.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { duck.Close() })
	return &fixture{t: t, ctx: ctx, srv: srv, dbName: name, my: my, duck: duck}
}

// params are the connection params for this test's database, plus extra ones.
func (f *fixture) params(extra map[string]any) map[string]any {
	p := f.srv.Params()
	p["database"] = f.dbName
	for k, v := range extra {
		p[k] = v
	}
	return p
}

// conn constructs the connection the way a pipeline stage does.
func (f *fixture) conn(stage string, params map[string]any) *mysql.MySQL {
	f.t.Helper()
	c, err := connectors.New(f.ctx, connectors.Definition{
		Kind: "CustomConnection", Module: mysql.Module, Classname: mysql.Class,
		Params: params, Stage: stage,
	}, &connectors.Env{DB: f.duck, Logger: quiet})
	require.NoError(f.t, err)
	f.t.Cleanup(func() { connectors.Close(c) })
	return c.(*mysql.MySQL)
}

func newConnWithLocator(f *fixture, locator string) (*mysql.MySQL, error) {
	c, err := connectors.New(f.ctx, connectors.Definition{
		Kind: "CustomConnection", Module: mysql.Module, Classname: mysql.Class,
		Params: f.params(nil), Stage: "ByLocator", Locator: locator,
	}, &connectors.Env{DB: f.duck, Logger: quiet})
	if err != nil {
		return nil, err
	}
	f.t.Cleanup(func() { connectors.Close(c) })
	return c.(*mysql.MySQL), nil
}

func (f *fixture) exec(stmts ...string) {
	f.t.Helper()
	for _, s := range stmts {
		_, err := f.my.ExecContext(f.ctx, s)
		require.NoError(f.t, err, s)
	}
}

func (f *fixture) scalar(q string, args ...any) string {
	f.t.Helper()
	var v sql.NullString
	require.NoError(f.t, f.my.QueryRowContext(f.ctx, q, args...).Scan(&v), q)
	if !v.Valid {
		return "NULL"
	}
	return v.String
}

// tables lists the tables of the test database.
func (f *fixture) tables() []string {
	f.t.Helper()
	rows, err := f.my.QueryContext(f.ctx, "SELECT table_name FROM information_schema.tables WHERE table_schema = ? ORDER BY 1", f.dbName)
	require.NoError(f.t, err)
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var n string
		require.NoError(f.t, rows.Scan(&n))
		out = append(out, n)
	}
	return out
}

// duckRows runs a DuckDB query and returns its Arrow stream.
func (f *fixture) duckRows(q string) *engine.Rows {
	f.t.Helper()
	s, err := f.duck.NewSession(f.ctx)
	require.NoError(f.t, err)
	f.t.Cleanup(func() { s.Close() })
	r, err := s.QueryArrow(f.ctx, q)
	require.NoError(f.t, err, q)
	return r
}

// duckRowsOn runs a DuckDB query on a given session.
func (f *fixture) duckRowsOn(s *engine.Session, q string) *engine.Rows {
	f.t.Helper()
	r, err := s.QueryArrow(f.ctx, q)
	require.NoError(f.t, err, q)
	return r
}

// readAll drains a reader into rows of ValueStr strings ("NULL" for nulls), and the number of
// batches it came in.
func readAll(t *testing.T, r array.RecordReader) (rows [][]string, batches int) {
	t.Helper()
	defer r.Release()
	for r.Next() {
		rec := r.RecordBatch()
		batches++
		for i := 0; i < int(rec.NumRows()); i++ {
			row := make([]string, rec.NumCols())
			for j, col := range rec.Columns() {
				row[j] = cell(col, i)
			}
			rows = append(rows, row)
		}
	}
	require.NoError(t, r.Err())
	return rows, batches
}

func cell(a arrow.Array, i int) string {
	if a.IsNull(i) {
		return "NULL"
	}
	// Clone: a string value points into the batch's buffer, which DuckDB frees on release.
	return strings.Clone(a.ValueStr(i))
}

// failingReader passes batches through, then fails (an upstream error mid-stream).
type failingReader struct {
	array.RecordReader
	after, n int
	err      error
}

func (r *failingReader) Next() bool {
	if r.n >= r.after {
		r.err = fmt.Errorf("upstream failed after %d batches", r.n)
		return false
	}
	r.n++
	return r.RecordReader.Next()
}

func (r *failingReader) Err() error {
	if r.err != nil {
		return r.err
	}
	return r.RecordReader.Err()
}
