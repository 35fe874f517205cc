package rest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// items serves records id from..to-1 as {"data": {"items": [...]}}.
func items(from, to int) string {
	var recs []string
	for i := from; i < to; i++ {
		recs = append(recs, fmt.Sprintf(`{"id": %d, "name": "item %d", "price": %d.5, "tags": ["t%d"], "active": %t}`, i, i, i, i, i%2 == 0))
	}
	return `{"data": {"items": [` + strings.Join(recs, ",") + `]}, "total": 7}`
}

// TestPageNumberPagination: page=1,2,3 until a page shorter than page_size; records keep their
// order and types; nested arrays arrive as JSON.
func TestPageNumberPagination(t *testing.T) {
	a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, items((page-1)*3, min(page*3, 7)))
	})
	p := pipelineFile(t, a.URL, `
- name: api
  kind: tap
  connection:
    kind: Rest
    client: {base_url: "$URL/v1"}
    request:
      endpoint: items
      query: {page: 1, per_page: 3}
      response:
        locator: data.items
        handler: {kind: Pagination, page_param: page, page_size: 3}
`)
	out := query(t, p, `SELECT * FROM api ORDER BY id`, `SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'api' ORDER BY ordinal_position`)
	require.Equal(t, "id,name,price,tags,active\n"+
		"0,item 0,0.5,\"[\"\"t0\"\"]\",true\n1,item 1,1.5,\"[\"\"t1\"\"]\",false\n2,item 2,2.5,\"[\"\"t2\"\"]\",true\n"+
		"3,item 3,3.5,\"[\"\"t3\"\"]\",false\n4,item 4,4.5,\"[\"\"t4\"\"]\",true\n5,item 5,5.5,\"[\"\"t5\"\"]\",false\n"+
		"6,item 6,6.5,\"[\"\"t6\"\"]\",true\n"+
		"column_name,data_type\nid,BIGINT\nname,VARCHAR\nprice,DOUBLE\ntags,JSON\nactive,BOOLEAN\n", out)
	require.Equal(t, []string{"page=1&per_page=3", "page=2&per_page=3", "page=3&per_page=3"}, a.queries())
	require.Equal(t, "/v1/items", a.seen()[0].Path)
}

// TestOffsetPaginationTotal: offset/limit, stopping when total_records are in (no extra
// request for an empty page).
func TestOffsetPaginationTotal(t *testing.T) {
	a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
		off, _ := strconv.Atoi(r.URL.Query().Get("offset"))
		lim, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		fmt.Fprint(w, items(off, min(off+lim, 7)))
	})
	p := pipelineFile(t, a.URL, `
- name: api
  kind: tap
  connection:
    kind: Rest
    client: {base_url: "$URL"}
    request:
      endpoint: /items
      response:
        locator: data.items
        handler: {kind: Offset, page_size: 4, total_records: total}
`)
	out := query(t, p, `SELECT count(*), sum(id) FROM api`)
	require.Equal(t, "count_star(),sum(id)\n7,21\n", out)
	require.Equal(t, []string{"limit=4&offset=0", "limit=4&offset=4"}, a.queries())
}

// TestCursorPagination: the cursor from a body field, then from a header; a missing cursor
// ends the paging, max_pages bounds it.
func TestCursorPagination(t *testing.T) {
	a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
		c, _ := strconv.Atoi(r.URL.Query().Get("after"))
		next := ""
		if c+2 < 6 {
			next = strconv.Itoa(c + 2)
			w.Header().Set("X-Next-Cursor", next)
		}
		recs := fmt.Sprintf(`[{"id": %d}, {"id": %d}]`, c, c+1)
		if next == "" {
			fmt.Fprintf(w, `{"records": %s, "meta": {}}`, recs)
			return
		}
		fmt.Fprintf(w, `{"records": %s, "meta": {"next": %q}}`, recs, next)
	})
	p := pipelineFile(t, a.URL, `
- name: body
  kind: tap
  connection:
    kind: Rest
    client: {base_url: "$URL"}
    request:
      endpoint: ids
      response:
        locator: records
        handler: {kind: Cursor, cursor_param: after, cursor_locator: meta.next}
- name: header
  kind: tap
  connection:
    kind: Rest
    client: {base_url: "$URL"}
    request:
      endpoint: ids
      response:
        locator: records
        handler: {kind: Cursor, cursor_param: after, cursor_header: X-Next-Cursor, max_pages: 2}
`)
	out := query(t, p, `SELECT string_agg(id::VARCHAR, ' ' ORDER BY id) AS ids FROM body`, `SELECT string_agg(id::VARCHAR, ' ' ORDER BY id) AS ids FROM header`)
	require.Equal(t, "ids\n0 1 2 3 4 5\nids\n0 1 2 3\n", out)
	require.Equal(t, []string{"", "after=2", "after=4", "", "after=2"}, a.queries())
}

