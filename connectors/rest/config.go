package rest

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ankaflow/ankaflow/connectors"
)

// clientConfig is the `client:` block.
type clientConfig struct {
	BaseURL        string
	Headers        map[string]string
	Timeout        time.Duration // whole request, body included; 0 = default
	ConnectTimeout time.Duration
	CAFile         string
	SkipVerify     bool
	Auth           *authConfig
	Retry          retryConfig
}

// authConfig is `client.auth:`.
type authConfig struct {
	Method      string
	Values      map[string]string
	OAuthHeader string
	// OAuth2
	TokenURL     string
	ClientID     string
	ClientSecret string
	Scopes       []string
	RefreshToken string
	AccessToken  string
	ExtraParams  map[string]string
}

// retryConfig is `client.retries:` (request.max_retries / initial_backoff as AnkaFlow spells
// them are accepted too).
type retryConfig struct {
	MaxAttempts   int
	Initial       time.Duration
	Max           time.Duration
	MaxElapsed    time.Duration
	NonIdempotent bool
}

// requestConfig is the `request:` block.
type requestConfig struct {
	Endpoint     string
	Method       string
	ContentType  string // "json" or "form"
	Query        map[string]any
	Headers      map[string]string
	Body         any
	HasBody      bool
	ErrCondition string
	ErrMessage   string
	Response     responseConfig
	Incremental  *incrementalConfig
	BatchSize    int
	BatchKey     string
}

type responseConfig struct {
	ContentType string // json, jsonl, csv, parquet, "" = from the header
	Locator     string
	Handler     handlerConfig
}

// handlerConfig is `request.response.handler:`: how many requests make the result.
type handlerConfig struct {
	Kind string // basic, pagination, offset, cursor, nextlink, urlpolling, statepolling

	PageParam     string
	PageSize      int
	ParamLocator  string // query or body
	Increment     int
	TotalRecords  string // JMESPath
	MaxPages      int
	Throttle      time.Duration
	OffsetParam   string
	LimitParam    string
	CursorParam   string
	CursorLocator string // JMESPath into the body
	CursorHeader  string
	NextLocator   string // JMESPath into the body; "" = Link header rel="next"

	ReadyStatus  string // JMESPath
	URLLocator   string // JMESPath of the download URL
	PollInterval time.Duration
	MaxWait      time.Duration
}

// incrementalConfig is `request.incremental:`: a watermark sent with the request and advanced
// to the largest value of `field` once every page was read.
type incrementalConfig struct {
	Field        string
	Param        string
	ParamLoc     string
	Initial      any
	Variable     string
	StateFile    string
	HasInitial   bool
	variableName string
}

// obj reads a mapping strictly: every key must be consumed by a getter, unknown keys are
// reported with the closest known one.
type obj struct {
	path     string
	deferred func(any) bool // values still templates (validate time): skipped
	m        map[string]any
	used     map[string]bool
	errs     *[]string
}

func newObj(path string, v any, errs *[]string, deferred func(any) bool) *obj {
	o := &obj{path: path, used: map[string]bool{}, errs: errs, deferred: deferred}
	if deferred != nil && deferred(v) {
		v = nil
	}
	switch x := connectors.Plain(v).(type) {
	case map[string]any:
		o.m = x
	case nil:
		o.m = map[string]any{}
	default:
		o.fail("", fmt.Sprintf("must be a mapping, got %s", describe(v)))
		o.m = map[string]any{}
	}
	return o
}

func (o *obj) fail(key, msg string) {
	p := o.path
	if key != "" {
		p += "." + key
	}
	*o.errs = append(*o.errs, p+": "+msg)
}

func (o *obj) get(key string) (any, bool) {
	o.used[key] = true
	v, ok := o.m[key]
	if v == nil || (o.deferred != nil && o.deferred(v)) {
		return nil, false
	}
	return v, ok
}

