package pgwire

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/engine"
	"github.com/ankaflow/ankaflow/internal/testpg"
)

func writeUsers(t *testing.T, lines ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "users.txt")
	require.NoError(t, os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600))
	return path
}

func tryConnect(ts *testServer, url string) (*pgx.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return pgx.Connect(ctx, url)
}

func requirePGCode(t *testing.T, err error, code string) *pgconn.PgError {
	t.Helper()
	var pe *pgconn.PgError
	require.True(t, errors.As(err, &pe), "want PostgreSQL error %s, got %v", code, err)
	require.Equal(t, code, pe.Code, pe.Message)
	return pe
}

func TestHashPasswordAndUsersFile(t *testing.T) {
	v, err := HashPassword("pencil")
	require.NoError(t, err)
	require.Regexp(t, `^SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}:[A-Za-z0-9+/=]{44}$`, v)
	sv, err := parseScramVerifier(v)
	require.NoError(t, err)
	u := &userEntry{name: "x", scram: sv}
	require.True(t, u.checkPassword("pencil"))
	require.False(t, u.checkPassword("Pencil"))

	path := filepath.Join(t.TempDir(), "users")
	require.NoError(t, AddUser(path, "alice", "one"))
	require.NoError(t, AddUser(path, `bo"b`, "two"))
	require.NoError(t, AddUser(path, "alice", "three")) // replaces
	st, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	users, err := parseUsers(path, data)
	require.NoError(t, err)
	require.Len(t, users, 2)
	require.True(t, users["alice"].checkPassword("three"))
	require.True(t, users[`bo"b`].checkPassword("two"))
	require.Equal(t, 2, strings.Count(string(data), "SCRAM-SHA-256$"))

	_, err = parseUsers("f", []byte(`"carol" "plaintext"`))
	require.ErrorContains(t, err, "f:1")
	_, err = parseUsers("f", []byte("# comment\n\n\"dave\" \"md5"+strings.Repeat("0", 32)+"\"\n"))
	require.NoError(t, err)
}

func TestSCRAMAuthentication(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users")
	require.NoError(t, AddUser(path, "alice", "s3cret pässword"))
	ts := startServer(t, Config{UsersFile: path})
	require.Equal(t, AuthSCRAM, ts.authMethod)
	ctx := context.Background()

	c, err := tryConnect(ts, ts.url("alice", "s3cret%20p%C3%A4ssword"))
	require.NoError(t, err)
	var one int
	require.NoError(t, c.QueryRow(ctx, "SELECT 1").Scan(&one))
	c.Close(ctx)

	_, err = tryConnect(ts, ts.url("alice", "wrong"))
	pe := requirePGCode(t, err, "28P01")
	require.Equal(t, `password authentication failed for user "alice"`, pe.Message)
	require.Equal(t, "FATAL", pe.Severity)
	// Unknown users fail the same way.
	_, err = tryConnect(ts, ts.url("mallory", "x"))
	require.Equal(t, `password authentication failed for user "mallory"`, requirePGCode(t, err, "28P01").Message)

	// Users added while the server runs can log in.
	require.NoError(t, AddUser(path, "bob", "b0b"))
	c, err = tryConnect(ts, ts.url("bob", "b0b"))
	require.NoError(t, err)
	c.Close(ctx)
	require.Contains(t, ts.logs.String(), "password authentication failed")
}

