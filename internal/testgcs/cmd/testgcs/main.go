// Command testgcs is the Google Cloud Storage server the object-storage tests start as their own
// process on 127.0.0.1: fake-gcs-server's in-memory store (JSON API, XML reads, resumable
// uploads) behind a thin front that does what the emulator does not: it issues OAuth access
// tokens for service accounts (checking the signature of their JWT assertion with the account's
// public key, as Google's token endpoint does), rejects requests without a valid token, denies
// writes to read-only accounts, and can slow resumable-upload chunks down so a test can cancel
// a sink mid-upload.
//
//	testgcs -addr 127.0.0.1:0 -buckets lake -accounts sa@p.iam.gserviceaccount.com=sa.pem
package main

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsouza/fake-gcs-server/fakestorage"

	"github.com/ankaflow/ankaflow/internal/testenv"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	buckets := flag.String("buckets", "", "comma-separated buckets to create")
	accounts := flag.String("accounts", "", "comma-separated email=public-key.pem of the service accounts that may sign in; empty: no authentication")
	readonly := flag.String("readonly", "", "comma-separated service-account emails that may only read")
	admin := flag.String("admin-token", "", "a bearer token that is always accepted (the test's own set-up requests)")
	chunkDelay := flag.Duration("chunk-delay", 0, "delay each resumable-upload chunk (to cancel a sink mid-upload)")
	flag.Parse()

	keys := map[string]*rsa.PublicKey{}
	for _, a := range strings.Split(*accounts, ",") {
		email, file, ok := strings.Cut(a, "=")
		if !ok {
			continue
		}
		keys[email] = readPublicKey(file)
	}
	ro := map[string]bool{}
	for _, e := range strings.Split(*readonly, ",") {
		ro[e] = true
	}

	l, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fake, err := fakestorage.NewServerWithOptions(fakestorage.Options{NoListener: true,
		PublicHost: "127.0.0.1", ExternalURL: "http://" + l.Addr().String()})
	if err != nil {
		log.Fatal(err)
	}
	for _, b := range strings.Split(*buckets, ",") {
		if b != "" {
			fake.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: b})
		}
	}
	f := &front{fake: fake.HTTPHandler(), keys: keys, readonly: ro, admin: *admin, delay: *chunkDelay, tokens: map[string]string{}}
	fmt.Printf("listening on %s\n", l.Addr())
	os.Stdout.Sync()
	log.Fatal(http.Serve(l, f))
}

func readPublicKey(file string) *rsa.PublicKey {
	data, err := os.ReadFile(file)
	if err != nil {
		log.Fatal(err)
	}
	b, _ := pem.Decode(data)
	if b == nil {
		log.Fatalf("%s: no PEM block", file)
	}
	k, err := x509.ParsePKIXPublicKey(b.Bytes)
	if err != nil {
		log.Fatal(err)
	}
	return k.(*rsa.PublicKey)
}

type front struct {
	fake     http.Handler
	keys     map[string]*rsa.PublicKey
	readonly map[string]bool
	admin    string
	delay    time.Duration
	chunks   atomic.Int64
	served   atomic.Int64 // bytes of GET response bodies, for tests that count reads

	mu     sync.Mutex
	tokens map[string]string // access token → service-account email
}

func (f *front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/token":
		f.token(w, r)
		return
	case "/_test/chunks":
		fmt.Fprint(w, f.chunks.Load())
		return
	case "/_test/served":
		fmt.Fprint(w, f.served.Load())
		return
	}
	if len(f.keys) > 0 {
		bearer, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		f.mu.Lock()
		email, ok := f.tokens[bearer]
		f.mu.Unlock()
		switch {
		case bearer != "" && bearer == f.admin:
		case bearer == "":
			gcsErr(w, 401, "required", "Anonymous caller does not have storage.objects.list access to the Google Cloud Storage bucket. Permission 'storage.objects.list' denied on resource (or it may not exist).")
			return
		case !ok:
			gcsErr(w, 401, "authError", "Invalid Credentials")
			return
		case f.readonly[email] && r.Method != http.MethodGet && r.Method != http.MethodHead:
			gcsErr(w, 403, "forbidden", email+" does not have storage.objects.create access to the Google Cloud Storage object. Permission 'storage.objects.create' denied on resource (or it may not exist).")
			return
		}
	}
	if strings.HasPrefix(r.URL.Path, "/upload/") && r.URL.Query().Has("upload_id") {
		f.chunks.Add(1)
		select {
		case <-time.After(f.delay):
		case <-r.Context().Done():
			return
		}
	}
	if r.Method == http.MethodGet {
		w = &testenv.CountingWriter{ResponseWriter: w, N: &f.served}
	}
	f.fake.ServeHTTP(w, r)
}

// token is the OAuth token endpoint of service-account keys (their token_uri): it checks the
// RS256 signature of the JWT assertion against the account's public key.
func (f *front) token(w http.ResponseWriter, r *http.Request) {
	assertion := r.FormValue("assertion")
	parts := strings.Split(assertion, ".")
	if r.FormValue("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" || len(parts) != 3 {
		tokenErr(w, "unsupported_grant_type", "expected a JWT bearer assertion")
		return
	}
	var claims struct {
		Iss string `json:"iss"`
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err == nil {
		err = json.Unmarshal(payload, &claims)
	}
	sig, serr := base64.RawURLEncoding.DecodeString(parts[2])
	key := f.keys[claims.Iss]
	if err != nil || serr != nil || key == nil {
		tokenErr(w, "invalid_grant", "Invalid grant: account not found")
		return
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(key, crypto.SHA256, sum[:], sig) != nil {
		tokenErr(w, "invalid_grant", "Invalid JWT Signature.")
		return
	}
	b := make([]byte, 16)
	rand.Read(b)
	tok := "ya29.test-" + hex.EncodeToString(b)
	f.mu.Lock()
	f.tokens[tok] = claims.Iss
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 3600})
}

func tokenErr(w http.ResponseWriter, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(400)
	json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

// gcsErr answers as the JSON API does.
func gcsErr(w http.ResponseWriter, status int, reason, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, mustJSON(map[string]any{"error": map[string]any{"code": status, "message": msg,
		"errors": []map[string]string{{"message": msg, "domain": "global", "reason": reason}}}}))
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
