// Package template renders the Jinja-style templates of pipeline YAML values with AnkaFlow's
// delimiters: expressions << expr >>, statements <% if/for/set %>, comments <# ... #>.
//
// Templates are parsed by gonja (github.com/nikolalohinski/gonja/v2), a Jinja-compatible
// lexer and parser with configurable delimiters, and evaluated by this package's own
// sandboxed evaluator over gonja's syntax tree: strict undefined, Python value semantics,
// no reflection on the caller's values, bounded time and output. See docs/templating.md.
package template

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	// Time zones for API.dt(..., tz=...) and .to() work on machines without tzdata.
	_ "time/tzdata"

	"github.com/ankaflow/ankaflow/engine/value"
)

// Scope is what a template can see. Context is read-only; Variables is the live pipeline
// variable map (API.setvariable and the runner write into it, so writes persist).
type Scope struct {
	Context   map[string]any
	Variables map[string]any
}

// Where locates a template for error messages: "stage 'x' field query (p.yaml:12:9): ..."
type Where struct {
	File  string
	Line  int
	Col   int
	Stage string
	Field string // e.g. "query", "skip_if", "connection.locator", "connection.params.host"
}

// String formats the location: stage 'x' field query (p.yaml:12:9).
func (w Where) String() string {
	var parts []string
	if w.Stage != "" {
		parts = append(parts, fmt.Sprintf("stage '%s'", w.Stage))
	}
	if w.Field != "" {
		parts = append(parts, "field "+w.Field)
	}
	loc := ""
	switch {
	case w.File != "" && w.Line > 0 && w.Col > 0:
		loc = fmt.Sprintf("%s:%d:%d", w.File, w.Line, w.Col)
	case w.File != "" && w.Line > 0:
		loc = fmt.Sprintf("%s:%d", w.File, w.Line)
	case w.File != "":
		loc = w.File
	case w.Line > 0:
		loc = fmt.Sprintf("line %d", w.Line)
		if w.Col > 0 {
			loc += fmt.Sprintf(", col %d", w.Col)
		}
	}
	s := strings.Join(parts, " ")
	if loc != "" {
		if s != "" {
			s += " "
		}
		s += "(" + loc + ")"
	}
	return s
}

func (w Where) child(suffix string) Where {
	if w.Field == "" {
		suffix = strings.TrimPrefix(suffix, ".")
	}
	w.Field += suffix
	return w
}

// Options configure an Engine. Zero values mean the defaults.
type Options struct {
	Timeout   time.Duration    // max render time per template (default 2s)
	MaxOutput int              // max rendered bytes (default 16 MiB)
	Now       func() time.Time // clock for API.dt() with no args (default time.Now); tests inject it
	// Warn receives warnings such as the deprecated JSON> prefix. When nil, warnings are
	// collected and returned by Engine.Warnings.
	Warn func(string)
}

const (
	defaultTimeout   = 2 * time.Second
	defaultMaxOutput = 16 << 20
	// maxTemplate is the largest template source accepted.
	maxTemplate = 1 << 20
	// maxItems bounds any list a template builds (list filter, repetition, split...).
	maxItems = 1 << 20
	// maxNesting bounds bracket nesting in expressions (the parser is recursive).
	maxNesting = 64
	// maxDepth bounds evaluator recursion.
	maxDepth = 256
	// cacheSize is the number of parsed templates an Engine keeps.
	cacheSize = 1024
)

// Engine renders templates. It is safe for concurrent use.
type Engine struct {
	opts Options

	mu       sync.Mutex
	cache    map[string]*compiled
	warnings []string
}

// New returns an Engine.
func New(opts Options) *Engine {
	if opts.Timeout <= 0 {
		opts.Timeout = defaultTimeout
	}
	if opts.MaxOutput <= 0 {
		opts.MaxOutput = defaultMaxOutput
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Engine{opts: opts, cache: map[string]*compiled{}}
}

// Warnings returns the warnings collected since the last call (only when Options.Warn is nil).
func (e *Engine) Warnings() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	w := e.warnings
	e.warnings = nil
	return w
}

func (e *Engine) warn(msg string) {
	if e.opts.Warn != nil {
		e.opts.Warn(msg)
		return
	}
	e.mu.Lock()
	e.warnings = append(e.warnings, msg)
	e.mu.Unlock()
}

// HasTemplate reports whether s contains any template delimiter (<<, <%, <#) or starts with
// a @json / JSON> prefix.
func HasTemplate(s string) bool {
	return strings.Contains(s, "<<") || strings.Contains(s, "<%") || strings.Contains(s, "<#") ||
		strings.HasPrefix(s, jsonPrefix) || strings.HasPrefix(s, oldJSONPrefix)
}

