package pgwire

import (
	"fmt"
	"runtime/debug"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/ankaflow/ankaflow/engine"
)

// dispatchRecovering is dispatch with a bug guard: a panic while handling a message is logged
// with its stack trace, and the client gets a short FATAL XX000 (never the trace) before the
// connection ends: the session's state after a panic is unknown, as a PostgreSQL backend's
// after a crash.
func (c *conn) dispatchRecovering(msg pgproto3.FrontendMessage) (ok bool) {
	defer func() {
		if r := recover(); r != nil {
			c.srv.log.Error("pgwire: panic while handling a message", "pid", c.pid, "user", c.user,
				"message", fmt.Sprintf("%T", msg), "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			c.sendError(fatalError(codeInternalError, "%s", engine.PanicMessage(r)))
			c.endReason = "internal error (panic)"
			ok = false
		}
	}()
	return c.dispatch(msg)
}
