package pgwire

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"net"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/stretchr/testify/require"
	"github.com/xdg-go/scram"

	"github.com/ankaflow/ankaflow/internal/testpg"
)

// rawSCRAM is one SCRAM exchange driven message by message, so tests can send what no
// well-behaved client sends.
type rawSCRAM struct {
	tls      bool
	mech     string // the mechanism the client picks
	flag     string // "n", "y" or "p" (tls-server-end-point, with the data of cbData)
	cbData   func(tls.ConnectionState) []byte
	password string
	// tamper rewrites the client-final message before it is sent.
	tamper func(string) string
}

// run returns the mechanisms the server offered and its ErrorResponse (nil when it accepted).
func (r rawSCRAM) run(t *testing.T, addr, user string) ([]string, *pgproto3.ErrorResponse) {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 10*time.Second)
	require.NoError(t, err)
	defer nc.Close()
	require.NoError(t, nc.SetDeadline(time.Now().Add(30*time.Second)))
	var conn net.Conn = nc
	var state tls.ConnectionState
	if r.tls {
		fe := pgproto3.NewFrontend(nc, nc)
		fe.Send(&pgproto3.SSLRequest{})
		require.NoError(t, fe.Flush())
		var answer [1]byte
		_, err := nc.Read(answer[:])
		require.NoError(t, err)
		require.Equal(t, byte('S'), answer[0])
		tc := tls.Client(nc, &tls.Config{InsecureSkipVerify: true})
		require.NoError(t, tc.Handshake())
		conn, state = tc, tc.ConnectionState()
	}
	fe := pgproto3.NewFrontend(conn, conn)
	fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber,
		Parameters: map[string]string{"user": user, "database": "ankaflow"}})
	require.NoError(t, fe.Flush())
	msg, err := fe.Receive()
	require.NoError(t, err)
	sasl, ok := msg.(*pgproto3.AuthenticationSASL)
	require.True(t, ok, "want AuthenticationSASL, got %T", msg)
	mechs := append([]string(nil), sasl.AuthMechanisms...)

	client, err := scram.SHA256.NewClient("", r.password, "")
	require.NoError(t, err)
	var conv *scram.ClientConversation
	switch r.flag {
	case "p":
		conv = client.NewConversationWithChannelBinding(scram.ChannelBinding{
			Type: scram.ChannelBindingTLSServerEndpoint, Data: r.cbData(state)})
	case "y":
		conv = client.NewConversationAdvertisingChannelBinding()
	default:
		conv = client.NewConversation()
	}
	first, err := conv.Step("")
	require.NoError(t, err)
	fe.Send(&pgproto3.SASLInitialResponse{AuthMechanism: r.mech, Data: []byte(first)})
	require.NoError(t, fe.Flush())
	for {
		msg, err := fe.Receive()
		require.NoError(t, err)
		switch m := msg.(type) {
		case *pgproto3.ErrorResponse:
			return mechs, m
		case *pgproto3.AuthenticationSASLContinue:
			final, err := conv.Step(string(m.Data))
			require.NoError(t, err)
			if r.tamper != nil {
				final = r.tamper(final)
			}
			fe.Send(&pgproto3.SASLResponse{Data: []byte(final)})
			require.NoError(t, fe.Flush())
		case *pgproto3.AuthenticationSASLFinal:
			// The client checks the server's signature: the server knew the verifier.
			_, err := conv.Step(string(m.Data))
			require.NoError(t, err)
		case *pgproto3.AuthenticationOk:
			require.True(t, conv.Valid(), "AuthenticationOk before the server proved itself")
			return mechs, nil
		default:
			t.Fatalf("unexpected %T during SCRAM", msg)
		}
	}
}

// peerEndPoint is the tls-server-end-point data of the certificate the client received,
// computed by the library's client side.
func peerEndPoint(st tls.ConnectionState) []byte {
	cb, err := scram.NewTLSServerEndpointBinding(&st)
	if err != nil {
		panic(err)
	}
	return cb.Data
}

