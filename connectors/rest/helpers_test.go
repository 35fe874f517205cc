package rest_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/cmd/cli"
	_ "github.com/ankaflow/ankaflow/connectors/rest"
)

// api is a local HTTP server that records every request it sees.
type api struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []seen
}

type seen struct {
	Method, Path, Query string
	Header              http.Header
	Body                string
}

func newAPI(t *testing.T, h func(w http.ResponseWriter, r *http.Request, n int)) *api {
	t.Helper()
	a := &api{}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body bytes.Buffer
		body.ReadFrom(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body.Bytes()))
		a.mu.Lock()
		a.reqs = append(a.reqs, seen{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), body.String()})
		n := len(a.reqs)
		a.mu.Unlock()
		h(w, r, n)
	}))
	t.Cleanup(a.Close)
	return a
}

func (a *api) seen() []seen {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]seen(nil), a.reqs...)
}

func (a *api) queries() []string {
	var out []string
	for _, r := range a.seen() {
		out = append(out, r.Query)
	}
	return out
}

// pipelineFile writes a pipeline with $URL replaced by the server's URL.
func pipelineFile(t *testing.T, url, yaml string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "p.yaml")
	require.NoError(t, os.WriteFile(p, []byte(strings.ReplaceAll(yaml, "$URL", url)), 0o644))
	return p
}

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := cli.Run(context.Background(), args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

// query runs the pipeline in a SQL session and then the statements; returns their CSV output.
func query(t *testing.T, file string, stmts ...string) string {
	t.Helper()
	args := []string{"sql", "--format", "csv", "-c", "SELECT count(*) FILTER (status <> 'ok') AS failed FROM run_pipeline('" + file + "')"}
	for _, s := range stmts {
		args = append(args, "-c", s)
	}
	code, out, errOut := runCLI(t, args...)
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	require.True(t, strings.HasPrefix(out, "failed\n0\n"), "the pipeline failed:\n%s\n%s", out, errOut)
	return strings.TrimPrefix(out, "failed\n0\n")
}

// runFails runs the pipeline with `ankaflow run` and returns stderr; the run must fail.
func runFails(t *testing.T, file string) string {
	t.Helper()
	code, out, errOut := runCLI(t, "run", file)
	require.NotEqual(t, 0, code, "the run should fail:\n%s\n%s", out, errOut)
	return errOut
}

func readFile(p string) ([]byte, error) { return os.ReadFile(p) }