const (
	jsonPrefix    = "@json"
	oldJSONPrefix = "JSON>"
)

// RenderText renders s and returns the text with leading/trailing whitespace stripped.
// No type inference. Strings without template syntax are returned unchanged (not even
// stripped).
func (e *Engine) RenderText(s string, scope *Scope, where Where) (string, error) {
	if !HasTemplate(s) {
		return s, nil
	}
	out, err := e.render(s, scope, where)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(out), nil
}

// RenderValue renders a free-form value (connection params, nested maps/lists): every string
// leaf that contains template syntax is rendered and then type-inferred (InferType) unless it
// is a @json/JSON> block, which is parsed as JSON. Strings WITHOUT template syntax are left
// exactly as they are. Map keys are never rendered. Returns a new value; the input is not
// mutated. Where.Field is extended with the path of each leaf (".host", "[0]") in errors.
func (e *Engine) RenderValue(v any, scope *Scope, where Where) (any, error) {
	return e.renderValue(v, scope, where, 0)
}

func (e *Engine) renderValue(v any, scope *Scope, where Where, depth int) (any, error) {
	if depth > 200 {
		return nil, &Error{Where: where, Kind: ErrRender, Msg: "value nests too deeply"}
	}
	switch x := v.(type) {
	case string:
		return e.renderLeaf(x, scope, where)
	case *value.Map:
		out := &value.Map{Keys: make([]string, 0, len(x.Keys)), Values: make(map[string]any, len(x.Keys))}
		for _, k := range x.Keys {
			r, err := e.renderValue(x.Values[k], scope, where.child("."+k), depth+1)
			if err != nil {
				return nil, err
			}
			out.Set(k, r)
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for _, k := range sortedKeys(x) {
			r, err := e.renderValue(x[k], scope, where.child("."+k), depth+1)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	case map[any]any:
		keys := make([]any, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
		out := make(map[any]any, len(x))
		for _, k := range keys {
			r, err := e.renderValue(x[k], scope, where.child("."+fmt.Sprint(k)), depth+1)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, item := range x {
			r, err := e.renderValue(item, scope, where.child("["+strconv.Itoa(i)+"]"), depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	case []string:
		out := make([]any, len(x))
		for i, item := range x {
			r, err := e.renderLeaf(item, scope, where.child("["+strconv.Itoa(i)+"]"))
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	}
	return v, nil
}

func (e *Engine) renderLeaf(s string, scope *Scope, where Where) (any, error) {
	switch {
	case strings.HasPrefix(s, jsonPrefix):
		return e.renderJSON(s[len(jsonPrefix):], scope, where)
	case strings.HasPrefix(s, oldJSONPrefix):
		msg := "Using deprecated JSON> prefix. Please replace with '@json'."
		if w := where.String(); w != "" {
			msg = w + ": " + msg
		}
		e.warn(msg)
		return e.renderJSON(s[len(oldJSONPrefix):], scope, where)
	case HasTemplate(s):
		out, err := e.render(s, scope, where)
		if err != nil {
			return nil, err
		}
		return InferType(strings.TrimSpace(out)), nil
	}
	return s, nil
}

// renderJSON renders the body of a @json block and parses the result as JSON. Whitespace is
// kept as rendered (the original collapsed it, also inside JSON strings).
func (e *Engine) renderJSON(body string, scope *Scope, where Where) (any, error) {
	text := body
	if HasTemplate(body) {
		out, err := e.render(body, scope, where)
		if err != nil {
			return nil, err
		}
		text = out
	}
	text = strings.TrimSpace(text)
	v, err := decodeJSON(text)
	if err != nil {
		msg := "invalid JSON in @json value: " + err.Error()
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line, col := lineCol(text, int(se.Offset)-1) // the offending byte
			msg = fmt.Sprintf("invalid JSON in @json value (rendered text line %d, col %d): %s", line, col, se.Error())
		}
		return nil, &Error{Where: where, Kind: ErrJSON, Msg: msg}
	}
	return v, nil
}

// decodeJSON parses one JSON document into the value model: objects keep their key order
// (a CSV `columns` mapping is column order), numbers their exact digits.
func decodeJSON(text string) (any, error) {
	return value.DecodeJSON([]byte(text))
}

func lineCol(text string, offset int) (int, int) {
	if offset > len(text) {
		offset = len(text)
	}
	line, col := 1, 1
	for _, r := range text[:offset] {
		if r == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}

// Truthy implements skip_if coercion: false iff the lower-cased string form (surrounding
// whitespace ignored) is one of false, 0, 0.0, none, "", [], {}, (); nil is false; bool as is;
// everything else true ("no" and "off" are true, as in AnkaFlow).
func Truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	}
	s, err := toStr(norm(v, false))
	if err != nil {
		return false
	}
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "false", "0", "0.0", "none", "", "[]", "{}", "()":
		return false
	}
	return true
}

// InferType applies AnkaFlow's type inference to a rendered string (surrounding whitespace
// ignored): true/false (any case) → bool; null/none (any case) → nil; a decimal integer
// (optional sign, digits with single _ between them, no leading zero: "007" stays a string)
// that fits int64 → int64; a decimal number with a fraction and/or exponent (same digit rules;
// "nan", "inf", hex and leading-zero forms stay strings) → float64; anything else the string
// itself, unchanged.
func InferType(s string) any {
	t := strings.TrimSpace(s)
	switch strings.ToLower(t) {
	case "true":
		return true
	case "false":
		return false
	case "null", "none":
		return nil
	}
	if isIntLiteral(t) {
		if i, err := strconv.ParseInt(strings.ReplaceAll(t, "_", ""), 10, 64); err == nil {
			return i
		}
		return s
	}
	if isFloatLiteral(t) {
		clean := strings.ReplaceAll(t, "_", "")
		f, err := strconv.ParseFloat(clean, 64)
		if err == nil && !math.IsInf(f, 0) {
			// A number written with more digits than a float64 keeps (a DECIMAL pasted
			// into a param) stays exact.
			if value.NeedsDecimal(clean) {
				return value.Decimal(strings.TrimPrefix(clean, "+"))
			}
			return f
		}
	}
	return s
}

// digitRun checks a run of decimal digits with optional single underscores between digits.
func digitRun(s string) bool {
	if s == "" || s[0] == '_' || s[len(s)-1] == '_' {
		return false
	}
	prevUnderscore := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			prevUnderscore = false
		case c == '_':
			if prevUnderscore {
				return false
			}
			prevUnderscore = true
		default:
			return false
		}
	}
	return true
}

func noLeadingZero(digits string) bool {
	d := strings.ReplaceAll(digits, "_", "")
	return len(d) == 1 || d[0] != '0'
}

func isIntLiteral(t string) bool {
	if t != "" && (t[0] == '+' || t[0] == '-') {
		t = t[1:]
	}
	return digitRun(t) && noLeadingZero(t)
}

func isFloatLiteral(t string) bool {
	if t != "" && (t[0] == '+' || t[0] == '-') {
		t = t[1:]
	}
	mant, exp := t, ""
	if i := strings.IndexAny(t, "eE"); i >= 0 {
		mant, exp = t[:i], t[i+1:]
		if exp != "" && (exp[0] == '+' || exp[0] == '-') {
			exp = exp[1:]
		}
		if !digitRun(exp) {
			return false
		}
	}
	intPart, frac, hasDot := strings.Cut(mant, ".")
	if !hasDot && exp == "" {
		return false // plain integers are handled (or rejected) by isIntLiteral
	}
	if intPart == "" && frac == "" {
		return false
	}
	if intPart != "" && (!digitRun(intPart) || !noLeadingZero(intPart)) {
		return false
	}
	if frac != "" && !digitRun(frac) {
		return false
	}
	return true
}

// ErrorKind classifies render errors.
type ErrorKind int

const (
	ErrSyntax  ErrorKind = iota + 1 // the template does not parse
	ErrRender                       // evaluation failed (undefined name, type error, ...)
	ErrUser                         // API.error raised the template's own message
	ErrTimeout                      // Options.Timeout exceeded
	ErrSize                         // Options.MaxOutput or another size bound exceeded
	ErrJSON                         // a @json value is not valid JSON after rendering
)

// Error is every error the engine returns.
type Error struct {
	Where Where
	Line  int // line inside the template (1-based), 0 when unknown
	Col   int // column inside the template (1-based), 0 when unknown
	Kind  ErrorKind
	Msg   string
}

func (e *Error) Error() string {
	var b strings.Builder
	if w := e.Where.String(); w != "" {
		b.WriteString(w)
		b.WriteString(": ")
	}
	if e.Kind != ErrUser && e.Line > 0 {
		fmt.Fprintf(&b, "template line %d", e.Line)
		if e.Col > 0 {
			fmt.Fprintf(&b, ", col %d", e.Col)
		}
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}
