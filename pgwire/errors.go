package pgwire

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"strconv"
	"strings"
	"unicode/utf8"

	duckdb "github.com/duckdb/duckdb-go/v2"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/ankaflow/ankaflow/engine"
)

// SQLSTATE codes the server itself raises.
const (
	codeSuccessfulCompletion     = "00000"
	codeWarning                  = "01000"
	codeProtocolViolation        = "08P01"
	codeFeatureNotSupported      = "0A000"
	codeInvalidParameterValue    = "22023"
	codeInvalidTextRepr          = "22P02"
	codeInvalidBinaryRepr        = "22P03"
	codeBadCopyFileFormat        = "22P04"
	codeDatetimeOverflow         = "22008"
	codeCharacterNotInRepertoire = "22021"
	codeProgramLimitExceeded     = "54000"
	codeActiveSQLTransaction     = "25001"
	codeNoActiveSQLTransaction   = "25P01"
	codeInFailedSQLTransaction   = "25P02"
	codeInvalidAuthorization     = "28000"
	codeInvalidPassword          = "28P01"
	codeSyntaxError              = "42601"
	codeUndefinedObject          = "42704"
	codeDuplicatePreparedStmt    = "42P05"
	codeInvalidCursorName        = "34000"
	codeInvalidSQLStatementName  = "26000"
	codeTooManyConnections       = "53300"
	codeQueryCanceled            = "57014"
	codeAdminShutdown            = "57P01"
	codeInternalError            = "XX000"
	codeUndefinedFile            = "58P01"
	codeIOError                  = "58030"
	codeSystemError              = "58000"
	codeConnectionException      = "08000"
	codeCachedPlanChangedResults = "0A000"
)

// pgError is an error to be sent to the client as an ErrorResponse (or NoticeResponse).
type pgError struct {
	Severity string // ERROR, FATAL, WARNING, NOTICE
	Code     string
	Message  string
	Detail   string
	Hint     string
	Position int32 // 1-based character position in the query, 0 if none
}

func (e *pgError) Error() string { return e.Severity + " " + e.Code + ": " + e.Message }

func newError(code, format string, args ...any) *pgError {
	return &pgError{Severity: "ERROR", Code: code, Message: fmt.Sprintf(format, args...)}
}

func fatalError(code, format string, args ...any) *pgError {
	return &pgError{Severity: "FATAL", Code: code, Message: fmt.Sprintf(format, args...)}
}

func (e *pgError) response() *pgproto3.ErrorResponse {
	return &pgproto3.ErrorResponse{
		Severity:            e.Severity,
		SeverityUnlocalized: e.Severity,
		Code:                e.Code,
		Message:             clipMessage(e.Message),
		Detail:              clipMessage(e.Detail),
		Hint:                clipMessage(e.Hint),
		Position:            e.Position,
	}
}

func (e *pgError) notice() *pgproto3.NoticeResponse {
	r := pgproto3.NoticeResponse(*e.response())
	return &r
}

// sqlstateRule maps a DuckDB error to a SQLSTATE: the first rule whose kind matches and whose
// substring (lower-case; "" = any) occurs in DuckDB's message wins.
type sqlstateRule struct {
	kind     duckdb.ErrorType
	contains string
	code     string
}

