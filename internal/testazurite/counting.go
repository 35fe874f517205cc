package testazurite

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
)

// Counting returns the server as seen through a proxy on 127.0.0.1 that counts the bytes of
// the GET response bodies Azurite sends (Azurite itself does not tell), for tests that check
// how much of a blob a read fetches. Shared-key signatures do not cover the host, so the same
// account key and connection string shape work through it. The proxy stops when the test ends.
func (s *Server) Counting(tb testing.TB) *Server {
	tb.Helper()
	target, err := url.Parse(s.Endpoint)
	if err != nil {
		tb.Fatal(err)
	}
	served := new(atomic.Int64)
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(&url.URL{Scheme: target.Scheme, Host: target.Host}) },
		ModifyResponse: func(resp *http.Response) error {
			if resp.Request.Method == http.MethodGet {
				resp.Body = &countingBody{ReadCloser: resp.Body, n: served}
			}
			return nil
		},
	}
	srv := httptest.NewServer(proxy)
	tb.Cleanup(srv.Close)
	return &Server{Endpoint: srv.URL + strings.TrimPrefix(s.Endpoint, target.Scheme+"://"+target.Host), served: served}
}

// Served is how many bytes of GET response bodies have gone through the proxy of Counting.
func (s *Server) Served(tb testing.TB) int64 {
	tb.Helper()
	if s.served == nil {
		tb.Fatal("Served needs the server returned by Counting")
	}
	return s.served.Load()
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (c *countingBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n.Add(int64(n))
	return n, err
}
