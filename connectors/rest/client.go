package rest

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// client sends requests with authentication, timeouts and bounded retries.
type client struct {
	http    *http.Client
	cfg     clientConfig
	auth    authenticator
	redact  *redactor
	log     *slog.Logger
	label   string       // "rest 'Stage'" for errors
	sent    atomic.Int64 // requests made (attempts included)
	sleepFn func(ctx context.Context, d time.Duration) error
}

func newHTTPClient(cfg clientConfig, log *slog.Logger, red *redactor) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{Timeout: cfg.ConnectTimeout, KeepAlive: 30 * time.Second}).DialContext
	tr.TLSHandshakeTimeout = cfg.ConnectTimeout
	tr.MaxIdleConnsPerHost = 4
	if cfg.CAFile != "" || cfg.SkipVerify {
		tc := &tls.Config{MinVersion: tls.VersionTLS12}
		if cfg.CAFile != "" {
			pem, err := os.ReadFile(cfg.CAFile)
			if err != nil {
				return nil, fmt.Errorf("client.tls.ca_file: %w", err)
			}
			pool, err := x509.SystemCertPool()
			if err != nil || pool == nil {
				pool = x509.NewCertPool()
			}
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("client.tls.ca_file %s: no PEM certificate found", cfg.CAFile)
			}
			tc.RootCAs = pool
		}
		if cfg.SkipVerify {
			log.Warn("TLS CERTIFICATE VERIFICATION IS OFF (client.tls.insecure_skip_verify): anyone on the network path can read and change this connection's traffic, credentials included; use client.tls.ca_file instead", "base_url", red.url(cfg.BaseURL))
			tc.InsecureSkipVerify = true
		}
		tr.TLSClientConfig = tc
	}
	return &http.Client{Transport: tr, Timeout: cfg.Timeout}, nil
}

// call is one logical request: everything needed to build it again for a retry.
type call struct {
	method  string
	url     string
	headers http.Header
	body    []byte
}

// statusError is a response the server refused.
type statusError struct {
	status int
	msg    string
}

func (e *statusError) Error() string { return e.msg }

// authError is a failure to obtain credentials (an OAuth2 token request that failed after
// its own retries): not retried again.
type authError struct{ error }

func (e authError) Unwrap() error { return e.error }

func idempotent(method string) bool {
	switch method {
	case "GET", "HEAD", "PUT", "DELETE", "OPTIONS":
		return true
	}
	return false
}

// do sends c, retrying connection errors, 429 and 5xx with exponential backoff and jitter
// (or the server's Retry-After) within the attempt and time bounds. A 2xx response is
// returned with its body read; any other outcome is an error naming the method, the URL
// (secrets hidden) and the start of the body.
func (cl *client) do(ctx context.Context, c call) (*http.Response, []byte, error) {
	r := cl.cfg.Retry
	attempts := max(r.MaxAttempts, 1)
	if !idempotent(c.method) && !r.NonIdempotent {
		attempts = 1
	}
	cl.redact.addQuerySecrets(c.url)
	start := time.Now()
	authRetried := false
	for attempt := 1; ; attempt++ {
		resp, body, err := cl.once(ctx, c)
		if err == nil && resp.StatusCode == http.StatusUnauthorized && !authRetried && cl.auth != nil {
			// Digest answers the challenge; OAuth2 fetches a fresh token. Once, not a retry.
			if again, aerr := cl.auth.unauthorized(ctx, resp); aerr != nil {
				return nil, nil, cl.fail(c, aerr)
			} else if again {
				authRetried = true
				attempt--
				continue
			}
		}
		if err == nil && resp.StatusCode < 300 {
			return resp, body, nil
		}
		var why string
		var wait time.Duration
		switch {
		case ctx.Err() != nil:
			return nil, nil, ctx.Err()
		case errors.As(err, new(authError)):
			return nil, nil, cl.fail(c, err)
		case err != nil:
			why = err.Error()
		case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
			why = resp.Status
			wait = retryAfter(resp.Header.Get("Retry-After"), time.Now())
		default:
			return nil, nil, cl.statusErr(c, resp, body)
		}
		if attempt >= attempts {
			if err != nil {
				return nil, nil, cl.fail(c, fmt.Errorf("%s (after %d attempt(s))", cl.redact.text(why), attempt))
			}
			return nil, nil, cl.statusErr(c, resp, body, fmt.Sprintf(" (after %d attempt(s))", attempt))
		}
		if wait == 0 {
			d := r.Initial << (attempt - 1)
			if d > r.Max || d <= 0 {
				d = r.Max
			}
			wait = d/2 + rand.N(d/2+1) // jitter: spread clients that failed together
		}
		if r.MaxElapsed > 0 && time.Since(start)+wait > r.MaxElapsed {
			msg := fmt.Sprintf("%s; giving up after %d attempt(s): the next retry (in %s) would exceed client.retries.max_elapsed (%s)", why, attempt, wait.Round(time.Millisecond), r.MaxElapsed)
			if err == nil {
				return nil, nil, cl.statusErr(c, resp, body, "; "+msg[len(why)+2:])
			}
			return nil, nil, cl.fail(c, errors.New(cl.redact.text(msg)))
		}
		cl.log.Warn(fmt.Sprintf("%s %s: %s; retry %d of %d in %s", c.method, cl.redact.url(c.url), cl.redact.text(why), attempt, attempts-1, wait.Round(time.Millisecond)))
		if err := cl.sleepFn(ctx, wait); err != nil {
			return nil, nil, err
		}
	}
}

