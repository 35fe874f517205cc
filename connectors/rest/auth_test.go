package rest_test

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

// pagedAPI serves two pages of one record each, after check accepts the request.
func pagedAPI(t *testing.T, check func(r *http.Request) bool) *api {
	return newAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if r.URL.Path == "/token" {
			return
		}
		if !check(r) {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			http.Error(w, `{"error": "unauthorized"}`, http.StatusUnauthorized)
			return
		}
		if r.URL.Query().Get("page") == "1" {
			fmt.Fprint(w, `[{"ok": 1}]`)
			return
		}
		fmt.Fprint(w, `[]`)
	})
}

const pagedTap = `
- name: api
  kind: tap
  connection:
    kind: Rest
    client:
      base_url: "$URL"
      auth: %s
    request:
      endpoint: data
      response: {handler: {kind: Pagination}}
`

// TestAuthBasicBearerHeader: the credentials reach the server, and never the listing of
// connections.
func TestAuthBasicBearerHeader(t *testing.T) {
	for _, c := range []struct {
		name, auth string
		check      func(r *http.Request) bool
	}{
		{"basic", `{method: basic, values: {username: ann, password: "s3cr3t-pw"}}`, func(r *http.Request) bool {
			u, p, ok := r.BasicAuth()
			return ok && u == "ann" && p == "s3cr3t-pw"
		}},
		{"bearer", `{method: bearer, values: {token: "tok-abc-123"}}`, func(r *http.Request) bool {
			return r.Header.Get("Authorization") == "Bearer tok-abc-123"
		}},
		{"header", `{method: header, values: {X-Api-Key: "key-xyz-789", X-Tenant: acme}}`, func(r *http.Request) bool {
			return r.Header.Get("X-Api-Key") == "key-xyz-789" && r.Header.Get("X-Tenant") == "acme"
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := pagedAPI(t, c.check)
			p := pipelineFile(t, a.URL, fmt.Sprintf(pagedTap, c.auth))
			out := query(t, p, `SELECT count(*) AS n FROM api`, `SELECT params::VARCHAR AS params FROM connections() WHERE name = 'api'`)
			require.True(t, strings.HasPrefix(out, "n\n1\nparams\n"), out)
			for _, secret := range []string{"s3cr3t-pw", "tok-abc-123", "key-xyz-789"} {
				require.NotContains(t, out, secret)
			}
			require.Contains(t, out, `""auth"":""***""`, "the auth block is hidden as a whole")
			require.Len(t, a.seen(), 2)
		})
	}
}

// TestAuthRefused: a wrong password fails at once with the status, and the password is not in
// the message.
func TestAuthRefused(t *testing.T) {
	a := pagedAPI(t, func(r *http.Request) bool { return false })
	p := pipelineFile(t, a.URL, fmt.Sprintf(pagedTap, `{method: basic, values: {username: ann, password: "wrong-pw-1"}}`))
	errOut := runFails(t, p)
	require.Contains(t, errOut, "rest 'api': GET "+a.URL+"/data?page=1: 401 Unauthorized: {\"error\": \"unauthorized\"}")
	require.NotContains(t, errOut, "wrong-pw-1")
	require.Len(t, a.seen(), 1)
}

