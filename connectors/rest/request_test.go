package rest_test

import (
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRequestBodyAndHeaders: a POST with a templated @json body, query parameters, default and
// request headers; then a form-encoded body.
func TestRequestBodyAndHeaders(t *testing.T) {
	a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int) { fmt.Fprint(w, `[{"ok": true}]`) })
	p := pipelineFile(t, a.URL, `
- name: json body
  kind: tap
  connection:
    kind: Rest
    client: {base_url: "$URL", headers: {User-Agent: ankaflow-test, X-Team: data}}
    request:
      endpoint: search
      method: post
      query: {limit: 10, tags: [a, b]}
      headers: {X-Request: "<< context.req >>"}
      body: '@json {"filter": {"country": "<< context.country >>", "ids": [1, 2]}, "deep": true}'
- name: form body
  kind: tap
  connection:
    kind: Rest
    client: {base_url: "$URL"}
    request:
      endpoint: login
      method: post
      content_type: form
      body: {user: "<< context.country >>", remember: true}
`)
	code, out, errOut := runCLI(t, "sql", "--format", "csv", "-c",
		"SELECT count(*) FILTER (status <> 'ok') AS failed FROM run_pipeline('"+p+"', context := {'country': 'EE', 'req': 'r-1'})")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "failed\n0\n", out)
	s := a.seen()
	require.Equal(t, "POST", s[0].Method)
	require.Equal(t, "limit=10&tags=a&tags=b", s[0].Query)
	require.Equal(t, `{"deep":true,"filter":{"country":"EE","ids":[1,2]}}`, s[0].Body)
	require.Equal(t, "application/json", s[0].Header.Get("Content-Type"))
	require.Equal(t, "ankaflow-test", s[0].Header.Get("User-Agent"))
	require.Equal(t, "data", s[0].Header.Get("X-Team"))
	require.Equal(t, "r-1", s[0].Header.Get("X-Request"))
	require.Equal(t, "remember=true&user=EE", s[1].Body)
	require.Equal(t, "application/x-www-form-urlencoded", s[1].Header.Get("Content-Type"))
}

// TestResponseFormats: CSV and Parquet bodies (from the Content-Type header, or declared) are
// read by DuckDB's readers; a JMESPath locator with a filter selects records.
func TestResponseFormats(t *testing.T) {
	parquet := filepath.Join(t.TempDir(), "x.parquet")
	code, _, errOut := runCLI(t, "sql", "-c", "COPY (SELECT 1 AS a, 'p' AS b UNION ALL SELECT 2, 'q') TO '"+parquet+"' (FORMAT parquet)")
	require.Equal(t, 0, code, errOut)
	pq, err := os.ReadFile(parquet)
	require.NoError(t, err)
	a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
		switch r.URL.Path {
		case "/csv":
			w.Header().Set("Content-Type", "text/csv; charset=utf-8")
			fmt.Fprint(w, "a,b\n1,x\n2,y\n")
		case "/parquet":
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Write(pq)
		case "/csvpages":
			w.Header().Set("Content-Type", "text/csv")
			if r.URL.Query().Get("page") == "1" {
				fmt.Fprint(w, "a,b\n1,x\n2,y\n")
			} else {
				fmt.Fprint(w, "a,b\n3,z\n")
			}
		case "/filter":
			fmt.Fprint(w, `{"items": [{"k": 1, "keep": true}, {"k": 2, "keep": false}, {"k": 3, "keep": true}]}`)
		}
	})
	p := pipelineFile(t, a.URL, `
- name: csv
  kind: tap
  connection: {kind: Rest, client: {base_url: "$URL"}, request: {endpoint: csv}}
- name: parquet
  kind: tap
  connection: {kind: Rest, client: {base_url: "$URL"}, request: {endpoint: parquet, response: {content_type: parquet}}}
- name: csvpages
  kind: tap
  connection:
    kind: Rest
    client: {base_url: "$URL"}
    request: {endpoint: csvpages, response: {handler: {kind: Pagination, page_size: 2}}}
    fields: [{name: b, type: VARCHAR}, {name: a, type: SMALLINT}]
- name: filtered
  kind: tap
  connection: {kind: Rest, client: {base_url: "$URL"}, request: {endpoint: filter, response: {locator: "items[?keep].{k: k}"}}}
`)
	out := query(t, p, `SELECT string_agg(a || b, ' ' ORDER BY a) AS v FROM csv`, `SELECT string_agg(a || b, ' ' ORDER BY a) AS v FROM parquet`,
		`SELECT string_agg(k::VARCHAR, ' ' ORDER BY k) AS v, any_value(typeof(k)) AS t FROM filtered`,
		`SELECT string_agg(b || a, ' ' ORDER BY a) AS v, any_value(typeof(a)) AS t FROM csvpages`)
	require.Equal(t, "v\n1x 2y\nv\n1p 2q\nv,t\n1 3,BIGINT\nv,t\nx1 y2 z3,SMALLINT\n", out)
	require.Equal(t, 2, strings.Count(strings.Join(a.queries(), " "), "page="))
}

