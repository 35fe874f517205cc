// Package mysql is a complete custom connection: MySQL and MariaDB tables as an ankaflow
// connection, selected in pipeline YAML with
//
//	connection:
//	  kind: CustomConnection
//	  module: myapp.connectors.database
//	  classname: MySQL
//	  params: {host: db.internal, user: etl, password: << context.env.MYSQL_PASSWORD >>, database: shop, table: orders}
//
// Importing the package (a blank import in your own main, see cmd/ankaflow-mysql) registers it.
//
//   - Tap streams a table, or the stage's query run on MySQL as written (MySQL SQL, pushed down),
//     as Arrow record batches; nothing is held in memory beyond one batch.
//   - Sink appends the incoming rows to the table inside one transaction; a table that did not
//     exist is created under a private staging name and renamed into place only after every row
//     is in, so a failed sink leaves no table (and an existing table is untouched).
//   - SQL runs a statement on MySQL and returns its rows, if it has any.
//   - ShowSchema lists the table's columns from information_schema.
//
// docs/custom-connection.md walks through this code.
package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/go-sql-driver/mysql"

	"github.com/ankaflow/ankaflow/connectors"
)

// Module and Class select this connection in YAML (`module:` and `classname:`).
const (
	Module = "myapp.connectors.database"
	Class  = "MySQL"
)

// Params are the connection's `params`. ankaflow checks them before anything runs: a missing
// host, a port that is not a number or a misspelt key is reported by `ankaflow validate` with
// the stage and the line, and the password never appears in any message or log.
type Params struct {
	Host     string `param:"host,required" doc:"server host name or IP address, or the path of a Unix socket"`
	Port     int    `param:"port" default:"3306" doc:"TCP port"`
	User     string `param:"user" doc:"user name"`
	Password string `param:"password,secret" doc:"password (use a template such as << context.env.MYSQL_PASSWORD >> rather than writing it in the file)"`
	Database string `param:"database" doc:"default database (schema); required to sink and for show_schema"`
	Table    string `param:"table" doc:"table to tap, sink into and describe (defaults to the connection's locator)"`
}

func init() {
	connectors.RegisterCustom(Module, Class, connectors.Spec{
		Summary: "MySQL/MariaDB: tap a table or a pushed-down query, sink rows transactionally, run statements",
		Ops:     connectors.OpTap | connectors.OpSink | connectors.OpSQL | connectors.OpShowSchema,
	}, func(p Params) connectors.Connection { return &MySQL{p: p} })
}

// MySQL is the connection. Base supplies its name, config, logger and DuckDB access.
type MySQL struct {
	connectors.Base
	p  Params
	db *sql.DB
}

var _ connectors.Connection = (*MySQL)(nil)

// Init prepares the connection pool. It does not connect: nothing reaches the server until an
// operation runs, so constructing the connection (for `plan`, for listings) is free.
func (m *MySQL) Init(ctx context.Context) error {
	if m.p.Port <= 0 || m.p.Port > 65535 {
		return fmt.Errorf("params.port: %d is not a TCP port (1-65535)", m.p.Port)
	}
	cfg := mysql.NewConfig()
	if strings.HasPrefix(m.p.Host, "/") {
		cfg.Net, cfg.Addr = "unix", m.p.Host
	} else {
		cfg.Net, cfg.Addr = "tcp", net.JoinHostPort(m.p.Host, strconv.Itoa(m.p.Port))
	}
	cfg.User = m.p.User
	cfg.Passwd = m.p.Password
	cfg.DBName = m.p.Database
	cfg.Timeout = 10 * time.Second
	// 0: ask the server for max_allowed_packet when connecting, so the driver and the sink's
	// batch sizing follow the server's limit.
	cfg.MaxAllowedPacket = 0
	// Sessions run in UTC: TIMESTAMP columns then read as instants in UTC, and DATETIME
	// values are passed through as written.
	cfg.Loc = time.UTC
	cfg.Params = map[string]string{"time_zone": "'+00:00'"}
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return fmt.Errorf("%s: %w", m.where(), err)
	}
	m.db = sql.OpenDB(connector)
	m.db.SetMaxOpenConns(8)
	m.db.SetMaxIdleConns(2)
	m.db.SetConnMaxIdleTime(time.Minute)
	return nil
}