// sqlstateRules is THE table from DuckDB errors to PostgreSQL SQLSTATEs (docs/wire-server.md
// lists it). DuckDB's error type is coarse — a Catalog Error covers missing tables and missing
// functions alike — so some kinds are refined by the message.
var sqlstateRules = []sqlstateRule{
	{duckdb.ErrorTypeParser, "", "42601"}, // syntax_error
	{duckdb.ErrorTypeSyntax, "", "42601"},

	{duckdb.ErrorTypeCatalog, "function with name", "42883"}, // undefined_function (Scalar/Table/Aggregate/Macro Function …)
	{duckdb.ErrorTypeCatalog, "macro with name", "42883"},
	{duckdb.ErrorTypeCatalog, "schema with name", "3F000"}, // invalid_schema_name
	{duckdb.ErrorTypeCatalog, "catalog with name", "3D000"},
	{duckdb.ErrorTypeCatalog, "type with name", "42704"},                       // undefined_object
	{duckdb.ErrorTypeCatalog, "unrecognized configuration parameter", "42704"}, // as PostgreSQL
	{duckdb.ErrorTypeCatalog, "column with name", "42703"},                     // undefined_column
	{duckdb.ErrorTypeCatalog, "already exists", "42P07"},                       // duplicate_table
	{duckdb.ErrorTypeCatalog, "does not exist", "42P01"},                       // undefined_table (tables, views, sequences)
	{duckdb.ErrorTypeCatalog, "", "42704"},

	{duckdb.ErrorTypeBinder, "referenced column", "42703"}, // undefined_column
	{duckdb.ErrorTypeBinder, "referenced table", "42P01"},
	{duckdb.ErrorTypeBinder, "no function matches", "42883"},
	{duckdb.ErrorTypeBinder, "could not choose a best candidate", "42725"}, // ambiguous_function
	{duckdb.ErrorTypeBinder, "group by", "42803"},                          // grouping_error
	{duckdb.ErrorTypeBinder, "ambiguous", "42702"},                         // ambiguous_column
	{duckdb.ErrorTypeBinder, "column", "42703"},
	{duckdb.ErrorTypeBinder, "", "42000"},

	{duckdb.ErrorTypeDivideByZero, "", "22012"}, // division_by_zero
	{duckdb.ErrorTypeOutOfRange, "", "22003"},   // numeric_value_out_of_range
	{duckdb.ErrorTypeConversion, "out of range", "22003"},
	{duckdb.ErrorTypeConversion, "overflow", "22003"},
	{duckdb.ErrorTypeConversion, "timestamp", "22007"}, // invalid_datetime_format
	{duckdb.ErrorTypeConversion, "date", "22007"},
	{duckdb.ErrorTypeConversion, "time", "22007"},
	{duckdb.ErrorTypeConversion, "", "22P02"}, // invalid_text_representation
	{duckdb.ErrorTypeMismatchType, "", "42804"},
	{duckdb.ErrorTypeInvalidType, "", "42804"}, // datatype_mismatch
	{duckdb.ErrorTypeDecimal, "", "22003"},

	{duckdb.ErrorTypeConstraint, "not null", "23502"}, // not_null_violation
	{duckdb.ErrorTypeConstraint, "foreign key", "23503"},
	{duckdb.ErrorTypeConstraint, "check constraint", "23514"},
	{duckdb.ErrorTypeConstraint, "duplicate key", "23505"}, // unique_violation
	{duckdb.ErrorTypeConstraint, "unique", "23505"},
	{duckdb.ErrorTypeConstraint, "primary key", "23505"},
	{duckdb.ErrorTypeConstraint, "", "23000"},

	{duckdb.ErrorTypeTransaction, "conflict", "40001"}, // serialization_failure
	{duckdb.ErrorTypeTransaction, "transaction is aborted", "25P02"},
	{duckdb.ErrorTypeTransaction, "within a transaction", "25001"},
	{duckdb.ErrorTypeTransaction, "no transaction is active", "25P01"},
	{duckdb.ErrorTypeTransaction, "", "25000"},

	{duckdb.ErrorTypeInterrupt, "", "57014"}, // query_canceled
	{duckdb.ErrorTypeNotImplemented, "", "0A000"},
	{duckdb.ErrorTypeParameterNotResolved, "", "42P18"}, // indeterminate_datatype
	{duckdb.ErrorTypeParameterNotAllowed, "", "42P02"},
	{duckdb.ErrorTypeInvalidInput, "division by zero", "22012"}, // raised by the rewrite (pgwire/rewrite)
	{duckdb.ErrorTypeInvalidInput, "json", "22P02"},
	{duckdb.ErrorTypeInvalidInput, "", "22023"},
	{duckdb.ErrorTypeSettings, "", "22023"},
	{duckdb.ErrorTypeInvalidConfiguration, "unrecognized", "42704"},
	{duckdb.ErrorTypeInvalidConfiguration, "", "22023"},
	{duckdb.ErrorTypeSequence, "", "2200H"}, // sequence_generator_limit_exceeded
	{duckdb.ErrorTypeDependency, "", "2BP01"},
	{duckdb.ErrorTypePermission, "", "42501"},  // insufficient_privilege
	{duckdb.ErrorTypeOutOfMemory, "", "53200"}, // out_of_memory
	{duckdb.ErrorTypeObjectSize, "", "54000"},  // program_limit_exceeded
	{duckdb.ErrorTypeIO, "no files found", "58P01"},
	{duckdb.ErrorTypeIO, "", "58030"}, // io_error
	{duckdb.ErrorTypeHTTP, "", "58030"},
	{duckdb.ErrorTypeConnection, "", "08000"},
	{duckdb.ErrorTypeNetwork, "", "08000"},
	{duckdb.ErrorTypeMissingExtension, "", "0A000"},
	{duckdb.ErrorTypeAutoLoad, "", "0A000"},
	{duckdb.ErrorTypeFatal, "", "XX000"},
	{duckdb.ErrorTypeInternal, "", "XX000"},
}

