// Package pgwire is ankaflow's PostgreSQL wire-protocol server (`ankaflow serve`): psql, pgx,
// pgjdbc, psycopg2 and node-postgres connect to one shared DuckDB database, each client on its
// own engine.Session.
//
// Each connection is an explicit state machine (conn.go): startup → authentication → ready,
// with the extended protocol's "skip to Sync" state after an error, and PostgreSQL's
// transaction status (idle / in block / failed) alongside. DuckDB errors become SQLSTATEs in
// one table (errors.go); DuckDB types become PostgreSQL types in one function (types.go) and
// rows are encoded column-wise from Arrow record batches (encode.go).
package pgwire

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/ankaflow/ankaflow/engine"
)

// Config configures a Server.
type Config struct {
	Listen          string        // "127.0.0.1:5433"
	DB              *engine.DB    // shared database; each client gets its own engine.Session on it
	UsersFile       string        // users file; "" = no users configured
	AuthMethod      string        // "scram-sha-256" (default when users exist) | "md5" | "password" | "trust"
	TLSCertFile     string        // PEM certificate; with TLSKeyFile enables TLS (SSLRequest answered 'S')
	TLSKeyFile      string        // PEM private key
	MaxConns        int           // default 100: authenticated sessions
	MaxPreAuth      int           // default 32: connections still authenticating
	AuthTimeout     time.Duration // default 10s: time to complete startup and authentication
	ShutdownTimeout time.Duration // default 10s
	Logger          *slog.Logger
}

// Authentication methods.
const (
	AuthSCRAM    = "scram-sha-256"
	AuthMD5      = "md5"
	AuthPassword = "password"
	AuthTrust    = "trust"
)

// Server is a PostgreSQL wire-protocol server in front of an engine.DB.
type Server struct {
	cfg        Config
	log        *slog.Logger
	authMethod string
	users      *userStore
	tlsConfig  *tls.Config

	// tlsEndPoint is the certificate's tls-server-end-point channel binding data; nil when the
	// certificate has none, and then SCRAM-SHA-256-PLUS is not offered.
	tlsEndPoint []byte

	mockSecret []byte // derives fake SCRAM salts for unknown users

	// authFailDelay is how long a failed login waits before its error (tests shorten it).
	authFailDelay time.Duration

	ready    chan struct{} // closed once listening
	closing  chan struct{} // closed when shutdown starts: stop accepting, end idle sessions
	killing  chan struct{} // closed when the shutdown timeout expires: cancel running statements
	finished chan struct{} // closed when Serve has returned from its shutdown

	startOnce, closeOnce, killOnce sync.Once

	mu      sync.Mutex
	ln      net.Listener
	conns   map[*conn]struct{} // every open client socket, in any phase
	byPID   map[uint32]*conn   // sessions that completed startup, for CancelRequest
	nextPID uint32
	active  int // sessions counted against MaxConns
	preAuth int // connections not yet authenticated, counted against MaxPreAuth
	wg      sync.WaitGroup
}