// TestNextLinkPagination: Link: <…>; rel="next" headers, and a next URL in the body.
func TestNextLinkPagination(t *testing.T) {
	a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
		pg, _ := strconv.Atoi(r.URL.Query().Get("p"))
		if pg < 2 {
			w.Header().Set("Link", fmt.Sprintf(`<%s?p=%d&sig=x>; rel="next", <%s?p=0>; rel="first"`, r.URL.Path, pg+1, r.URL.Path))
		}
		next := "null"
		if pg < 2 {
			next = fmt.Sprintf(`"http://%s%s?p=%d"`, r.Host, r.URL.Path, pg+1)
		}
		fmt.Fprintf(w, `{"results": [{"page": %d}], "next": %s}`, pg, next)
	})
	p := pipelineFile(t, a.URL, `
- name: link
  kind: tap
  connection:
    kind: Rest
    client: {base_url: "$URL"}
    request:
      endpoint: things?p=0
      response: {locator: results, handler: {kind: NextLink}}
- name: field
  kind: tap
  connection:
    kind: Rest
    client: {base_url: "$URL"}
    request:
      endpoint: things?p=0
      response: {locator: results, handler: {kind: NextLink, next_locator: next}}
`)
	out := query(t, p, `SELECT string_agg(page::VARCHAR, ' ' ORDER BY page) AS p FROM link`, `SELECT string_agg(page::VARCHAR, ' ' ORDER BY page) AS p FROM field`)
	require.Equal(t, "p\n0 1 2\np\n0 1 2\n", out)
	require.Equal(t, []string{"p=0", "p=1&sig=x", "p=2&sig=x", "p=0", "p=1", "p=2"}, a.queries())
}

// TestEmptyResponse: no records with `fields` gives a typed, empty table in the declared
// column order (and downstream SQL works); without fields, a one-column json table.
func TestEmptyResponse(t *testing.T) {
	a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
		fmt.Fprint(w, `{"data": []}`)
	})
	p := pipelineFile(t, a.URL, `
- name: typed
  kind: tap
  connection:
    kind: Rest
    client: {base_url: "$URL"}
    request: {endpoint: x, response: {locator: data}}
    fields:
      - {name: updated_at, type: TIMESTAMP}
      - {name: id, type: BIGINT}
      - {name: amount, type: "DECIMAL(10,2)"}
      - {name: address, type: "STRUCT(city VARCHAR, zip VARCHAR)"}
- name: downstream
  kind: transform
  query: SELECT max(updated_at) AS last, sum(amount) AS total FROM typed
- name: untyped
  kind: tap
  connection:
    kind: Rest
    client: {base_url: "$URL"}
    request: {endpoint: x, response: {locator: data}}
`)
	out := query(t, p,
		`SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'typed' ORDER BY ordinal_position`,
		`SELECT count(*) AS n FROM typed`, `SELECT * FROM downstream`,
		`SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'untyped'`, `SELECT count(*) AS n FROM untyped`)
	require.Equal(t, "column_name,data_type\nupdated_at,TIMESTAMP\nid,BIGINT\namount,\"DECIMAL(10,2)\"\naddress,\"STRUCT(city VARCHAR, zip VARCHAR)\"\n"+
		"n\n0\nlast,total\nNULL,NULL\n"+
		"column_name,data_type\njson,VARCHAR\nn\n0\n", out)
}

// TestDeclaredTypes: fields declare structs, lists, timestamps and decimals sent as strings;
// key order in the records does not matter; unknown keys are dropped.
func TestDeclaredTypes(t *testing.T) {
	a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Content-Type", "application/x-ndjson")
		fmt.Fprint(w, `{"id": 1, "at": "2024-03-01T10:00:00Z", "amount": "12.50", "address": {"city": "Tartu", "zip": "50090"}, "tags": ["a","b"], "extra": 1, "meta": {"b": [1, {"c": null}], "a": "x"}, "lines": [{"sku": "S1", "qty": 2}, {"qty": 1, "sku": "S2"}], "score": 1.5}`+"\n")
		fmt.Fprint(w, `{"tags": [], "address": null, "amount": 3, "at": "2024-03-02 11:30:00", "id": "2", "meta": [true], "lines": null, "score": "2"}`+"\n")
	})
	p := pipelineFile(t, a.URL, `
- name: api
  kind: tap
  connection:
    kind: Rest
    client: {base_url: "$URL"}
    request: {endpoint: x}
    fields:
      - {name: id, type: INTEGER}
      - {name: at, type: TIMESTAMP}
      - {name: amount, type: "DECIMAL(10,2)"}
      - {name: address, type: "STRUCT(city VARCHAR, zip VARCHAR)"}
      - {name: tags, type: "VARCHAR[]"}
      - {name: meta, type: JSON}
      - {name: lines, type: "STRUCT(sku VARCHAR, qty INTEGER)[]"}
      - {name: score, type: REAL}
`)
	out := query(t, p, `SELECT id, "at", amount::VARCHAR AS amount, address.city AS city, array_to_string(tags, '|') AS tags,
		meta->>'$.a' AS a, lines[2].sku AS sku2, lines[1].qty AS qty1, score * 2 AS s2 FROM api ORDER BY id`,
		`SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'api' AND column_name IN ('meta', 'lines')`)
	require.Equal(t, "id,at,amount,city,tags,a,sku2,qty1,s2\n1,2024-03-01 10:00:00,12.50,Tartu,a|b,x,S2,2,3.0\n2,2024-03-02 11:30:00,3.00,NULL,,NULL,NULL,NULL,4.0\n"+
		"column_name,data_type\nmeta,JSON\nlines,\"STRUCT(sku VARCHAR, qty INTEGER)[]\"\n", out)
}

