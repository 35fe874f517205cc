package rest_test

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const retryTap = `
- name: api
  kind: tap
  connection:
    kind: Rest
    client:
      base_url: "$URL"
      retries: %s
    request:
      endpoint: x
      method: %s
      query: {api_key: "k-3141-secret"}
`

// TestRetryThenSuccess: 503 twice, then the answer; the server sees three requests and each
// retry is logged once.
func TestRetryThenSuccess(t *testing.T) {
	a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n <= 2 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, `[{"v": 42}]`)
	})
	p := pipelineFile(t, a.URL, fmt.Sprintf(retryTap, `{max_attempts: 5, initial_backoff: 0.01}`, "get"))
	code, _, errOut := runCLI(t, "run", p)
	require.Equal(t, 0, code, errOut)
	require.Len(t, a.seen(), 3)
	require.Equal(t, 1, strings.Count(errOut, "503 Service Unavailable; retry 1 of 4"), errOut)
	require.Equal(t, 1, strings.Count(errOut, "503 Service Unavailable; retry 2 of 4"), errOut)
	require.NotContains(t, errOut, "k-3141-secret")
	require.Contains(t, errOut, "api_key=***")
}

// TestRetryBound: a server that always fails gets exactly max_attempts requests; the error has
// the status, method, URL (key hidden) and the body.
func TestRetryBound(t *testing.T) {
	a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
		http.Error(w, `{"error": "database on fire"}`, http.StatusInternalServerError)
	})
	p := pipelineFile(t, a.URL, fmt.Sprintf(retryTap, `{max_attempts: 3, initial_backoff: 0.01}`, "get"))
	errOut := runFails(t, p)
	require.Len(t, a.seen(), 3)
	require.Contains(t, errOut, "rest 'api': GET "+a.URL+"/x?api_key=***: 500 Internal Server Error (after 3 attempt(s)): {\"error\": \"database on fire\"}")
	require.NotContains(t, errOut, "k-3141-secret")
}

// TestRetryMaxElapsed: retries stop when the next wait would pass max_elapsed.
func TestRetryMaxElapsed(t *testing.T) {
	a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Retry-After", "120")
		http.Error(w, "slow down", http.StatusTooManyRequests)
	})
	p := pipelineFile(t, a.URL, fmt.Sprintf(retryTap, `{max_attempts: 10, max_elapsed: 5}`, "get"))
	start := time.Now()
	errOut := runFails(t, p)
	require.Less(t, time.Since(start), 30*time.Second)
	require.Len(t, a.seen(), 1)
	require.Contains(t, errOut, "429 Too Many Requests; giving up after 1 attempt(s): the next retry (in 2m0s) would exceed client.retries.max_elapsed (5s): slow down")
}

// TestRetryAfter: the wait follows Retry-After, in seconds and as an HTTP date.
func TestRetryAfter(t *testing.T) {
	for _, form := range []string{"seconds", "date"} {
		t.Run(form, func(t *testing.T) {
			var mu sync.Mutex
			var at []time.Time
			a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
				mu.Lock()
				at = append(at, time.Now())
				mu.Unlock()
				if n == 1 {
					if form == "seconds" {
						w.Header().Set("Retry-After", "1")
					} else {
						w.Header().Set("Retry-After", time.Now().Add(2*time.Second).UTC().Format(http.TimeFormat))
					}
					http.Error(w, "later", http.StatusTooManyRequests)
					return
				}
				fmt.Fprint(w, `[{"v": 1}]`)
			})
			// initial_backoff is tiny: only Retry-After can make the wait last a second.
			p := pipelineFile(t, a.URL, fmt.Sprintf(retryTap, `{max_attempts: 2, initial_backoff: 0.001}`, "get"))
			require.Equal(t, "n\n1\n", query(t, p, `SELECT count(*) AS n FROM api`))
			require.Len(t, at, 2)
			require.GreaterOrEqual(t, at[1].Sub(at[0]), 900*time.Millisecond)
		})
	}
}

// TestNoRetryNonIdempotent: a POST is sent once unless retries.non_idempotent allows more.
func TestNoRetryNonIdempotent(t *testing.T) {
	a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
		http.Error(w, "oops", http.StatusBadGateway)
	})
	p := pipelineFile(t, a.URL, fmt.Sprintf(retryTap, `{max_attempts: 3, initial_backoff: 0.01}`, "post"))
	errOut := runFails(t, p)
	require.Contains(t, errOut, "POST "+a.URL+"/x?api_key=***: 502 Bad Gateway (after 1 attempt(s)): oops")
	require.Len(t, a.seen(), 1)

	p = pipelineFile(t, a.URL, fmt.Sprintf(retryTap, `{max_attempts: 3, initial_backoff: 0.01, non_idempotent: true}`, "post"))
	runFails(t, p)
	require.Len(t, a.seen(), 4)
}

// TestClientErrorNotRetried: a 404 fails at once with the first KiB of the body.
func TestClientErrorNotRetried(t *testing.T) {
	long := strings.Repeat("x", 3000)
	a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
		http.Error(w, `{"error": "no such report"} `+long, http.StatusNotFound)
	})
	p := pipelineFile(t, a.URL, fmt.Sprintf(retryTap, `{max_attempts: 3, initial_backoff: 0.01}`, "get"))
	errOut := runFails(t, p)
	require.Len(t, a.seen(), 1)
	require.Contains(t, errOut, "GET "+a.URL+"/x?api_key=***: 404 Not Found: {\"error\": \"no such report\"} xxx")
	require.Contains(t, errOut, "… (3029 bytes)")
	require.NotContains(t, errOut, strings.Repeat("x", 1024))
}

// TestConnectionRefused: connection errors are retried up to the bound, then reported.
func TestConnectionRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	l.Close()
	p := pipelineFile(t, "http://"+addr, fmt.Sprintf(retryTap, `{max_attempts: 2, initial_backoff: 0.01}`, "get"))
	errOut := runFails(t, p)
	require.Contains(t, errOut, "rest 'api': GET http://"+addr+"/x?api_key=***: dial tcp "+addr+": connect: connection refused (after 2 attempt(s))")
	require.Equal(t, 1, strings.Count(errOut, "retry 1 of 1"))
}
