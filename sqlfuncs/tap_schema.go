package sqlfuncs

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/ankaflow/ankaflow/connectors"
	"github.com/ankaflow/ankaflow/engine"
)

// tapSchema tells the columns of tap(name [, query]) without tapping, so that planning a query
// (EXPLAIN, PREPARE, a wire client's Parse and Describe, `plan`) has no side effect: the
// connection's TapSchema; else, for a custom connection tapping its own query, the columns its
// show_schema reports (the query then runs only when the statement executes, and must give
// those columns as DuckDB reads them). nil when neither tells: the connection is then tapped
// while the query is planned (docs/custom-connection.md §4.6a).
func tapSchema(ctx context.Context, db *engine.DB, caller *engine.Session, c connectors.Connection, name, query string) (*arrow.Schema, error) {
	if ts, ok := c.(connectors.TapSchemaer); ok {
		schema, err := ts.TapSchema(ctx, query)
		if err != nil {
			return nil, opError(caller, "tap", name, err)
		}
		if schema != nil {
			return schema, nil
		}
	}
	k := connectors.KindOf(c)
	if k == nil || k.Name != connectors.CustomKind || k.Ops&connectors.OpShowSchema == 0 || query != connectors.BaseOf(c).Query() {
		return nil, nil
	}
	fields, err := c.ShowSchema(ctx)
	if err != nil || len(fields) == 0 {
		// It cannot describe itself now: learn the columns from Tap, as before.
		return nil, nil
	}
	names := make([]string, len(fields))
	types := make([]string, len(fields))
	for i, f := range fields {
		names[i], types[i] = f.Name, f.Type
	}
	schema, err := db.ArrowSchemaOf(ctx, names, types)
	if err != nil {
		return nil, opError(caller, "tap", name, fmt.Errorf("its show_schema reports columns DuckDB cannot read (%v): return DuckDB types from ShowSchema, or implement TapSchema (docs/custom-connection.md §4.6a)", err))
	}
	return schema, nil
}