// TestLoopOverRows: a tap inside a loop renders its endpoint and query per row of the previous
// stage, so each row calls its own URL.
func TestLoopOverRows(t *testing.T) {
	a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
		id := strings.TrimPrefix(r.URL.Path, "/customers/")
		fmt.Fprintf(w, `[{"customer": %s, "orders": %d, "since": %q}]`, id, len(id)*10, r.URL.Query().Get("since"))
	})
	p := pipelineFile(t, a.URL, `
- name: setup
  kind: internal
  query: CREATE TABLE collected (customer BIGINT, orders BIGINT, since VARCHAR)
- name: customers
  kind: internal
  query: SELECT * FROM (VALUES (7), (42), (105)) t(id)
- name: each
  kind: pipeline
  stages:
    - name: detail
      kind: tap
      connection:
        kind: Rest
        client: {base_url: "$URL"}
        request:
          endpoint: customers/<< variables.loop_control.id >>
          query: {since: "<< context.since >>"}
    - name: keep
      kind: internal
      query: INSERT INTO collected SELECT * FROM detail
`)
	code, out, errOut := runCLI(t, "sql", "--format", "csv", "-c",
		"SELECT count(*) FILTER (status <> 'ok') AS failed FROM run_pipeline('"+p+"', context := {'since': '2024-01-01'})",
		"-c", "SELECT * FROM collected ORDER BY customer")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "failed\n0\ncustomer,orders,since\n7,10,2024-01-01\n42,20,2024-01-01\n105,30,2024-01-01\n", out)
	require.Len(t, a.seen(), 3)
}

// TestTapFromSQL: tap('api') in a SQL session (ankaflow sql --pipeline) pages through the API;
// show_schema gives the declared fields without a request.
func TestTapFromSQL(t *testing.T) {
	a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		fmt.Fprint(w, items((page-1)*3, min(page*3, 7)))
	})
	p := pipelineFile(t, a.URL, `
- name: api
  kind: tap
  connection:
    kind: Rest
    client: {base_url: "$URL"}
    request:
      endpoint: items
      response: {locator: data.items, handler: {kind: Pagination, page_size: 3}}
    fields: [{name: id, type: BIGINT}, {name: name, type: VARCHAR}]
`)
	code, out, errOut := runCLI(t, "sql", "--format", "csv", "--pipeline", p,
		"-c", "SELECT column_name, column_type FROM show_schema('api')",
		"-c", "SELECT count(*) AS n, max(name) AS top FROM tap('api')")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "column_name,column_type\nid,BIGINT\nname,VARCHAR\nn,top\n7,item 6\n", out)
	require.Equal(t, []string{"page=1", "page=2", "page=3"}, a.queries())
}

// TestMalformedJSON: the error names the stage and the byte offset of the bad JSON.
func TestMalformedJSON(t *testing.T) {
	a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
		fmt.Fprint(w, `{"data": [{"id": 1}, {"id": 2,, "x": 3}]}`)
	})
	p := pipelineFile(t, a.URL, `
- name: broken api
  kind: tap
  connection:
    kind: Rest
    client: {base_url: "$URL"}
    request: {endpoint: x, response: {locator: data}}
`)
	errOut := runFails(t, p)
	require.Contains(t, errOut, "stage 'broken api'")
	require.Contains(t, errOut, "rest 'broken api': "+a.URL+"/x: response body: malformed JSON at byte offset 30: unexpected ',', expected a string")
}

