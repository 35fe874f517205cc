package pgwire

import (
	"strings"
	"testing"

	duckdb "github.com/duckdb/duckdb-go/v2"
	"github.com/stretchr/testify/require"
)

// Messages as DuckDB 1.5 words them.
func TestSQLSTATETable(t *testing.T) {
	for _, tc := range []struct {
		kind duckdb.ErrorType
		msg  string
		code string
	}{
		{duckdb.ErrorTypeParser, `Parser Error: syntax error at or near "SELEC"`, "42601"},
		{duckdb.ErrorTypeCatalog, "Catalog Error: Table with name nope does not exist!", "42P01"},
		{duckdb.ErrorTypeCatalog, "Catalog Error: Scalar Function with name nofunc does not exist!", "42883"},
		{duckdb.ErrorTypeCatalog, "Catalog Error: Table Function with name tap2 does not exist!", "42883"},
		{duckdb.ErrorTypeCatalog, "Catalog Error: Schema with name x does not exist!", "3F000"},
		{duckdb.ErrorTypeCatalog, `Catalog Error: Table with name "t" already exists!`, "42P07"},
		{duckdb.ErrorTypeCatalog, `Catalog Error: unrecognized configuration parameter "x"`, "42704"},
		{duckdb.ErrorTypeBinder, `Binder Error: Referenced column "nope" not found in FROM clause!`, "42703"},
		{duckdb.ErrorTypeBinder, `Binder Error: column "a" must appear in the GROUP BY clause or must be part of an aggregate function.`, "42803"},
		{duckdb.ErrorTypeBinder, `Binder Error: No function matches the given name and argument types 'f(INTEGER)'.`, "42883"},
		{duckdb.ErrorTypeDivideByZero, "Divide by Zero Error: Integer division by zero", "22012"},
		{duckdb.ErrorTypeConstraint, `Constraint Error: Duplicate key "a: 1" violates primary key constraint.`, "23505"},
		{duckdb.ErrorTypeConstraint, "Constraint Error: NOT NULL constraint failed: u.b", "23502"},
		{duckdb.ErrorTypeConversion, "Conversion Error: Could not convert string 'abc' to INT32", "22P02"},
		{duckdb.ErrorTypeConversion, `Conversion Error: invalid timestamp field format: "7"`, "22007"},
		{duckdb.ErrorTypeOutOfRange, "Out of Range Error: Overflow in multiplication of INT8 (10 * 100)!", "22003"},
		{duckdb.ErrorTypeTransaction, "TransactionContext Error: Catalog write-write conflict on create with \"t\"", "40001"},
		{duckdb.ErrorTypeTransaction, "TransactionContext Error: Current transaction is aborted (please ROLLBACK)", "25P02"},
		{duckdb.ErrorTypeInterrupt, "INTERRUPT Error: Interrupted!", "57014"},
		{duckdb.ErrorTypeIO, "IO Error: No files found that match the pattern \"/x.csv\"", "58P01"},
		{duckdb.ErrorTypeNotImplemented, "Not implemented Error: SET LOCAL is not implemented.", "0A000"},
		{duckdb.ErrorTypeInternal, "INTERNAL Error: oops", "XX000"},
	} {
		require.Equal(t, tc.code, sqlstateFor(tc.kind, tc.msg), tc.msg)
	}
}

func TestErrorPosition(t *testing.T) {
	q := "SELECT 1;\nSELECT x, nope FROM t"
	msg, detail, hint, pos := splitDuckMessage("Binder Error: Referenced column \"nope\" not found in FROM clause!\nCandidate bindings: \"a\"\nDid you mean \"note\"?\n\nLINE 1: SELECT x, nope FROM t\n                  ^",
		q, sqlPiece{text: "SELECT x, nope FROM t", start: 10})
	require.Equal(t, `Referenced column "nope" not found in FROM clause!`, msg)
	require.Equal(t, `Candidate bindings: "a"`, detail)
	require.Equal(t, `Did you mean "note"?`, hint)
	require.Equal(t, int32(21), pos) // 1-based: "nope" starts at character 21 of q
	// Truncated context lines ("...") and multi-byte characters.
	long := "SELECT 'ääää', " + "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa, nope"
	snippet := strings.Repeat("a", 31) + ", nope"
	_, _, _, pos = splitDuckMessage("Binder Error: x\n\nLINE 1: ..."+snippet+"\n"+strings.Repeat(" ", 8+3+33)+"^", long, sqlPiece{})
	require.Equal(t, int32(len([]rune(long))-3), pos)
}
