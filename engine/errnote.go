package engine

import (
	"strings"
	"sync"
)

// Errors raised by Go code that DuckDB calls (table functions, COPY targets) reach the caller
// as DuckDB errors carrying only their text: the Go error's type — an unknown connection, a
// missing file, a PostgreSQL server's *pgconn.PgError with its SQLSTATE — is lost on the way
// through DuckDB. NoteError keeps the Go error on the side, per session, so that the caller
// (the wire server) can find it again by its text and answer with a specific SQLSTATE.

// notedErrors are the recent Go errors per session (newest last).
var notedErrors = struct {
	sync.Mutex
	m map[*Session][]error
}{m: map[*Session][]error{}}

// maxNotedErrors bounds the errors kept per session: a statement raises one; a few cover a
// bind-time and a scan-time error of the same statement.
const maxNotedErrors = 4

// NoteError remembers err as the cause of a DuckDB error about to be raised in s, and returns
// it. A nil s or err is returned unchanged.
func (s *Session) NoteError(err error) error {
	if s == nil || err == nil {
		return err
	}
	notedErrors.Lock()
	l := append(notedErrors.m[s], err)
	if len(l) > maxNotedErrors {
		l = l[len(l)-maxNotedErrors:]
	}
	notedErrors.m[s] = l
	notedErrors.Unlock()
	return err
}

// NotedError returns the newest error noted in s whose text occurs in msg (a DuckDB error
// message), or nil. Every noted error is forgotten: they belong to the statement that failed.
func (s *Session) NotedError(msg string) error {
	if s == nil {
		return nil
	}
	notedErrors.Lock()
	l := notedErrors.m[s]
	delete(notedErrors.m, s)
	notedErrors.Unlock()
	for i := len(l) - 1; i >= 0; i-- {
		if strings.Contains(msg, l[i].Error()) {
			return l[i]
		}
	}
	return nil
}

// forgetNotedErrors drops the errors of a closed session.
func (s *Session) forgetNotedErrors() {
	notedErrors.Lock()
	delete(notedErrors.m, s)
	notedErrors.Unlock()
}
