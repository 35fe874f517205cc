// Package sqlfuncs puts connections inside SQL. Importing it installs, into every database the
// engine opens:
//
//	tap(name [, query])                 the rows of a connection (its Tap)
//	show_schema(name)                   the columns a connection's tap produces
//	COPY … TO 'name' (FORMAT ankaflow)  writes rows through a connection's Sink
//	connection_sql(name, statement)     runs a statement on the connection's own system
//	connections()                       the connections visible to the session
//	ankaflow_sink_begin/commit(path)    a local file sink's steps around its COPY (sinkfile.go)
//
// Connections are looked up by name in the engine's catalog: the calling session's own first,
// then the database-wide ones. Register and RegisterGlobal put them there. See
// docs/sql-functions.md for the SQL reference.
package sqlfuncs

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/ankaflow/ankaflow/connectors"
	"github.com/ankaflow/ankaflow/engine"
)

// CopyFormat is the COPY format that writes through a connection: COPY … TO 'Name' (FORMAT
// ankaflow). A COPY format names the mechanism (as PARQUET or CSV do); the target string names
// the connection.
const CopyFormat = "ankaflow"

func init() {
	engine.RegisterExtension(engine.Extension{Name: "sqlfuncs", OnOpen: install})
}

// Register makes c known to SQL in session s under its stage name (replacing a connection of
// the same name there). Session connections are private to the session and dropped with it.
func Register(s *engine.Session, c connectors.Connection) {
	s.DB().Catalog().Put(s.ID(), connectors.CatalogEntry(c))
}

// RegisterGlobal makes c known to SQL in every session of db that has no session connection
// of the same name.
func RegisterGlobal(db *engine.DB, c connectors.Connection) {
	db.Catalog().PutGlobal(connectors.CatalogEntry(c))
}

// noSession is the catalog key used when the caller is not a session: only database-wide
// connections match.
const noSession = math.MaxUint64

func sessionID(caller *engine.Session) uint64 {
	if caller == nil {
		return noSession
	}
	return caller.ID()
}

// lookup finds the connection called name for the caller; op names the SQL function in errors.
func lookup(db *engine.DB, caller *engine.Session, op, name string) (connectors.Connection, error) {
	id := sessionID(caller)
	e, ok := db.Catalog().Lookup(id, name)
	if !ok {
		return nil, caller.NoteError(&UnknownConnectionError{Op: op, Name: name, Registered: db.Catalog().Names(id)})
	}
	c, ok := e.Conn.(connectors.Connection)
	if !ok {
		return nil, fmt.Errorf("%s: '%s' is registered but is not a connection (%T)", call(op, name), name, e.Conn)
	}
	return c, nil
}

// call renders op('name') for messages.
func call(op, name string) string { return op + "('" + name + "')" }

// opError names the connection and operation in an error raised by a connection, and notes it
// on the caller so the wire server can keep the error's own SQLSTATE (see engine.NoteError).
func opError(caller *engine.Session, op, name string, err error) error {
	if err == nil {
		return nil
	}
	return caller.NoteError(fmt.Errorf("%s: %w", call(op, name), err))
}

