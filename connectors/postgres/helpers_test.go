package postgres_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/connectors"
	"github.com/ankaflow/ankaflow/connectors/postgres"
	"github.com/ankaflow/ankaflow/engine"
	"github.com/ankaflow/ankaflow/internal/testpg"
	"github.com/ankaflow/ankaflow/sqlfuncs"
)

// password is the throwaway server's password: tests check it never appears in any output.
const password = "s3cr3t-Pa55word"

// One PostgreSQL cluster per package run (initdb takes a second or two); every test gets its
// own database on it. testpg stops it when the first test that started it ends, so it is
// started from TestMain's own testing.T-like holder instead.
var shared struct {
	once sync.Once
	srv  *testpg.Server
}

type mainTB struct {
	testing.TB
	cleanups []func()
}

func (m *mainTB) Cleanup(f func()) { m.cleanups = append(m.cleanups, f) }

var holder *mainTB

func TestMain(m *testing.M) {
	code := m.Run()
	if holder != nil {
		for i := len(holder.cleanups) - 1; i >= 0; i-- {
			holder.cleanups[i]()
		}
	}
	os.Exit(code)
}

func server(t testing.TB) *testpg.Server {
	t.Helper()
	testpg.NeedBinary(t, "initdb")
	shared.once.Do(func() {
		holder = &mainTB{TB: t}
		shared.srv = testpg.Start(holder, testpg.Options{Password: password, Settings: map[string]string{"autovacuum": "off"}})
	})
	require.NotNil(t, shared.srv, "PostgreSQL did not start")
	return shared.srv
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

var nonIdent = regexp.MustCompile(`[^a-z0-9_]+`)

// fixture is one test's database, a direct pgx connection to it, and a DuckDB database.
type fixture struct {
	t    testing.TB
	ctx  context.Context
	srv  *testpg.Server
	db   string
	pg   *pgx.Conn
	duck *engine.DB
	s    *engine.Session
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	srv := server(t)
	ctx := context.Background()
	name := nonIdent.ReplaceAllString(strings.ToLower(t.Name()), "_")
	if len(name) > 60 {
		name = name[:60]
	}
	admin, err := pgx.Connect(ctx, srv.URL(""))
	require.NoError(t, err)
	_, err = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name)
	require.NoError(t, err)
	_, err = admin.Exec(ctx, "CREATE DATABASE "+name)
	require.NoError(t, err)
	admin.Close(ctx)
	pg, err := pgx.Connect(ctx, srv.URL(name))
	require.NoError(t, err)
	t.Cleanup(func() { pg.Close(context.Background()) })
	duck, err := engine.Open(ctx, engine.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { duck.Close() })
	s, err := duck.NewSession(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return &fixture{t: t, ctx: ctx, srv: srv, db: name, pg: pg, duck: duck, s: s}
}

// params are the connection params for this test's database, plus extra ones.
func (f *fixture) params(extra map[string]any) map[string]any {
	p := map[string]any{"host": f.srv.Host, "port": f.srv.Port, "user": f.srv.User, "password": password,
		"database": f.db, "sslmode": "disable"}
	for k, v := range extra {
		p[k] = v
	}
	return p
}

// conn constructs the connection as a pipeline stage does and registers it in the session.
func (f *fixture) conn(stage, locator string, params map[string]any) *postgres.Postgres {
	f.t.Helper()
	c, err := f.newConn(stage, locator, params, "")
	require.NoError(f.t, err)
	return c
}

func (f *fixture) newConn(stage, locator string, params map[string]any, query string) (*postgres.Postgres, error) {
	c, err := connectors.New(f.ctx, connectors.Definition{Kind: postgres.Kind, Stage: stage, Locator: locator,
		Params: params, Query: query}, &connectors.Env{DB: f.duck, Logger: quiet})
	if err != nil {
		return nil, err
	}
	f.t.Cleanup(func() { connectors.Close(c) })
	sqlfuncs.Register(f.s, c)
	return c.(*postgres.Postgres), nil
}

func (f *fixture) exec(stmts ...string) {
	f.t.Helper()
	for _, s := range stmts {
		_, err := f.pg.Exec(f.ctx, s)
		require.NoError(f.t, err, s)
	}
}

// scalar runs a query on PostgreSQL and returns its single value as text.
func (f *fixture) scalar(q string) string {
	f.t.Helper()
	var v *string
	require.NoError(f.t, f.pg.QueryRow(f.ctx, "SELECT ("+q+")::text").Scan(&v), q)
	if v == nil {
		return "NULL"
	}
	return *v
}

// duckExec runs DuckDB SQL in the fixture's session.
func (f *fixture) duckExec(q string) error {
	_, err := f.s.Exec(f.ctx, q)
	return err
}

// duckRows runs a DuckDB query and returns its rows as text.
func (f *fixture) duckRows(q string) [][]string {
	f.t.Helper()
	rows, err := f.s.QueryContext(f.ctx, q)
	require.NoError(f.t, err, q)
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		require.NoError(f.t, rows.Scan(ptrs...))
		row := make([]string, len(cols))
		for i, v := range vals {
			if v == nil {
				row[i] = "NULL"
			} else {
				row[i] = fmt.Sprint(v)
			}
		}
		out = append(out, row)
	}
	require.NoError(f.t, rows.Err())
	return out
}

// checksum is a table's row count and an order-independent digest of its rows.
func (f *fixture) checksum(table string) string {
	f.t.Helper()
	return f.scalar("SELECT count(*) || ':' || coalesce(md5(string_agg(md5(t::text), '' ORDER BY md5(t::text))), '') FROM " + table + " t")
}
