package pipeline

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLeadingKeyword(t *testing.T) {
	require.Equal(t, "SELECT", leadingKeyword("  -- hi\n /* x */ select 1"))
	require.Equal(t, "(", leadingKeyword("(SELECT 1) UNION (SELECT 2)"))
	require.Equal(t, "WITH", leadingKeyword("with x as (select 1) select * from x"))
	require.Equal(t, "CREATE", leadingKeyword("CREATE TABLE t(a INT)"))
}