// TestAuthDigest: the first request gets the server's challenge, the answer is accepted, and
// the next page authenticates up front with the next nonce count.
func TestAuthDigest(t *testing.T) {
	const realm, nonce, user, pass = "api@test", "dcd98b7102dd2f0e8b11d0f600bfb0c093", "Mufasa", "Circle of Life"
	md5hex := func(s string) string { h := md5.Sum([]byte(s)); return hex.EncodeToString(h[:]) }
	var challenged atomic.Int32
	a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
		h := r.Header.Get("Authorization")
		if !strings.HasPrefix(h, "Digest ") {
			challenged.Add(1)
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Digest realm=%q, qop="auth,auth-int", nonce=%q, opaque="5ccc069c403ebaf9f0171e9517f40e41"`, realm, nonce))
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		f := map[string]string{}
		for _, part := range strings.Split(h[len("Digest "):], ", ") {
			k, v, _ := strings.Cut(part, "=")
			f[k] = strings.Trim(v, `"`)
		}
		ha1 := md5hex(user + ":" + realm + ":" + pass)
		ha2 := md5hex(r.Method + ":" + f["uri"])
		want := md5hex(ha1 + ":" + nonce + ":" + f["nc"] + ":" + f["cnonce"] + ":auth:" + ha2)
		if f["response"] != want || f["uri"] != r.URL.RequestURI() || f["opaque"] != "5ccc069c403ebaf9f0171e9517f40e41" {
			http.Error(w, "bad digest", http.StatusForbidden)
			return
		}
		w.Header().Set("X-NC", f["nc"])
		if r.URL.Query().Get("page") == "1" {
			fmt.Fprintf(w, `[{"nc": %q}]`, f["nc"])
			return
		}
		fmt.Fprint(w, `[]`)
	})
	p := pipelineFile(t, a.URL, fmt.Sprintf(pagedTap, `{method: digest, values: {username: Mufasa, password: "Circle of Life"}}`))
	require.Equal(t, "nc\n00000001\n", query(t, p, `SELECT nc FROM api`))
	require.Len(t, a.seen(), 3) // challenge, page 1, page 2 (pre-authenticated)
	require.Equal(t, int32(1), challenged.Load())
}

// tokenServer answers OAuth2 token requests: client credentials (client id/secret in Basic
// auth) or a refresh token, which it rotates. Access tokens are tok-1, tok-2, …
type tokenServer struct {
	issued    atomic.Int32
	expiresIn int
	grants    []string
	refresh   string
}