func startTLSServer(t *testing.T, users string) *testServer {
	certFile, keyFile := writeTestCert(t)
	return startServer(t, Config{UsersFile: users, TLSCertFile: certFile, TLSKeyFile: keyFile})
}

// Over TLS the server offers SCRAM-SHA-256-PLUS with tls-server-end-point channel binding (and
// SCRAM-SHA-256), as PostgreSQL does; real clients requiring channel binding connect.
func TestSCRAMChannelBindingClients(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users")
	require.NoError(t, AddUser(path, "alice", "pw"))
	ts := startTLSServer(t, path)
	ctx := context.Background()
	tlsURL := func(password, binding string) string {
		return strings.Replace(ts.url("alice", password), "sslmode=disable", "sslmode=require&channel_binding="+binding, 1)
	}

	c, err := tryConnect(ts, tlsURL("pw", "require"))
	require.NoError(t, err)
	var who string
	require.NoError(t, c.QueryRow(ctx, "SELECT current_user").Scan(&who))
	require.Equal(t, "alice", who)
	c.Close(ctx)
	_, err = tryConnect(ts, tlsURL("wrong", "require"))
	require.Equal(t, `password authentication failed for user "alice"`, requirePGCode(t, err, "28P01").Message)
	// Clients that do not bind still log in over TLS.
	c, err = tryConnect(ts, tlsURL("pw", "disable"))
	require.NoError(t, err)
	c.Close(ctx)

	// psql (libpq) refuses to finish unless the server completed SCRAM with channel binding.
	env := []string{"PGUSER=alice", "PGPASSWORD=pw", "PGSSLMODE=require", "PGCHANNELBINDING=require"}
	r := runPsqlEnv(t, ts.port(), "ankaflow", env, "-Atc", "SELECT current_user")
	require.Equal(t, 0, r.code, r.stderr)
	require.Equal(t, "alice\n", r.stdout)
	r = runPsqlEnv(t, ts.port(), "ankaflow", append(env, "PGPASSWORD=nope"), "-Atc", "SELECT 1")
	require.Equal(t, 2, r.code)
	require.Contains(t, r.stderr, `password authentication failed for user "alice"`)
}

