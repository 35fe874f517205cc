package pgwire

import (
	"context"
	"strings"
	"sync/atomic"

	bindings "github.com/duckdb/duckdb-go-bindings"

	"github.com/ankaflow/ankaflow/pgwire/rewrite"
)

// RowDescription names the table and column number of a result column read straight from a
// table (describeSource). Looking the table up in DuckDB's catalog takes two queries, more
// than a point query itself, so each connection keeps what it found per catalog generation.
//
// DuckDB exposes neither a catalog version nor a result column's origin, so the generation is
// the server's own count of statements that may have changed the catalog: every statement of a
// wire session other than SELECT, INSERT, UPDATE, DELETE and EXPLAIN (CREATE, DROP, ALTER,
// ATTACH, COPY, SET, COMMIT, ROLLBACK…), the end of each implicit transaction block, and any
// query that calls run_pipeline or load_pipeline (which create tables through their own
// sessions). A connection stores what it found only outside transaction blocks, so a lookup
// made in an older snapshot is never kept. A Go program that changes the catalog through its
// own DuckDB sessions while the server runs should call NoteCatalogChange.
var catalogGen atomic.Uint64

func noteCatalogChange() { catalogGen.Add(1) }

// NoteCatalogChange tells the wire servers of this process that DuckDB's catalog changed
// outside their sessions (tables created, dropped or altered by an embedding program).
func NoteCatalogChange() { noteCatalogChange() }

// changesCatalog reports whether a completed statement may have changed the catalog.
func changesCatalog(st *stmt) bool {
	switch st.stype {
	case bindings.StatementTypeSelect:
		return strings.Contains(strings.ToLower(st.text), "_pipeline")
	case bindings.StatementTypeInsert, bindings.StatementTypeUpdate, bindings.StatementTypeDelete, bindings.StatementTypeExplain:
		return false
	}
	return true
}

// sourceKey identifies a table reference as the query wrote it, under a search path.
type sourceKey struct{ schema, table, searchPath string }

// sourceEntry is a looked-up table: its OID, its columns in order and their numbers.
type sourceEntry struct {
	gen    uint64
	found  bool
	oid    uint32
	order  []string
	attnum map[string]int16
}

// maxSources bounds a connection's cache (a client reading many tables starts it over).
const maxSources = 256

// sourceOf returns the table src reads, from the connection's cache when nothing may have
// changed the catalog since it was looked up.
func (c *conn) sourceOf(ctx context.Context, src *rewrite.Source) sourceEntry {
	gen := catalogGen.Load()
	key := sourceKey{strings.ToLower(src.Schema), strings.ToLower(src.Table), c.gucs["search_path"]}
	if e, ok := c.sources[key]; ok && e.gen == gen {
		return e
	}
	e := c.lookupSource(ctx, src)
	e.gen = gen
	if c.txn == txnIdle && !c.implicit {
		if c.sources == nil || len(c.sources) >= maxSources {
			c.sources = map[sourceKey]sourceEntry{}
		}
		c.sources[key] = e
	}
	return e
}