// Close releases the connection pool and Base's DuckDB session.
func (m *MySQL) Close() error {
	var err error
	if m.db != nil {
		err = m.db.Close()
		m.db = nil
	}
	return errors.Join(err, m.Base.Close())
}

// DB is the connection's pool (nil before Init and after Close).
func (m *MySQL) DB() *sql.DB { return m.db }

// table is the table the connection taps, sinks into and describes: params.table, else the
// connection's locator.
func (m *MySQL) table() string {
	if m.p.Table != "" {
		return m.p.Table
	}
	return m.Locator()
}

func (m *MySQL) needTable(op string) (string, error) {
	t := m.table()
	if t == "" {
		return "", fmt.Errorf("%s: %s needs a table: set params.table (or the connection's locator)", m.where(), op)
	}
	return t, nil
}

// where names the server in errors: user@host:port/database, never the password.
func (m *MySQL) where() string {
	addr := m.p.Host
	if !strings.HasPrefix(addr, "/") {
		addr = net.JoinHostPort(m.p.Host, strconv.Itoa(m.p.Port))
	}
	s := "mysql " + addr
	if m.p.User != "" {
		s = "mysql " + m.p.User + "@" + addr
	}
	if m.p.Database != "" {
		s += "/" + m.p.Database
	}
	return s
}

func (m *MySQL) wrap(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", m.where(), err)
}

// Tap streams the stage's query, run on MySQL as written, or the whole table when the stage has
// no query. The query is MySQL SQL: it can filter, join and aggregate on the server, so only
// the rows the pipeline needs travel.
func (m *MySQL) Tap(ctx context.Context, query string) (array.RecordReader, error) {
	q := strings.TrimSpace(query)
	if q == "" {
		t, err := m.needTable("tap")
		if err != nil {
			return nil, err
		}
		q = "SELECT * FROM " + QuoteIdent(t)
	}
	r, err := m.query(ctx, q)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, fmt.Errorf("%s: the tap query returned no result set (use a sql stage for statements)", m.where())
	}
	return r, nil
}

// TapSchema implements connectors.TapSchemaer, so that planning a query with tap('X') (EXPLAIN,
// PREPARE, a wire client's Describe) does not run the tap query: MySQL describes the query
// wrapped as `SELECT * FROM (query) LIMIT 0`, which it answers from the query's column
// metadata without producing a row. A query that cannot be wrapped (SHOW …, duplicate column
// names) gets a nil schema: the bridge then opens Tap while the query is planned.
func (m *MySQL) TapSchema(ctx context.Context, query string) (*arrow.Schema, error) {
	q := strings.TrimSpace(query)
	if q == "" {
		t, err := m.needTable("tap")
		if err != nil {
			return nil, err
		}
		q = "SELECT * FROM " + QuoteIdent(t)
	}
	r, err := m.query(ctx, "SELECT * FROM ("+strings.TrimRight(q, "; \t\n")+") AS ankaflow_q LIMIT 0")
	if err != nil || r == nil {
		return nil, nil
	}
	defer r.Release()
	return r.Schema(), nil
}

// SQL runs one statement on MySQL. A statement with a result set (SELECT, SHOW, …) returns its
// rows; any other statement returns nil.
func (m *MySQL) SQL(ctx context.Context, statement string) (array.RecordReader, error) {
	if strings.TrimSpace(statement) == "" {
		return nil, fmt.Errorf("%s: empty statement", m.where())
	}
	r, err := m.query(ctx, statement)
	if r == nil {
		// A nil *RowReader must become a nil interface, not an interface holding nil.
		return nil, err
	}
	return r, err
}