// TestErrorHandler: a 200 response whose body says it failed fails the stage with the API's
// message.
func TestErrorHandler(t *testing.T) {
	a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
		fmt.Fprint(w, `{"ok": false, "error": {"text": "quota exceeded"}, "data": []}`)
	})
	p := pipelineFile(t, a.URL, `
- name: api
  kind: tap
  connection:
    kind: Rest
    client: {base_url: "$URL"}
    request:
      endpoint: x
      errorhandler: {condition: "ok == `+"`false`"+`", message: error.text}
      response: {locator: data}
`)
	require.Contains(t, runFails(t, p), "the API reported an error (request.errorhandler.condition \"ok == `false`\"): quota exceeded")
}

// TestTLS: a server with its own certificate is trusted through client.tls.ca_file; without it
// the request fails; insecure_skip_verify works and warns.
func TestTLS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `[{"secure": true}]`) }))
	t.Cleanup(srv.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644))
	tap := func(tls string) string {
		return pipelineFile(t, srv.URL, `
- name: api
  kind: tap
  connection:
    kind: Rest
    client: {base_url: "$URL", tls: `+tls+`, retries: {max_attempts: 1}}
    request: {endpoint: x}
`)
	}
	require.Equal(t, "n\n1\n", query(t, tap(`{ca_file: "`+ca+`"}`), `SELECT count(*) AS n FROM api WHERE secure`))
	require.Contains(t, runFails(t, tap(`{}`)), "certificate signed by unknown authority")
	code, _, errOut := runCLI(t, "run", tap(`{insecure_skip_verify: true}`))
	require.Equal(t, 0, code, errOut)
	require.Contains(t, errOut, "TLS CERTIFICATE VERIFICATION IS OFF")
}

// TestConfigErrors: unknown keys and bad values name their place in the block.
func TestConfigErrors(t *testing.T) {
	p := pipelineFile(t, "http://127.0.0.1:1", `
- name: api
  kind: tap
  connection:
    kind: Rest
    client: {base_url: "$URL", timout: 3}
    request: {endpoint: x, method: fetch, response: {handler: {kind: Pages}}}
`)
	errOut := runFails(t, p)
	require.Contains(t, errOut, `client.timout: unknown key "timout" (did you mean 'timeout'?)`)
	require.Contains(t, errOut, `request.method: unknown HTTP method "FETCH"`)
	require.Contains(t, errOut, `request.response.handler.kind: unknown handler kind "pages"`)
}

// TestPlanHidesSecrets: plan prints the SQL without sending anything or showing credentials.
func TestPlanHidesSecrets(t *testing.T) {
	a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int) { fmt.Fprint(w, `[]`) })
	p := pipelineFile(t, a.URL, `
- name: api
  kind: tap
  connection:
    kind: Rest
    client: {base_url: "$URL", auth: {method: basic, values: {username: u, password: "plan-pw-5150"}}}
    request: {endpoint: x}
`)
	code, out, errOut := runCLI(t, "plan", p)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, `CREATE OR REPLACE TABLE "api" AS SELECT * FROM tap('api')`)
	require.NotContains(t, out+errOut, "plan-pw-5150")
	require.Empty(t, a.seen())
}

// TestValidate: `ankaflow validate` reports bad keys of the client and request blocks before
// anything runs, at the block's line; templated values are left for run time.
func TestValidate(t *testing.T) {
	p := pipelineFile(t, "http://127.0.0.1:1", `
- name: api
  kind: tap
  connection:
    kind: Rest
    client:
      base_url: "$URL"
      timeout: "<< context.timeout >>"
      retries: {max_atempts: 3}
    request:
      endpoint: "items/<< context.id >>"
      method: "<< context.method >>"
      response: {locator: data, handler: {kind: Cursor, cursor_parm: after}}
`)
	code, out, errOut := runCLI(t, "validate", p)
	require.Equal(t, 2, code, out+errOut)
	require.Contains(t, out+errOut, `p.yaml:7:7: Rest: client.retries.max_atempts: unknown key "max_atempts" (did you mean 'max_attempts'?)`)
	require.Contains(t, out+errOut, `p.yaml:11:7: Rest: request.response.handler.cursor_parm: unknown key "cursor_parm" (did you mean 'cursor_param'?)`)
	require.NotContains(t, out+errOut, "timeout")
	require.NotContains(t, out+errOut, "method")
}