// New checks the configuration and prepares a server; Serve starts it.
func New(cfg Config) (*Server, error) {
	if cfg.DB == nil {
		return nil, errors.New("pgwire: Config.DB is required")
	}
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:5433"
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = 100
	}
	if cfg.MaxPreAuth <= 0 {
		cfg.MaxPreAuth = defaultMaxPreAuth
	}
	if cfg.AuthTimeout <= 0 {
		cfg.AuthTimeout = defaultAuthTimeout
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{
		cfg:           cfg,
		log:           cfg.Logger,
		authFailDelay: time.Second,
		ready:         make(chan struct{}),
		closing:       make(chan struct{}),
		killing:       make(chan struct{}),
		finished:      make(chan struct{}),
		conns:         map[*conn]struct{}{},
		byPID:         map[uint32]*conn{},
		mockSecret:    make([]byte, 32),
	}
	if _, err := rand.Read(s.mockSecret); err != nil {
		return nil, err
	}
	var pid [4]byte
	rand.Read(pid[:])
	s.nextPID = 1000 + (uint32(pid[0])<<8|uint32(pid[1]))%30000

	method := strings.ToLower(strings.TrimSpace(cfg.AuthMethod))
	if cfg.UsersFile != "" {
		us, err := newUserStore(cfg.UsersFile)
		if err != nil {
			return nil, fmt.Errorf("pgwire: users file: %w", err)
		}
		us.log = cfg.Logger
		us.warnNoRole(us.users)
		s.users = us
		if method == "" {
			method = AuthSCRAM
		}
	} else if method == "" {
		method = AuthTrust
	}
	switch method {
	case AuthSCRAM, AuthMD5, AuthPassword:
		if s.users == nil {
			return nil, fmt.Errorf("pgwire: auth method %s needs a users file (add users with `ankaflow adduser --users FILE NAME`)", method)
		}
	case AuthTrust:
		if !isLoopback(cfg.Listen) {
			return nil, fmt.Errorf("pgwire: refusing to start without authentication on %s: trust is only allowed on a loopback address; configure a users file", cfg.Listen)
		}
	default:
		return nil, fmt.Errorf("pgwire: unknown auth method %q (scram-sha-256, md5, password or trust)", cfg.AuthMethod)
	}
	s.authMethod = method

	if (cfg.TLSCertFile == "") != (cfg.TLSKeyFile == "") {
		return nil, errors.New("pgwire: TLS needs both a certificate and a key file")
	}
	if cfg.TLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCertFile, cfg.TLSKeyFile)
		if err != nil {
			return nil, fmt.Errorf("pgwire: TLS: %w", err)
		}
		s.tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		if cert.Leaf != nil {
			s.tlsEndPoint, _ = tlsServerEndPoint(cert.Leaf)
		}
	}
	return s, nil
}

// isLoopback reports whether a listen address only accepts local connections.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// Ready is closed once the server is listening (Addr is valid from then on).
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Addr is the address the server listens on; nil before it is listening.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Serve listens and serves clients until ctx is cancelled, then shuts down gracefully: it stops
// accepting, lets running statements finish for up to ShutdownTimeout, cancels the rest, and
// returns once every session has ended.
func (s *Server) Serve(ctx context.Context) error {
	var err error
	started := false
	s.startOnce.Do(func() {
		started = true
		var ln net.Listener
		ln, err = net.Listen("tcp", s.cfg.Listen)
		if err != nil {
			return
		}
		s.mu.Lock()
		s.ln = ln
		s.mu.Unlock()
	})
	if !started {
		return errors.New("pgwire: Serve called twice")
	}
	if err != nil {
		return fmt.Errorf("pgwire: listen: %w", err)
	}
	s.logStart()
	close(s.ready)
	acceptDone := make(chan struct{})
	go func() {
		defer close(acceptDone)
		s.acceptLoop()
	}()
	select {
	case <-ctx.Done():
	case <-s.closing:
	}
	// ShutdownTimeout is the whole shutdown, closing the database after Serve included:
	// running statements get 80% of it, cancelled ones 10% to report (see Shutdown), and
	// the rest is left for the caller's DB.Close.
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout*8/10)
	defer cancel()
	s.Shutdown(sctx)
	<-acceptDone
	return nil
}

func (s *Server) logStart() {
	attrs := []any{"addr", s.Addr().String(), "auth", s.authMethod, "tls", s.tlsConfig != nil, "max_conns", s.cfg.MaxConns}
	if s.cfg.UsersFile != "" {
		attrs = append(attrs, "users_file", s.cfg.UsersFile)
	}
	s.log.Info("pgwire: listening", attrs...)
	switch s.authMethod {
	case AuthTrust:
		s.log.Warn("pgwire: NO AUTHENTICATION (trust): any local user can connect as anyone, with full access to the database and to files DuckDB can read or write. Configure a users file to require passwords.", "addr", s.Addr().String())
	case AuthPassword:
		if s.tlsConfig == nil {
			s.log.Warn("pgwire: auth method password sends passwords in clear text and TLS is not configured")
		}
	}
	s.warnPlainNetwork()
}

