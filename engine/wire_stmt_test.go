package engine

import (
	"context"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	bindings "github.com/duckdb/duckdb-go-bindings"
	"github.com/stretchr/testify/require"
)

func TestExtractStatements(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	s, err := db.NewSession(ctx)
	require.NoError(t, err)
	defer s.Close()

	st, err := s.ExtractStatements(ctx, " ; -- nothing")
	require.NoError(t, err)
	require.Equal(t, 0, st.Len())
	st.Close()

	_, err = s.ExtractStatements(ctx, "SELECT 1; SELEC 2")
	require.ErrorContains(t, err, "syntax error")

	// Each statement is prepared when its turn comes: the second sees the first's table.
	st, err = s.ExtractStatements(ctx, "CREATE TABLE x AS SELECT 42 AS v; SELECT v FROM x")
	require.NoError(t, err)
	defer st.Close()
	require.Equal(t, 2, st.Len())
	p, err := st.Prepare(ctx, 0)
	require.NoError(t, err)
	r, err := p.Query(ctx)
	require.NoError(t, err)
	for r.Next() {
	}
	r.Close()
	p.Close()
	p, err = st.Prepare(ctx, 1)
	require.NoError(t, err)
	defer p.Close()
	require.Equal(t, StatementSelect, p.StatementType())
	_, err = st.Prepare(ctx, 2)
	require.Error(t, err)
}

func TestParamTypeUnresolved(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	s, err := db.NewSession(ctx)
	require.NoError(t, err)
	defer s.Close()
	p, err := s.Prepare(ctx, "SELECT $1")
	require.NoError(t, err)
	defer p.Close()
	require.Equal(t, bindings.TypeInvalid, p.ParamType(0).ID)
}

func TestBindList(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	s, err := db.NewSession(ctx)
	require.NoError(t, err)
	defer s.Close()
	p, err := s.Prepare(ctx, "SELECT CAST($1 AS INTEGER[]) AS a, CAST($2 AS DATE[]) AS d, $3::VARCHAR AS s")
	require.NoError(t, err)
	defer p.Close()
	require.NoError(t, p.Bind([]any{nil, nil, "x"}))
	require.NoError(t, p.BindList(0, ListArg{Elem: bindings.TypeVarchar, Values: []any{"1", nil, "3"}}))
	require.NoError(t, p.BindList(1, ListArg{Elem: bindings.TypeDate, Values: []any{TypedValue{Type: bindings.TypeDate, Time: time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)}}}))
	r, err := p.Query(ctx)
	require.NoError(t, err)
	defer r.Close()
	require.True(t, r.Next())
	l := r.RecordBatch().Column(0).(*array.List)
	vals := l.ListValues().(*array.Int32)
	require.Equal(t, 3, vals.Len())
	require.Equal(t, int32(1), vals.Value(0))
	require.True(t, vals.IsNull(1))
	d := r.RecordBatch().Column(1).(*array.List).ListValues().(*array.Date32)
	require.Equal(t, "2024-02-29", d.Value(0).FormattedString())
}
