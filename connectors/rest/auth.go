package rest

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// authenticator adds credentials to requests.
type authenticator interface {
	apply(ctx context.Context, req *http.Request) error
	// unauthorized reacts to a 401: true means "send the request again" (once).
	unauthorized(ctx context.Context, resp *http.Response) (bool, error)
}

func newAuth(a *authConfig, hc *http.Client, red *redactor) (authenticator, error) {
	if a == nil {
		return nil, nil
	}
	for _, v := range a.Values {
		red.add(v)
	}
	red.add(a.ClientSecret, a.RefreshToken, a.AccessToken)
	need := func(keys ...string) error {
		for _, k := range keys {
			if a.Values[k] == "" {
				return fmt.Errorf("client.auth.values.%s is required for auth method %s", k, a.Method)
			}
		}
		return nil
	}
	switch a.Method {
	case "basic":
		if err := need("username"); err != nil {
			return nil, err
		}
		return basicAuth{user: a.Values["username"], pass: a.Values["password"]}, nil
	case "digest":
		if err := need("username"); err != nil {
			return nil, err
		}
		return &digestAuth{user: a.Values["username"], pass: a.Values["password"]}, nil
	case "header":
		if len(a.Values) == 0 {
			return nil, fmt.Errorf("client.auth.values: give the headers to send, e.g. {X-Api-Key: …}")
		}
		return headerAuth(a.Values), nil
	case "bearer":
		if err := need("token"); err != nil {
			return nil, err
		}
		return headerAuth{"Authorization": "Bearer " + a.Values["token"]}, nil
	case "oauth2":
		return newOAuth2(a, hc, red)
	case "":
		return nil, fmt.Errorf("client.auth.method is required: one of basic, digest, header, bearer, oauth2")
	}
	return nil, fmt.Errorf("client.auth.method: unknown method %q; one of basic, digest, header, bearer, oauth2", a.Method)
}

type basicAuth struct{ user, pass string }

func (b basicAuth) apply(_ context.Context, req *http.Request) error {
	req.SetBasicAuth(b.user, b.pass)
	return nil
}
func (basicAuth) unauthorized(context.Context, *http.Response) (bool, error) { return false, nil }

type headerAuth map[string]string

func (h headerAuth) apply(_ context.Context, req *http.Request) error {
	for k, v := range h {
		req.Header.Set(k, v)
	}
	return nil
}
func (headerAuth) unauthorized(context.Context, *http.Response) (bool, error) { return false, nil }

// digestAuth implements HTTP Digest (RFC 7616: MD5 and SHA-256, qop=auth). The challenge of
// the first 401 is kept, so later requests authenticate up front with an increasing nonce
// count instead of costing a 401 each.
type digestAuth struct {
	user, pass string
	mu         sync.Mutex
	chal       map[string]string
	nc         int
}

func (d *digestAuth) apply(_ context.Context, req *http.Request) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.chal == nil {
		return nil
	}
	d.nc++
	h, err := digestHeader(d.chal, d.user, d.pass, req.Method, req.URL.RequestURI(), d.nc)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", h)
	return nil
}

func (d *digestAuth) unauthorized(_ context.Context, resp *http.Response) (bool, error) {
	for _, h := range resp.Header.Values("WWW-Authenticate") {
		if !strings.HasPrefix(strings.ToLower(h), "digest ") {
			continue
		}
		ch := parseChallenge(h[len("digest "):])
		d.mu.Lock()
		retry := d.chal == nil || strings.EqualFold(ch["stale"], "true") || ch["nonce"] != d.chal["nonce"]
		d.chal, d.nc = ch, 0
		d.mu.Unlock()
		return retry, nil
	}
	return false, nil
}