func (s *Server) acceptLoop() {
	var delay time.Duration
	for {
		s.mu.Lock()
		ln := s.ln
		s.mu.Unlock()
		nc, err := ln.Accept()
		if err != nil {
			select {
			case <-s.closing:
				return
			default:
			}
			// Out of file descriptors and the like: back off and retry.
			s.log.Error("pgwire: accept failed", "err", err)
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			time.Sleep(delay)
			continue
		}
		delay = 0
		c := newConn(s, nc)
		s.mu.Lock()
		select {
		case <-s.closing:
			s.mu.Unlock()
			nc.Close()
			continue
		default:
		}
		s.conns[c] = struct{}{}
		c.preAuth = s.admitPreAuthLocked()
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			c.serve()
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}()
	}
}

// Shutdown stops accepting connections, ends idle sessions, lets running statements finish
// until ctx is done, then cancels them and waits for the sessions to end.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closeOnce.Do(func() {
		close(s.closing)
		s.mu.Lock()
		if s.ln != nil {
			s.ln.Close()
		}
		for c := range s.conns {
			c.wakeForShutdown()
		}
		s.mu.Unlock()
	})
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	s.killOnce.Do(func() {
		close(s.killing)
		s.mu.Lock()
		for c := range s.conns {
			c.cancelRunning(errShutdown)
		}
		s.mu.Unlock()
		s.log.Warn("pgwire: shutdown timeout reached; cancelled running statements")
	})
	// Give cancelled statements a moment to report, then cut the sockets.
	select {
	case <-done:
		return ctx.Err()
	case <-time.After(s.cfg.ShutdownTimeout / 10):
	}
	s.mu.Lock()
	for c := range s.conns {
		c.netConn().Close()
	}
	s.mu.Unlock()
	<-done
	return ctx.Err()
}

// register makes a session known after its startup packet: it counts against MaxConns and
// can be cancelled by pid.
func (s *Server) register(c *conn) *pgError {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.closing:
		return fatalError("57P03", "the database system is shutting down")
	default:
	}
	if s.active >= s.cfg.MaxConns {
		return fatalError(codeTooManyConnections, "sorry, too many clients already")
	}
	s.active++
	for {
		s.nextPID++
		if s.nextPID > 1<<30 {
			s.nextPID = 1000
		}
		if _, used := s.byPID[s.nextPID]; !used {
			break
		}
	}
	c.pid = s.nextPID
	s.byPID[c.pid] = c
	c.registered = true
	return nil
}

func (s *Server) unregister(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !c.registered {
		return
	}
	c.registered = false
	s.active--
	delete(s.byPID, c.pid)
}

// cancel handles a CancelRequest: it interrupts the statement running on the session with that
// pid and secret key, if any.
func (s *Server) cancel(pid uint32, secret []byte) {
	s.mu.Lock()
	c := s.byPID[pid]
	s.mu.Unlock()
	if c == nil || !c.secretMatches(secret) {
		s.log.Debug("pgwire: cancel request for unknown session", "pid", pid)
		return
	}
	if c.cancelRunning(errUserCancel) {
		s.log.Info("pgwire: statement cancelled by client request", "pid", pid, "user", c.user)
	}
}

// runningStatements counts sessions executing a statement right now.
func (s *Server) runningStatements() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for c := range s.conns {
		c.mu.Lock()
		if c.running != nil {
			n++
		}
		c.mu.Unlock()
	}
	return n
}

// sessions counts connected sessions (past their startup packet).
func (s *Server) sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.active
}