func TestMD5AndCleartextAuthentication(t *testing.T) {
	scram, err := HashPassword("pw-scram")
	require.NoError(t, err)
	path := writeUsers(t,
		`"md5user" "`+md5Hash("pw-md5", "md5user")+`"`,
		`"scramuser" "`+scram+`"`,
	)
	ctx := context.Background()
	for _, method := range []string{AuthMD5, AuthPassword} {
		t.Run(method, func(t *testing.T) {
			ts := startServer(t, Config{UsersFile: path, AuthMethod: method})
			c, err := tryConnect(ts, ts.url("md5user", "pw-md5"))
			require.NoError(t, err)
			c.Close(ctx)
			// A SCRAM verifier works with md5 (PostgreSQL then uses SCRAM) and with cleartext.
			c, err = tryConnect(ts, ts.url("scramuser", "pw-scram"))
			require.NoError(t, err)
			c.Close(ctx)
			_, err = tryConnect(ts, ts.url("md5user", "nope"))
			requirePGCode(t, err, "28P01")
			_, err = tryConnect(ts, ts.url("ghost", "nope"))
			requirePGCode(t, err, "28P01")
		})
	}
}

func TestTrustOnlyOnLoopback(t *testing.T) {
	db, err := engine.Open(context.Background(), engine.Options{})
	require.NoError(t, err)
	defer db.Close()
	_, err = New(Config{DB: db, Listen: "0.0.0.0:0"})
	require.ErrorContains(t, err, "trust is only allowed on a loopback address")
	_, err = New(Config{DB: db, Listen: "192.0.2.1:5433", AuthMethod: "trust"})
	require.Error(t, err)
	_, err = New(Config{DB: db, Listen: "[::1]:0"})
	require.NoError(t, err)
	_, err = New(Config{DB: db, Listen: "localhost:0", AuthMethod: "scram-sha-256"})
	require.ErrorContains(t, err, "needs a users file")
	_, err = New(Config{DB: db, Listen: "0.0.0.0:0", UsersFile: writeUsers(t, "# none yet")})
	require.NoError(t, err)
	ts := startServer(t, Config{DB: db})
	require.Contains(t, ts.logs.String(), "NO AUTHENTICATION (trust)")
}

func TestTLS(t *testing.T) {
	certFile, keyFile := writeTestCert(t)
	path := filepath.Join(t.TempDir(), "users")
	require.NoError(t, AddUser(path, "alice", "pw"))
	ts := startServer(t, Config{UsersFile: path, AuthMethod: AuthPassword, TLSCertFile: certFile, TLSKeyFile: keyFile})
	ctx := context.Background()
	url := strings.Replace(ts.url("alice", "pw"), "sslmode=disable", "sslmode=require", 1)
	c, err := tryConnect(ts, url)
	require.NoError(t, err)
	var one int
	require.NoError(t, c.QueryRow(ctx, "SELECT 1").Scan(&one))
	_, isTLS := c.PgConn().Conn().(*tls.Conn)
	require.True(t, isTLS)
	c.Close(ctx)
	require.Eventually(t, func() bool { return strings.Contains(ts.logs.String(), "tls=true") }, 10*time.Second, 10*time.Millisecond)
}

// writeTestCert writes a self-signed ECDSA P-256 certificate for localhost (signed with
// ECDSA-SHA256) and its key, and returns the two file names.
func writeTestCert(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"localhost"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	kder, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600))
	return certFile, keyFile
}

// Verifiers made by PostgreSQL itself work in the users file.
func TestPostgreSQLVerifier(t *testing.T) {
	pg := testpg.Start(t, testpg.Options{})
	ctx := context.Background()
	c, err := pgx.Connect(ctx, pg.URL(""))
	require.NoError(t, err)
	defer c.Close(ctx)
	_, err = c.Exec(ctx, "SET password_encryption = 'scram-sha-256'; CREATE ROLE carol LOGIN PASSWORD 'pencil'")
	require.NoError(t, err)
	var verifier string
	require.NoError(t, c.QueryRow(ctx, "SELECT rolpassword FROM pg_authid WHERE rolname = 'carol'").Scan(&verifier))
	ts := startServer(t, Config{UsersFile: writeUsers(t, `"carol" "`+verifier+`"`)})
	cc, err := tryConnect(ts, ts.url("carol", "pencil"))
	require.NoError(t, err)
	cc.Close(ctx)
	_, err = tryConnect(ts, ts.url("carol", "pen"))
	requirePGCode(t, err, "28P01")
}
