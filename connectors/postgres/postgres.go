// Package postgres is the built-in `kind: Postgres` connection: PostgreSQL tables and queries as
// taps (binary COPY … TO STDOUT decoded straight into Arrow batches), sinks (binary COPY FROM
// STDIN, atomic in every mode), statements (`sql`) and catalog descriptions (`show_schema`).
//
//	connection:
//	  kind: Postgres
//	  locator: public.orders
//	  params: {host: db.internal, user: etl, password: << context.env.PGPASSWORD >>, database: shop}
//
// Anything not set comes from the PG* environment variables and ~/.pgpass, as with libpq.
// Importing the package registers the kind (cmd/ankaflow does). docs/pipelines.md describes
// configuration, modes and the type mapping.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"

	"github.com/ankaflow/ankaflow/connectors"
	"github.com/ankaflow/ankaflow/engine"
)

// Kind is the YAML connection kind.
const Kind = "Postgres"

// Params are the connection's `params`.
type Params struct {
	DSN      string   `param:"dsn,secret" doc:"connection string: a postgres:// URL or key=value pairs (secret: it may hold a password); the fields below are then not allowed, except password"`
	Host     string   `param:"host" doc:"server host, or the directory of its Unix socket (default: PGHOST, then the local socket)"`
	Port     int      `param:"port" doc:"TCP port (default: PGPORT, then 5432)"`
	User     string   `param:"user" doc:"user name (default: PGUSER, then the OS user)"`
	Password string   `param:"password,secret" doc:"password (default: PGPASSWORD, then ~/.pgpass); use a template such as << context.env.PGPASSWORD >>"`
	Database string   `param:"database" doc:"database (default: PGDATABASE, then the user name)"`
	SSLMode  string   `param:"sslmode" doc:"disable, allow, prefer, require, verify-ca or verify-full (default: PGSSLMODE, then prefer)"`
	Schema   string   `param:"schema" doc:"schema searched first (the session's search_path): unqualified table names and queries resolve there, missing tables are created there"`
	Table    string   `param:"table" doc:"table to tap, sink into and describe, optionally schema-qualified (defaults to the connection's locator)"`
	Mode     string   `param:"mode" doc:"sink mode: append (default), replace, truncate or upsert"`
	DataMode string   `param:"data_mode" doc:"AnkaFlow's name for the sink mode: append, overwrite (= replace) or error (fail when the table has rows)"`
	Key      []string `param:"key" doc:"upsert key columns; a primary key or unique index must cover exactly these columns"`
	Create   bool     `param:"create" default:"true" doc:"create a missing sink table from the rows' schema (false: a missing table is an error)"`
}

func init() {
	connectors.Register(Kind, connectors.Spec{
		Summary: "PostgreSQL: tap a table or a pushed-down query with binary COPY, sink atomically (append, replace, truncate, upsert), run statements",
		Ops:     connectors.OpTap | connectors.OpSink | connectors.OpSQL | connectors.OpShowSchema,
	}, func(p Params) connectors.Connection { return &Postgres{p: p} })
}

// Postgres is the connection.
type Postgres struct {
	connectors.Base
	p    Params
	cfg  *pgconn.Config
	mode sinkMode

	mu     sync.Mutex
	idle   []*pgconn.PgConn
	closed bool
}

var _ connectors.Connection = (*Postgres)(nil)

// maxIdle is how many healthy server connections are kept between operations.
const maxIdle = 2

// Init parses the configuration (PG* variables and ~/.pgpass fill what is unset) and checks the
// sink mode. It does not connect: a bad password is reported by the first operation.
func (c *Postgres) Init(ctx context.Context) error {
	mode, err := parseMode(c.p)
	if err != nil {
		return err
	}
	c.mode = mode
	cfg, err := c.parseConfig()
	if err != nil {
		return err
	}
	c.cfg = cfg
	return nil
}

