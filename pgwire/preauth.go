package pgwire

import (
	"os"
	"time"
)

// Connections that have not authenticated yet are counted apart from sessions: they have
// their own small cap (Config.MaxPreAuth) and a short deadline (Config.AuthTimeout), and
// take a --max-conns slot only once authenticated. Five clients that open a connection and
// never finish SCRAM can no longer lock real users out.
const (
	defaultAuthTimeout = 10 * time.Second
	defaultMaxPreAuth  = 32
	// refusedDeadline is how long a connection refused for the pre-authentication cap may
	// take to send its startup packet and read the error.
	refusedDeadline = 2 * time.Second
)

// admitPreAuth counts a new connection as authenticating if the cap allows; s.mu is held.
func (s *Server) admitPreAuthLocked() bool {
	if s.preAuth >= s.cfg.MaxPreAuth {
		return false
	}
	s.preAuth++
	return true
}

// leavePreAuth ends a connection's authenticating phase (authenticated, or gone).
func (s *Server) leavePreAuth(c *conn) {
	if !c.preAuth {
		return
	}
	c.preAuth = false
	s.mu.Lock()
	s.preAuth--
	s.mu.Unlock()
}

// authenticating counts connections between accept and authentication.
func (s *Server) authenticating() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.preAuth
}

// reportBadReload logs, once per version of the file, that a changed users file could not
// be used and the previous list stays in force: an operator who made a typo must hear of it
// rather than wonder why a new user cannot log in. us.mu is held.
func (us *userStore) reportBadReload(st os.FileInfo, err error) {
	if us.log == nil || (st.ModTime().Equal(us.badModTime) && st.Size() == us.badSize) {
		return
	}
	us.badModTime, us.badSize = st.ModTime(), st.Size()
	us.log.Error("pgwire: the users file changed but cannot be used; keeping the previous list of users until it is fixed", "err", err.Error(), "users", len(us.users))
}

// warnPlainNetwork says loudly when the server listens beyond this machine without TLS: the
// password exchange (SCRAM) stays safe, but every query and result crosses the network in
// clear text, and md5 hashes can be replayed by whoever records them.
func (s *Server) warnPlainNetwork() {
	if s.tlsConfig != nil || isLoopback(s.cfg.Listen) {
		return
	}
	s.log.Warn("pgwire: LISTENING ON A NETWORK ADDRESS WITHOUT TLS: queries and results travel in clear text and can be read or altered on the way. Give --tls-cert and --tls-key, or listen on 127.0.0.1.", "addr", s.Addr().String())
}
