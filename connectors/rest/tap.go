package rest

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	jmespath "github.com/jmespath-community/go-jmespath"

	"github.com/ankaflow/ankaflow/engine"
)

// tapRun is one run of a tap: the request being paged and what was received so far.
type tapRun struct {
	r      *Rest
	h      handlerConfig
	url    string // the next request's URL (next-link paging replaces it)
	query  map[string]any
	body   any
	npages int
	got    int64
	schema *arrow.Schema
	rb     *recordBuilder
	first  *page // fetched to infer the schema, not yet emitted
	done   bool  // no further request
	mark   *watermark
	tmp    string
}

// page is one response.
type page struct {
	resp   *http.Response
	body   []byte
	kind   string // json, jsonl, csv, parquet
	doc    any    // generic body, parsed on demand for JMESPath
	parsed bool
	url    string
}

func (r *Rest) newTapRun(ctx context.Context) (*tapRun, error) {
	u, err := resolveURL(r.cl.cfg.BaseURL, r.req.Endpoint)
	if err != nil {
		return nil, err
	}
	t := &tapRun{r: r, h: r.req.Response.Handler, url: u, query: maps.Clone(r.req.Query), body: r.req.Body}
	if t.query == nil {
		t.query = map[string]any{}
	}
	if m, ok := t.body.(map[string]any); ok {
		t.body = maps.Clone(m)
	}
	switch t.h.Kind {
	case "pagination":
		if _, ok := t.param(t.h.PageParam); !ok {
			t.setParam(t.h.PageParam, int64(1))
		}
	case "offset":
		if _, ok := t.param(t.h.OffsetParam); !ok {
			t.setParam(t.h.OffsetParam, int64(0))
		}
		if t.h.PageSize > 0 {
			t.setParam(t.h.LimitParam, int64(t.h.PageSize))
		} else if v, ok := t.param(t.h.LimitParam); ok {
			t.h.PageSize, _ = strconv.Atoi(fmt.Sprint(v))
		}
	}
	if inc := r.req.Incremental; inc != nil {
		m, err := r.loadWatermark(inc)
		if err != nil {
			return nil, err
		}
		t.mark = m
		if m.value != nil {
			t.setParamAt(inc.ParamLoc, inc.Param, m.value)
		}
	}
	return t, nil
}

func (t *tapRun) param(name string) (any, bool) {
	if t.h.ParamLocator == "body" {
		if m, ok := t.body.(map[string]any); ok {
			v, ok := m[name]
			return v, ok
		}
		return nil, false
	}
	v, ok := t.query[name]
	return v, ok
}

func (t *tapRun) setParam(name string, v any) { t.setParamAt(t.h.ParamLocator, name, v) }

func (t *tapRun) setParamAt(loc, name string, v any) {
	if loc == "body" {
		m, ok := t.body.(map[string]any)
		if !ok {
			m = map[string]any{}
		}
		m[name] = v
		t.body = m
		return
	}
	t.query[name] = v
}

func (t *tapRun) close() {
	if t.rb != nil {
		t.rb.release()
		t.rb = nil
	}
	if t.tmp != "" {
		os.RemoveAll(t.tmp)
		t.tmp = ""
	}
}

// buildCall renders the current request state into a call.
func (t *tapRun) buildCall() (call, error) {
	return buildCall(t.r.req, t.url, t.query, t.body, t.r.req.HasBody || t.body != nil)
}

func buildCall(req requestConfig, rawURL string, query map[string]any, body any, hasBody bool) (call, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return call{}, fmt.Errorf("request URL: %w", err)
	}
	if len(query) > 0 {
		q := u.Query()
		for k, v := range query {
			q.Del(k)
			switch x := v.(type) {
			case nil:
			case []any:
				for _, e := range x {
					q.Add(k, paramText(e))
				}
			default:
				q.Set(k, paramText(x))
			}
		}
		u.RawQuery = q.Encode()
	}
	c := call{method: req.Method, url: u.String(), headers: http.Header{}}
	for k, v := range req.Headers {
		c.headers.Set(k, v)
	}
	if hasBody && req.Method != "GET" && req.Method != "HEAD" {
		c.headers.Set("Content-Type", req.ContentType)
		if req.ContentType == "application/x-www-form-urlencoded" {
			form := url.Values{}
			m, ok := body.(map[string]any)
			if !ok && body != nil {
				return call{}, fmt.Errorf("request.body: a form body must be a mapping, got %s", describe(body))
			}
			for k, v := range m {
				form.Set(k, paramText(v))
			}
			c.body = []byte(form.Encode())
		} else {
			b, err := json.Marshal(body)
			if err != nil {
				return call{}, fmt.Errorf("request.body: %w", err)
			}
			c.body = b
		}
	}
	return c, nil
}

