package pipeline

import (
	"context"
	"strings"

	"github.com/ankaflow/ankaflow/engine"
	"github.com/ankaflow/ankaflow/engine/value"
)

// readRows reads a query's whole result as ordered records (loops read their source up
// front: the loop body may replace the very table it loops over). Values keep their DuckDB
// meaning (engine/value): a DECIMAL keeps its digits, a STRUCT its field order; templates
// see dates, timestamps and intervals in their SQL text form. max < 0 reads every row.
func readRows(ctx context.Context, s *engine.Session, query string, max int) ([]*value.Map, []string, error) {
	rows, err := s.QueryArrow(ctx, query)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Release()
	return value.ReadAll(rows, max)
}

// describeRow shows a loop row in error messages, in DuckDB's text form, shortened.
func describeRow(rec *value.Map) string {
	s := value.Format(rec)
	if len(s) > 200 {
		s = strings.ToValidUTF8(s[:197], "") + "...}"
	}
	return s
}
