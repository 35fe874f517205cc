package engine

import (
	"strings"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// duckErrorKinds maps the prefix DuckDB puts on error messages ("Catalog Error: ...") to its
// error type, for the paths where the C API gives us only the message (prepare errors).
var duckErrorKinds = map[string]duckdb.ErrorType{
	"Out of Range Error":           duckdb.ErrorTypeOutOfRange,
	"Conversion Error":             duckdb.ErrorTypeConversion,
	"Mismatch Type Error":          duckdb.ErrorTypeMismatchType,
	"Divide by Zero Error":         duckdb.ErrorTypeDivideByZero,
	"Invalid type Error":           duckdb.ErrorTypeInvalidType,
	"TransactionContext Error":     duckdb.ErrorTypeTransaction,
	"Not implemented Error":        duckdb.ErrorTypeNotImplemented,
	"Catalog Error":                duckdb.ErrorTypeCatalog,
	"Parser Error":                 duckdb.ErrorTypeParser,
	"Binder Error":                 duckdb.ErrorTypeBinder,
	"Constraint Error":             duckdb.ErrorTypeConstraint,
	"Syntax Error":                 duckdb.ErrorTypeSyntax,
	"IO Error":                     duckdb.ErrorTypeIO,
	"INTERRUPT Error":              duckdb.ErrorTypeInterrupt,
	"Invalid Input Error":          duckdb.ErrorTypeInvalidInput,
	"Out of Memory Error":          duckdb.ErrorTypeOutOfMemory,
	"Permission Error":             duckdb.ErrorTypePermission,
	"Dependency Error":             duckdb.ErrorTypeDependency,
	"Parameter Not Resolved Error": duckdb.ErrorTypeParameterNotResolved,
	"Parameter Not Allowed Error":  duckdb.ErrorTypeParameterNotAllowed,
	"Sequence Error":               duckdb.ErrorTypeSequence,
	"Invalid Configuration Error":  duckdb.ErrorTypeInvalidConfiguration,
	"Executor Error":               duckdb.ErrorTypeExecutor,
	"INTERNAL Error":               duckdb.ErrorTypeInternal,
	"FATAL Error":                  duckdb.ErrorTypeFatal,
}

// duckError wraps a DuckDB message in duckdb-go's error type, so callers see one error type
// whichever path (database/sql or the streaming C API) produced it.
func duckError(msg string, t duckdb.ErrorType) error {
	if t == duckdb.ErrorTypeInvalid {
		if prefix, _, ok := strings.Cut(msg, ": "); ok {
			if k, ok := duckErrorKinds[prefix]; ok {
				t = k
			}
		}
	}
	return &duckdb.Error{Type: t, Msg: msg}
}
