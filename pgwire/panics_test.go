package pgwire

import (
	"testing"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/ankaflow/ankaflow/engine"
)

// A recovered panic reaches a wire client as XX000, whatever kind DuckDB gave the error.
func TestPanicErrorIsInternalError(t *testing.T) {
	msg := "Binder Error: " + engine.PanicMessage("runtime error: index out of range [3] with length 1")
	if got := sqlstateFor(duckdb.ErrorTypeBinder, msg); got != codeInternalError {
		t.Fatalf("sqlstate %s, want XX000", got)
	}
}