func paramText(v any) string {
	if s, ok := scalarText(v); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// fetch sends the current request and checks the errorhandler condition.
func (t *tapRun) fetch(ctx context.Context, c call) (*page, error) {
	resp, body, err := t.r.cl.do(ctx, c)
	if err != nil {
		return nil, err
	}
	p := &page{resp: resp, body: body, url: c.url}
	p.kind = t.r.req.Response.ContentType
	if p.kind == "" {
		p.kind = detectKind(resp.Header.Get("Content-Type"), body)
	}
	if cond := t.r.req.ErrCondition; cond != "" && (p.kind == "json") {
		v, err := p.search(cond)
		if err != nil {
			return nil, t.r.cl.fail(c, fmt.Errorf("request.errorhandler.condition: %w", err))
		}
		if truthy(v) {
			msg := strings.TrimSpace(string(body))
			if m := t.r.req.ErrMessage; m != "" {
				if mv, err := p.search(m); err == nil && mv != nil {
					msg = paramText(mv)
				}
			}
			if len(msg) > 1024 {
				msg = msg[:1024] + " …"
			}
			return nil, t.r.cl.fail(c, fmt.Errorf("the API reported an error (request.errorhandler.condition %q): %s", cond, msg))
		}
	}
	return p, nil
}

func detectKind(ct string, body []byte) string {
	mt, _, _ := mime.ParseMediaType(ct)
	switch {
	case mt == "application/x-ndjson" || mt == "application/jsonl" || mt == "application/json-lines" || mt == "application/x-jsonlines" || mt == "application/jsonlines":
		return "jsonl"
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		return "json"
	case mt == "text/csv" || mt == "application/csv":
		return "csv"
	case strings.Contains(mt, "parquet"):
		return "parquet"
	}
	if len(body) >= 4 && string(body[:4]) == "PAR1" {
		return "parquet"
	}
	return "json"
}

// search evaluates a JMESPath expression over the page's JSON body. Simple dotted paths are
// read straight from the body; others parse it once.
func (p *page) search(expr string) (any, error) {
	if p.kind != "json" {
		return nil, fmt.Errorf("JMESPath %q needs a JSON response, got %s", expr, p.kind)
	}
	if path, ok := simplePath(expr); ok && !p.parsed {
		s := &scanner{buf: p.body}
		found, err := s.descend(path)
		if err != nil || !found {
			return nil, err
		}
		return s.parseAny(0)
	}
	if !p.parsed {
		s := &scanner{buf: p.body}
		doc, err := s.parseAny(0)
		if err == nil {
			err = s.end()
		}
		if err != nil {
			return nil, err
		}
		p.doc, p.parsed = toJP(doc), true
	}
	jp, err := jmespath.Compile(expr)
	if err != nil {
		return nil, fmt.Errorf("invalid JMESPath expression %q: %v", expr, err)
	}
	return jp.Search(p.doc)
}

var identRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// simplePath splits a.b.c when every part is a plain identifier ("" is the whole body).
func simplePath(expr string) ([]string, bool) {
	expr = strings.TrimSpace(expr)
	if expr == "" || expr == "@" {
		return nil, true
	}
	parts := strings.Split(expr, ".")
	for _, p := range parts {
		if !identRe.MatchString(p) {
			return nil, false
		}
	}
	return parts, true
}

// toJP converts numbers to float64, the only number type JMESPath compares.
func toJP(v any) any {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case map[string]any:
		for k, e := range x {
			x[k] = toJP(e)
		}
	case []any:
		for i, e := range x {
			x[i] = toJP(e)
		}
	}
	return v
}

func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	case float64:
		return x != 0
	case int64:
		return x != 0
	case []any:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	}
	return true
}

