package rest

import (
	"net/url"
	"slices"
	"strings"
	"sync"
)

// redactor hides secrets in URLs, log lines and error messages: the values of the configured
// credentials (wherever a template put them) and query parameters whose names look secret.
// Taps of one connection may run at once (two tap('api') in a query): it is locked.
type redactor struct {
	mu      sync.Mutex
	secrets []string
}

func (r *redactor) add(s ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range s {
		if len(v) >= 3 && !slices.Contains(r.secrets, v) { // shorter values would hide ordinary text
			r.secrets = append(r.secrets, v)
		}
	}
}

func (r *redactor) text(s string) string {
	if r == nil {
		return s
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range r.secrets {
		s = strings.ReplaceAll(s, v, "***")
		if e := url.QueryEscape(v); e != v {
			s = strings.ReplaceAll(s, e, "***")
		}
	}
	return s
}

// addQuerySecrets remembers the values of secret-looking query parameters, so that they are
// hidden wherever else they appear (a library's error that quotes the URL).
func (r *redactor) addQuerySecrets(raw string) {
	u, err := url.Parse(raw)
	if err != nil {
		return
	}
	for k, vs := range u.Query() {
		if secretParam(k) {
			r.add(vs...)
		}
	}
}

func secretParam(k string) bool {
	lk := strings.ToLower(k)
	for _, w := range secretParams {
		if strings.Contains(lk, w) {
			return true
		}
	}
	return false
}

var secretParams = []string{"token", "key", "secret", "password", "passwd", "signature", "sig", "auth", "credential", "session"}

// url hides user info and secret-looking query parameters, then known secret values.
func (r *redactor) url(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return r.text(raw)
	}
	if u.User != nil {
		u.User = url.User("***")
	}
	q := u.Query()
	changed := false
	for k := range q {
		if secretParam(k) {
			q[k] = []string{"***"}
			changed = true
		}
	}
	if changed {
		u.RawQuery = strings.ReplaceAll(q.Encode(), "%2A%2A%2A", "***")
	}
	return r.text(u.String())
}
