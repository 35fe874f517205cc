package objstore

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPartReader: a part reads exactly its bytes of the file, reads them again after a seek
// back to 0 (minio-go's retry), and refuses a seek outside itself.
func TestPartReader(t *testing.T) {
	data := make([]byte, 1000)
	for i := range data {
		data[i] = byte(i * 7)
	}
	path := filepath.Join(t.TempDir(), "f")
	require.NoError(t, os.WriteFile(path, data, 0o644))
	p, err := openPart(path, 300, 400)
	require.NoError(t, err)
	defer p.f.Close()

	got, err := io.ReadAll(p)
	require.NoError(t, err)
	require.Equal(t, data[300:700], got)

	n, err := p.Seek(0, io.SeekStart)
	require.NoError(t, err)
	require.Equal(t, int64(0), n)
	head := make([]byte, 50)
	_, err = io.ReadFull(p, head)
	require.NoError(t, err)
	require.Equal(t, data[300:350], head)
	n, err = p.Seek(10, io.SeekCurrent)
	require.NoError(t, err)
	require.Equal(t, int64(60), n)
	rest, err := io.ReadAll(p)
	require.NoError(t, err)
	require.Equal(t, data[360:700], rest)
	n, err = p.Seek(-100, io.SeekEnd)
	require.NoError(t, err)
	require.Equal(t, int64(300), n)

	_, err = p.Seek(401, io.SeekStart)
	require.Error(t, err)
	_, err = p.Seek(-1, io.SeekStart)
	require.Error(t, err)
}

type captureTransport struct{ body io.Reader }

func (c *captureTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	c.body = req.Body
	return &http.Response{StatusCode: 200, Body: io.NopCloser(bytes.NewReader(nil)), Request: req}, nil
}

// TestSendfileTransport: a part wrapped in io.NopCloser (as minio-go sends every body) reaches
// net/http as the part itself, which net/http can give to sendfile; other bodies and the
// caller's request are left alone.
func TestSendfileTransport(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	require.NoError(t, os.WriteFile(path, []byte("0123456789"), 0o644))
	p, err := openPart(path, 2, 5)
	require.NoError(t, err)
	defer p.f.Close()

	c := &captureTransport{}
	req, err := http.NewRequest(http.MethodPut, "http://127.0.0.1:1/b/k?partNumber=1", io.NopCloser(p))
	require.NoError(t, err)
	wrapped := req.Body
	_, err = sendfileTransport{c}.RoundTrip(req)
	require.NoError(t, err)
	require.Same(t, p, c.body)
	require.Equal(t, wrapped, req.Body, "the caller's request keeps its body")

	other := io.NopCloser(bytes.NewReader([]byte("x")))
	req, err = http.NewRequest(http.MethodPut, "http://127.0.0.1:1/b/k", other)
	require.NoError(t, err)
	_, err = sendfileTransport{c}.RoundTrip(req)
	require.NoError(t, err)
	require.Equal(t, other, c.body)
}

// TestTailLen: the rest of a finished file goes up as up to four parts at once, none below
// S3's 5 MiB minimum (the last may be smaller: S3 allows it).
func TestTailLen(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct{ rest, want int64 }{
		{0, 0}, {3 * mib, 3 * mib}, {9 * mib, 9 * mib}, {10 * mib, 5 * mib}, {16 * mib, 16*mib/3 + 1},
		{40 * mib, 10 * mib}, {100 * mib, 25 * mib},
	} {
		require.Equal(t, c.want, tailLen(c.rest), "rest %d", c.rest)
		// Cutting the rest with each successive tailLen never leaves a part below 5 MiB but the last.
		for rest := c.rest; rest > 0; {
			l := min(tailLen(rest), rest)
			if l < rest {
				require.GreaterOrEqual(t, l, int64(minPartSize))
			}
			rest -= l
		}
	}
}

// TestPartLen: 10,000 parts cover S3's largest object (5 TiB) and no part passes S3's
// largest part (5 GiB).
func TestPartLen(t *testing.T) {
	var total int64
	for n := range 10000 {
		l := partLen(n)
		require.LessOrEqual(t, l, int64(5<<30), "part %d", n+1)
		require.GreaterOrEqual(t, l, int64(minPartSize), "part %d", n+1)
		total += l
	}
	require.Greater(t, total, int64(5<<40))
}