// once sends one attempt and reads the whole body.
func (cl *client) once(ctx context.Context, c call) (*http.Response, []byte, error) {
	var rd io.Reader
	if c.body != nil {
		rd = bytes.NewReader(c.body)
	}
	req, err := http.NewRequestWithContext(ctx, c.method, c.url, rd)
	if err != nil {
		return nil, nil, err
	}
	for k, v := range cl.cfg.Headers {
		req.Header.Set(k, v)
	}
	for k, v := range c.headers {
		req.Header[k] = v
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json, application/x-ndjson;q=0.9, text/csv;q=0.8, */*;q=0.5")
	}
	if cl.auth != nil {
		if err := cl.auth.apply(ctx, req); err != nil {
			return nil, nil, authError{err}
		}
	}
	cl.sent.Add(1)
	resp, err := cl.http.Do(req)
	if err != nil {
		return nil, nil, timeoutText(err, cl.cfg.Timeout)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, timeoutText(fmt.Errorf("reading the response body: %w", err), cl.cfg.Timeout)
	}
	return resp, body, nil
}

// timeoutText names the timeout that expired, and drops net/http's "Get \"url\": " prefix
// (the URL may hold secrets; messages print it redacted).
func timeoutText(err error, limit time.Duration) error {
	var ne net.Error
	timeout := errors.As(err, &ne) && ne.Timeout()
	err = unwrapURLError(err)
	if timeout {
		return fmt.Errorf("no complete response within client.timeout (%s): %w", limit, err)
	}
	return err
}

// fail wraps err with the label, method and redacted URL.
func (cl *client) fail(c call, err error) error {
	return fmt.Errorf("%s: %s %s: %s", cl.label, c.method, cl.redact.url(c.url), cl.redact.text(unwrapURLError(err).Error()))
}

// unwrapURLError drops net/http's "Get \"url\": " prefix: the URL may hold secrets and is
// printed (redacted) by fail.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func (cl *client) statusErr(c call, resp *http.Response, body []byte, extra ...string) error {
	const limit = 1024
	snippet := body
	more := ""
	if len(snippet) > limit {
		snippet, more = snippet[:limit], fmt.Sprintf(" … (%d bytes)", len(body))
	}
	msg := fmt.Sprintf("%s: %s %s: %s%s", cl.label, c.method, cl.redact.url(c.url), resp.Status, strings.Join(extra, ""))
	if len(snippet) > 0 {
		msg += ": " + cl.redact.text(strings.TrimSpace(string(snippet))) + more
	}
	return &statusError{status: resp.StatusCode, msg: msg}
}

// retryAfter reads a Retry-After header: delay seconds or an HTTP date; 0 when absent.
func retryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if s, err := strconv.Atoi(h); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
		return time.Millisecond
	}
	return 0
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// resolveURL joins the endpoint to base_url. Unlike Python's urljoin, a relative endpoint is
// appended to the base path (base …/api/v1 + orders → …/api/v1/orders); an absolute URL is
// used as is, and an endpoint starting with / replaces the base path.
func resolveURL(base, endpoint string) (string, error) {
	if strings.HasPrefix(endpoint, "http://") || strings.HasPrefix(endpoint, "https://") || base == "" {
		if endpoint == "" {
			return "", errors.New("request.endpoint (or client.base_url) is required")
		}
		return endpoint, nil
	}
	b, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("client.base_url: %w", err)
	}
	if endpoint == "" {
		return b.String(), nil
	}
	if strings.HasPrefix(endpoint, "/") {
		e, err := url.Parse(endpoint)
		if err != nil {
			return "", fmt.Errorf("request.endpoint: %w", err)
		}
		return b.ResolveReference(e).String(), nil
	}
	if !strings.HasSuffix(b.Path, "/") {
		b.Path += "/"
	}
	e, err := url.Parse(endpoint)
	if err != nil {
		return "", fmt.Errorf("request.endpoint: %w", err)
	}
	return b.ResolveReference(e).String(), nil
}
