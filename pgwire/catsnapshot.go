package pgwire

import (
	"context"
	"sync"

	"github.com/ankaflow/ankaflow/engine"
	"github.com/ankaflow/ankaflow/pgwire/catalog"
)

// Catalog queries read the catalog's snapshot (pgwire/catalog/snapshot.go) rather than its
// live views when that gives the same answer: psql's \d on a database of a thousand tables
// otherwise spends seconds recomputing the whole catalog in each of its queries.
//
// The snapshot is taken again before a query reads it whenever the catalog generation
// (rowsource.go) moved since it was taken, so it never shows an older catalog than the
// statements the server has completed. It holds what a session outside a transaction sees of
// the default database; a session reads it only when that is all it would see:
//   - in the simple query protocol, whose statements run as soon as they are prepared (an
//     extended-protocol statement may run much later, after a BEGIN or a CREATE TEMP TABLE);
//   - outside a transaction block, explicit or implicit (its own uncommitted changes);
//   - with no temporary relations or types of its own and the default database as its
//     current one: a session that ran anything that may change the catalog is checked once
//     (catalogShared) before it reads the snapshot again.

// snapSession is a connection's side of the snapshot.
type snapSession struct {
	simple  bool // a simple Query is being run
	touched bool // the session may have temporary objects or another current database
}

// snapState is a database's snapshot: the catalog generation it was taken at.
type snapState struct {
	mu    sync.Mutex
	taken bool
	gen   uint64
	db    string // the default database's name (current_database() of a new session)
}

var snapStatesMu sync.Mutex

const snapStateKey = "pgwire.catalogSnapshot"

func snapStateOf(db *engine.DB) *snapState {
	snapStatesMu.Lock()
	defer snapStatesMu.Unlock()
	if st, ok := db.Get(snapStateKey).(*snapState); ok {
		return st
	}
	st := &snapState{}
	db.Set(snapStateKey, st)
	return st
}

// catalogChanged records that the session ran a statement that may have changed the catalog.
func (c *conn) catalogChanged() {
	c.snap.touched = true
	noteCatalogChange()
}

// useSnapshot reports whether the statement being prepared may read the snapshot instead of
// the live catalog, taking the snapshot again first if it is due.
func (c *conn) useSnapshot(ctx context.Context) bool {
	if !c.snap.simple || c.txn != txnIdle || c.implicit || c.srv.cfg.DB == nil {
		return false
	}
	st := snapStateOf(c.srv.cfg.DB)
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.db == "" {
		if err := c.srv.cfg.DB.SQL().QueryRowContext(ctx, "SELECT current_database()").Scan(&st.db); err != nil {
			return false
		}
	}
	if c.snap.touched {
		if !c.catalogShared(ctx, st.db) {
			return false
		}
		c.snap.touched = false
	}
	gen := catalogGen.Load() // before the snapshot: a change during it makes it due again
	if st.taken && st.gen == gen {
		return true
	}
	if err := catalog.Refresh(ctx, c.sess); err != nil {
		c.srv.log.Warn("pgwire: cannot take the catalog snapshot", "err", err)
		st.taken = false
		return false
	}
	st.taken, st.gen = true, gen
	return true
}

// catalogShared reports whether the session sees the catalog as the snapshot holds it: the
// default database is its current one and it has no temporary relations, types or schemas.
func (c *conn) catalogShared(ctx context.Context, db string) bool {
	var shared bool
	err := c.sess.QueryRowContext(ctx, `SELECT current_database() = ?
  AND NOT EXISTS (SELECT 1 FROM duckdb_tables() WHERE database_name = 'temp')
  AND NOT EXISTS (SELECT 1 FROM duckdb_views() WHERE database_name = 'temp' AND NOT internal)
  AND NOT EXISTS (SELECT 1 FROM duckdb_sequences() WHERE database_name = 'temp')
  AND NOT EXISTS (SELECT 1 FROM duckdb_indexes() WHERE database_name = 'temp')
  AND NOT EXISTS (SELECT 1 FROM duckdb_types() WHERE database_name = 'temp' AND NOT internal)
  AND NOT EXISTS (SELECT 1 FROM duckdb_schemas() WHERE database_name = 'temp' AND schema_name <> 'main')`, db).Scan(&shared)
	return err == nil && shared
}