func (o *obj) str(key, def string) string {
	v, ok := o.get(key)
	if !ok {
		return def
	}
	s, ok := scalarText(v)
	if !ok {
		o.fail(key, fmt.Sprintf("expected text, got %s", describe(v)))
		return def
	}
	return s
}

func (o *obj) integer(key string, def int) int {
	v, ok := o.get(key)
	if !ok {
		return def
	}
	switch x := v.(type) {
	case int:
		return x
	case int64:
		return int(x)
	case float64:
		if x == math.Trunc(x) {
			return int(x)
		}
	case string:
		if n, err := strconv.Atoi(strings.TrimSpace(x)); err == nil {
			return n
		}
	}
	o.fail(key, fmt.Sprintf("expected an integer, got %s", describe(v)))
	return def
}

func (o *obj) boolean(key string, def bool) bool {
	v, ok := o.get(key)
	if !ok {
		return def
	}
	switch x := v.(type) {
	case bool:
		return x
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "true", "yes", "on", "1":
			return true
		case "false", "no", "off", "0":
			return false
		}
	}
	o.fail(key, fmt.Sprintf("expected true or false, got %s", describe(v)))
	return def
}

// seconds reads a duration given as a number of seconds or as Go text ("1m30s").
func (o *obj) seconds(key string, def time.Duration) time.Duration {
	v, ok := o.get(key)
	if !ok {
		return def
	}
	switch x := v.(type) {
	case int:
		return time.Duration(x) * time.Second
	case int64:
		return time.Duration(x) * time.Second
	case float64:
		return time.Duration(x * float64(time.Second))
	case string:
		if f, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil {
			return time.Duration(f * float64(time.Second))
		}
		if d, err := time.ParseDuration(strings.TrimSpace(x)); err == nil {
			return d
		}
	}
	o.fail(key, fmt.Sprintf("expected seconds (a number) or a duration such as 1m30s, got %s", describe(v)))
	return def
}

func (o *obj) strMap(key string) map[string]string {
	m := o.anyMap(key)
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, e := range m {
		s, ok := scalarText(e)
		if !ok {
			o.fail(key+"."+k, fmt.Sprintf("expected text, got %s", describe(e)))
			continue
		}
		out[k] = s
	}
	return out
}

func (o *obj) anyMap(key string) map[string]any {
	v, ok := o.get(key)
	if !ok {
		return nil
	}
	m, isMap := connectors.Plain(v).(map[string]any)
	if !isMap {
		o.fail(key, fmt.Sprintf("must be a mapping, got %s", describe(v)))
		return nil
	}
	return m
}

func (o *obj) strList(key string) []string {
	v, ok := o.get(key)
	if !ok {
		return nil
	}
	switch x := v.(type) {
	case string:
		return strings.Fields(x)
	case []any:
		var out []string
		for _, e := range x {
			s, _ := scalarText(e)
			out = append(out, s)
		}
		return out
	}
	o.fail(key, fmt.Sprintf("expected a list, got %s", describe(v)))
	return nil
}

func (o *obj) sub(key string) *obj {
	v, _ := o.get(key)
	return newObj(o.path+"."+key, v, o.errs, o.deferred)
}

