package rest

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
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
