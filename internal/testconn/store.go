package testconn

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/ankaflow/ankaflow/connectors"
	"github.com/ankaflow/ankaflow/engine"
)

func init() {
	connectors.RegisterCustom(Module, "Store", connectors.Spec{
		Summary: "a table in a separate DuckDB database file: a real external system for end-to-end tests",
		Ops:     connectors.OpTap | connectors.OpSink | connectors.OpSQL | connectors.OpShowSchema,
	}, func(p StoreParams) connectors.Connection { return &Store{p: p} })
}

// StoreParams are the params of Store.
type StoreParams struct {
	Path     string `param:"path,required" doc:"database file of the store"`
	Table    string `param:"table" default:"data"`
	Password string `param:"password,secret" doc:"checked against the store's expected password when set"`
	Expect   string `param:"expect_password,secret"`
}

// StoreInits and StoreCloses count Init and Close calls of every Store, so tests can check
// that each connection is closed exactly once.
var StoreInits, StoreCloses atomic.Int64

// Store keeps data in its own DuckDB database file, as a warehouse would: tap reads the table
// (or runs the stage's query there), sink replaces the table in one transaction, sql runs
// statements there, show_schema describes the table.
type Store struct {
	connectors.Base
	p  StoreParams
	db *engine.DB
	s  *engine.Session
}

// Init opens the store's database.
func (c *Store) Init(ctx context.Context) error {
	StoreInits.Add(1)
	if c.p.Expect != "" && c.p.Password != c.p.Expect {
		return fmt.Errorf("authentication failed for store %s", c.p.Path)
	}
	db, err := engine.Open(ctx, engine.Options{Path: c.p.Path})
	if err != nil {
		return err
	}
	s, err := db.NewSession(ctx)
	if err != nil {
		db.Close()
		return err
	}
	c.db, c.s = db, s
	return nil
}

// Close closes the store.
func (c *Store) Close() error {
	StoreCloses.Add(1)
	if c.s != nil {
		c.s.Close()
		c.db.Close()
		c.s, c.db = nil, nil
	}
	return c.Base.Close()
}

// Tap implements connectors.Connection: the query, if any, runs in the store as written.
func (c *Store) Tap(ctx context.Context, query string) (array.RecordReader, error) {
	if query == "" {
		query = "SELECT * FROM " + engine.QuoteIdent(c.p.Table)
	}
	return c.s.QueryArrow(ctx, query)
}

// Sink implements connectors.Connection: the table is replaced in one transaction, so a
// failure leaves it as it was.
func (c *Store) Sink(ctx context.Context, rows array.RecordReader) (int64, error) {
	from, release := c.s.ScanArrow(rows)
	defer release()
	if _, err := c.s.Exec(ctx, "BEGIN TRANSACTION"); err != nil {
		return 0, err
	}
	_, err := c.s.Exec(ctx, "CREATE OR REPLACE TABLE "+engine.QuoteIdent(c.p.Table)+" AS SELECT * FROM "+from)
	if err != nil {
		c.s.Exec(context.Background(), "ROLLBACK")
		return 0, err
	}
	var n int64
	if err := c.s.QueryRowContext(ctx, "SELECT count(*) FROM "+engine.QuoteIdent(c.p.Table)).Scan(&n); err != nil {
		c.s.Exec(context.Background(), "ROLLBACK")
		return 0, err
	}
	if _, err := c.s.Exec(ctx, "COMMIT"); err != nil {
		return 0, err
	}
	return n, nil
}

// SQL implements connectors.Connection.
func (c *Store) SQL(ctx context.Context, statement string) (array.RecordReader, error) {
	r, err := c.s.QueryArrow(ctx, statement)
	if err != nil {
		return nil, err
	}
	if r.StatementType() != engine.StatementSelect {
		for r.Next() {
		}
		err := r.Err()
		r.Close()
		return nil, err
	}
	return r, nil
}

// ShowSchema implements connectors.Connection.
func (c *Store) ShowSchema(ctx context.Context) ([]connectors.Field, error) {
	return connectors.Describe(ctx, c.s, "SELECT * FROM "+engine.QuoteIdent(c.p.Table))
}
