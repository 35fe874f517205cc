package rest

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

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