func install(ctx context.Context, db *engine.DB, s *engine.Session) error {
	fns := []engine.TableFunction{
		{
			Name:     "tap",
			Args:     []engine.ArgType{engine.ArgVarchar, engine.ArgVarchar},
			Optional: 1,
			Parallel: true,
			// Planning a query with tap() asks the connection for its columns only; the tap
			// runs when the query executes.
			Schema: func(ctx context.Context, caller *engine.Session, args []any, _ map[string]any) (*arrow.Schema, error) {
				c, name, query, err := tapCall(db, caller, args)
				if err != nil {
					return nil, err
				}
				return tapSchema(ctx, db, caller, c, name, query)
			},
			Bind: func(ctx context.Context, caller *engine.Session, args []any, _ map[string]any) (array.RecordReader, error) {
				c, name, query, err := tapCall(db, caller, args)
				if err != nil {
					return nil, err
				}
				r, err := c.Tap(ctx, query)
				if err != nil {
					return nil, opError(caller, "tap", name, err)
				}
				if r == nil {
					return nil, opError(caller, "tap", name, errors.New("the connection returned no rows (nil reader)"))
				}
				return &opReader{RecordReader: r, caller: caller, op: "tap", name: name}, nil
			},
		},
		{
			Name: "show_schema",
			Args: []engine.ArgType{engine.ArgVarchar},
			Bind: func(ctx context.Context, caller *engine.Session, args []any, _ map[string]any) (array.RecordReader, error) {
				name, err := nameArg("show_schema", args)
				if err != nil {
					return nil, err
				}
				c, err := lookup(db, caller, "show_schema", name)
				if err != nil {
					return nil, err
				}
				fields, err := c.ShowSchema(ctx)
				if err != nil {
					return nil, opError(caller, "show_schema", name, err)
				}
				return schemaRows(fields), nil
			},
		},
		{
			Name: "connection_sql",
			Args: []engine.ArgType{engine.ArgVarchar, engine.ArgVarchar},
			Bind: func(ctx context.Context, caller *engine.Session, args []any, _ map[string]any) (array.RecordReader, error) {
				name, err := nameArg("connection_sql", args)
				if err != nil {
					return nil, err
				}
				stmt, _ := args[1].(string)
				if stmt == "" {
					return nil, fmt.Errorf("%s: the statement is empty", call("connection_sql", name))
				}
				c, err := lookup(db, caller, "connection_sql", name)
				if err != nil {
					return nil, err
				}
				r, err := c.SQL(ctx, stmt)
				if err != nil {
					return nil, opError(caller, "connection_sql", name, err)
				}
				if r == nil {
					return statusRows("OK"), nil
				}
				return &opReader{RecordReader: r, caller: caller, op: "connection_sql", name: name}, nil
			},
		},
		{
			Name: "connections",
			Bind: func(ctx context.Context, caller *engine.Session, _ []any, _ map[string]any) (array.RecordReader, error) {
				return connectionRows(db.Catalog().List(sessionID(caller))), nil
			},
		},
	}
	fns = append(fns, sinkFileFunctions(db)...)
	for _, f := range fns {
		if err := s.RegisterTableFunction(f); err != nil {
			return err
		}
	}
	return s.RegisterCopyTarget(engine.CopyTarget{
		Format:  CopyFormat,
		Options: []string{"source"},
		Sink: func(ctx context.Context, caller *engine.Session, target string, options map[string]any, rows array.RecordReader) (int64, error) {
			c, err := lookup(db, caller, "sink", target)
			if err != nil {
				return 0, err
			}
			ctx = connectors.WithSinkInfo(ctx, connectors.SinkInfo{Stage: target, From: sourceOption(options["source"])})
			n, err := c.Sink(ctx, rows)
			return n, opError(caller, "sink", target, err)
		},
		Exact: func(caller *engine.Session, target string) bool {
			c, err := lookup(db, caller, "sink", target)
			return err == nil && connectors.KindOf(c).ExactRows
		},
	})
}

// tapCall resolves tap(name [, query]): the connection and the query (the stage's own unless
// one is given).
func tapCall(db *engine.DB, caller *engine.Session, args []any) (connectors.Connection, string, string, error) {
	name, err := nameArg("tap", args)
	if err != nil {
		return nil, "", "", err
	}
	c, err := lookup(db, caller, "tap", name)
	if err != nil {
		return nil, "", "", err
	}
	query := connectors.BaseOf(c).Query()
	if len(args) > 1 && args[1] != nil {
		query, _ = args[1].(string)
	}
	return c, name, query, nil
}

func nameArg(op string, args []any) (string, error) {
	name, _ := args[0].(string)
	if name == "" {
		return "", fmt.Errorf("%s(name): the connection name is NULL or empty", op)
	}
	return name, nil
}