func (c *Postgres) parseConfig() (*pgconn.Config, error) {
	p := c.p
	var conn string
	if p.DSN != "" {
		if p.Host != "" || p.Port != 0 || p.User != "" || p.Database != "" || p.SSLMode != "" {
			return nil, errors.New("params: set either dsn or host/port/user/database/sslmode, not both (password and schema may go with dsn)")
		}
		conn = p.DSN
	} else {
		var kv []string
		add := func(k, v string) {
			if v != "" {
				kv = append(kv, k+"="+kvQuote(v))
			}
		}
		add("host", p.Host)
		if p.Port != 0 {
			if p.Port < 0 || p.Port > 65535 {
				return nil, fmt.Errorf("params.port: %d is not a TCP port (1-65535)", p.Port)
			}
			add("port", strconv.Itoa(p.Port))
		}
		add("user", p.User)
		add("password", p.Password)
		add("dbname", p.Database)
		add("sslmode", p.SSLMode)
		conn = strings.Join(kv, " ")
	}
	cfg, err := pgconn.ParseConfig(conn)
	if err != nil {
		return nil, fmt.Errorf("postgres: invalid connection settings: %s", scrub(parseMessage(err), p.Password, p.DSN))
	}
	if p.DSN != "" && p.Password != "" {
		cfg.Password = p.Password // fallback hosts share it
	}
	if p.Schema != "" {
		cfg.RuntimeParams["search_path"] = quoteIdent(p.Schema)
	}
	if cfg.RuntimeParams["application_name"] == "" {
		cfg.RuntimeParams["application_name"] = "ankaflow"
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 30 * time.Second
	}
	// Cancelling an operation (Ctrl-C, statement_timeout of the wire server) sends PostgreSQL a
	// cancel request, so the query stops on the server too, then gives up on the socket. The
	// default handler only closes the socket, which a busy backend notices late.
	cfg.BuildContextWatcherHandler = func(pc *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: pc, CancelRequestDelay: 0, DeadlineDelay: 2 * time.Second}
	}
	// No read buffer in front of pgproto3: a tap takes the socket over (copyConn), which is only
	// safe when pgconn can tell that nothing is buffered (SyncConn), and reads it in large
	// chunks itself.
	return cfg, nil
}

// parseMessage is pgconn's parse error without the connection string it quotes.
func parseMessage(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "`: "); i >= 0 && strings.HasPrefix(msg, "cannot parse `") {
		msg = "cannot parse the connection string: " + msg[i+3:]
	}
	return msg
}

// scrub removes secrets from a message, as a last line of defence.
func scrub(msg string, secrets ...string) string {
	for _, s := range secrets {
		if len(s) >= 3 {
			msg = strings.ReplaceAll(msg, s, "xxxxx")
		}
	}
	return msg
}

// kvQuote quotes a value of a key=value connection string.
func kvQuote(v string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}

// where names the server in messages: postgres user@host:port/database, never the password.
func (c *Postgres) where() string {
	if c.cfg == nil {
		return "postgres"
	}
	addr := c.cfg.Host
	if !strings.HasPrefix(addr, "/") {
		addr = net.JoinHostPort(c.cfg.Host, strconv.Itoa(int(c.cfg.Port)))
	}
	return fmt.Sprintf("postgres %s@%s/%s", c.cfg.User, addr, c.cfg.Database)
}

// wrap prefixes an error with the server; PostgreSQL's own errors keep their message and
// SQLSTATE (pgconn.PgError prints both).
func (c *Postgres) wrap(err error) error {
	if err == nil {
		return nil
	}
	var cfgPw string
	if c.cfg != nil {
		cfgPw = c.cfg.Password
	}
	if msg := scrub(err.Error(), cfgPw, c.p.Password); msg != err.Error() {
		return fmt.Errorf("%s: %s", c.where(), msg)
	}
	return fmt.Errorf("%s: %w", c.where(), err)
}

