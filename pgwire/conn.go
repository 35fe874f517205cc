package pgwire

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/ankaflow/ankaflow/engine"
)

// connState is where a connection is in the protocol. The transitions:
//
//	stateStartup ──SSLRequest/GSSENCRequest──▶ stateStartup   (answered S or N)
//	stateStartup ──CancelRequest────────────▶ (closed)        (interrupt the target session)
//	stateStartup ──StartupMessage───────────▶ stateAuth
//	stateAuth    ──password ok──────────────▶ stateReady      (ParameterStatus…, BackendKeyData, ReadyForQuery)
//	stateAuth    ──password wrong───────────▶ (closed)        (FATAL 28P01 after a delay)
//	stateReady   ──Query────────────────────▶ stateReady      (results, ReadyForQuery)
//	stateReady   ──Parse/Bind/Describe/Execute/Close──▶ stateExtended
//	stateExtended──error────────────────────▶ stateSkipToSync (everything but Sync discarded)
//	stateExtended/stateSkipToSync ──Sync────▶ stateReady      (ReadyForQuery)
//	any          ──Terminate / EOF / shutdown──▶ (closed)
//
// The transaction status reported in ReadyForQuery (txnIdle 'I', txnBlock 'T', txnFailed 'E')
// is tracked next to it.
type connState int

const (
	stateStartup connState = iota
	stateAuth
	stateReady
	stateExtended
	stateSkipToSync
	stateClosed
)

func (s connState) String() string {
	return [...]string{"startup", "auth", "ready", "extended", "skip-to-sync", "closed"}[s]
}

type txnStatus byte

const (
	txnIdle   txnStatus = 'I'
	txnBlock  txnStatus = 'T'
	txnFailed txnStatus = 'E'
)

// Reasons a running statement is cancelled (context causes).
var (
	errUserCancel       = errors.New("canceling statement due to user request")
	errStatementTimeout = errors.New("canceling statement due to statement timeout")
	errShutdown         = errors.New("terminating connection due to administrator command")
	errClientGone       = errors.New("client connection lost")
)

const (
	maxMessageLen  = 256 << 20 // largest frontend message after authentication
	maxAuthLen     = 64 << 10  // largest message before authentication completed
	readAheadBytes = 64 << 20  // messages read ahead of the main loop
	flushThreshold = 64 << 10
)

type frontendMsg struct {
	msg  pgproto3.FrontendMessage
	err  error
	size int64 // bytes held against the connection's read budget
	// next is the type byte of the message after this one when the client had already sent it
	// (it was in the read buffer), else 0. An Execute with next == 'S' ends its batch.
	next byte
}

// byteBudget bounds the bytes of messages read ahead but not yet taken by the connection's
// main loop: a client pipelining large Bind or CopyData messages cannot make the server buffer
// more than this (plus one message).
type byteBudget struct {
	mu     sync.Mutex
	cond   *sync.Cond
	used   int64
	max    int64
	closed bool
}

func newByteBudget(max int64) *byteBudget {
	b := &byteBudget{max: max}
	b.cond = sync.NewCond(&b.mu)
	return b
}

func (b *byteBudget) acquire(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for !b.closed && b.used > 0 && b.used+n > b.max {
		b.cond.Wait()
	}
	if b.closed {
		return false
	}
	b.used += n
	return true
}

func (b *byteBudget) release(n int64) {
	if n == 0 {
		return
	}
	b.mu.Lock()
	b.used -= n
	b.mu.Unlock()
	b.cond.Broadcast()
}

func (b *byteBudget) close() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	b.cond.Broadcast()
}

// take is how every consumer receives a message from the read loop.
func (c *conn) take(m frontendMsg) frontendMsg {
	c.budget.release(m.size)
	return m
}

