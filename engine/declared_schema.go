package engine

import (
	"context"
	"errors"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// ArrowSchemaOf returns the Arrow schema of rows with the given columns, each a name and a
// DuckDB type as DuckDB's SQL spells it ("BIGINT", "DECIMAL(10,2)", "STRUCT(a INTEGER)"). It
// lets a table function tell its columns from a declaration (a connection's show_schema)
// without producing rows: the types are only prepared, on the bridge's own session, never
// executed.
func (db *DB) ArrowSchemaOf(ctx context.Context, names, types []string) (*arrow.Schema, error) {
	if len(names) == 0 || len(names) != len(types) {
		return nil, errors.New("arrow schema of columns: names and types must be given, as many of each")
	}
	s, err := db.bridgeSession()
	if err != nil {
		return nil, err
	}
	cols := make([]string, len(names))
	for i := range names {
		cols[i] = "CAST(NULL AS " + types[i] + ") AS " + QuoteIdent(names[i])
	}
	p, err := s.Prepare(ctx, "SELECT "+strings.Join(cols, ", "))
	if err != nil {
		return nil, err
	}
	defer p.Close()
	return p.ArrowSchema()
}