// done reports the keys nobody asked for.
func (o *obj) done(known ...string) {
	var unknown []string
	for k := range o.m {
		if !o.used[k] {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		o.fail(k, fmt.Sprintf("unknown key %q%s; known keys: %s", k, connectors.DidYouMean(k, known), connectors.OneOf(known)))
	}
}

// scalarText turns a rendered scalar back into text (templates infer numbers and booleans).
func scalarText(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case int:
		return strconv.Itoa(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return "", false
}

func describe(v any) string {
	switch v.(type) {
	case string:
		return "text"
	case int, int64, float64:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "a list"
	case map[string]any, *connectors.Map:
		return "a mapping"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

var (
	clientKeys   = []string{"base_url", "headers", "timeout", "connect_timeout", "tls", "auth", "retries", "transport"}
	tlsKeys      = []string{"ca_file", "insecure_skip_verify"}
	authKeys     = []string{"method", "values", "oauth_header", "token_url", "client_id", "client_secret", "scopes", "refresh_token", "access_token", "extra_params", "provider"}
	retryKeys    = []string{"max_attempts", "initial_backoff", "max_backoff", "max_elapsed", "non_idempotent"}
	requestKeys  = []string{"endpoint", "method", "content_type", "query", "headers", "body", "errorhandler", "response", "incremental", "max_retries", "initial_backoff", "batch_size", "batch_key"}
	responseKeys = []string{"content_type", "locator", "handler"}
	handlerKeys  = []string{"kind", "page_param", "page_size", "param_locator", "increment", "total_records", "max_pages", "throttle",
		"offset_param", "limit_param", "cursor_param", "cursor_locator", "cursor_header", "next_locator",
		"ready_status", "url_locator", "locator", "poll_interval", "max_wait"}
	incrementalKeys = []string{"field", "param", "param_locator", "initial", "variable", "state_file"}
	errorKeys       = []string{"condition", "message", "error_status_codes"}
)

// decodeClient reads `client:`.
func decodeClient(v any, errs *[]string, deferred func(any) bool) clientConfig {
	o := newObj("client", v, errs, deferred)
	c := clientConfig{
		BaseURL:        o.str("base_url", ""),
		Headers:        o.strMap("headers"),
		Timeout:        o.seconds("timeout", 5*time.Minute),
		ConnectTimeout: o.seconds("connect_timeout", 30*time.Second),
	}
	o.get("transport") // AnkaFlow declares it and never uses it
	t := o.sub("tls")
	c.CAFile = t.str("ca_file", "")
	c.SkipVerify = t.boolean("insecure_skip_verify", false)
	t.done(tlsKeys...)
	if _, ok := o.m["auth"]; ok {
		a := o.sub("auth")
		c.Auth = &authConfig{
			Method:       strings.ToLower(a.str("method", "")),
			Values:       a.strMap("values"),
			OAuthHeader:  a.str("oauth_header", ""),
			TokenURL:     a.str("token_url", ""),
			ClientID:     a.str("client_id", ""),
			ClientSecret: a.str("client_secret", ""),
			Scopes:       a.strList("scopes"),
			RefreshToken: a.str("refresh_token", ""),
			AccessToken:  a.str("access_token", ""),
			ExtraParams:  a.strMap("extra_params"),
		}
		if _, ok := a.get("provider"); ok {
			a.fail("provider", "oauth_keyring providers are not supported: give token_url, client_id, client_secret (and refresh_token) in client.auth")
		}
		a.done(authKeys...)
	}
	r := o.sub("retries")
	c.Retry = retryConfig{
		MaxAttempts:   r.integer("max_attempts", 4),
		Initial:       r.seconds("initial_backoff", 500*time.Millisecond),
		Max:           r.seconds("max_backoff", 30*time.Second),
		MaxElapsed:    r.seconds("max_elapsed", 2*time.Minute),
		NonIdempotent: r.boolean("non_idempotent", false),
	}
	r.done(retryKeys...)
	o.done(clientKeys...)
	return c
}

// decodeRequest reads `request:`; retry settings AnkaFlow keeps there override the client's.
func decodeRequest(v any, retry *retryConfig, errs *[]string, deferred func(any) bool) requestConfig {
	o := newObj("request", v, errs, deferred)
	r := requestConfig{
		Endpoint:    o.str("endpoint", ""),
		Method:      strings.ToUpper(o.str("method", "GET")),
		ContentType: o.str("content_type", "application/json"),
		Query:       o.anyMap("query"),
		Headers:     o.strMap("headers"),
		BatchSize:   o.integer("batch_size", 1),
		BatchKey:    o.str("batch_key", ""),
	}
	r.Body, r.HasBody = o.get("body")
	if _, ok := o.m["max_retries"]; ok {
		retry.MaxAttempts = o.integer("max_retries", 0) + 1
	}
	retry.Initial = o.seconds("initial_backoff", retry.Initial)
	e := o.sub("errorhandler")
	r.ErrCondition = e.str("condition", "")
	r.ErrMessage = e.str("message", "")
	e.get("error_status_codes")
	e.done(errorKeys...)
	resp := o.sub("response")
	r.Response.ContentType = strings.ToLower(resp.str("content_type", ""))
	r.Response.Locator = resp.str("locator", "")
	h := resp.sub("handler")
	r.Response.Handler = handlerConfig{
		Kind:          strings.ToLower(h.str("kind", "basic")),
		PageParam:     h.str("page_param", "page"),
		PageSize:      h.integer("page_size", 0),
		ParamLocator:  strings.ToLower(h.str("param_locator", "query")),
		Increment:     h.integer("increment", 1),
		TotalRecords:  h.str("total_records", ""),
		MaxPages:      h.integer("max_pages", 0),
		Throttle:      h.seconds("throttle", 0),
		OffsetParam:   h.str("offset_param", "offset"),
		LimitParam:    h.str("limit_param", "limit"),
		CursorParam:   h.str("cursor_param", "cursor"),
		CursorLocator: h.str("cursor_locator", ""),
		CursorHeader:  h.str("cursor_header", ""),
		NextLocator:   h.str("next_locator", ""),
		ReadyStatus:   h.str("ready_status", ""),
		URLLocator:    h.str("url_locator", h.str("locator", "")),
		PollInterval:  h.seconds("poll_interval", time.Second),
		MaxWait:       h.seconds("max_wait", 10*time.Minute),
	}
	h.done(handlerKeys...)
	resp.done(responseKeys...)
	if _, ok := o.m["incremental"]; ok {
		in := o.sub("incremental")
		inc := &incrementalConfig{
			Field:     in.str("field", ""),
			Param:     in.str("param", ""),
			ParamLoc:  strings.ToLower(in.str("param_locator", "query")),
			Variable:  in.str("variable", ""),
			StateFile: in.str("state_file", ""),
		}
		inc.Initial, inc.HasInitial = in.get("initial")
		if inc.Field == "" || inc.Param == "" {
			in.fail("", "needs field (the record field whose largest value is the watermark) and param (the request parameter that carries it)")
		}
		in.done(incrementalKeys...)
		r.Incremental = inc
	}
	o.done(requestKeys...)
	switch r.Method {
	case "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD":
	default:
		o.fail("method", fmt.Sprintf("unknown HTTP method %q; one of get, post, put, patch, delete", r.Method))
	}
	switch strings.ToLower(r.ContentType) {
	case "json", "application/json":
		r.ContentType = "application/json"
	case "form", "application/x-www-form-urlencoded":
		r.ContentType = "application/x-www-form-urlencoded"
	default:
		o.fail("content_type", fmt.Sprintf("unknown request content type %q; one of application/json (json), application/x-www-form-urlencoded (form)", r.ContentType))
	}
	switch r.Response.ContentType {
	case "", "json", "jsonl", "csv", "parquet":
	case "application/json":
		r.Response.ContentType = "json"
	default:
		resp.fail("content_type", fmt.Sprintf("unknown response content type %q; one of json, jsonl, csv, parquet (or leave it out to follow the Content-Type header)", r.Response.ContentType))
	}
	switch r.Response.Handler.Kind {
	case "basic", "pagination", "offset", "cursor", "nextlink", "urlpolling", "statepolling":
	default:
		h.fail("kind", fmt.Sprintf("unknown handler kind %q; one of Basic, Pagination, Offset, Cursor, NextLink, URLPolling, StatePolling", r.Response.Handler.Kind))
	}
	if r.BatchSize < 1 {
		o.fail("batch_size", "must be at least 1")
	}
	return r
}
