package engine

import (
	"context"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/stretchr/testify/require"
)

// TestExactCopyTarget: a target that asks for exact rows gets DuckDB's lossless Arrow (a UUID
// stays a UUID when read back), other targets and other sessions keep the plain conversion.
func TestExactCopyTarget(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, Options{})
	require.NoError(t, err)
	defer db.Close()
	s, err := db.NewSession(ctx)
	require.NoError(t, err)
	schemas := map[string]*arrow.Schema{}
	require.NoError(t, s.RegisterCopyTarget(CopyTarget{
		Format: "schema_of",
		Sink: func(ctx context.Context, caller *Session, target string, _ map[string]any, rows array.RecordReader) (int64, error) {
			for rows.Next() {
			}
			schemas[target] = rows.Schema()
			return 0, rows.Err()
		},
		Exact: func(caller *Session, target string) bool { return target == "exact" },
	}))
	for _, target := range []string{"exact", "plain"} {
		_, err := s.Exec(ctx, "COPY (SELECT '550e8400-e29b-41d4-a716-446655440000'::UUID AS u, 1::HUGEINT AS h) TO '"+target+"' (FORMAT schema_of)")
		require.NoError(t, err)
	}
	require.Equal(t, arrow.FIXED_SIZE_BINARY, schemas["exact"].Field(0).Type.ID(), "exact: UUID as DuckDB's arrow.uuid")
	require.Equal(t, arrow.STRING, schemas["plain"].Field(0).Type.ID(), "plain: UUID as text")
	require.Equal(t, arrow.DECIMAL128, schemas["plain"].Field(1).Type.ID())

	// Inside a MAP, DuckDB leaves the UUID's mark out: the exact rows carry it all the same.
	// An ENUM inside a LIST arrives as text marked with its members (DuckDB cannot read a
	// dictionary inside a LIST back); a column ENUM stays a marked dictionary.
	_, err = s.Exec(ctx, "COPY (SELECT MAP {'k': '550e8400-e29b-41d4-a716-446655440000'::UUID} AS m, ['b'::ENUM('a', 'b')] AS l, 'a'::ENUM('a', 'b') AS e) TO 'exact' (FORMAT schema_of)")
	require.NoError(t, err)
	item := schemas["exact"].Field(0).Type.(*arrow.MapType).ItemField()
	name, _ := item.Metadata.GetValue("ARROW:extension:name")
	require.Equal(t, "arrow.uuid", name)
	elem := schemas["exact"].Field(1).Type.(*arrow.ListType).ElemField()
	require.Equal(t, arrow.STRING, elem.Type.ID())
	members, _ := elem.Metadata.GetValue(enumMetadataKey)
	require.Equal(t, `["a","b"]`, members)
	require.Equal(t, arrow.DICTIONARY, schemas["exact"].Field(2).Type.ID())
	members, _ = schemas["exact"].Field(2).Metadata.GetValue(enumMetadataKey)
	require.Equal(t, `["a","b"]`, members)
	// An ENUM inside a UNION is not reached: refused, never silently turned into VARCHAR.
	_, err = s.Exec(ctx, "COPY (SELECT union_value(e := 'a'::ENUM('a', 'b')) AS u) TO 'exact' (FORMAT schema_of)")
	require.ErrorContains(t, err, `column "u": a UNION holding an ENUM cannot be kept exactly`)

	// The lossless setting lives on the bridge's own session only.
	rows, err := s.QueryArrow(ctx, "SELECT gen_random_uuid() AS u")
	require.NoError(t, err)
	defer rows.Release()
	require.Equal(t, arrow.STRING, rows.Schema().Field(0).Type.ID())
	other, err := db.NewSession(ctx)
	require.NoError(t, err)
	rows2, err := other.QueryArrow(ctx, "SELECT gen_random_uuid() AS u")
	require.NoError(t, err)
	defer rows2.Release()
	require.Equal(t, arrow.STRING, rows2.Schema().Field(0).Type.ID())
}

// TestCloseForgetsBridgeSession: the bridge's per-database conversion session is dropped from
// its table when the database closes (the closed database is not kept reachable).
func TestCloseForgetsBridgeSession(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, Options{})
	require.NoError(t, err)
	_, err = db.bridgeSession()
	require.NoError(t, err)
	bridgeSessions.Lock()
	_, had := bridgeSessions.m[db]
	bridgeSessions.Unlock()
	require.True(t, had)
	require.NoError(t, db.Close())
	bridgeSessions.Lock()
	_, has := bridgeSessions.m[db]
	bridgeSessions.Unlock()
	require.False(t, has, "closed database still in the bridge's session table")
}
