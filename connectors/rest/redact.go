package rest

import (
	"net/url"
	"strings"
)

// redactor hides secrets in URLs, log lines and error messages: the values of the configured
// credentials (wherever a template put them) and query parameters whose names look secret.
type redactor struct {
	secrets []string
}

func (r *redactor) add(s ...string) {
	for _, v := range s {
		if len(v) >= 3 { // shorter values would hide ordinary text
			r.secrets = append(r.secrets, v)
		}
	}
}

func (r *redactor) text(s string) string {
	if r == nil {
		return s
	}
	for _, v := range r.secrets {
		s = strings.ReplaceAll(s, v, "***")
		if e := url.QueryEscape(v); e != v {
			s = strings.ReplaceAll(s, e, "***")
		}
	}
	return s
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
		lk := strings.ToLower(k)
		for _, w := range secretParams {
			if strings.Contains(lk, w) {
				q[k] = []string{"***"}
				changed = true
				break
			}
		}
	}
	if changed {
		u.RawQuery = strings.ReplaceAll(q.Encode(), "%2A%2A%2A", "***")
	}
	return r.text(u.String())
}