// stageErr names the stage and the request of a decoding failure.
func (t *tapRun) stageErr(p *page, err error) error {
	return fmt.Errorf("%s: %s: response body: %w", t.r.cl.label, t.r.cl.redact.url(p.url), err)
}

// firstSchema fetches the first page (after polling) and infers the columns from it.
func (t *tapRun) firstSchema(ctx context.Context) (*arrow.Schema, error) {
	p, err := t.next(ctx)
	if err != nil {
		return nil, err
	}
	t.first = p
	if p == nil {
		return emptySchema(), nil
	}
	switch p.kind {
	case "csv", "parquet":
		rd, err := t.duckPage(ctx, p)
		if err != nil {
			return nil, err
		}
		defer rd.Release()
		return rd.Schema(), nil
	}
	var in inferrer
	err = t.eachRecord(p, func(s *scanner) error { return in.scan(s) }, func(rec any) error { in.generic(rec); return nil })
	if err != nil {
		return nil, t.stageErr(p, err)
	}
	if len(in.cols) == 0 {
		t.r.Logger().Warn("the API returned no records and the connection declares no fields: the stage table gets a single json column; declare `fields` to keep its columns")
		return emptySchema(), nil
	}
	return in.schema(), nil
}

func emptySchema() *arrow.Schema {
	return arrow.NewSchema([]arrow.Field{{Name: "json", Type: arrow.BinaryTypes.String, Nullable: true}}, nil)
}

// eachRecord walks the records of a JSON or JSON-lines page: scan is called with the scanner at
// each record when they are read straight from the body, generic with each record of a
// JMESPath result.
func (t *tapRun) eachRecord(p *page, scan func(*scanner) error, generic func(any) error) error {
	s := &scanner{buf: p.body}
	if p.kind == "jsonl" {
		for s.peek() != 0 {
			if err := scan(s); err != nil {
				return err
			}
		}
		return nil
	}
	loc := t.r.req.Response.Locator
	path, simple := simplePath(loc)
	if !simple {
		v, err := p.search(loc)
		if err != nil {
			return err
		}
		switch x := v.(type) {
		case nil:
			return nil
		case []any:
			for _, rec := range x {
				if err := generic(rec); err != nil {
					return err
				}
			}
			return nil
		case map[string]any:
			return generic(x)
		default:
			return fmt.Errorf("response.locator %q selects %s, not records", loc, jsonKind(v))
		}
	}
	if len(bytesTrim(p.body)) == 0 {
		return nil // an empty body: no records
	}
	found, err := s.descend(path)
	if err != nil || !found {
		return err
	}
	switch s.peek() {
	case '[':
		s.pos++
		if s.peek() == ']' {
			s.pos++
			break
		}
		for {
			if err := scan(s); err != nil {
				return err
			}
			switch s.peek() {
			case ',':
				s.pos++
				continue
			case ']':
				s.pos++
			default:
				return s.unexpected("expected ',' or ']' after a record")
			}
			break
		}
	case '{':
		if err := scan(s); err != nil {
			return err
		}
	case 'n':
		return s.literal("null")
	default:
		what := "the body"
		if loc != "" {
			what = fmt.Sprintf("response.locator %q", loc)
		}
		return s.unexpected(what + " must hold a list of records (or one record)")
	}
	if len(path) == 0 {
		return s.end()
	}
	return nil
}

func bytesTrim(b []byte) []byte { return []byte(strings.TrimSpace(string(b[:min(len(b), 64)]))) }

// tapReader streams a tap as one Arrow batch per page (CSV and Parquet pages: DuckDB's
// batches of the page). It pulls the next page only when asked for the next batch.
type tapReader struct {
	t    *tapRun
	ctx  context.Context
	refs atomic.Int64
	cur  arrow.RecordBatch
	duck array.RecordReader // the CSV/Parquet page being read
	dn   int                // its rows so far
	dp   *page
	err  error
	end  bool
}

func newTapReader(ctx context.Context, t *tapRun) *tapReader {
	t.rb = newRecordBuilder(t.schema, func(k string) {
		t.r.Logger().Warn(fmt.Sprintf("records carry key %q, which is not a column of this tap (columns come from `fields`, or from the first page): ignored", k))
	})
	r := &tapReader{t: t, ctx: ctx}
	r.refs.Store(1)
	return r
}