func (ts *tokenServer) handle(t *testing.T, w http.ResponseWriter, r *http.Request) {
	require.NoError(t, r.ParseForm())
	id, secret, _ := r.BasicAuth()
	if id == "" {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != "app" || secret != "app-secret-42" {
		http.Error(w, `{"error": "invalid_client"}`, http.StatusUnauthorized)
		return
	}
	grant := r.PostForm.Get("grant_type")
	ts.grants = append(ts.grants, grant+":"+r.PostForm.Get("refresh_token")+r.PostForm.Get("scope"))
	if grant == "refresh_token" && r.PostForm.Get("refresh_token") != ts.refresh {
		http.Error(w, `{"error": "invalid_grant"}`, http.StatusBadRequest)
		return
	}
	n := ts.issued.Add(1)
	ts.refresh = fmt.Sprintf("refresh-%d", n)
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"access_token": "tok-%d", "token_type": "Bearer", "expires_in": %d, "refresh_token": %q}`, n, ts.expiresIn, ts.refresh)
}

// TestAuthOAuth2ClientCredentials: one token for every page while it is valid; a token about
// to expire is replaced before the request; oauth_header sends the raw token in a header.
func TestAuthOAuth2ClientCredentials(t *testing.T) {
	for _, c := range []struct {
		name       string
		expiresIn  int
		header     string
		wantTokens []string
	}{
		{"cached", 3600, "", []string{"Bearer tok-1", "Bearer tok-1"}},
		{"refreshed before expiry", 20, "", []string{"Bearer tok-1", "Bearer tok-2"}}, // 20 s < the 30 s margin
		{"oauth_header", 3600, "X-Access-Token", []string{"tok-1", "tok-1"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ts := &tokenServer{expiresIn: c.expiresIn}
			var got []string
			header := c.header
			if header == "" {
				header = "Authorization"
			}
			a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if r.URL.Path == "/token" {
					ts.handle(t, w, r)
					return
				}
				got = append(got, r.Header.Get(header))
				if r.URL.Query().Get("page") == "1" {
					fmt.Fprint(w, `[{"ok": 1}]`)
					return
				}
				fmt.Fprint(w, `[]`)
			})
			auth := `{method: oauth2, token_url: "$URL/token", client_id: app, client_secret: "app-secret-42", scopes: [read]`
			if c.header != "" {
				auth += ", oauth_header: " + c.header
			}
			p := pipelineFile(t, a.URL, fmt.Sprintf(pagedTap, auth+"}"))
			require.Equal(t, "n\n1\n", query(t, p, `SELECT count(*) AS n FROM api`))
			require.Equal(t, c.wantTokens, got)
			require.Equal(t, "client_credentials:read", ts.grants[0])
		})
	}
}

// TestAuthOAuth2Refresh: the refresh-token grant gets the first token; a 401 from the API (a
// revoked token) makes the connection refresh once, with the rotated refresh token, and resend.
func TestAuthOAuth2Refresh(t *testing.T) {
	ts := &tokenServer{expiresIn: 3600, refresh: "refresh-0"}
	var got []string
	a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if r.URL.Path == "/token" {
			ts.handle(t, w, r)
			return
		}
		tok := r.Header.Get("Authorization")
		got = append(got, tok)
		if r.URL.Query().Get("page") == "2" && tok == "Bearer tok-1" {
			http.Error(w, `{"error": "token revoked"}`, http.StatusUnauthorized)
			return
		}
		if r.URL.Query().Get("page") == "1" {
			fmt.Fprint(w, `[{"ok": 1}]`)
			return
		}
		fmt.Fprint(w, `[]`)
	})
	p := pipelineFile(t, a.URL, fmt.Sprintf(pagedTap, `{method: oauth2, token_url: "$URL/token", client_id: app, client_secret: "app-secret-42", refresh_token: "refresh-0"}`))
	require.Equal(t, "n\n1\n", query(t, p, `SELECT count(*) AS n FROM api`))
	require.Equal(t, []string{"Bearer tok-1", "Bearer tok-1", "Bearer tok-2"}, got)
	require.Equal(t, []string{"refresh_token:refresh-0", "refresh_token:refresh-1"}, ts.grants)
}

// TestAuthOAuth2Fails: a refused token request fails the stage without retrying the API call
// and without printing the client secret.
func TestAuthOAuth2Fails(t *testing.T) {
	a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
		http.Error(w, `{"error": "invalid_client"}`, http.StatusUnauthorized)
	})
	p := pipelineFile(t, a.URL, fmt.Sprintf(pagedTap, `{method: oauth2, token_url: "$URL/token", client_id: app, client_secret: "wrong-secret-99"}`))
	errOut := runFails(t, p)
	require.Contains(t, errOut, "oauth2 token request failed")
	require.Contains(t, errOut, "invalid_client")
	require.NotContains(t, errOut, "wrong-secret-99")
}

// TestAuthOAuth2TokenRetry: a token endpoint answering 503 once is asked again; the API call
// then goes through.
func TestAuthOAuth2TokenRetry(t *testing.T) {
	ts := &tokenServer{expiresIn: 3600}
	var tokenCalls atomic.Int32
	a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if r.URL.Path == "/token" {
			if tokenCalls.Add(1) == 1 {
				http.Error(w, "maintenance", http.StatusServiceUnavailable)
				return
			}
			ts.handle(t, w, r)
			return
		}
		if r.URL.Query().Get("page") == "1" {
			fmt.Fprint(w, `[{"ok": 1}]`)
			return
		}
		fmt.Fprint(w, `[]`)
	})
	p := pipelineFile(t, a.URL, fmt.Sprintf(pagedTap, `{method: oauth2, token_url: "$URL/token", client_id: app, client_secret: "app-secret-42"}`))
	require.Equal(t, "n\n1\n", query(t, p, `SELECT count(*) AS n FROM api`))
	require.Equal(t, int32(2), tokenCalls.Load())
}