// parseChallenge splits `realm="x", nonce="y", qop="auth"` (quoted values may hold commas).
func parseChallenge(s string) map[string]string {
	out := map[string]string{}
	for s = strings.TrimSpace(s); s != ""; {
		eq := strings.IndexByte(s, '=')
		if eq < 0 {
			break
		}
		key := strings.ToLower(strings.TrimSpace(s[:eq]))
		s = strings.TrimSpace(s[eq+1:])
		var val string
		if strings.HasPrefix(s, `"`) {
			end := 1
			for end < len(s) && s[end] != '"' {
				if s[end] == '\\' {
					end++
				}
				end++
			}
			val = strings.ReplaceAll(s[1:min(end, len(s))], `\`, "")
			s = s[min(end+1, len(s)):]
		} else {
			end := strings.IndexByte(s, ',')
			if end < 0 {
				end = len(s)
			}
			val = strings.TrimSpace(s[:end])
			s = s[end:]
		}
		out[key] = val
		s = strings.TrimLeft(s, ", ")
	}
	return out
}

func digestHeader(ch map[string]string, user, pass, method, uri string, nc int) (string, error) {
	var newHash func() hash.Hash
	algo := ch["algorithm"]
	switch strings.ToUpper(strings.TrimSuffix(strings.ToUpper(algo), "-SESS")) {
	case "", "MD5":
		newHash = md5.New
	case "SHA-256":
		newHash = sha256.New
	default:
		return "", fmt.Errorf("digest auth: unsupported algorithm %q", algo)
	}
	hx := func(s string) string {
		h := newHash()
		h.Write([]byte(s))
		return hex.EncodeToString(h.Sum(nil))
	}
	b := make([]byte, 8)
	rand.Read(b)
	cnonce := hex.EncodeToString(b)
	ha1 := hx(user + ":" + ch["realm"] + ":" + pass)
	if strings.HasSuffix(strings.ToUpper(algo), "-SESS") {
		ha1 = hx(ha1 + ":" + ch["nonce"] + ":" + cnonce)
	}
	ha2 := hx(method + ":" + uri)
	ncs := fmt.Sprintf("%08x", nc)
	qop := ""
	for _, q := range strings.Split(ch["qop"], ",") {
		if strings.TrimSpace(q) == "auth" {
			qop = "auth"
		}
	}
	var resp string
	if qop != "" {
		resp = hx(ha1 + ":" + ch["nonce"] + ":" + ncs + ":" + cnonce + ":" + qop + ":" + ha2)
	} else {
		resp = hx(ha1 + ":" + ch["nonce"] + ":" + ha2)
	}
	q := func(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }
	h := fmt.Sprintf("Digest username=%s, realm=%s, nonce=%s, uri=%s, response=%s", q(user), q(ch["realm"]), q(ch["nonce"]), q(uri), q(resp))
	if algo != "" {
		h += ", algorithm=" + algo
	}
	if ch["opaque"] != "" {
		h += ", opaque=" + q(ch["opaque"])
	}
	if qop != "" {
		h += ", qop=auth, nc=" + ncs + ", cnonce=" + q(cnonce)
	}
	return h, nil
}

// oauth2Auth gets tokens with golang.org/x/oauth2 (client credentials, or a refresh token),
// keeps the current one and fetches the next before it expires or after a 401.
type oauth2Auth struct {
	mu     sync.Mutex
	fetch  func(ctx context.Context) (*oauth2.Token, error)
	tok    *oauth2.Token
	header string
	red    *redactor
	// Refreshes counts token requests (tests and logs).
	refreshes int
}

// earlyRefresh: a token is replaced this long before it expires, so a request never leaves
// with a token that expires on the way.
const earlyRefresh = 30 * time.Second

func newOAuth2(a *authConfig, hc *http.Client, red *redactor) (*oauth2Auth, error) {
	if a.TokenURL == "" && a.AccessToken == "" {
		return nil, fmt.Errorf("client.auth.token_url is required for auth method oauth2")
	}
	o := &oauth2Auth{header: a.OAuthHeader, red: red}
	withClient := func(ctx context.Context) context.Context {
		return context.WithValue(ctx, oauth2.HTTPClient, hc)
	}
	if a.AccessToken != "" {
		o.tok = &oauth2.Token{AccessToken: a.AccessToken}
	}
	switch {
	case a.TokenURL == "":
		o.fetch = func(context.Context) (*oauth2.Token, error) {
			return nil, fmt.Errorf("the access token was refused and there is no client.auth.token_url to get another")
		}
	case a.RefreshToken != "":
		conf := &oauth2.Config{ClientID: a.ClientID, ClientSecret: a.ClientSecret, Endpoint: oauth2.Endpoint{TokenURL: a.TokenURL}, Scopes: a.Scopes}
		refresh := a.RefreshToken
		o.fetch = func(ctx context.Context) (*oauth2.Token, error) {
			t, err := conf.TokenSource(withClient(ctx), &oauth2.Token{RefreshToken: refresh}).Token()
			if err == nil && t.RefreshToken != "" {
				refresh = t.RefreshToken // rotated refresh tokens replace the old one
				red.add(refresh)
			}
			return t, err
		}
	default:
		params := url.Values{}
		for k, v := range a.ExtraParams {
			params.Set(k, v)
		}
		conf := &clientcredentials.Config{ClientID: a.ClientID, ClientSecret: a.ClientSecret, TokenURL: a.TokenURL, Scopes: a.Scopes, EndpointParams: params}
		o.fetch = func(ctx context.Context) (*oauth2.Token, error) { return conf.Token(withClient(ctx)) }
	}
	return o, nil
}

func (o *oauth2Auth) token(ctx context.Context) (string, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.tok != nil && o.tok.AccessToken != "" && (o.tok.Expiry.IsZero() || time.Until(o.tok.Expiry) > earlyRefresh) {
		return o.tok.AccessToken, nil
	}
	o.refreshes++
	t, err := o.fetch(ctx)
	// A busy or failing token endpoint gets two more chances (2 s, then 4 s later), as
	// AnkaFlow gave it; a refusal (4xx: wrong client, revoked refresh token) does not.
	for wait := 2 * time.Second; err != nil && tokenRetryable(err) && wait <= 4*time.Second; wait *= 2 {
		if serr := sleepCtx(ctx, wait); serr != nil {
			return "", serr
		}
		t, err = o.fetch(ctx)
	}
	if err != nil {
		o.tok = nil
		return "", fmt.Errorf("oauth2 token request failed: %s", o.red.text(err.Error()))
	}
	o.red.add(t.AccessToken)
	o.tok = t
	return t.AccessToken, nil
}

func tokenRetryable(err error) bool {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		c := re.Response.StatusCode
		return c == http.StatusTooManyRequests || c >= 500
	}
	var ne net.Error
	return errors.As(err, &ne) // connection failures and timeouts
}

func (o *oauth2Auth) apply(ctx context.Context, req *http.Request) error {
	t, err := o.token(ctx)
	if err != nil {
		return err
	}
	if o.header != "" {
		req.Header.Set(o.header, t)
	} else {
		req.Header.Set("Authorization", "Bearer "+t)
	}
	return nil
}

func (o *oauth2Auth) unauthorized(context.Context, *http.Response) (bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.tok = nil
	return true, nil
}