func (r *tapReader) Schema() *arrow.Schema          { return r.t.schema }
func (r *tapReader) RecordBatch() arrow.RecordBatch { return r.cur }
func (r *tapReader) Record() arrow.RecordBatch      { return r.cur }
func (r *tapReader) Err() error                     { return r.err }
func (r *tapReader) Retain()                        { r.refs.Add(1) }

func (r *tapReader) Release() {
	if r.refs.Add(-1) != 0 {
		return
	}
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	r.closeDuck()
	r.t.close()
}

func (r *tapReader) closeDuck() {
	if r.duck != nil {
		r.duck.Release()
		r.duck = nil
	}
}

func (r *tapReader) fail(err error) bool {
	r.err = err
	r.end = true
	r.closeDuck()
	return false
}

// Next reads the next page (or the next batch of a CSV/Parquet page).
func (r *tapReader) Next() bool {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	t := r.t
	for !r.end {
		if err := r.ctx.Err(); err != nil {
			return r.fail(err)
		}
		if r.duck != nil {
			if r.duck.Next() {
				rec := r.duck.RecordBatch()
				if !sameColumns(rec.Schema(), t.schema) {
					return r.fail(fmt.Errorf("%s: page %d has other columns than the first page (%s vs %s); declare `fields`", t.r.cl.label, t.npages, rec.Schema(), t.schema))
				}
				r.dn += int(rec.NumRows())
				if t.mark != nil {
					t.mark.observeBatch(rec)
				}
				rec.Retain()
				r.cur = rec
				return true
			}
			if err := r.duck.Err(); err != nil {
				return r.fail(t.stageErr(r.dp, err))
			}
			r.closeDuck()
			t.got += int64(r.dn)
			if err := t.advance(r.dp, r.dn); err != nil {
				return r.fail(err)
			}
			continue
		}
		p := t.first
		t.first = nil
		if p == nil {
			var err error
			if p, err = t.next(r.ctx); err != nil {
				return r.fail(err)
			}
		}
		if p == nil {
			r.end = true
			if t.mark != nil {
				if err := t.r.saveWatermark(t.mark); err != nil {
					return r.fail(err)
				}
			}
			return false
		}
		if p.kind == "csv" || p.kind == "parquet" {
			rd, err := t.duckPage(r.ctx, p)
			if err != nil {
				return r.fail(err)
			}
			r.duck, r.dp, r.dn = rd, p, 0
			continue
		}
		rec, n, err := t.decode(p)
		if err != nil {
			return r.fail(err)
		}
		t.got += int64(n)
		if err := t.advance(p, n); err != nil {
			if rec != nil {
				rec.Release()
			}
			return r.fail(err)
		}
		if rec != nil {
			r.cur = rec
			return true
		}
	}
	return false
}

// sameColumns compares names and types (not metadata such as the JSON extension).
func sameColumns(a, b *arrow.Schema) bool {
	if a.NumFields() != b.NumFields() {
		return false
	}
	for i := range a.Fields() {
		fa, fb := a.Field(i), b.Field(i)
		if fa.Name != fb.Name || !arrow.TypeEqual(fa.Type, fb.Type) {
			return false
		}
	}
	return true
}

// decode turns a JSON page into a batch (nil when it has no records).
func (t *tapRun) decode(p *page) (arrow.RecordBatch, int, error) {
	markCol := -1
	if t.mark != nil {
		if idx := t.schema.FieldIndices(t.mark.cfg.Field); len(idx) > 0 {
			markCol = idx[0]
		}
	}
	if err := t.eachRecord(p, t.rb.scanRecord, t.rb.addRecord); err != nil {
		t.rb.release()
		t.rb = newRecordBuilder(t.schema, t.rb.onExtra)
		return nil, 0, t.stageErr(p, err)
	}
	n := t.rb.rows()
	if n == 0 {
		return nil, 0, nil
	}
	rec := t.rb.batch()
	if markCol >= 0 {
		t.mark.observe(rec.Column(markCol))
	}
	return rec, n, nil
}