// TestPolling: StatePolling re-requests until the job is done, then reads the records;
// URLPolling downloads the file the ready response points to.
func TestPolling(t *testing.T) {
	a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
		switch r.URL.Path {
		case "/job":
			if n < 3 {
				fmt.Fprint(w, `{"status": "running", "rows": []}`)
				return
			}
			fmt.Fprint(w, `{"status": "done", "rows": [{"a": 1}, {"a": 2}]}`)
		case "/export":
			if n < 6 {
				fmt.Fprint(w, `{"state": {"ready": false}}`)
				return
			}
			fmt.Fprint(w, `{"state": {"ready": true, "file": "/files/out.jsonl"}}`)
		case "/files/out.jsonl":
			w.Header().Set("Content-Type", "application/x-ndjson")
			fmt.Fprint(w, "{\"b\": \"x\"}\n{\"b\": \"y\"}\n")
		}
	})
	p := pipelineFile(t, a.URL, `
- name: state
  kind: tap
  connection:
    kind: Rest
    client: {base_url: "$URL"}
    request:
      endpoint: job
      response:
        locator: rows
        handler: {kind: StatePolling, ready_status: "status == 'done'", poll_interval: 0.05}
- name: download
  kind: tap
  connection:
    kind: Rest
    client: {base_url: "$URL"}
    request:
      endpoint: export
      response:
        handler: {kind: URLPolling, ready_status: state.ready, url_locator: state.file, poll_interval: 0.05}
`)
	out := query(t, p, `SELECT string_agg(a::VARCHAR, ' ' ORDER BY a) AS a FROM state`, `SELECT string_agg(b, ' ' ORDER BY b) AS b FROM download`)
	require.Equal(t, "a\n1 2\nb\nx y\n", out)
	var paths []string
	for _, s := range a.seen() {
		paths = append(paths, s.Path)
	}
	require.Equal(t, []string{"/job", "/job", "/job", "/export", "/export", "/export", "/files/out.jsonl"}, paths)
}

// TestPollingBounded: a job that never finishes fails after max_wait instead of looping.
func TestPollingBounded(t *testing.T) {
	a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
		fmt.Fprint(w, `{"status": "running"}`)
	})
	p := pipelineFile(t, a.URL, `
- name: job
  kind: tap
  connection:
    kind: Rest
    client: {base_url: "$URL"}
    request:
      endpoint: job
      response: {handler: {kind: StatePolling, ready_status: "status == 'done'", poll_interval: 0.05, max_wait: 0.3}}
`)
	errOut := runFails(t, p)
	require.Contains(t, errOut, "the job was not ready after")
	require.Less(t, len(a.seen()), 10)
}

// TestWatermark: the first run sends the initial mark; the next one sends the largest
// updated_at seen, read from the state file.
func TestWatermark(t *testing.T) {
	a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
		since := r.URL.Query().Get("updated_since")
		all := []string{"2024-01-01T00:00:00Z", "2024-02-01T00:00:00Z", "2024-03-01T00:00:00Z"}
		var recs []string
		for i, u := range all {
			if u > since {
				recs = append(recs, fmt.Sprintf(`{"id": %d, "updated_at": %q}`, i, u))
			}
		}
		fmt.Fprint(w, "["+strings.Join(recs, ",")+"]")
	})
	state := t.TempDir() + "/orders.state.json"
	p := pipelineFile(t, a.URL, `
- name: orders
  kind: tap
  connection:
    kind: Rest
    client: {base_url: "$URL"}
    request:
      endpoint: orders
      incremental: {field: updated_at, param: updated_since, initial: "2024-01-15T00:00:00Z", state_file: "`+state+`"}
    fields: [{name: id, type: BIGINT}, {name: updated_at, type: VARCHAR}]
`)
	require.Equal(t, "n\n2\n", query(t, p, `SELECT count(*) AS n FROM orders`))
	require.Equal(t, "n\n0\n", query(t, p, `SELECT count(*) AS n FROM orders`))
	require.Equal(t, []string{"updated_since=2024-01-15T00%3A00%3A00Z", "updated_since=2024-03-01T00%3A00%3A00Z"}, a.queries())
	var st map[string]any
	b, err := readFile(state)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &st))
	require.Equal(t, "2024-03-01T00:00:00Z", st["watermark"])
}

// TestTimeout: a server slower than client.timeout fails the stage with the timeout named.
func TestTimeout(t *testing.T) {
	a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
		select {
		case <-time.After(3 * time.Second):
		case <-r.Context().Done():
		}
		fmt.Fprint(w, `[]`)
	})
	p := pipelineFile(t, a.URL, `
- name: slow
  kind: tap
  connection:
    kind: Rest
    client: {base_url: "$URL", timeout: 0.2, retries: {max_attempts: 2, initial_backoff: 0.01}}
    request: {endpoint: x}
`)
	start := time.Now()
	errOut := runFails(t, p)
	require.Contains(t, errOut, "no complete response within client.timeout (200ms)")
	require.Contains(t, errOut, "(after 2 attempt(s))")
	require.Len(t, a.seen(), 2)
	require.Less(t, time.Since(start), 3*time.Second)
}
