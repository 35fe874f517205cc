package sqlfuncs

import (
	"github.com/ankaflow/ankaflow/connectors"
)

// UnknownConnectionError is raised when tap, show_schema, connection_sql or COPY … (FORMAT
// ankaflow) names no registered connection. Its SQLSTATE is PostgreSQL's undefined_object, and
// the suggestion travels apart from the message (a PostgreSQL client shows it as HINT).
type UnknownConnectionError struct {
	Op, Name   string
	Registered []string // the names the caller could have meant
}

// SQLState is undefined_object, as PostgreSQL answers for an unknown named object.
func (e *UnknownConnectionError) SQLState() string { return "42704" }

// Message is the error without the suggestion.
func (e *UnknownConnectionError) Message() string {
	return call(e.Op, e.Name) + ": no connection named '" + e.Name + "'"
}

// Hint is the suggestion: the closest registered name and the registered ones.
func (e *UnknownConnectionError) Hint() string {
	if len(e.Registered) == 0 {
		return "No connection is registered in this session."
	}
	h := ""
	if s := connectors.Suggest(e.Name, e.Registered); s != "" {
		h = "Did you mean '" + s + "'? "
	}
	return h + "Registered connections: " + connectors.OneOf(e.Registered) + "."
}

func (e *UnknownConnectionError) Error() string {
	if len(e.Registered) == 0 {
		return e.Message() + ": none are registered in this session"
	}
	return e.Message() + connectors.DidYouMean(e.Name, e.Registered) + "; registered: " + connectors.OneOf(e.Registered)
}
