package testazurite

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ankaflow/ankaflow/internal/testenv"
)

// Proxy returns the server as seen through a proxy on 127.0.0.1 that counts the bytes of the
// GET response bodies Azurite sends (Azurite itself does not tell), for tests that check how
// much of a blob a read fetches, and delays every Put Block by blockDelay, for tests that stop
// a sink mid-upload. Shared-key signatures do not cover the host, so the same account key and
// connection string shape work through it. The proxy stops when the test ends.
func (s *Server) Proxy(tb testing.TB, blockDelay time.Duration) *Server {
	tb.Helper()
	target, err := url.Parse(s.Endpoint)
	if err != nil {
		tb.Fatal(err)
	}
	served := new(atomic.Int64)
	proxy := &httputil.ReverseProxy{
		ErrorLog: log.New(io.Discard, "", 0), // a client killed mid-request is what some tests do
		Rewrite:  func(r *httputil.ProxyRequest) { r.SetURL(&url.URL{Scheme: target.Scheme, Host: target.Host}) },
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if blockDelay > 0 && r.Method == http.MethodPut && r.URL.Query().Get("comp") == "block" {
			select {
			case <-time.After(blockDelay):
			case <-r.Context().Done():
				return
			}
		}
		if r.Method == http.MethodGet {
			w = &testenv.CountingWriter{ResponseWriter: w, N: served}
		}
		proxy.ServeHTTP(w, r)
	}))
	tb.Cleanup(srv.Close)
	return &Server{Endpoint: srv.URL + strings.TrimPrefix(s.Endpoint, target.Scheme+"://"+target.Host), served: served}
}

// Served is how many bytes of GET response bodies have gone through the proxy (see Proxy).
func (s *Server) Served(tb testing.TB) int64 {
	tb.Helper()
	if s.served == nil {
		tb.Fatal("Served needs the server returned by Proxy")
	}
	return s.served.Load()
}
