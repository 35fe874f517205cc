package rest_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const sinkPipeline = `
- name: rows
  kind: internal
  query: SELECT range AS id, 'n' || range AS name, range * 1.5::DOUBLE AS score FROM range(5)
- name: push
  kind: sink
  connection:
    kind: Rest
    client: {base_url: "$URL", auth: {method: bearer, values: {token: "sink-token-77"}}}
    request: %s
`

// TestSinkPerRow: one POST per row, the row's object as the JSON body.
func TestSinkPerRow(t *testing.T) {
	a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int) { w.WriteHeader(http.StatusCreated) })
	p := pipelineFile(t, a.URL, fmt.Sprintf(sinkPipeline, `{endpoint: events, method: post}`))
	code, _, errOut := runCLI(t, "run", p)
	require.Equal(t, 0, code, errOut)
	var bodies []string
	for _, s := range a.seen() {
		require.Equal(t, "POST", s.Method)
		require.Equal(t, "/events", s.Path)
		require.Equal(t, "application/json", s.Header.Get("Content-Type"))
		require.Equal(t, "Bearer sink-token-77", s.Header.Get("Authorization"))
		bodies = append(bodies, s.Body)
	}
	require.Equal(t, []string{
		`{"id":0,"name":"n0","score":0}`, `{"id":1,"name":"n1","score":1.5}`, `{"id":2,"name":"n2","score":3}`,
		`{"id":3,"name":"n3","score":4.5}`, `{"id":4,"name":"n4","score":6}`}, bodies)
	require.Contains(t, errOut, "5 rows written")
	require.Contains(t, errOut, "sent 5 row(s) in 5 request(s)")
}

// TestSinkBatches: batch_size rows per request, wrapped under batch_key.
func TestSinkBatches(t *testing.T) {
	a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {})
	p := pipelineFile(t, a.URL, fmt.Sprintf(sinkPipeline, `{endpoint: bulk, method: put, batch_size: 2, batch_key: records}`))
	code, _, errOut := runCLI(t, "run", p)
	require.Equal(t, 0, code, errOut)
	var bodies []string
	for _, s := range a.seen() {
		require.Equal(t, "PUT", s.Method)
		bodies = append(bodies, s.Body)
	}
	require.Equal(t, []string{
		`{"records":[{"id":0,"name":"n0","score":0},{"id":1,"name":"n1","score":1.5}]}`,
		`{"records":[{"id":2,"name":"n2","score":3},{"id":3,"name":"n3","score":4.5}]}`,
		`{"records":[{"id":4,"name":"n4","score":6}]}`}, bodies)
	require.Contains(t, errOut, "sent 5 row(s) in 3 request(s)")
}

// TestSinkFailureNamesRow: the failing request's first row is named, with how many went before.
func TestSinkFailureNamesRow(t *testing.T) {
	a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if strings.Contains(r.URL.Path, "bulk") && n == 2 {
			http.Error(w, `{"error": "score too high"}`, http.StatusUnprocessableEntity)
		}
	})
	p := pipelineFile(t, a.URL, fmt.Sprintf(sinkPipeline, `{endpoint: bulk, batch_size: 2}`))
	errOut := runFails(t, p)
	require.Contains(t, errOut, `row 3 (the first of this request's 2) failed, 2 row(s) were sent before it: rest 'push': POST `+a.URL+`/bulk: 422 Unprocessable Entity: {"error": "score too high"}; the row: {"id":2,"name":"n2","score":3}`)
	require.NotContains(t, errOut, "sink-token-77")
	require.Len(t, a.seen(), 2) // nothing after the failure
}

// TestSinkCopyFromSQL: COPY … TO 'push' (FORMAT ankaflow) sends rows from SQL.
func TestSinkCopyFromSQL(t *testing.T) {
	a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {})
	p := pipelineFile(t, a.URL, fmt.Sprintf(sinkPipeline, `{endpoint: bulk, batch_size: 10}`))
	code, out, errOut := runCLI(t, "sql", "--format", "csv", "--pipeline", p,
		"-c", "COPY (SELECT 'a' AS k UNION ALL SELECT 'b') TO 'push' (FORMAT ankaflow)")
	require.Equal(t, 0, code, out+errOut)
	require.Len(t, a.seen(), 1)
	require.Contains(t, []string{`[{"k":"a"},{"k":"b"}]`, `[{"k":"b"},{"k":"a"}]`}, a.seen()[0].Body)
}
