package rest

import (
	"context"
	"fmt"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/apache/arrow-go/v18/arrow/array"
	jmespath "github.com/jmespath-community/go-jmespath"

	"github.com/ankaflow/ankaflow/engine"
)

// page is one response.
type page struct {
	resp   *http.Response
	body   []byte
	kind   string // json, jsonl, csv, parquet
	doc    any    // generic body, parsed on demand for JMESPath
	parsed bool
	url    string
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
	if s.peek() == 0 {
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