// query runs a statement and returns its rows as Arrow, or nil when it has no result set.
func (m *MySQL) query(ctx context.Context, q string) (*RowReader, error) {
	if m.db == nil {
		return nil, fmt.Errorf("%s: connection is closed", m.where())
	}
	rows, err := m.db.QueryContext(ctx, q)
	if err != nil {
		return nil, m.wrap(err)
	}
	cols, err := rows.ColumnTypes()
	if err != nil {
		rows.Close()
		return nil, m.wrap(err)
	}
	if len(cols) == 0 {
		// No result set (INSERT, CREATE, …): rows.Close reports the statement's error, if any.
		return nil, m.wrap(rows.Close())
	}
	r, err := NewRowReader(ctx, rows, cols, DefaultBatchRows)
	if err != nil {
		rows.Close()
		return nil, m.wrap(err)
	}
	return r, nil
}

// ShowSchema lists the table's columns as MySQL declares them (information_schema.columns),
// in order. Without a table, it describes the stage's query instead (by running it with
// LIMIT 0) and reports the Arrow types Tap would produce.
func (m *MySQL) ShowSchema(ctx context.Context) ([]connectors.Field, error) {
	if m.db == nil {
		return nil, fmt.Errorf("%s: connection is closed", m.where())
	}
	t := m.table()
	if t == "" && strings.TrimSpace(m.Query()) != "" {
		return m.describeQuery(ctx, m.Query())
	}
	if t == "" {
		return nil, fmt.Errorf("%s: show_schema needs a table: set params.table (or the connection's locator)", m.where())
	}
	rows, err := m.db.QueryContext(ctx, `SELECT column_name, column_type, is_nullable
		FROM information_schema.columns
		WHERE table_schema = DATABASE() AND table_name = ?
		ORDER BY ordinal_position`, t)
	if err != nil {
		return nil, m.wrap(err)
	}
	defer rows.Close()
	var out []connectors.Field
	for rows.Next() {
		var name, typ, nullable string
		if err := rows.Scan(&name, &typ, &nullable); err != nil {
			return nil, m.wrap(err)
		}
		n := nullable == "YES"
		out = append(out, connectors.Field{Name: name, Type: typ, Nullable: &n})
	}
	if err := rows.Err(); err != nil {
		return nil, m.wrap(err)
	}
	if len(out) == 0 {
		var db sql.NullString
		if err := m.db.QueryRowContext(ctx, "SELECT DATABASE()").Scan(&db); err != nil {
			return nil, m.wrap(err)
		}
		if !db.Valid {
			return nil, fmt.Errorf("%s: show_schema: no database selected: set params.database", m.where())
		}
		return nil, fmt.Errorf("%s: show_schema: table %s does not exist in database %s", m.where(), QuoteIdent(t), QuoteIdent(db.String))
	}
	return out, nil
}

func (m *MySQL) describeQuery(ctx context.Context, q string) ([]connectors.Field, error) {
	q = strings.TrimRight(strings.TrimSpace(q), ";")
	rows, err := m.db.QueryContext(ctx, "SELECT * FROM ("+q+") AS ankaflow_q LIMIT 0")
	if err != nil {
		return nil, m.wrap(err)
	}
	defer rows.Close()
	cols, err := rows.ColumnTypes()
	if err != nil {
		return nil, m.wrap(err)
	}
	var out []connectors.Field
	for _, c := range cols {
		dt, _, err := arrowColumn(c)
		if err != nil {
			return nil, m.wrap(err)
		}
		f := connectors.Field{Name: c.Name(), Type: dt.String()}
		if n, ok := c.Nullable(); ok {
			f.Nullable = &n
		}
		out = append(out, f)
	}
	return out, nil
}

// QuoteIdent quotes a MySQL identifier with backticks. Every table and column name this
// package puts into SQL text goes through it.
func QuoteIdent(name string) string {
	return "`" + strings.ReplaceAll(name, "`", "``") + "`"
}
