package sqlast

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/engine"
)

func TestPieces(t *testing.T) {
	cases := map[string][]string{
		"SELECT 1; SELECT 2;":                         {"SELECT 1", "SELECT 2"},
		"SELECT ';' AS a; SELECT 2":                   {"SELECT ';' AS a", "SELECT 2"},
		`SELECT 1 AS "semi;colon"; SELECT 2`:          {`SELECT 1 AS "semi;colon"`, "SELECT 2"},
		"SELECT 1 -- a; comment\n; SELECT 2":          {"SELECT 1 -- a; comment", "SELECT 2"},
		"SELECT /* ; /* nested ; */ ; */ 1; SELECT 2": {"SELECT /* ; /* nested ; */ ; */ 1", "SELECT 2"},
		"SELECT $$a;b$$; SELECT $tag$;$tag$":          {"SELECT $$a;b$$", "SELECT $tag$;$tag$"},
		"SELECT 'it''s; fine'; SELECT E'a\\';b'":      {"SELECT 'it''s; fine'", "SELECT E'a\\';b'"},
		"  ;; -- only a comment\n ; /* x */":          nil,
		"SELECT 1":                                    {"SELECT 1"},
	}
	ctx := context.Background()
	db, err := engine.Open(ctx, engine.Options{})
	require.NoError(t, err)
	defer db.Close()
	s, err := db.NewSession(ctx)
	require.NoError(t, err)
	for in, want := range cases {
		got, err := Split(ctx, s, in)
		require.NoError(t, err, in)
		if want == nil {
			require.Empty(t, got, in)
			continue
		}
		require.Equal(t, want, got, in)
	}
	// A script DuckDB cannot parse still splits (the failing statement is reported when run).
	got, err := Split(ctx, s, "SELECT 1; SELEC 2; SELECT 3")
	require.NoError(t, err)
	require.Equal(t, []string{"SELECT 1", "SELEC 2", "SELECT 3"}, got)
}