// The exchange itself: what is offered with and without TLS, and the messages a man in the
// middle or a broken client would send are refused with PostgreSQL's errors.
func TestSCRAMChannelBindingExchange(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users")
	require.NoError(t, AddUser(path, "alice", "pw"))
	ts := startTLSServer(t, path)
	addr := ts.Addr().String()
	otherCert := func(tls.ConnectionState) []byte { return make([]byte, 32) }
	flipProof := func(final string) string {
		i := strings.LastIndex(final, ",p=")
		proof, err := base64.StdEncoding.DecodeString(final[i+3:])
		if err != nil {
			panic(err)
		}
		proof[0] ^= 1
		return final[:i+3] + base64.StdEncoding.EncodeToString(proof)
	}
	for _, tc := range []struct {
		name      string
		x         rawSCRAM
		user      string
		wantMechs []string
		wantCode  string // "" = accepted
		wantMsg   string
	}{
		{name: "plus over tls", x: rawSCRAM{tls: true, mech: mechSCRAMPlus, flag: "p", cbData: peerEndPoint, password: "pw"},
			wantMechs: []string{"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"}},
		{name: "no binding over tls", x: rawSCRAM{tls: true, mech: mechSCRAM, flag: "n", password: "pw"},
			wantMechs: []string{"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"}},
		{name: "plain tcp offers no plus", x: rawSCRAM{mech: mechSCRAM, flag: "y", password: "pw"},
			wantMechs: []string{"SCRAM-SHA-256"}},
		{name: "wrong password with binding", x: rawSCRAM{tls: true, mech: mechSCRAMPlus, flag: "p", cbData: peerEndPoint, password: "pW"},
			wantCode: "28P01", wantMsg: `password authentication failed for user "alice"`},
		{name: "tampered proof", x: rawSCRAM{tls: true, mech: mechSCRAMPlus, flag: "p", cbData: peerEndPoint, password: "pw", tamper: flipProof},
			wantCode: "28P01", wantMsg: `password authentication failed for user "alice"`},
		{name: "tampered proof without tls", x: rawSCRAM{mech: mechSCRAM, flag: "n", password: "pw", tamper: flipProof},
			wantCode: "28P01", wantMsg: `password authentication failed for user "alice"`},
		{name: "unknown user", user: "mallory", x: rawSCRAM{tls: true, mech: mechSCRAMPlus, flag: "p", cbData: peerEndPoint, password: "pw"},
			wantCode: "28P01", wantMsg: `password authentication failed for user "mallory"`},
		// A relay terminating TLS with its own certificate: the client binds to that one.
		{name: "relayed exchange", x: rawSCRAM{tls: true, mech: mechSCRAMPlus, flag: "p", cbData: otherCert, password: "pw"},
			wantCode: "08P01", wantMsg: "SCRAM channel binding check failed"},
		// A relay that hid SCRAM-SHA-256-PLUS from a client able to bind.
		{name: "downgrade", x: rawSCRAM{tls: true, mech: mechSCRAM, flag: "y", password: "pw"},
			wantCode: "08P01", wantMsg: "SCRAM channel binding negotiation error"},
		{name: "plus without tls", x: rawSCRAM{mech: mechSCRAMPlus, flag: "n", password: "pw"},
			wantCode: "08P01", wantMsg: "client selected an invalid SASL authentication mechanism"},
		{name: "plus without binding data", x: rawSCRAM{tls: true, mech: mechSCRAMPlus, flag: "n", password: "pw"},
			wantCode: "08P01", wantMsg: "malformed SCRAM message"},
		{name: "binding data under plain mechanism", x: rawSCRAM{tls: true, mech: mechSCRAM, flag: "p", cbData: peerEndPoint, password: "pw"},
			wantCode: "08P01", wantMsg: "malformed SCRAM message"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			user := tc.user
			if user == "" {
				user = "alice"
			}
			mechs, e := tc.x.run(t, addr, user)
			if tc.wantMechs != nil {
				require.Equal(t, tc.wantMechs, mechs)
			}
			if tc.wantCode == "" {
				require.Nil(t, e)
				return
			}
			require.NotNil(t, e, "the server accepted the exchange")
			require.Equal(t, tc.wantCode, e.Code, e.Message)
			require.Equal(t, "FATAL", e.Severity)
			require.Equal(t, tc.wantMsg, e.Message)
		})
	}
}

// psql requiring channel binding over plain TCP fails as it does against PostgreSQL.
func TestPsqlChannelBindingWithoutTLSAsPostgres(t *testing.T) {
	pg := testpg.Start(t, testpg.Options{Password: "pw"})
	ts := startServer(t, Config{UsersFile: writeUsers(t, `"tester" "`+mustHash(t, "pw")+`"`)})
	env := []string{"PGPASSWORD=pw", "PGSSLMODE=disable", "PGCHANNELBINDING=require"}
	want := runPsqlEnv(t, pg.Port, pg.Database, env, "-c", "SELECT 1")
	got := runPsqlEnv(t, ts.port(), pg.Database, env, "-c", "SELECT 1")
	require.Equal(t, 2, want.code, want.stderr)
	require.Equal(t, want.code, got.code, got.stderr)
	ports := regexp.MustCompile(`port \d+`)
	require.Equal(t, ports.ReplaceAllString(want.stderr, "port N"), ports.ReplaceAllString(got.stderr, "port N"))
	require.Contains(t, got.stderr, "channel binding")
}

func mustHash(t *testing.T, password string) string {
	t.Helper()
	v, err := HashPassword(password)
	require.NoError(t, err)
	return v
}
