// Package rest is the built-in `kind: Rest` connection: HTTP APIs as taps and sinks.
//
// A tap sends the configured request (rendered per stage run, so a loop calls one endpoint per
// row), follows the pagination or polling handler, and streams each page's records into DuckDB
// as one Arrow batch: memory is bounded by a page. A sink sends the rows it is given as JSON,
// one request per row or per batch. Both retry connection errors, 429 and 5xx with bounded,
// jittered exponential backoff. See docs/rest.md.
package rest

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/ankaflow/ankaflow/connectors"
	"github.com/ankaflow/ankaflow/engine"
)

// Params are the Rest connection's blocks. They are written at the connection level in YAML
// (`client:`, `request:` next to `kind: Rest`), as AnkaFlow does.
type Params struct {
	Client  map[string]any `param:"client" doc:"base_url, headers, timeout, connect_timeout, tls {ca_file, insecure_skip_verify}, auth {method, values, …}, retries {max_attempts, initial_backoff, max_backoff, max_elapsed, non_idempotent}"`
	Request map[string]any `param:"request,required" doc:"endpoint, method, content_type, query, headers, body, errorhandler, response {content_type, locator, handler}, incremental, batch_size, batch_key"`
}

func init() {
	connectors.Register("Rest", connectors.Spec{
		Summary: "an HTTP API: tap pages through its records, sink sends rows as JSON",
		Ops:     connectors.OpTap | connectors.OpSink | connectors.OpShowSchema,
		Keys:    []string{"client", "request"},
		Check:   check,
	}, func(p Params) connectors.Connection { return &Rest{p: p} })
}

// Rest is a connection to an HTTP API.
type Rest struct {
	connectors.Base
	p   Params
	req requestConfig
	cl  *client
}

// Init decodes and checks the blocks and builds the HTTP client. Nothing is sent yet (plan
// builds connections too, and has no side effects).
func (r *Rest) Init(ctx context.Context) error {
	var errs []string
	cfg := decodeClient(r.p.Client, &errs, nil)
	r.req = decodeRequest(r.p.Request, &cfg.Retry, &errs, nil)
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	log := r.Logger()
	red := &redactor{}
	hc, err := newHTTPClient(cfg, log, red)
	if err != nil {
		return err
	}
	auth, err := newAuth(cfg.Auth, hc, red)
	if err != nil {
		return err
	}
	r.cl = &client{http: hc, cfg: cfg, auth: auth, redact: red, log: log, label: "rest '" + r.Name() + "'", sleepFn: sleepCtx}
	if _, err := resolveURL(cfg.BaseURL, r.req.Endpoint); err != nil {
		return err
	}
	return nil
}

// check reports unknown keys and bad values of the client and request blocks at validate time.
func check(raw map[string]any, deferred func(any) bool) []connectors.ParamError {
	// Only text leaves can be templates here; a block holding one is still checked key by key.
	leaf := func(v any) bool {
		s, ok := v.(string)
		return ok && deferred(s)
	}
	var out []connectors.ParamError
	for _, b := range []struct {
		key    string
		decode func(errs *[]string)
	}{
		{"client", func(errs *[]string) { decodeClient(raw["client"], errs, leaf) }},
		{"request", func(errs *[]string) { decodeRequest(raw["request"], &retryConfig{}, errs, leaf) }},
	} {
		var errs []string
		b.decode(&errs)
		for _, e := range errs {
			out = append(out, connectors.ParamError{Key: b.key, Msg: e})
		}
	}
	return out
}

// Close releases idle connections.
func (r *Rest) Close() error {
	if r.cl != nil {
		r.cl.http.CloseIdleConnections()
	}
	return r.Base.Close()
}

// ShowSchema returns the declared fields without sending anything; without fields it reads the
// first page and reports the inferred columns.
func (r *Rest) ShowSchema(ctx context.Context) ([]connectors.Field, error) {
	if f := r.Fields(); len(f) > 0 {
		return f, nil
	}
	rd, err := r.Tap(ctx, "")
	if err != nil {
		return nil, err
	}
	defer rd.Release()
	var out []connectors.Field
	for _, f := range rd.Schema().Fields() {
		out = append(out, connectors.Field{Name: f.Name, Type: duckType(f.Type)})
	}
	return out, nil
}

func duckType(t arrow.DataType) string {
	switch t.ID() {
	case arrow.INT64:
		return "BIGINT"
	case arrow.FLOAT64:
		return "DOUBLE"
	case arrow.BOOL:
		return "BOOLEAN"
	case arrow.STRING:
		return "VARCHAR"
	}
	return t.String()
}

// declaredSchema asks DuckDB for the Arrow form of the declared field types, so that
// `fields` accepts every DuckDB type name (STRUCT(a INT), DECIMAL(10,2), JSON, …).
func (r *Rest) declaredSchema(ctx context.Context) (*arrow.Schema, error) {
	fields := r.Fields()
	if len(fields) == 0 {
		return nil, nil
	}
	s, err := r.DuckDB(ctx)
	if err != nil {
		return nil, err
	}
	cols := make([]string, len(fields))
	for i, f := range fields {
		cols[i] = "NULL::" + f.Type + " AS " + engine.QuoteIdent(f.Name)
	}
	rd, err := s.QueryArrow(ctx, "SELECT "+strings.Join(cols, ", ")+" LIMIT 0")
	if err != nil {
		return nil, fmt.Errorf("fields: %w", err)
	}
	defer rd.Release()
	for rd.Next() {
	}
	// DuckDB exports JSON as plain text; the canonical Arrow extension name makes the stage
	// table's column JSON again.
	out := rd.Schema().Fields()
	for i, f := range fields {
		if strings.EqualFold(strings.TrimSpace(f.Type), "JSON") {
			out[i].Metadata = jsonExtension
		}
	}
	return arrow.NewSchema(out, nil), nil
}

// TapSchema implements connectors.TapSchemaer: with `fields` declared the columns are known
// without a request, so planning a query with tap('X') does not even prepare a tap run;
// without them only the first page tells (nil: the bridge opens the tap, which sends nothing
// until the query runs).
func (r *Rest) TapSchema(ctx context.Context, query string) (*arrow.Schema, error) {
	return r.declaredSchema(ctx)
}

// Tap pages through the API. The stage's query is not used (AnkaFlow ignores it too).
func (r *Rest) Tap(ctx context.Context, query string) (array.RecordReader, error) {
	if strings.TrimSpace(query) != "" {
		r.Logger().Warn("a Rest tap does not use the stage's query; filter in a transform stage")
	}
	schema, err := r.declaredSchema(ctx)
	if err != nil {
		return nil, err
	}
	t, err := r.newTapRun(ctx)
	if err != nil {
		return nil, err
	}
	if schema == nil {
		// No declared fields: the first page decides the columns.
		if schema, err = t.firstSchema(ctx); err != nil {
			t.close()
			return nil, err
		}
	}
	t.schema = schema
	return newTapReader(ctx, t), nil
}
