package engine

// Lower-level statement access for the PostgreSQL wire server (pgwire): splitting a query
// string into statements with DuckDB's own parser, and binding list parameters.

import (
	"context"
	"fmt"
	"time"

	bindings "github.com/duckdb/duckdb-go-bindings"
	duckdb "github.com/duckdb/duckdb-go/v2"
)

// Statements is a query string split into statements by DuckDB's parser
// (duckdb_extract_statements): exactly the statements DuckDB itself would run for that string.
// Each one is prepared separately, when its turn comes, so a statement may refer to a table that
// an earlier one creates.
type Statements struct {
	s   *Session
	ext bindings.ExtractedStatements
	n   int
}

// ExtractStatements parses query into statements. A query with no statement (empty, only
// comments or semicolons) gives Len() == 0. A syntax error anywhere in the string fails the
// whole call, as it does in DuckDB. The caller must Close the result.
func (s *Session) ExtractStatements(ctx context.Context, query string) (*Statements, error) {
	defer s.enter(ctx)()
	var ext bindings.ExtractedStatements
	n := int(bindings.ExtractStatements(s.raw, query, &ext))
	if n == 0 {
		msg := bindings.ExtractStatementsError(ext)
		bindings.DestroyExtracted(&ext)
		if msg != "" {
			return nil, duckError(msg, duckdb.ErrorTypeInvalid)
		}
		return &Statements{s: s}, nil
	}
	return &Statements{s: s, ext: ext, n: n}, nil
}

// Len is the number of statements.
func (st *Statements) Len() int { return st.n }

// Prepare prepares statement i (0-based).
func (st *Statements) Prepare(ctx context.Context, i int) (*Prepared, error) {
	if i < 0 || i >= st.n {
		return nil, fmt.Errorf("statement %d out of range (%d statements)", i, st.n)
	}
	defer st.s.enter(ctx)()
	var stmt bindings.PreparedStatement
	if bindings.PrepareExtractedStatement(st.s.raw, st.ext, bindings.IdxT(i), &stmt) == bindings.StateError {
		msg := bindings.PrepareError(stmt)
		bindings.DestroyPrepare(&stmt)
		return nil, duckError(msg, duckdb.ErrorTypeInvalid)
	}
	return &Prepared{s: st.s, stmt: stmt}, nil
}

// Close releases the parsed statements (prepared ones stay valid).
func (st *Statements) Close() {
	if st.ext.Ptr != nil {
		bindings.DestroyExtracted(&st.ext)
	}
}

// ListArg is a list parameter value for BindList: Values are Go values of the kinds Bind
// accepts for scalars (nil, bool, integers, floats, string, []byte, time.Time, TypedValue of
// DATE/TIME/TIMESTAMP/TIMESTAMPTZ/INTERVAL), all of the element type Elem.
type ListArg struct {
	Elem   Type
	Values []any
}

// BindList binds parameter i (0-based) to a LIST value. Call it after Bind (which clears all
// bindings), with nil in Bind's argument slot for this parameter.
func (p *Prepared) BindList(i int, l ListArg) error {
	elemType := bindings.CreateLogicalType(l.Elem)
	defer bindings.DestroyLogicalType(&elemType)
	vals := make([]bindings.Value, len(l.Values))
	defer func() {
		for j := range vals {
			if vals[j].Ptr != nil {
				bindings.DestroyValue(&vals[j])
			}
		}
	}()
	for j, v := range l.Values {
		dv, err := duckValue(l.Elem, v)
		if err != nil {
			return fmt.Errorf("parameter $%d element %d: %w", i+1, j+1, err)
		}
		vals[j] = dv
	}
	list := bindings.CreateListValue(elemType, vals)
	defer bindings.DestroyValue(&list)
	if bindings.BindValue(p.stmt, bindings.IdxT(i+1), list) == bindings.StateError {
		return fmt.Errorf("parameter $%d: cannot bind list", i+1)
	}
	return nil
}

// duckValue converts a Go value into a DuckDB value of type t (NULL for nil).
func duckValue(t Type, v any) (bindings.Value, error) {
	if v == nil {
		return bindings.CreateNullValue(), nil
	}
	switch x := v.(type) {
	case bool:
		return bindings.CreateBool(x), nil
	case int16:
		return bindings.CreateInt16(x), nil
	case int32:
		return bindings.CreateInt32(x), nil
	case int64:
		return bindings.CreateInt64(x), nil
	case int:
		return bindings.CreateInt64(int64(x)), nil
	case float32:
		return bindings.CreateFloat(x), nil
	case float64:
		return bindings.CreateDouble(x), nil
	case string:
		return bindings.CreateVarchar(x), nil
	case []byte:
		return bindings.CreateBlob(x), nil
	case time.Time:
		return bindings.CreateTimestampTZ(bindings.NewTimestamp(x.UnixMicro())), nil
	case TypedValue:
		switch x.Type {
		case bindings.TypeDate:
			y, m, d := x.Time.Date()
			days := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
			return bindings.CreateDate(bindings.NewDate(int32(days))), nil
		case bindings.TypeTimestamp:
			t := x.Time
			wall := time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
			return bindings.CreateTimestamp(bindings.NewTimestamp(wall.UnixMicro())), nil
		case bindings.TypeTimestampTZ:
			return bindings.CreateTimestampTZ(bindings.NewTimestamp(x.Time.UnixMicro())), nil
		case bindings.TypeTime:
			return bindings.CreateTime(bindings.NewTime(x.Micros)), nil
		case bindings.TypeInterval:
			return bindings.CreateInterval(bindings.NewInterval(x.Months, x.Days, x.Micros)), nil
		default:
			return bindings.CreateVarchar(x.Text), nil
		}
	}
	return bindings.Value{}, fmt.Errorf("unsupported Go type %T for %s", v, TypeInfo{ID: t}.SQL())
}
