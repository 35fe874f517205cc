// Package connectors defines the Connection API every connection implements (built-in and
// custom), the registry that maps YAML connection kinds (and CustomConnection module/classname
// pairs) to Go constructors, and the built-in connections.
//
// A connection embeds Base, which supplies its identity (name, locator, config, fields), access
// to the DuckDB database, and "not supported" defaults for the four operations:
//
//	type MySQL struct {
//		connectors.Base
//		p Params
//	}
//	func (m *MySQL) Tap(ctx context.Context, query string) (array.RecordReader, error) { … }
//
//	func init() {
//		connectors.RegisterCustom("myapp.connectors.database", "MySQL",
//			connectors.Spec{Summary: "MySQL/MariaDB tables", Ops: connectors.OpTap | connectors.OpSink},
//			func(p Params) connectors.Connection { return &MySQL{p: p} })
//	}
package connectors

import (
	"context"
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Connection is the contract of a connection. Embed Base to get defaults for the operations
// you do not support and the accessors described on Base.
type Connection interface {
	// Init is called once after construction, when Base is populated (name, params, config…).
	Init(ctx context.Context) error
	// Tap returns the connection's data as a stream of Arrow record batches whose schema is
	// known before the first batch. query is the stage's rendered query ("" when none). The
	// stream must stop early when ctx is cancelled (return ctx.Err() from Err()).
	Tap(ctx context.Context, query string) (array.RecordReader, error)
	// Sink consumes rows (the previous stage) and returns how many rows it wrote. A sink that
	// fails must leave its target as it was.
	Sink(ctx context.Context, rows array.RecordReader) (int64, error)
	// SQL runs a statement on the connection's own system. It returns the statement's rows
	// when there are any, or a nil reader.
	SQL(ctx context.Context, statement string) (array.RecordReader, error)
	// ShowSchema returns the columns Tap would produce.
	ShowSchema(ctx context.Context) ([]Field, error)

	base() *Base
}

// TapSchemaer is implemented by connections that can tell the Arrow schema Tap(query) will
// have cheaply and without side effects: no rows read from a remote system, nothing written.
// tap('Name') in SQL then does its work only when the query runs, so EXPLAIN, PREPARE and a
// wire client's Describe of it stay free. Return a nil schema when it is not known cheaply
// (a custom connection is then planned from its ShowSchema, if its kind declares one, else Tap
// is opened while the query is planned). The schema must equal Tap's (names and types).
type TapSchemaer interface {
	TapSchema(ctx context.Context, query string) (*arrow.Schema, error)
}

// Field is a column: a declared field of a connection or a column reported by ShowSchema.
type Field struct {
	Name string `json:"name" yaml:"name"`
	Type string `json:"type" yaml:"type"`
	// Nullable is nil when unknown.
	Nullable *bool `json:"nullable,omitempty" yaml:"nullable,omitempty"`
}

// Ops is the set of operations a connection kind supports, declared in its Spec so that
// `validate` can reject, say, a sink stage on a tap-only connection before anything runs.
type Ops uint8

// The four operations.
const (
	OpTap Ops = 1 << iota
	OpSink
	OpSQL
	OpShowSchema
)

// Has reports whether all of o2 are in o.
func (o Ops) Has(o2 Ops) bool { return o&o2 == o2 }

func (o Ops) String() string {
	var s []string
	for _, x := range []struct {
		op   Ops
		name string
	}{{OpTap, "tap"}, {OpSink, "sink"}, {OpSQL, "sql"}, {OpShowSchema, "show_schema"}} {
		if o.Has(x.op) {
			s = append(s, x.name)
		}
	}
	if len(s) == 0 {
		return "none"
	}
	out := s[0]
	for _, x := range s[1:] {
		out += ", " + x
	}
	return out
}

// ErrUnsupported is wrapped by the errors Base returns for operations a connection does not
// implement.
var ErrUnsupported = errors.New("operation not supported")

// Unsupported builds the error for an operation a connection does not support.
func Unsupported(c Connection, op string) error {
	b := c.base()
	return fmt.Errorf("connection %s of stage '%s' does not support %s: %w", b.KindLabel(), b.name, op, ErrUnsupported)
}