// conn is one client connection.
type conn struct {
	srv     *Server
	nc      net.Conn
	rd      *bufio.Reader
	out     []byte
	remote  string
	sources map[sourceKey]sourceEntry // result columns' source tables (rowsource.go)
	snap    snapSession               // whether statements may read the catalog's snapshot (catsnapshot.go)
	started time.Time
	tls     bool

	state connState
	txn   txnStatus
	// implicit is set while a DuckDB transaction is open for PostgreSQL's implicit transaction
	// block: the statements of one simple Query or of one extended-protocol batch (up to Sync)
	// commit or roll back together outside BEGIN … COMMIT. c.txn stays txnIdle meanwhile.
	implicit bool
	// next is frontendMsg.next of the message being handled.
	next byte
	// serving is set once startup completed (read by the server's goroutines).
	serving atomic.Bool

	user, database string
	role           Role        // set by authenticate; anything but RoleAdmin passes the gate (policy.go)
	policy         *userPolicy // the gate's state for a restricted session, nil for admins
	pid            uint32
	secret         [4]byte
	registered     bool
	preAuth        bool // counted as authenticating (see preauth.go)

	sess       *engine.Session
	ctx        context.Context // ends with the connection
	cancelConn context.CancelCauseFunc

	gucs        map[string]string // lower-case name → value, for emulated parameters
	tz          *time.Location
	stmtTimeout time.Duration

	stmts   map[string]*stmt
	portals map[string]*portal

	in     chan frontendMsg
	budget *byteBudget
	done   chan struct{} // closed when the connection ends

	mu       sync.Mutex
	running  context.CancelCauseFunc // the statement executing now, for cancel requests
	shutdown chan struct{}           // closed by the server to wake an idle session

	writeErr    error
	endReason   string
	statements  int64
	application string
}

func newConn(s *Server, nc net.Conn) *conn {
	c := &conn{
		srv:      s,
		nc:       nc,
		rd:       bufio.NewReaderSize(nc, 32<<10),
		remote:   nc.RemoteAddr().String(),
		started:  time.Now(),
		txn:      txnIdle,
		gucs:     map[string]string{},
		stmts:    map[string]*stmt{},
		portals:  map[string]*portal{},
		shutdown: make(chan struct{}),
		done:     make(chan struct{}),
		budget:   newByteBudget(readAheadBytes),
		tz:       time.UTC,
	}
	c.ctx, c.cancelConn = context.WithCancelCause(context.Background())
	rand.Read(c.secret[:])
	return c
}

func (c *conn) secretMatches(secret []byte) bool {
	return subtle.ConstantTimeCompare(secret, c.secret[:]) == 1
}

// wakeForShutdown is called by the server when shutdown starts.
func (c *conn) wakeForShutdown() {
	select {
	case <-c.shutdown:
	default:
		close(c.shutdown)
	}
	if !c.serving.Load() {
		// Still negotiating or authenticating: no session to wind down.
		c.netConn().SetDeadline(time.Now())
	}
}

// netConn is the socket, for other goroutines (the TLS handshake replaces it).
func (c *conn) netConn() net.Conn {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nc
}

func (c *conn) setNetConn(nc net.Conn) {
	c.mu.Lock()
	c.nc = nc
	c.mu.Unlock()
}

// cancelRunning cancels the statement executing now, if any.
func (c *conn) cancelRunning(cause error) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.running == nil {
		if cause == errShutdown {
			c.cancelConn(errShutdown)
		}
		return false
	}
	c.running(cause)
	return true
}

func (c *conn) setRunning(cancel context.CancelCauseFunc) {
	c.mu.Lock()
	c.running = cancel
	c.mu.Unlock()
}

// serve runs the connection to its end.
func (c *conn) serve() {
	defer c.finish()
	if c.preAuth {
		c.nc.SetDeadline(time.Now().Add(c.srv.cfg.AuthTimeout))
	} else {
		c.nc.SetDeadline(time.Now().Add(refusedDeadline))
	}
	if !c.startup() {
		return
	}
	c.nc.SetDeadline(time.Time{})
	c.in = make(chan frontendMsg, 64)
	go c.readLoop()
	c.loop()
}

func (c *conn) finish() {
	close(c.done)
	c.budget.close()
	c.state = stateClosed
	c.flush()
	c.cancelConn(errClientGone)
	for _, p := range c.portals {
		p.close()
	}
	for _, st := range c.stmts {
		st.release()
	}
	if c.sess != nil {
		// The session's DuckDB connection dies with it (engine.Session.Close), as a PostgreSQL
		// backend does: nothing of this client leaks into the next one.
		c.endCatalogSession()
		c.sess.Close()
	}
	c.nc.Close()
	c.srv.leavePreAuth(c)
	c.srv.unregister(c)
	if c.user == "" {
		// Probes, pgx's SSLRequest-then-reconnect, cancel requests: not sessions.
		c.srv.log.Debug("pgwire: connection closed before startup", "remote", c.remote, "reason", c.endReason)
		return
	}
	c.srv.log.Info("pgwire: connection closed",
		"user", c.user, "database", c.database, "remote", c.remote,
		"application_name", c.gucs["application_name"], "pid", c.pid, "tls", c.tls,
		"ended", c.endReason, "duration", time.Since(c.started).Round(time.Millisecond).String(),
		"statements", c.statements)
}

