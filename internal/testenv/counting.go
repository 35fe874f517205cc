package testenv

import (
	"net/http"
	"sync/atomic"
)

// CountingWriter is a response writer that adds the bytes of the body written through it to
// N: the object-storage test servers count what they serve, for tests that check how much a
// read fetched.
type CountingWriter struct {
	http.ResponseWriter
	N *atomic.Int64
}

func (c *CountingWriter) Write(p []byte) (int, error) {
	n, err := c.ResponseWriter.Write(p)
	c.N.Add(int64(n))
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (c *CountingWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }
