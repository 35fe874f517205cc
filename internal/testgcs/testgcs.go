// Package testgcs starts a throwaway Google Cloud Storage server (cmd/testgcs: fake-gcs-server
// in memory behind a front that signs service accounts in) as its own process on 127.0.0.1, for
// the object-storage tests.
package testgcs

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ankaflow/ankaflow/internal/testenv"
)

// Options of a server.
type Options struct {
	Buckets []string
	// Accounts are service-account emails that may sign in; with none, the server accepts
	// every request (as fake-gcs-server does on its own).
	Accounts   []string
	ReadOnly   []string // accounts that may only read
	ChunkDelay time.Duration
}

// Server is a running test server.
type Server struct {
	Endpoint string // http://127.0.0.1:port
	Addr     string // 127.0.0.1:port
	admin    string
	keys     map[string]*rsa.PrivateKey
}

// Start runs cmd/testgcs (see testenv.StartServer) until the test ends.
func Start(tb testing.TB, o Options) *Server {
	tb.Helper()
	dir := tb.TempDir()
	s := &Server{admin: randomHex(16), keys: map[string]*rsa.PrivateKey{}}
	var accounts []string
	for i, email := range o.Accounts {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			tb.Fatal(err)
		}
		der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
		if err != nil {
			tb.Fatal(err)
		}
		pub := filepath.Join(dir, fmt.Sprintf("account-%d.pem", i))
		if err := os.WriteFile(pub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
			tb.Fatal(err)
		}
		s.keys[email] = k
		accounts = append(accounts, email+"="+pub)
	}
	_, here, _, _ := runtime.Caller(0)
	s.Addr = testenv.StartServer(tb, filepath.Join(filepath.Dir(here), "cmd", "testgcs"), "GCS test server",
		"-addr", "127.0.0.1:0", "-buckets", strings.Join(o.Buckets, ","),
		"-accounts", strings.Join(accounts, ","), "-readonly", strings.Join(o.ReadOnly, ","),
		"-admin-token", s.admin, "-chunk-delay", o.ChunkDelay.String())
	s.Endpoint = "http://" + s.Addr
	return s
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// KeyFile writes a service-account JSON key file of account (one of Options.Accounts; any other
// email gets a fresh key the server does not know) whose token_uri is the server's token
// endpoint, and returns its path.
func (s *Server) KeyFile(tb testing.TB, email string) string {
	tb.Helper()
	k := s.keys[email]
	if k == nil {
		var err error
		if k, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			tb.Fatal(err)
		}
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		tb.Fatal(err)
	}
	data, err := json.Marshal(map[string]string{
		"type": "service_account", "project_id": "ankaflow-test", "private_key_id": randomHex(20),
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email": email, "client_id": "1234567890", "token_uri": s.Endpoint + "/token",
		"auth_uri": s.Endpoint + "/auth",
	})
	if err != nil {
		tb.Fatal(err)
	}
	p := filepath.Join(tb.TempDir(), "key.json")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		tb.Fatal(err)
	}
	return p
}

func (s *Server) do(tb testing.TB, method, u string, body []byte) []byte {
	tb.Helper()
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		tb.Fatalf("%s %s: %s %v\n%s", method, u, resp.Status, err, data)
	}
	return data
}

// Put stores an object.
func (s *Server) Put(tb testing.TB, bucket, key string, data []byte) {
	tb.Helper()
	s.do(tb, http.MethodPost, s.Endpoint+"/upload/storage/v1/b/"+url.PathEscape(bucket)+"/o?uploadType=media&name="+url.QueryEscape(key), data)
}

// Get reads an object.
func (s *Server) Get(tb testing.TB, bucket, key string) []byte {
	tb.Helper()
	return s.do(tb, http.MethodGet, s.Endpoint+"/download/storage/v1/b/"+url.PathEscape(bucket)+"/o/"+url.PathEscape(key)+"?alt=media", nil)
}

// Keys lists the objects of bucket.
func (s *Server) Keys(tb testing.TB, bucket string) []string {
	tb.Helper()
	var res struct {
		Items []struct {
			Name string `json:"name"`
		} `json:"items"`
	}
	if err := json.Unmarshal(s.do(tb, http.MethodGet, s.Endpoint+"/storage/v1/b/"+url.PathEscape(bucket)+"/o", nil), &res); err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, it := range res.Items {
		out = append(out, it.Name)
	}
	return out
}

// Served is how many bytes of GET response bodies the server has sent so far.
func (s *Server) Served(tb testing.TB) int64 {
	tb.Helper()
	n, err := strconv.ParseInt(string(s.do(tb, http.MethodGet, s.Endpoint+"/_test/served", nil)), 10, 64)
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// Chunks is the number of resumable-upload chunks the server has received.
func (s *Server) Chunks(tb testing.TB) int {
	tb.Helper()
	n, err := strconv.Atoi(string(s.do(tb, http.MethodGet, s.Endpoint+"/_test/chunks", nil)))
	if err != nil {
		tb.Fatal(err)
	}
	return n
}