// --- reading ---

// readLoop reads frontend messages into c.in until the socket fails. A read failure (the client
// went away) cancels the connection context, which interrupts a running DuckDB statement.
func (c *conn) readLoop() {
	for {
		msg, size, err := c.readMessage()
		if err != nil {
			c.cancelConn(errClientGone)
			select {
			case c.in <- frontendMsg{err: err}:
			case <-c.done:
			}
			return
		}
		m := frontendMsg{msg: msg, size: size}
		if c.rd.Buffered() > 0 {
			if b, err := c.rd.Peek(1); err == nil {
				m.next = b[0]
			}
		}
		select {
		case c.in <- m:
		case <-c.done:
			return
		}
		if _, ok := msg.(*pgproto3.Terminate); ok {
			return
		}
	}
}

// readFrame reads one typed message. Each body is a fresh slice, so decoded messages may keep
// references to it.
// With a budget, the body's bytes are acquired from it before they are read.
func (c *conn) readFrame(limit int, budget *byteBudget) (byte, []byte, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(c.rd, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := int(binary.BigEndian.Uint32(hdr[1:])) - 4
	if n < 0 || n > limit {
		return 0, nil, fatalError(codeProtocolViolation, "invalid message length %d", n+4)
	}
	if budget != nil && !budget.acquire(int64(n)) {
		return 0, nil, io.ErrClosedPipe
	}
	body, err := readBody(c.rd, n)
	if err != nil {
		return 0, nil, err
	}
	return hdr[0], body, nil
}

// readBody reads n bytes. Large bodies grow with the bytes that actually arrive: a 5-byte
// header claiming 256 MB must not make the server allocate 256 MB up front.
func readBody(r io.Reader, n int) ([]byte, error) {
	const direct = 1 << 20
	if n <= direct {
		body := make([]byte, n)
		if _, err := io.ReadFull(r, body); err != nil {
			return nil, err
		}
		return body, nil
	}
	var buf bytes.Buffer
	if _, err := io.CopyN(&buf, r, int64(n)); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return buf.Bytes(), nil
}

func (c *conn) readMessage() (pgproto3.FrontendMessage, int64, error) {
	typ, body, err := c.readFrame(maxMessageLen, c.budget)
	if err != nil {
		return nil, 0, err
	}
	size := int64(len(body))
	var m pgproto3.FrontendMessage
	switch typ {
	case 'Q':
		m = &pgproto3.Query{}
	case 'P':
		m = &pgproto3.Parse{}
	case 'B':
		m = &pgproto3.Bind{}
	case 'D':
		m = &pgproto3.Describe{}
	case 'E':
		m = &pgproto3.Execute{}
	case 'S':
		m = &pgproto3.Sync{}
	case 'H':
		m = &pgproto3.Flush{}
	case 'C':
		m = &pgproto3.Close{}
	case 'X':
		m = &pgproto3.Terminate{}
	case 'd':
		m = &pgproto3.CopyData{}
	case 'c':
		m = &pgproto3.CopyDone{}
	case 'f':
		m = &pgproto3.CopyFail{}
	case 'F':
		m = &pgproto3.FunctionCall{}
	default:
		c.budget.release(size)
		return nil, 0, fatalError(codeProtocolViolation, "invalid frontend message type %d", typ)
	}
	if err := m.Decode(body); err != nil {
		c.budget.release(size)
		return nil, 0, fatalError(codeProtocolViolation, "invalid %T message: %v", m, err)
	}
	return m, size, nil
}

// --- writing ---

func (c *conn) send(m pgproto3.BackendMessage) {
	var err error
	c.out, err = m.Encode(c.out)
	if err != nil {
		// Only oversized messages fail to encode; report rather than corrupt the stream.
		c.out, _ = newError(codeInternalError, "cannot encode %T: %v", m, err).response().Encode(c.out)
	}
	if len(c.out) >= flushThreshold {
		c.flush()
	}
}

func (c *conn) flush() error {
	if c.writeErr != nil {
		return c.writeErr
	}
	if len(c.out) == 0 {
		return nil
	}
	_, err := c.nc.Write(c.out)
	if cap(c.out) > 4<<20 {
		c.out = nil
	} else {
		c.out = c.out[:0]
	}
	if err != nil {
		c.writeErr = err
		c.cancelConn(errClientGone)
	}
	return err
}

func (c *conn) sendError(e *pgError) {
	c.send(e.response())
}

func (c *conn) sendNotice(e *pgError) {
	c.send(e.notice())
}

func (c *conn) sendReady() {
	c.send(&pgproto3.ReadyForQuery{TxStatus: byte(c.txn)})
}

// --- the main loop ---

func (c *conn) loop() {
	for {
		if c.writeErr != nil {
			c.endReason = "client connection lost (write failed)"
			return
		}
		// On shutdown, a session ends at its next idle point (after ReadyForQuery), so a
		// running statement or extended-protocol batch finishes first.
		shutdown := c.shutdown
		if c.state != stateReady {
			shutdown = nil
		}
		select {
		case <-shutdown:
			c.terminateForShutdown()
			return
		default:
		}
		var m frontendMsg
		select {
		case m = <-c.in:
			m = c.take(m)
		default:
			// Nothing more queued: deliver what we have before blocking.
			c.flush()
			select {
			case m = <-c.in:
				m = c.take(m)
			case <-shutdown:
				c.terminateForShutdown()
				return
			case <-c.srv.killing:
				c.terminateForShutdown()
				return
			}
		}
		if m.err != nil {
			var pe *pgError
			if errors.As(m.err, &pe) {
				c.sendError(pe)
				c.endReason = "protocol error: " + pe.Message
			} else if errors.Is(m.err, io.EOF) {
				c.endReason = "client disconnected without Terminate"
			} else {
				c.endReason = "client connection lost: " + m.err.Error()
			}
			return
		}
		c.next = m.next
		if !c.dispatchRecovering(m.msg) {
			return
		}
	}
}

func (c *conn) terminateForShutdown() {
	c.sendError(fatalError(codeAdminShutdown, "terminating connection due to administrator command"))
	c.endReason = "server shutdown"
}

// dispatch handles one message in the current state; false ends the connection.
func (c *conn) dispatch(msg pgproto3.FrontendMessage) bool {
	switch m := msg.(type) {
	case *pgproto3.Terminate:
		c.endReason = "client terminated"
		return false
	case *pgproto3.CopyData, *pgproto3.CopyDone, *pgproto3.CopyFail:
		// Outside COPY these are ignored, as PostgreSQL does: they follow a COPY that failed.
		return true
	case *pgproto3.Sync:
		c.sync()
		return true
	case *pgproto3.Flush:
		c.flush()
		return true
	case *pgproto3.Query:
		if c.state == stateSkipToSync {
			return true
		}
		if err := checkMessageUTF8(m); err != nil {
			c.reportError(err)
		} else {
			c.simpleQuery(m.String)
		}
		c.state = stateReady
		c.sendReady()
		return c.endReason == ""
	case *pgproto3.FunctionCall:
		if c.state == stateSkipToSync {
			return true
		}
		c.sendError(newError(codeFeatureNotSupported, "the function call protocol message is not supported"))
		c.sendReady()
		return true
	}
	if c.state == stateSkipToSync {
		return true
	}
	c.state = stateExtended
	err := checkMessageUTF8(msg)
	if err != nil {
		msg = nil // not dispatched: reported below, then the batch skips to Sync
	}
	switch m := msg.(type) {
	case nil:
	case *pgproto3.Parse:
		err = c.parse(m)
	case *pgproto3.Bind:
		err = c.bind(m)
	case *pgproto3.Describe:
		err = c.describe(m)
	case *pgproto3.Execute:
		err = c.execute(m)
	case *pgproto3.Close:
		err = c.closeMsg(m)
	default:
		c.sendError(fatalError(codeProtocolViolation, "unexpected message %T", msg))
		c.endReason = "protocol violation"
		return false
	}
	if err != nil {
		if !c.reportError(err) {
			return false
		}
		c.state = stateSkipToSync
	}
	return c.endReason == ""
}

// reportError sends err and moves the transaction into the failed state; false when the
// connection must end (FATAL errors, lost client).
func (c *conn) reportError(err error) bool {
	if errors.Is(err, errClientGone) || c.writeErr != nil {
		c.endReason = "client connection lost"
		return false
	}
	pe := c.toPGError(err, "", sqlPiece{})
	c.sendError(pe)
	if pe.Severity == "FATAL" {
		c.endReason = pe.Message
		return false
	}
	if c.txn == txnBlock {
		c.txn = txnFailed
	}
	c.abortImplicit()
	return true
}

// abortImplicit rolls back the implicit transaction block after an error: nothing of the Query
// or batch stays.
func (c *conn) abortImplicit() {
	if c.implicit {
		c.closePortals(nil)
		if err := c.endImplicit(false); err != nil {
			c.srv.log.Warn("pgwire: rollback of the implicit transaction failed", "pid", c.pid, "error", err)
		}
	}
}

// toPGError converts an engine error, honouring why a statement was cancelled.
func (c *conn) toPGError(err error, query string, piece sqlPiece) *pgError {
	switch {
	case errors.Is(err, errUserCancel):
		return newError(codeQueryCanceled, "canceling statement due to user request")
	case errors.Is(err, errStatementTimeout):
		return newError(codeQueryCanceled, "canceling statement due to statement timeout")
	case errors.Is(err, errShutdown):
		return fatalError(codeAdminShutdown, "terminating connection due to administrator command")
	}
	pe := convertError(err, query, piece)
	if cause := c.sess.NotedError(err.Error()); cause != nil && pe != err {
		applyCause(pe, cause)
	}
	return pe
}

func (c *conn) sync() {
	if c.state == stateExtended || c.state == stateSkipToSync || c.state == stateReady {
		c.state = stateReady
	}
	if c.txn == txnIdle {
		// End of the implicit transaction: portals do not outlive it.
		c.closePortals(nil)
		if err := c.endImplicit(true); err != nil {
			c.reportError(err)
		}
	}
	c.sendReady()
}

// beginImplicit opens the implicit transaction block before st when more statements of the same
// simple Query or extended-protocol batch follow (more): from there on they commit or fail
// together, as in PostgreSQL. Two cases run no extra statements:
//   - st ends its Query or batch: it is a block of its own, which DuckDB's autocommit already is
//     (the common single-statement round trip);
//   - st does not write: statements before the first write have nothing to roll back, and
//     running them outside a DuckDB transaction keeps PostgreSQL's read-committed view. DuckDB's
//     transactions are snapshots, so a SELECT inside one would not see what other sessions
//     commit meanwhile, such as the tables run_pipeline() creates through its own session.
func (c *conn) beginImplicit(more bool, st *stmt) error {
	if !more || c.txn != txnIdle || c.implicit || !writesData(st.stype) {
		return nil
	}
	if err := c.quiesce(nil); err != nil { // a cursor of the same Query may be mid-result
		return err
	}
	if _, err := c.sess.Exec(c.ctx, "BEGIN TRANSACTION"); err != nil {
		return err
	}
	c.implicit = true
	return nil
}

// endImplicit commits or rolls back the implicit transaction block, if one is open. Portals
// must be closed first (they do not outlive their transaction).
func (c *conn) endImplicit(commit bool) error {
	if !c.implicit {
		return nil
	}
	c.implicit = false
	defer noteCatalogChange() // what the block created or dropped is now seen, or gone
	if !commit {
		_, err := c.sess.Exec(context.WithoutCancel(c.ctx), "ROLLBACK")
		return err
	}
	if _, err := c.sess.Exec(c.ctx, "COMMIT"); err != nil {
		c.sess.Exec(context.WithoutCancel(c.ctx), "ROLLBACK") // make sure DuckDB is out of the transaction
		return err
	}
	return nil
}

// closePortals closes the portals at the end of a transaction (cursors WITH HOLD stay).
func (c *conn) closePortals(except *portal) {
	for name, p := range c.portals {
		if p != except && !p.hold {
			p.close()
			delete(c.portals, name)
		}
	}
}

// quiesce makes the DuckDB connection free for a new statement: a suspended portal still holds
// a streaming result, so its remaining rows are read into memory first (DuckDB runs one
// statement per connection at a time).
func (c *conn) quiesce(except *portal) error {
	for _, p := range c.portals {
		if p != except && p.rows != nil {
			if err := p.materialize(); err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *conn) String() string {
	return fmt.Sprintf("conn(pid=%d user=%s remote=%s)", c.pid, c.user, c.remote)
}