// acquire returns an idle server connection or opens one.
func (c *Postgres) acquire(ctx context.Context) (*pgconn.PgConn, error) {
	c.mu.Lock()
	if c.closed || c.cfg == nil {
		c.mu.Unlock()
		return nil, fmt.Errorf("%s: connection is closed", c.where())
	}
	for len(c.idle) > 0 {
		pc := c.idle[len(c.idle)-1]
		c.idle = c.idle[:len(c.idle)-1]
		if !pc.IsClosed() {
			c.mu.Unlock()
			return pc, nil
		}
	}
	c.mu.Unlock()
	pc, err := pgconn.ConnectConfig(ctx, c.cfg)
	if err != nil {
		return nil, c.wrap(err)
	}
	return pc, nil
}

// release returns a connection to the pool when it is healthy: open, idle, outside any
// transaction, and not interrupted (a cancelled operation may leave the protocol mid-way).
// Anything else is closed, so a broken connection is never reused.
func (c *Postgres) release(ctx context.Context, pc *pgconn.PgConn, healthy bool) {
	if pc == nil {
		return
	}
	if healthy && ctx.Err() == nil && !pc.IsClosed() && !pc.IsBusy() && pc.TxStatus() == 'I' {
		c.mu.Lock()
		if !c.closed && len(c.idle) < maxIdle {
			c.idle = append(c.idle, pc)
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
	}
	cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	pc.Close(cctx)
}

// Close closes the pooled server connections and Base's DuckDB session.
func (c *Postgres) Close() error {
	c.mu.Lock()
	idle := c.idle
	c.idle = nil
	c.closed = true
	c.mu.Unlock()
	for _, pc := range idle {
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		pc.Close(cctx)
		cancel()
	}
	return c.Base.Close()
}

// table is params.table, else the locator.
func (c *Postgres) table() string {
	if c.p.Table != "" {
		return c.p.Table
	}
	return c.Locator()
}

func (c *Postgres) needTable(op string) (string, error) {
	t := c.table()
	if t == "" {
		return "", fmt.Errorf("%s: %s needs a table: set the connection's locator (schema.table) or params.table", c.where(), op)
	}
	return t, nil
}

// quoteIdent quotes a PostgreSQL identifier (the same rule as DuckDB's). Every name this
// package writes into SQL goes through it.
var quoteIdent = engine.QuoteIdent

// tableName is a parsed, possibly schema-qualified table name.
type tableName struct{ schema, name string }

func (t tableName) sql() string {
	if t.schema == "" {
		return quoteIdent(t.name)
	}
	return engine.QuoteQualified(t.schema, t.name)
}

func (t tableName) String() string { return t.sql() }

// parseTable asks PostgreSQL to split a table name the way it would (parse_ident: quoted
// parts keep their case and dots, unquoted ones are folded to lower case).
func parseTable(ctx context.Context, pc *pgconn.PgConn, s string) (tableName, error) {
	rows, err := query(ctx, pc, "SELECT unnest(parse_ident($1))", s)
	if err != nil {
		return tableName{}, fmt.Errorf("table name %q: %w", s, err)
	}
	switch len(rows) {
	case 1:
		return tableName{name: rows[0][0]}, nil
	case 2:
		return tableName{schema: rows[0][0], name: rows[1][0]}, nil
	}
	return tableName{}, fmt.Errorf("table name %q: expected table or schema.table", s)
}

// query runs a catalog query with text parameters and returns the rows as strings ("" for NULL
// is not distinguished: catalog queries here never need it).
func query(ctx context.Context, pc *pgconn.PgConn, sql string, args ...string) ([][]string, error) {
	vals := make([][]byte, len(args))
	for i, a := range args {
		vals[i] = []byte(a)
	}
	res := pc.ExecParams(ctx, sql, vals, nil, nil, nil).Read()
	if res.Err != nil {
		return nil, res.Err
	}
	out := make([][]string, len(res.Rows))
	for i, r := range res.Rows {
		out[i] = make([]string, len(r))
		for j, v := range r {
			out[i][j] = string(v)
		}
	}
	return out, nil
}

// exec runs one or more statements with the simple protocol.
func exec(ctx context.Context, pc *pgconn.PgConn, sql string) error {
	_, err := pc.Exec(ctx, sql).ReadAll()
	return err
}
