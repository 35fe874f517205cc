package pipeline

import (
	"context"
	"errors"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/ankaflow/ankaflow/connectors"
	"github.com/ankaflow/ankaflow/engine"
)

// Which object a sink's CREATE statement creates is known only once DuckDB has bound the
// statement: json_serialize_sql serialises SELECT statements only, and DuckDB binds a CREATE
// VIEW's or CREATE TABLE AS's query, which needs the stages it reads, before it tells anything
// about it. So that `validate` (and `plan`, which validates first) report a CREATE of another
// name before the run, validation replays the stages before each such sink in a scratch
// in-memory DuckDB, as stand-ins without rows:
//
//   - a tap is an empty table with the columns its connection reports (TapSchema, as planning
//     tap('X') does; custom connections are not built at validation, as at plan time);
//   - a transform, and a sink whose query returns rows, is its view;
//   - a sink's CREATE statement runs as written.
//
// The sink's statement then runs there under the run's own check (runSinkCreate), so the
// error is the run's, word for word. The scratch database may not read files or the network
// (enable_external_access off) nor persist secrets, and it is closed after validation: the
// run's database is never touched. What cannot be replayed before the run (templates, sql and
// internal stages, connections that cannot describe their columns, a database file's own
// tables) is left out; a statement reading it does not bind in the scratch database and is
// checked when it runs, as before.

// createCheckTimeout bounds the whole replay: a CREATE TABLE AS runs its query (over empty
// stand-ins, but it may generate rows itself), and describing a tap may wait for a server.
const createCheckTimeout = 10 * time.Second

// createCheck is the scratch database of one validation.
type createCheck struct {
	ctx    context.Context
	cancel context.CancelFunc
	r      *Runner // plan-only: renders stages and builds built-in connections as `plan` does
	db     *engine.DB
	s      *engine.Session
}

// sinkCreates is the validator's state for these checks.
type sinkCreates struct {
	marked map[*Stage]bool // sinks whose statement may create something
	check  *createCheck    // opened by the first replayed stage; nil when unavailable
	failed bool            // the scratch database could not be opened
}

// markCreateCheck asks for sink s's statement to be tried in the scratch database.
func (v *validator) markCreateCheck(s *Stage) {
	if v.creates.marked == nil {
		v.creates.marked = map[*Stage]bool{}
	}
	v.creates.marked[s] = true
}

// replayStage adds stage s, in run order, to the scratch database, and reports a marked sink
// whose statement does not create the stage's object.
func (v *validator) replayStage(s *Stage) {
	if len(v.creates.marked) == 0 || v.creates.failed {
		return
	}
	if v.creates.check == nil {
		c, err := openCreateCheck(v.ctx, v.opts.Session, v.opts.Config)
		if err != nil {
			v.creates.failed = true // the check is left to the run
			return
		}
		v.creates.check = c
	}
	if err := v.creates.check.replay(s, v.creates.marked[s]); err != nil {
		v.probs.add(s.At("query"), s.Name, err.Error())
	}
}

// closeCreateCheck drops the scratch database.
func (v *validator) closeCreateCheck() {
	if v.creates.check != nil {
		v.creates.check.close()
		v.creates.check = nil
	}
}

func openCreateCheck(ctx context.Context, real *engine.Session, cfg connectors.Config) (*createCheck, error) {
	c := &createCheck{}
	c.ctx, c.cancel = context.WithTimeout(ctx, createCheckTimeout)
	if err := c.open(real, cfg); err != nil {
		c.close()
		return nil, err
	}
	return c, nil
}

func (c *createCheck) open(real *engine.Session, cfg connectors.Config) (err error) {
	c.db, err = engine.Open(c.ctx, engine.Options{Settings: map[string]string{
		"enable_external_access":       "false",
		"allow_persistent_secrets":     "false",
		"autoinstall_known_extensions": "false",
		"threads":                      "1",
		"memory_limit":                 "256MB",
	}})
	if err != nil {
		return err
	}
	if c.s, err = c.db.NewSession(c.ctx); err != nil {
		return err
	}
	// The runner works on the run's database (built-in connections describe their taps
	// through it), exactly as `plan` does, and runs nothing there.
	c.r, err = newRunner(c.ctx, Options{DB: real.DB(), Session: real, Config: cfg}, true)
	return err
}

func (c *createCheck) close() {
	if c.r != nil {
		for conn := range c.r.conns {
			connectors.Close(conn)
		}
		c.r.close()
	}
	if c.s != nil {
		c.s.Close()
	}
	if c.db != nil {
		c.db.Close()
	}
	c.cancel()
}

// replay adds one stage's stand-in. With check set (a sink whose statement may create
// something) it returns the statement's verdict (*sinkQueryError); anything the scratch
// database cannot do is no verdict.
func (c *createCheck) replay(st *Stage, check bool) error {
	if c.ctx.Err() != nil {
		return nil
	}
	rs, err := c.r.render(st)
	if err != nil || rs.Skip || len(rs.Deferred) > 0 {
		return nil
	}
	name := q(st.Name)
	switch st.Kind {
	case KindTransform:
		c.exec("CREATE OR REPLACE VIEW " + name + " AS " + trimStmt(rs.Query))
	case KindSink:
		if !rs.HasQuery {
			return nil
		}
		if !check {
			if creates, err := sinkQueryCreates(c.ctx, c.s, rs.Query); err == nil && !creates {
				c.exec("CREATE OR REPLACE VIEW " + name + " AS " + trimStmt(rs.Query))
			}
			return nil
		}
		err := runSinkCreate(c.ctx, c.s, st.Name, trimStmt(rs.Query))
		var verdict *sinkQueryError
		if errors.As(err, &verdict) {
			return verdict
		}
	case KindTap:
		c.tapStandIn(st, rs)
	}
	return nil
}

// tapStandIn creates a tap's table without rows, with the columns its connection reports.
func (c *createCheck) tapStandIn(st *Stage, rs *renderedStage) {
	conn, _, err := c.r.connection(c.ctx, st, rs)
	if err != nil || conn == nil {
		return
	}
	ts, ok := conn.(connectors.TapSchemaer)
	if !ok {
		return
	}
	schema, err := ts.TapSchema(c.ctx, rs.Query)
	if err != nil || schema == nil {
		return
	}
	empty, err := array.NewRecordReader(schema, nil)
	if err != nil {
		return
	}
	defer empty.Release()
	from, release := c.s.ScanArrow(empty)
	defer release()
	c.exec("CREATE OR REPLACE TABLE " + q(st.Name) + " AS SELECT * FROM " + from)
}

// exec runs a stand-in's statement; one that fails leaves its stage out.
func (c *createCheck) exec(stmt string) {
	c.s.Exec(c.ctx, stmt)
}