// next sends the next request (polling first when the handler polls); nil when done.
func (t *tapRun) next(ctx context.Context) (*page, error) {
	if t.done || (t.h.MaxPages > 0 && t.npages >= t.h.MaxPages) {
		return nil, nil
	}
	if t.npages > 0 && t.h.Throttle > 0 {
		if err := sleepCtx(ctx, t.h.Throttle); err != nil {
			return nil, err
		}
	}
	c, err := t.buildCall()
	if err != nil {
		return nil, err
	}
	t.npages++
	switch t.h.Kind {
	case "urlpolling", "statepolling":
		t.done = true
		return t.poll(ctx, c)
	case "basic":
		t.done = true
	}
	return t.fetch(ctx, c)
}

// advance decides from a page whether there is another one, and how to ask for it.
func (t *tapRun) advance(p *page, n int) error {
	if t.done {
		return nil
	}
	if n == 0 {
		t.done = true // an empty page ends every kind of paging
		return nil
	}
	if t.h.TotalRecords != "" {
		v, err := p.search(t.h.TotalRecords)
		if err != nil {
			return t.stageErr(p, fmt.Errorf("total_records: %w", err))
		}
		if total, ok := number(v); ok && float64(t.got) >= total {
			t.done = true
			return nil
		}
	}
	switch t.h.Kind {
	case "pagination":
		if t.h.PageSize > 0 && n < t.h.PageSize && t.h.TotalRecords == "" {
			t.done = true
			return nil
		}
		cur, _ := t.param(t.h.PageParam)
		v, ok := number(cur)
		if !ok {
			return fmt.Errorf("%s: page parameter %q is %v, not a number", t.r.cl.label, t.h.PageParam, cur)
		}
		t.setParam(t.h.PageParam, int64(v)+int64(t.h.Increment))
	case "offset":
		if t.h.PageSize > 0 && n < t.h.PageSize && t.h.TotalRecords == "" {
			t.done = true
			return nil
		}
		cur, _ := t.param(t.h.OffsetParam)
		v, _ := number(cur)
		t.setParam(t.h.OffsetParam, int64(v)+int64(n))
	case "cursor":
		var cur string
		if t.h.CursorHeader != "" {
			cur = p.resp.Header.Get(t.h.CursorHeader)
		} else {
			v, err := p.search(t.h.CursorLocator)
			if err != nil {
				return t.stageErr(p, fmt.Errorf("cursor_locator: %w", err))
			}
			if v != nil {
				cur = paramText(v)
			}
		}
		if cur == "" || cur == "false" {
			t.done = true
			return nil
		}
		t.setParam(t.h.CursorParam, cur)
	case "nextlink":
		var next string
		if t.h.NextLocator != "" {
			v, err := p.search(t.h.NextLocator)
			if err != nil {
				return t.stageErr(p, fmt.Errorf("next_locator: %w", err))
			}
			if v != nil {
				next = paramText(v)
			}
		} else {
			next = linkNext(p.resp.Header.Values("Link"))
		}
		if next == "" {
			t.done = true
			return nil
		}
		base, _ := url.Parse(p.url)
		ref, err := url.Parse(next)
		if err != nil {
			return fmt.Errorf("%s: next link %q: %w", t.r.cl.label, t.r.cl.redact.url(next), err)
		}
		t.url = base.ResolveReference(ref).String()
		t.query = map[string]any{} // the link carries its own parameters
	}
	return nil
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case float64:
		return x, true
	case int:
		return float64(x), true
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return f, err == nil
	}
	return 0, false
}

// linkNext finds rel="next" in Link headers (RFC 8288).
func linkNext(headers []string) string {
	for _, h := range headers {
		for _, part := range splitLinks(h) {
			segs := strings.Split(part, ";")
			target := strings.TrimSpace(segs[0])
			if !strings.HasPrefix(target, "<") || !strings.HasSuffix(target, ">") {
				continue
			}
			for _, p := range segs[1:] {
				k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
				if strings.EqualFold(strings.TrimSpace(k), "rel") {
					for _, rel := range strings.Fields(strings.Trim(strings.TrimSpace(v), `"`)) {
						if strings.EqualFold(rel, "next") {
							return target[1 : len(target)-1]
						}
					}
				}
			}
		}
	}
	return ""
}

// splitLinks splits a Link header at the commas between links (not those inside <…>).
func splitLinks(h string) []string {
	var out []string
	depth, start := 0, 0
	for i, c := range h {
		switch c {
		case '<':
			depth++
		case '>':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, h[start:i])
				start = i + 1
			}
		}
	}
	return append(out, h[start:])
}

