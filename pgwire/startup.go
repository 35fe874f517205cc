package pgwire

import (
	"bufio"
	"crypto/md5"
	"crypto/rand"
	"crypto/subtle"
	"crypto/tls"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

const (
	sslRequestCode    = 80877103
	gssEncRequestCode = 80877104
	cancelRequestCode = 80877102
	maxStartupLen     = 10000
)

// startup runs the connection from its first byte to ReadyForQuery. false ends the connection.
func (c *conn) startup() bool {
	params, ok := c.negotiate()
	if !ok {
		return false
	}
	c.state = stateAuth
	c.user = params["user"]
	if c.user == "" {
		c.user = ""
		c.fail(fatalError(codeInvalidAuthorization, "no PostgreSQL user name specified in startup packet"), "no user name")
		return false
	}
	c.database = params["database"]
	if c.database == "" {
		c.database = c.user
	}
	if r := params["replication"]; r != "" && !strings.EqualFold(r, "false") && !strings.EqualFold(r, "off") {
		c.fail(fatalError(codeFeatureNotSupported, "replication connections are not supported"), "replication requested")
		return false
	}
	if !c.preAuth {
		c.fail(fatalError(codeTooManyConnections, "sorry, too many clients are authenticating already"), "too many connections authenticating")
		return false
	}
	if !c.authenticate() {
		return false
	}
	// Only an authenticated client takes one of the MaxConns slots.
	c.srv.leavePreAuth(c)
	if pe := c.srv.register(c); pe != nil {
		c.fail(pe, pe.Message)
		return false
	}
	c.send(&pgproto3.AuthenticationOk{})
	if pe := c.openSession(params); pe != nil {
		c.fail(pe, "session setup failed: "+pe.Message)
		return false
	}
	c.state = stateReady
	c.serving.Store(true)
	c.srv.log.Debug("pgwire: connection authorized", "user", c.user, "database", c.database, "remote", c.remote,
		"application_name", c.gucs["application_name"], "pid", c.pid)
	names := make([]string, 0, len(gucDefs))
	for _, g := range gucDefs {
		if g.report {
			names = append(names, g.name)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		c.send(&pgproto3.ParameterStatus{Name: n, Value: c.gucValue(n)})
	}
	c.send(&pgproto3.BackendKeyData{ProcessID: c.pid, SecretKey: c.secret[:]})
	c.sendReady()
	return c.flush() == nil
}

// fail sends a FATAL error and records why the connection ended.
func (c *conn) fail(pe *pgError, reason string) {
	c.sendError(pe)
	c.flush()
	c.endReason = reason
}

// negotiate reads startup packets: it answers SSLRequest / GSSENCRequest, serves a
// CancelRequest, and returns the StartupMessage parameters (keys lower-cased).
func (c *conn) negotiate() (map[string]string, bool) {
	for {
		body, err := c.readStartupPacket()
		if err != nil {
			c.endReason = "closed before startup: " + err.Error()
			if pe, ok := err.(*pgError); ok {
				c.fail(pe, pe.Message)
			}
			return nil, false
		}
		code := binary.BigEndian.Uint32(body)
		switch code {
		case sslRequestCode:
			if c.tls {
				c.fail(fatalError(codeProtocolViolation, "SSLRequest received on an encrypted connection"), "protocol violation")
				return nil, false
			}
			if c.rd.Buffered() > 0 {
				// Bytes sent before the TLS handshake could be injected by a man in the middle.
				c.fail(fatalError(codeProtocolViolation, "received unencrypted data after SSL request"), "protocol violation")
				return nil, false
			}
			if c.srv.tlsConfig == nil {
				if _, err := c.nc.Write([]byte{'N'}); err != nil {
					c.endReason = "closed during SSL negotiation"
					return nil, false
				}
				continue
			}
			if _, err := c.nc.Write([]byte{'S'}); err != nil {
				c.endReason = "closed during SSL negotiation"
				return nil, false
			}
			tc := tls.Server(c.nc, c.srv.tlsConfig)
			if err := tc.Handshake(); err != nil {
				c.endReason = "TLS handshake failed: " + err.Error()
				return nil, false
			}
			c.setNetConn(tc)
			c.rd = bufio.NewReaderSize(tc, 32<<10)
			c.tls = true
		case gssEncRequestCode:
			if _, err := c.nc.Write([]byte{'N'}); err != nil {
				c.endReason = "closed during GSS negotiation"
				return nil, false
			}
		case cancelRequestCode:
			if len(body) >= 12 {
				c.srv.cancel(binary.BigEndian.Uint32(body[4:8]), body[8:])
			}
			c.endReason = "cancel request"
			return nil, false
		default:
			major, minor := code>>16, code&0xffff
			if major != 3 {
				c.fail(fatalError(codeFeatureNotSupported, "unsupported frontend protocol %d.%d: server supports 3.0", major, minor), "unsupported protocol")
				return nil, false
			}
			params, unknown, err := parseStartupParams(body[4:])
			if err != nil {
				c.fail(fatalError(codeProtocolViolation, "invalid startup packet layout: %v", err), "protocol violation")
				return nil, false
			}
			if minor > 0 || len(unknown) > 0 {
				c.send(&pgproto3.NegotiateProtocolVersion{NewestMinorProtocol: 0, UnrecognizedOptions: unknown})
			}
			return params, true
		}
	}
}

func (c *conn) readStartupPacket() ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(c.rd, hdr[:]); err != nil {
		return nil, err
	}
	n := int(binary.BigEndian.Uint32(hdr[:])) - 4
	if n < 4 || n > maxStartupLen {
		return nil, fatalError(codeProtocolViolation, "invalid length of startup packet")
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(c.rd, body); err != nil {
		return nil, err
	}
	return body, nil
}

// parseStartupParams reads the name/value pairs of a StartupMessage. Names are matched
// case-insensitively (libpq sends datestyle, pgjdbc DateStyle); protocol options (_pq_.*) are
// returned as unknown.
func parseStartupParams(b []byte) (map[string]string, []string, error) {
	params := map[string]string{}
	var unknown []string
	for len(b) > 0 && b[0] != 0 {
		i := indexZero(b)
		if i < 0 {
			return nil, nil, errors.New("unterminated parameter name")
		}
		name := string(b[:i])
		b = b[i+1:]
		j := indexZero(b)
		if j < 0 {
			return nil, nil, errors.New("unterminated parameter value")
		}
		value := string(b[:j])
		b = b[j+1:]
		if strings.HasPrefix(name, "_pq_.") {
			unknown = append(unknown, name)
			continue
		}
		params[strings.ToLower(name)] = value
	}
	return params, unknown, nil
}

func indexZero(b []byte) int {
	for i, c := range b {
		if c == 0 {
			return i
		}
	}
	return -1
}

// parseOptions splits the startup "options" parameter: -c name=value and --name=value, separated
// by spaces, a backslash escaping the next character.
func parseOptions(s string) ([][2]string, error) {
	var words []string
	var cur strings.Builder
	have := false
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			have = true
		case ch == ' ' || ch == '\t' || ch == '\n':
			if have {
				words = append(words, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteByte(ch)
			have = true
		}
	}
	if have {
		words = append(words, cur.String())
	}
	var out [][2]string
	for i := 0; i < len(words); i++ {
		w := words[i]
		var kv string
		switch {
		case w == "-c" && i+1 < len(words):
			i++
			kv = words[i]
		case strings.HasPrefix(w, "-c"):
			kv = w[2:]
		case strings.HasPrefix(w, "--"):
			kv = strings.ReplaceAll(w[2:], "-", "_")
			if name, val, ok := strings.Cut(w[2:], "="); ok {
				kv = strings.ReplaceAll(name, "-", "_") + "=" + val
			}
		default:
			return nil, fmt.Errorf("invalid command-line argument for server process: %s", w)
		}
		name, val, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("invalid option %q: expected name=value", kv)
		}
		out = append(out, [2]string{name, val})
	}
	return out, nil
}

// --- authentication ---

// authenticate runs the configured method; false ends the connection (error already sent).
func (c *conn) authenticate() bool {
	method := c.srv.authMethod
	if method == AuthTrust {
		c.role = RoleAdmin // loopback only: the local developer
		return true
	}
	u := c.srv.users.lookup(c.user)
	if u != nil {
		c.role = u.role
	}
	var ok bool
	var err error
	switch {
	case method == AuthPassword:
		ok, err = c.authCleartext(u)
	case method == AuthMD5 && u != nil && u.md5 != "":
		ok, err = c.authMD5(u)
	default:
		// scram-sha-256, and md5 for users whose password is stored as a SCRAM verifier
		// (PostgreSQL does the same). Unknown users get a mock SCRAM exchange under md5 too,
		// like PostgreSQL with password_encryption = scram-sha-256: `adduser` stores SCRAM
		// verifiers, so answering MD5 would tell unknown names from real ones.
		ok, err = c.authSCRAM(u)
	}
	if err != nil {
		var pe *pgError
		if errors.As(err, &pe) {
			c.fail(pe, "authentication failed: "+pe.Message)
		} else {
			c.endReason = "closed during authentication"
		}
		return false
	}
	if !ok {
		c.srv.log.Warn("pgwire: password authentication failed", "user", c.user, "remote", c.remote, "method", method)
		// Slow down password guessing; only this connection waits.
		select {
		case <-time.After(c.srv.authFailDelay):
		case <-c.srv.closing:
		}
		c.fail(fatalError(codeInvalidPassword, "password authentication failed for user %q", c.user), "password authentication failed")
		return false
	}
	return true
}

// readPasswordFrame reads the client's 'p' message body.
func (c *conn) readPasswordFrame() ([]byte, error) {
	if err := c.flush(); err != nil {
		return nil, err
	}
	typ, body, err := c.readFrame(maxAuthLen, nil)
	if err != nil {
		return nil, err
	}
	if typ != 'p' {
		return nil, fatalError(codeProtocolViolation, "expected password response, got message type %q", typ)
	}
	return body, nil
}

func (c *conn) authCleartext(u *userEntry) (bool, error) {
	c.send(&pgproto3.AuthenticationCleartextPassword{})
	body, err := c.readPasswordFrame()
	if err != nil {
		return false, err
	}
	var pm pgproto3.PasswordMessage
	if err := pm.Decode(body); err != nil {
		return false, fatalError(codeProtocolViolation, "invalid password message")
	}
	return u != nil && u.checkPassword(pm.Password), nil
}

func (c *conn) authMD5(u *userEntry) (bool, error) {
	var salt [4]byte
	rand.Read(salt[:])
	c.send(&pgproto3.AuthenticationMD5Password{Salt: salt})
	body, err := c.readPasswordFrame()
	if err != nil {
		return false, err
	}
	var pm pgproto3.PasswordMessage
	if err := pm.Decode(body); err != nil {
		return false, fatalError(codeProtocolViolation, "invalid password message")
	}
	if u == nil {
		return false, nil
	}
	sum := md5.Sum(append([]byte(u.md5[3:]), salt[:]...))
	want := "md5" + hex.EncodeToString(sum[:])
	return subtle.ConstantTimeCompare([]byte(want), []byte(pm.Password)) == 1, nil
}