// sqlstateFor maps a DuckDB error kind and message to a SQLSTATE (XX000 when no rule matches).
func sqlstateFor(kind duckdb.ErrorType, msg string) string {
	if strings.Contains(msg, engine.InternalErrorPrefix) {
		return codeInternalError // a recovered panic: a bug of ours, whatever DuckDB's kind
	}
	lower := strings.ToLower(msg)
	for _, r := range sqlstateRules {
		if r.kind == kind && (r.contains == "" || strings.Contains(lower, r.contains)) {
			return r.code
		}
	}
	return codeInternalError
}

// convertError turns an error from the engine into an ErrorResponse. query is the text the
// position refers to (the whole Query message) and pieceStart the byte offset of the failing
// statement's text in it (for errors DuckDB reported against that statement alone).
func convertError(err error, query string, piece sqlPiece) *pgError {
	var pe *pgError
	if errors.As(err, &pe) {
		return pe
	}
	var de *duckdb.Error
	if !errors.As(err, &de) {
		return newError(codeInternalError, "%s", err.Error())
	}
	msg, detail, hint, pos := splitDuckMessage(de.Msg, query, piece)
	return &pgError{
		Severity: "ERROR",
		Code:     sqlstateFor(de.Type, de.Msg),
		Message:  msg,
		Detail:   detail,
		Hint:     hint,
		Position: pos,
	}
}

// splitDuckMessage splits a DuckDB error message into PostgreSQL's fields: the message without
// the "Kind Error: " prefix, further lines as Detail, "Did you mean …" as Hint, and the
// "LINE n: …" context with its caret converted into a Position.
func splitDuckMessage(full, query string, piece sqlPiece) (msg, detail, hint string, pos int32) {
	body := full
	var context []string
	if i := strings.Index(body, "\nLINE "); i >= 0 {
		context = strings.Split(body[i+1:], "\n")
		body = body[:i]
	}
	if prefix, rest, ok := strings.Cut(body, ": "); ok && strings.HasSuffix(prefix, "Error") && !strings.Contains(prefix, "\n") {
		body = rest
	}
	lines := strings.Split(strings.TrimSpace(body), "\n")
	msg = strings.TrimSpace(lines[0])
	var details, hints []string
	for _, l := range lines[1:] {
		l = strings.TrimRight(l, " ")
		if strings.TrimSpace(l) == "" {
			continue
		}
		if strings.HasPrefix(strings.TrimSpace(l), "Did you mean") {
			hints = append(hints, strings.TrimSpace(l))
			continue
		}
		details = append(details, l)
	}
	detail = strings.Join(details, "\n")
	hint = strings.Join(hints, "\n")
	if len(context) >= 2 {
		if p := contextPosition(context[0], context[1], piece.text); p >= 0 {
			pos = int32(runeOffset(query, piece.start) + p + 1)
		} else if p := contextPosition(context[0], context[1], query); p >= 0 {
			pos = int32(p + 1)
		}
	}
	return msg, detail, hint, pos
}