// opReader prefixes the errors of a connection's reader with the operation and name.
type opReader struct {
	array.RecordReader
	caller   *engine.Session
	op, name string
}

func (r *opReader) Err() error { return opError(r.caller, r.op, r.name, r.RecordReader.Err()) }

func singleBatch(schema *arrow.Schema, cols []arrow.Array, n int) array.RecordReader {
	rec := array.NewRecordBatch(schema, cols, int64(n))
	for _, c := range cols {
		c.Release()
	}
	defer rec.Release()
	r, err := array.NewRecordReader(schema, []arrow.RecordBatch{rec})
	if err != nil {
		panic(err) // the schema is ours: cannot mismatch
	}
	return r
}

var schemaSchema = arrow.NewSchema([]arrow.Field{
	{Name: "column_name", Type: arrow.BinaryTypes.String},
	{Name: "column_type", Type: arrow.BinaryTypes.String},
	{Name: "nullable", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
}, nil)

func schemaRows(fields []connectors.Field) array.RecordReader {
	mem := memory.DefaultAllocator
	nb, tb, ub := array.NewStringBuilder(mem), array.NewStringBuilder(mem), array.NewBooleanBuilder(mem)
	defer nb.Release()
	defer tb.Release()
	defer ub.Release()
	for _, f := range fields {
		nb.Append(f.Name)
		tb.Append(f.Type)
		if f.Nullable == nil {
			ub.AppendNull()
		} else {
			ub.Append(*f.Nullable)
		}
	}
	return singleBatch(schemaSchema, []arrow.Array{nb.NewArray(), tb.NewArray(), ub.NewArray()}, len(fields))
}

var statusSchema = arrow.NewSchema([]arrow.Field{{Name: "status", Type: arrow.BinaryTypes.String}}, nil)

func statusRows(status string) array.RecordReader {
	b := array.NewStringBuilder(memory.DefaultAllocator)
	defer b.Release()
	b.Append(status)
	return singleBatch(statusSchema, []arrow.Array{b.NewArray()}, 1)
}

var connectionsSchema = arrow.NewSchema([]arrow.Field{
	{Name: "name", Type: arrow.BinaryTypes.String},
	{Name: "kind", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "module", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "classname", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "locator", Type: arrow.BinaryTypes.String, Nullable: true},
	// params is JSON (DuckDB reads Arrow's arrow.json extension as its JSON type): keys in the
	// order they were written, values exact, secrets redacted.
	{Name: "params", Type: &jsonType{arrow.ExtensionBase{Storage: arrow.BinaryTypes.String}}, Nullable: true},
	{Name: "origin", Type: arrow.BinaryTypes.String, Nullable: true},
}, nil)

func connectionRows(entries []*engine.Entry) array.RecordReader {
	b := array.NewRecordBuilder(memory.DefaultAllocator, connectionsSchema)
	defer b.Release()
	str := func(i int, v string) {
		sb := b.Field(i).(*array.StringBuilder)
		if v == "" && i > 0 {
			sb.AppendNull()
		} else {
			sb.Append(v)
		}
	}
	for _, e := range entries {
		str(0, e.Name)
		str(1, e.Kind)
		str(2, e.Module)
		str(3, e.Classname)
		str(4, e.Locator)
		pb := b.Field(5).(*array.ExtensionBuilder).StorageBuilder().(*array.StringBuilder)
		if e.Params == "" {
			pb.Append("{}")
		} else {
			pb.Append(e.Params)
		}
		str(6, e.Origin)
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	r, err := array.NewRecordReader(connectionsSchema, []arrow.RecordBatch{rec})
	if err != nil {
		panic(err)
	}
	return r
}

// sourceOption reads COPY's SOURCE option (the stage the rows come from; see
// connectors.SinkInfo). DuckDB hands option values over as a list of one value.
func sourceOption(v any) string {
	if l, ok := v.([]any); ok && len(l) == 1 {
		v = l[0]
	}
	s, _ := v.(string)
	return s
}