// poll repeats the request until ready_status is truthy (waits grow 1.5× per round, bounded by
// max_wait), then returns the ready page (StatePolling) or downloads its URL (URLPolling).
func (t *tapRun) poll(ctx context.Context, c call) (*page, error) {
	start := time.Now()
	wait := t.h.PollInterval
	for round := 1; ; round++ {
		p, err := t.fetch(ctx, c)
		if err != nil {
			return nil, err
		}
		ready := true
		if t.h.ReadyStatus != "" {
			v, err := p.search(t.h.ReadyStatus)
			if err != nil {
				return nil, t.stageErr(p, fmt.Errorf("ready_status: %w", err))
			}
			ready = truthy(v)
		} else if t.h.Kind == "statepolling" {
			return nil, fmt.Errorf("%s: a StatePolling handler needs ready_status (a JMESPath that is true when the job is done)", t.r.cl.label)
		}
		if ready {
			if t.h.Kind == "statepolling" {
				return p, nil
			}
			v, err := p.search(t.h.URLLocator)
			if err != nil {
				return nil, t.stageErr(p, fmt.Errorf("url_locator: %w", err))
			}
			link := ""
			if v != nil {
				link = paramText(v)
			}
			if link == "" {
				return nil, nil // nothing to download: no records
			}
			base, _ := url.Parse(c.url)
			ref, err := url.Parse(link)
			if err != nil {
				return nil, fmt.Errorf("%s: download URL: %w", t.r.cl.label, err)
			}
			dl := call{method: "GET", url: base.ResolveReference(ref).String(), headers: http.Header{}}
			return t.fetch(ctx, dl)
		}
		if time.Since(start)+wait > t.h.MaxWait {
			return nil, fmt.Errorf("%s: %s %s: the job was not ready after %d polls in %s (handler.max_wait %s)", t.r.cl.label, c.method, t.r.cl.redact.url(c.url), round, time.Since(start).Round(time.Millisecond), t.h.MaxWait)
		}
		t.r.Logger().Debug(fmt.Sprintf("job not ready, polling again in %s", wait))
		if err := sleepCtx(ctx, wait); err != nil {
			return nil, err
		}
		wait = min(wait*3/2, 30*time.Second)
	}
}

// duckPage reads a CSV or Parquet page with DuckDB's readers (cast to the declared fields when
// there are some). The page's file is removed when the reader is released: a long CSV paging
// keeps one page on disk at a time.
func (t *tapRun) duckPage(ctx context.Context, p *page) (array.RecordReader, error) {
	if t.tmp == "" {
		dir, err := os.MkdirTemp("", "ankaflow-rest-")
		if err != nil {
			return nil, err
		}
		t.tmp = dir
	}
	path := filepath.Join(t.tmp, fmt.Sprintf("page-%d.%s", t.npages, p.kind))
	if err := os.WriteFile(path, p.body, 0o600); err != nil {
		return nil, err
	}
	s, err := t.r.DuckDB(ctx)
	if err != nil {
		os.Remove(path)
		return nil, err
	}
	reader := "read_csv(" + engine.QuoteLiteral(path) + ")"
	if p.kind == "parquet" {
		reader = "read_parquet(" + engine.QuoteLiteral(path) + ")"
	}
	sel := "*"
	if fields := t.r.Fields(); len(fields) > 0 {
		cols := make([]string, len(fields))
		for i, f := range fields {
			cols[i] = engine.QuoteIdent(f.Name) + "::" + f.Type + " AS " + engine.QuoteIdent(f.Name)
		}
		sel = strings.Join(cols, ", ")
	}
	rd, err := s.QueryArrow(ctx, "SELECT "+sel+" FROM "+reader)
	if err != nil {
		os.Remove(path)
		return nil, t.stageErr(p, err)
	}
	return &removeOnRelease{RecordReader: rd, path: path}, nil
}

// removeOnRelease deletes a page file when its reader is released.
type removeOnRelease struct {
	array.RecordReader
	path string
}

func (r *removeOnRelease) Release() {
	r.RecordReader.Release()
	os.Remove(r.path)
}