// contextPosition finds the 0-based character offset in text that DuckDB's
//
//	LINE 3: ...some snippet of line 3...
//	                ^
//
// points at, or -1 when the snippet is not found in that line of text.
func contextPosition(lineCtx, caretLine, text string) int {
	if text == "" {
		return -1
	}
	rest, ok := strings.CutPrefix(lineCtx, "LINE ")
	if !ok {
		return -1
	}
	numStr, snippet, ok := strings.Cut(rest, ": ")
	if !ok {
		return -1
	}
	lineNo, err := strconv.Atoi(numStr)
	if err != nil || lineNo < 1 {
		return -1
	}
	prefixLen := len("LINE ") + len(numStr) + len(": ")
	caret := strings.IndexByte(caretLine, '^')
	if caret < prefixLen {
		return -1
	}
	// Caret column in characters within the snippet.
	col := caret - prefixLen
	if s, ok := strings.CutPrefix(snippet, "..."); ok {
		snippet = s
		col -= 3
	}
	snippet = strings.TrimSuffix(snippet, "...")
	if col < 0 {
		return -1
	}
	lines := strings.SplitAfter(text, "\n")
	if lineNo > len(lines) {
		return -1
	}
	lineStart := 0
	for _, l := range lines[:lineNo-1] {
		lineStart += len(l)
	}
	line := strings.TrimRight(lines[lineNo-1], "\r\n")
	idx := strings.Index(line, snippet)
	if idx < 0 {
		return -1
	}
	// col counts characters in the snippet; convert to bytes.
	snipRunes := []rune(snippet)
	if col > len(snipRunes) {
		col = len(snipRunes)
	}
	byteOff := lineStart + idx + len(string(snipRunes[:col]))
	return runeOffset(text, byteOff)
}

// maxErrorText bounds the text of one error field sent to a client: an error quoting a 15 MB
// identifier or literal is cut, with an ellipsis and the original size.
const maxErrorText = 8 << 10

func clipMessage(s string) string {
	if len(s) <= maxErrorText {
		return s
	}
	cut := maxErrorText
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "… (" + strconv.Itoa(len(s)) + " bytes in all)"
}

// sqlstater is an error that names its own SQLSTATE: a PostgreSQL server's *pgconn.PgError
// (through a Postgres connection) and sqlfuncs.UnknownConnectionError are.
type sqlstater interface{ SQLState() string }

// hinter is an error whose message and suggestion travel apart (sqlfuncs.UnknownConnectionError).
type hinter interface {
	Message() string
	Hint() string
}

// applyCause refines pe, converted from a DuckDB error, with the Go error that caused it in a
// connection function (tap, show_schema, connection_sql, COPY … (FORMAT ankaflow); see
// engine.Session.NoteError). DuckDB carried only its text; its kind decides the SQLSTATE:
//
//	names its SQLSTATE (remote PostgreSQL, unknown connection)  that SQLSTATE
//	a DuckDB error (a file the connection read in DuckDB)        as DuckDB's errors (sqlstateRules)
//	a file that does not exist                                  58P01 undefined_file
//	another file-system error                                   58030 io_error
//	a network error                                             08000 connection_exception
//	any other failure of a connection                           58000 system_error
func applyCause(pe *pgError, cause error) {
	var h hinter
	if errors.As(cause, &h) {
		// The wrapped message, without the suggestion: DuckDB's text repeats the whole error.
		pe.Message, pe.Hint = h.Message(), h.Hint()
	}
	var remote *pgconn.PgError
	var duck *duckdb.Error
	var coded sqlstater
	var pathErr *fs.PathError
	var netErr net.Error
	switch {
	case errors.As(cause, &remote):
		pe.Code = remote.Code
		if pe.Detail == "" {
			pe.Detail = remote.Detail
		}
		if pe.Hint == "" {
			pe.Hint = remote.Hint
		}
	case errors.As(cause, &duck): // the connection ran DuckDB (a file read in the session)
		pe.Code = sqlstateFor(duck.Type, duck.Msg)
		// The nested DuckDB message loses its "IO Error: " prefix too.
		inner, _, _, _ := splitDuckMessage(duck.Msg, "", sqlPiece{})
		first, _, _ := strings.Cut(duck.Msg, "\n")
		pe.Message = strings.Replace(pe.Message, strings.TrimSpace(first), inner, 1)
	case errors.As(cause, &coded) && coded.SQLState() != "":
		pe.Code = coded.SQLState()
	case errors.Is(cause, fs.ErrNotExist):
		pe.Code = codeUndefinedFile
	case errors.As(cause, &pathErr):
		pe.Code = codeIOError
	case errors.As(cause, &netErr):
		pe.Code = codeConnectionException
	default:
		pe.Code = codeSystemError
	}
}
