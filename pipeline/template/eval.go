package template

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nikolalohinski/gonja/v2/nodes"
	"github.com/nikolalohinski/gonja/v2/tokens"
)

// posError is an error at a position inside the template.
type posError struct {
	tok       *tokens.Token
	line, col int
	kind      ErrorKind
	msg       string
}

func (e *posError) Error() string { return e.msg }

func (e *posError) position() (int, int) {
	if e.tok != nil {
		return e.tok.Line, e.tok.Col
	}
	return e.line, e.col
}

// controlFlow signals break/continue out of a loop body.
type controlFlow struct{ kind string }

func (c *controlFlow) Error() string { return c.kind + " outside a loop" }

// renderer evaluates one template once.
type renderer struct {
	e        *Engine
	scope    *Scope
	vars     *varsView
	where    Where
	out      *strings.Builder
	deadline time.Time
	steps    int
	depth    int
	alloc    int64 // bytes of strings and list slots produced by operations
	allocMax int64
	frames   []map[string]any // local scopes, innermost last
	loops    int              // nesting of for loops being executed
}

func (e *Engine) render(src string, scope *Scope, where Where) (out string, err error) {
	c, err := e.compile(src)
	if err != nil {
		return "", e.wrapErr(err, where)
	}
	if scope == nil {
		scope = &Scope{}
	}
	r := &renderer{
		e:        e,
		scope:    scope,
		vars:     &varsView{base: scope.Variables, over: map[string]any{}},
		where:    where,
		out:      &strings.Builder{},
		deadline: time.Now().Add(e.opts.Timeout),
		allocMax: 16 * int64(e.opts.MaxOutput),
	}
	defer func() {
		if p := recover(); p != nil {
			out, err = "", &Error{Where: where, Kind: ErrRender, Msg: fmt.Sprintf("internal error while rendering: %v", p)}
		}
	}()
	if err := r.walk(c.root.Nodes); err != nil {
		var cf *controlFlow
		if errors.As(err, &cf) {
			err = &posError{msg: cf.Error()}
		}
		return "", e.wrapErr(err, where)
	}
	// The render succeeded: API.setvariable writes reach the pipeline variables.
	if len(r.vars.over) > 0 {
		if scope.Variables == nil {
			scope.Variables = map[string]any{}
		}
		for k, v := range r.vars.over {
			scope.Variables[k] = v
		}
	}
	return r.out.String(), nil
}

func (e *Engine) wrapErr(err error, where Where) error {
	var te *Error
	if errors.As(err, &te) {
		return te
	}
	var pe *posError
	if errors.As(err, &pe) {
		line, col := pe.position()
		kind := pe.kind
		if kind == 0 {
			kind = ErrRender
		}
		return &Error{Where: where, Line: line, Col: col, Kind: kind, Msg: pe.msg}
	}
	return &Error{Where: where, Kind: ErrRender, Msg: err.Error()}
}

// at attaches the node's position to an error that has none yet.
func at(n nodes.Node, err error) error {
	if err == nil {
		return nil
	}
	var pe *posError
	if errors.As(err, &pe) {
		if pe.tok == nil && pe.line == 0 && n != nil {
			pe.tok = n.Position()
		}
		return err
	}
	var te *Error
	var cf *controlFlow
	if errors.As(err, &te) || errors.As(err, &cf) {
		return err
	}
	var tok *tokens.Token
	if n != nil {
		tok = n.Position()
	}
	return &posError{tok: tok, msg: err.Error()}
}

// atTok attaches a token position to an error that has none yet.
func atTok(tok *tokens.Token, err error) error {
	if err == nil {
		return nil
	}
	var pe *posError
	if errors.As(err, &pe) {
		if pe.tok == nil && pe.line == 0 {
			pe.tok = tok
		}
		return err
	}
	return &posError{tok: tok, msg: err.Error()}
}

func errAt(tok *tokens.Token, format string, args ...any) error {
	return &posError{tok: tok, msg: fmt.Sprintf(format, args...)}
}

// tick checks the time bound; it is called for every evaluated node and loop iteration.
func (r *renderer) tick() error {
	r.steps++
	if r.steps&63 == 0 {
		return r.checkTime()
	}
	return nil
}

func (r *renderer) checkTime() error {
	if time.Now().After(r.deadline) {
		return &posError{kind: ErrTimeout, msg: fmt.Sprintf("rendering took longer than %s (Options.Timeout)", r.e.opts.Timeout)}
	}
	return nil
}

// grow accounts for n bytes about to be produced by one operation: no single string may be
// larger than MaxOutput and all operations together may not produce more than 16×MaxOutput.
func (r *renderer) grow(n int) error {
	if n > r.e.opts.MaxOutput {
		return &posError{kind: ErrSize, msg: fmt.Sprintf("value of %d bytes exceeds the %d-byte limit (Options.MaxOutput)", n, r.e.opts.MaxOutput)}
	}
	r.alloc += int64(n)
	if r.alloc > r.allocMax {
		return &posError{kind: ErrSize, msg: fmt.Sprintf("template built more than %d bytes of values", r.allocMax)}
	}
	if n > 1<<16 {
		return r.checkTime() // big values take time to build: check now
	}
	return r.tick()
}

// growItems accounts for a list of n items about to be built.
func (r *renderer) growItems(n int) error {
	if n > maxItems {
		return &posError{kind: ErrSize, msg: fmt.Sprintf("list of %d items exceeds the %d-item limit", n, maxItems)}
	}
	return r.grow(n) // one slot counts as one byte of the budget
}

// str is toStr with the output bound applied to containers' text.
func (r *renderer) str(v any) (string, error) {
	switch v.(type) {
	case string, undefined, *DateTime, *Date, nil, bool, int64, float64:
		return toStr(v)
	}
	s, ok := reprCap(v, r.e.opts.MaxOutput)
	if !ok {
		return "", &posError{kind: ErrSize, msg: fmt.Sprintf("the value's text exceeds %d bytes (Options.MaxOutput)", r.e.opts.MaxOutput)}
	}
	return s, nil
}

func (r *renderer) write(s string) error {
	if r.out.Len()+len(s) > r.e.opts.MaxOutput {
		return &posError{kind: ErrSize, msg: fmt.Sprintf("rendered output exceeds %d bytes (Options.MaxOutput)", r.e.opts.MaxOutput)}
	}
	r.out.WriteString(s)
	return nil
}

// ---- scopes ----

func (r *renderer) push(m map[string]any) { r.frames = append(r.frames, m) }
func (r *renderer) pop()                  { r.frames = r.frames[:len(r.frames)-1] }

func (r *renderer) setLocal(name string, v any) {
	if len(r.frames) == 0 {
		r.push(map[string]any{})
	}
	r.frames[len(r.frames)-1][name] = v
}

func (r *renderer) lookup(name string) (any, bool) {
	for i := len(r.frames) - 1; i >= 0; i-- {
		if v, ok := r.frames[i][name]; ok {
			return v, true
		}
	}
	switch name {
	case "context":
		return ctxMap(r.scope.Context), true
	case "variables":
		return r.vars, true
	case "API":
		return apiNS{}, true
	case "none", "None":
		return nil, true
	case "true", "True":
		return true, true
	case "false", "False":
		return false, true
	}
	return nil, false
}

// ---- statements ----

func (r *renderer) walk(list []nodes.Node) error {
	for _, n := range list {
		if err := r.node(n); err != nil {
			return err
		}
	}
	return nil
}

func (r *renderer) node(n nodes.Node) error {
	if err := r.tick(); err != nil {
		return at(n, err)
	}
	switch x := n.(type) {
	case nil:
		return nil
	case *nodes.Comment:
		return nil
	case *nodes.Data:
		return r.write(dataText(x))
	case *nodes.Output:
		v, err := r.output(x)
		if err != nil {
			return err
		}
		s, err := r.str(v)
		if err != nil {
			return at(x.Expression, err)
		}
		return at(x, r.write(s))
	case *nodes.ControlStructureBlock:
		st, ok := x.ControlStructure.(statement)
		if !ok {
			return errAt(x.Location, "unsupported statement '%s'", x.Name)
		}
		return st.exec(r)
	case *nodes.Wrapper:
		return r.walk(x.Nodes)
	}
	return errAt(n.Position(), "unsupported template element %T", n)
}

// dataText applies the whitespace control the parser computed for a text node.
func dataText(d *nodes.Data) string {
	s := d.Data.Val
	if d.RemoveFirstLineReturn {
		s = strings.TrimPrefix(strings.TrimPrefix(s, "\r\n"), "\n")
	}
	if d.Trim.Left {
		s = strings.TrimLeft(s, " \r\n\t")
	}
	if d.Trim.Right {
		s = strings.TrimRight(s, " \r\n\t")
	}
	if d.RemoveTrailingWhiteSpaceFromLastLine {
		i := strings.LastIndex(s, "\n")
		s = s[:i+1] + strings.TrimRight(s[i+1:], " \t\r\n")
	}
	return s
}

func (r *renderer) output(o *nodes.Output) (any, error) {
	if o.Condition != nil {
		c, err := r.eval(o.Condition)
		if err != nil {
			return nil, err
		}
		ok, err := truth(c)
		if err != nil {
			return nil, at(o.Condition, err)
		}
		if !ok {
			if o.Alternative == nil {
				return "", nil
			}
			return r.eval(o.Alternative)
		}
	}
	return r.eval(o.Expression)
}

// body renders a wrapper in a new local scope.
func (r *renderer) body(w *nodes.Wrapper, locals map[string]any) error {
	if w == nil {
		return nil
	}
	if locals == nil {
		locals = map[string]any{}
	}
	r.push(locals)
	defer r.pop()
	return r.walk(w.Nodes)
}

// capture renders a wrapper into a string.
func (r *renderer) capture(w *nodes.Wrapper) (string, error) {
	saved := r.out
	r.out = &strings.Builder{}
	err := r.body(w, nil)
	s := r.out.String()
	r.out = saved
	return s, err
}

func (s *ifStmt) exec(r *renderer) error {
	for i, c := range s.conds {
		v, err := r.eval(c)
		if err != nil {
			return err
		}
		ok, err := truth(v)
		if err != nil {
			return at(c, err)
		}
		if ok {
			return r.ifBody(s.bodies[i])
		}
	}
	if len(s.bodies) > len(s.conds) {
		return r.ifBody(s.bodies[len(s.conds)])
	}
	return nil
}

// ifBody runs an if branch in the enclosing scope (Jinja: assignments in an if block are
// visible after it).
func (r *renderer) ifBody(w *nodes.Wrapper) error {
	return r.walk(w.Nodes)
}

// loopInfo is `loop` inside a for loop.
type loopInfo struct {
	index0   int
	length   int
	items    []any
	depth    int
	lastSeen any
	hasLast  bool
}

func (s *forStmt) exec(r *renderer) error {
	iterV, err := r.eval(s.iter)
	if err != nil {
		return err
	}
	items, err := iterate(iterV)
	if err != nil {
		return at(s.iter, err)
	}
	if s.cond != nil {
		kept := items[:0:0]
		for i, it := range items {
			if i&15 == 15 {
				if err := r.checkTime(); err != nil {
					return at(s.iter, err)
				}
			}
			locals, err := s.bind(it)
			if err != nil {
				return at(s.iter, err)
			}
			r.push(locals)
			c, err := r.eval(s.cond)
			r.pop()
			if err != nil {
				return err
			}
			ok, err := truth(c)
			if err != nil {
				return at(s.cond, err)
			}
			if ok {
				kept = append(kept, it)
			}
		}
		items = kept
	}
	if len(items) == 0 {
		return r.body(s.elseBody, nil)
	}
	depth := 1
	loop := &loopInfo{length: len(items), items: items, depth: depth}
	r.loops++
	defer func() { r.loops-- }()
	locals := map[string]any{}
	for i, it := range items {
		// Every 16th iteration checks the clock even when the body evaluates nothing.
		if i&15 == 15 {
			if err := r.checkTime(); err != nil {
				return at(s.iter, err)
			}
		}
		loop.index0 = i
		clear(locals) // a fresh scope per iteration, without a new map
		if err := s.bindInto(locals, it); err != nil {
			return at(s.iter, err)
		}
		locals["loop"] = loop
		err = r.body(s.body, locals)
		if err != nil {
			var cf *controlFlow
			if errors.As(err, &cf) {
				if cf.kind == "break" {
					break
				}
				continue
			}
			return err
		}
	}
	return nil
}

// bind assigns one item to the loop variables (unpacking pairs for `for k, v in ...`).
func (s *forStmt) bind(item any) (map[string]any, error) {
	locals := map[string]any{}
	return locals, s.bindInto(locals, item)
}

func (s *forStmt) bindInto(locals map[string]any, item any) error {
	if len(s.targets) == 1 {
		locals[s.targets[0]] = item
		return nil
	}
	parts, err := unpack(item, len(s.targets))
	if err != nil {
		return err
	}
	for i, t := range s.targets {
		locals[t] = parts[i]
	}
	return nil
}

func unpack(v any, n int) ([]any, error) {
	var parts []any
	if l, ok := listItems(v); ok {
		parts = l
	} else if s, ok := v.(string); ok {
		for _, c := range s {
			parts = append(parts, string(c))
		}
	} else {
		return nil, fmt.Errorf("cannot unpack a '%s' into %d names", typeName(v), n)
	}
	if len(parts) != n {
		return nil, fmt.Errorf("cannot unpack %d values into %d names", len(parts), n)
	}
	return parts, nil
}

func (s *setStmt) exec(r *renderer) error {
	var v any
	if s.body != nil {
		text, err := r.capture(s.body)
		if err != nil {
			return err
		}
		v = text
	} else {
		expr := s.expr
		if s.cond != nil {
			c, err := r.eval(s.cond)
			if err != nil {
				return err
			}
			ok, err := truth(c)
			if err != nil {
				return at(s.cond, err)
			}
			if !ok {
				expr = s.alt
			}
		}
		if expr == nil {
			v = nil
		} else {
			var err error
			if v, err = r.eval(expr); err != nil {
				return err
			}
			if u, ok := v.(undefined); ok {
				return undefErr(u)
			}
		}
	}
	if len(s.targets) == 1 {
		r.setLocal(s.targets[0], v)
		return nil
	}
	parts, err := unpack(v, len(s.targets))
	if err != nil {
		return errAt(s.tok, "%s", err)
	}
	for i, t := range s.targets {
		r.setLocal(t, parts[i])
	}
	return nil
}

func (s *withStmt) exec(r *renderer) error {
	locals := map[string]any{}
	for i, name := range s.names {
		v, err := r.eval(s.exprs[i])
		if err != nil {
			return err
		}
		locals[name] = v
	}
	return r.body(s.body, locals)
}

func (s *filterStmt) exec(r *renderer) error {
	text, err := r.capture(s.body)
	if err != nil {
		return err
	}
	var v any = text
	for _, f := range s.filters {
		if v, err = r.applyFilter(f, v); err != nil {
			return err
		}
	}
	str, err := toStr(v)
	if err != nil {
		return errAt(s.tok, "%s", err)
	}
	return r.write(str)
}

func (s *rawStmt) exec(r *renderer) error { return r.write(s.text) }

func (s *loopControl) exec(r *renderer) error {
	if r.loops == 0 {
		return errAt(s.tok, "'%s' outside a loop", s.kind)
	}
	return &controlFlow{kind: s.kind}
}

// ---- expressions ----

func (r *renderer) eval(n nodes.Expression) (any, error) {
	if err := r.tick(); err != nil {
		return nil, at(n, err)
	}
	r.depth++
	defer func() { r.depth-- }()
	if r.depth > maxDepth {
		return nil, errAt(n.Position(), "expression nests too deeply")
	}
	v, err := r.evalNode(n)
	return v, at(n, err)
}

func (r *renderer) evalNode(n nodes.Expression) (any, error) {
	switch x := n.(type) {
	case *nodes.None:
		return nil, nil
	case *nodes.Bool:
		return x.Val, nil
	case *nodes.Integer:
		return int64(x.Val), nil
	case *nodes.Float:
		return x.Val, nil
	case *nodes.String:
		return x.Val, nil
	case *nodes.List:
		if err := r.growItems(len(x.Val)); err != nil {
			return nil, err
		}
		out := make([]any, 0, len(x.Val))
		for _, e := range x.Val {
			v, err := r.evalDefined(e)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case *nodes.Tuple:
		out := make(tuple, 0, len(x.Val))
		for _, e := range x.Val {
			v, err := r.evalDefined(e)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case *nodes.Dict:
		d := newDict()
		for _, p := range x.Pairs {
			k, err := r.evalDefined(p.Key)
			if err != nil {
				return nil, err
			}
			ks, ok := k.(string)
			if !ok {
				if ks, err = toStr(k); err != nil {
					return nil, err
				}
			}
			if isDunderKey(ks) {
				return nil, errAt(p.Key.Position(), "dict keys like '%s' (starting and ending with '__') are not allowed", ks)
			}
			v, err := r.evalDefined(p.Value)
			if err != nil {
				return nil, err
			}
			d.set(ks, v)
		}
		return d, nil
	case *nodes.Name:
		name := x.Name.Val
		if strings.HasPrefix(name, "__") {
			return nil, errAt(x.Name, "access to '%s' is not allowed (names starting with '__' are reserved)", name)
		}
		if v, ok := r.lookup(name); ok {
			return v, nil
		}
		return undefined{name: name, tok: x.Name}, nil
	case *nodes.GetAttribute:
		obj, err := r.eval(x.Node)
		if err != nil {
			return nil, err
		}
		if x.Attribute == "" {
			return r.getItem(obj, int64(x.Index), x)
		}
		return r.getAttr(obj, x.Attribute, x)
	case *nodes.GetItem:
		obj, err := r.eval(x.Node)
		if err != nil {
			return nil, err
		}
		if x.Arg == nil {
			return nil, errAt(x.Location, "missing index")
		}
		key, err := r.evalDefined(x.Arg.(nodes.Expression))
		if err != nil {
			return nil, err
		}
		return r.getItem(obj, key, x)
	case *nodes.GetSlice:
		return r.slice(x)
	case *nodes.Call:
		return r.call(x)
	case *nodes.Negation:
		v, err := r.eval(x.Term)
		if err != nil {
			return nil, err
		}
		ok, err := truth(v)
		if err != nil {
			return nil, err
		}
		return !ok, nil
	case *nodes.UnaryExpression:
		v, err := r.evalDefined(x.Term)
		if err != nil {
			return nil, err
		}
		return unary(v, x.Negative)
	case *nodes.BinaryExpression:
		return r.binary(x)
	case *nodes.FilteredExpression:
		return r.filtered(x)
	case *nodes.TestExpression:
		return r.test(x)
	case *nodes.Error:
		return nil, x.Error
	}
	return nil, fmt.Errorf("unsupported expression %T", n)
}

// evalDefined evaluates an expression whose value must not be undefined.
func (r *renderer) evalDefined(n nodes.Expression) (any, error) {
	v, err := r.eval(n)
	if err != nil {
		return nil, err
	}
	if u, ok := v.(undefined); ok {
		return nil, undefErr(u)
	}
	return v, nil
}

func isDunderKey(k string) bool {
	return len(k) >= 4 && strings.HasPrefix(k, "__") && strings.HasSuffix(k, "__")
}

// path renders an expression as a dotted path for messages (variables.a.b).
func path(n nodes.Node) string {
	switch x := n.(type) {
	case *nodes.Name:
		return x.Name.Val
	case *nodes.GetAttribute:
		if x.Attribute == "" {
			return fmt.Sprintf("%s.%d", path(x.Node), x.Index)
		}
		return path(x.Node) + "." + x.Attribute
	case *nodes.GetItem:
		if s, ok := x.Arg.(*nodes.String); ok {
			return fmt.Sprintf("%s[%s]", path(x.Node), pyQuote(s.Val))
		}
		if i, ok := x.Arg.(*nodes.Integer); ok {
			return fmt.Sprintf("%s[%d]", path(x.Node), i.Val)
		}
		return path(x.Node) + "[...]"
	case *nodes.Call:
		return path(x.Func) + "(...)"
	}
	return "value"
}

func (r *renderer) getAttr(obj any, name string, n *nodes.GetAttribute) (any, error) {
	if strings.HasPrefix(name, "__") {
		return nil, errAt(n.Location, "access to attribute '%s' is not allowed (names starting with '__' are reserved)", name)
	}
	if u, ok := obj.(undefined); ok {
		return nil, undefErr(u)
	}
	if isMap(obj) {
		if v, ok := mapGet(obj, name); ok {
			return v, nil
		}
		return undefined{name: path(n), tok: n.Location}, nil
	}
	v, ok, err := attribute(obj, name)
	if err != nil {
		return nil, err
	}
	if ok {
		return v, nil
	}
	if obj == nil {
		return nil, errAt(n.Location, "'%s' is None: it has no attribute '%s'", path(n.Node), name)
	}
	return nil, errAt(n.Location, "'%s' object has no attribute '%s' (in %s)", typeName(obj), name, path(n))
}

func (r *renderer) getItem(obj any, key any, n nodes.Node) (any, error) {
	if u, ok := obj.(undefined); ok {
		return nil, undefErr(u)
	}
	tok := n.Position()
	if ks, ok := key.(string); ok && isDunderKey(ks) {
		return nil, errAt(tok, "access to key '%s' is not allowed (keys starting and ending with '__' are reserved)", ks)
	}
	if isMap(obj) {
		ks, ok := key.(string)
		if !ok {
			return undefined{name: path(n), tok: tok}, nil
		}
		if v, ok := mapGet(obj, ks); ok {
			return v, nil
		}
		return undefined{name: path(n), tok: tok}, nil
	}
	idx, isInt := key.(int64)
	if b, ok := key.(bool); ok {
		isInt = true
		if b {
			idx = 1
		}
	}
	if l, ok := listItems(obj); ok {
		if !isInt {
			return nil, errAt(tok, "list indices must be integers, not %s", typeName(key))
		}
		if idx < 0 {
			idx += int64(len(l))
		}
		if idx < 0 || idx >= int64(len(l)) {
			return undefined{name: path(n), tok: tok}, nil
		}
		return l[idx], nil
	}
	if s, ok := obj.(string); ok {
		if !isInt {
			return nil, errAt(tok, "string indices must be integers, not %s", typeName(key))
		}
		rs := []rune(s)
		if idx < 0 {
			idx += int64(len(rs))
		}
		if idx < 0 || idx >= int64(len(rs)) {
			return undefined{name: path(n), tok: tok}, nil
		}
		return string(rs[idx]), nil
	}
	if obj == nil {
		return nil, errAt(tok, "'%s' is None: it cannot be indexed", path(n))
	}
	if ks, ok := key.(string); ok {
		// Jinja falls back to attributes: loop['index'], dt['year'].
		if v, ok, err := attribute(obj, ks); err != nil || ok {
			return v, err
		}
	}
	return nil, errAt(tok, "'%s' object is not subscriptable", typeName(obj))
}

func (r *renderer) slice(x *nodes.GetSlice) (any, error) {
	obj, err := r.evalDefined(x.Node.(nodes.Expression))
	if err != nil {
		return nil, err
	}
	bound := func(n nodes.Node) (int64, bool, error) {
		if n == nil {
			return 0, false, nil
		}
		v, err := r.evalDefined(n.(nodes.Expression))
		if err != nil {
			return 0, false, err
		}
		if v == nil {
			return 0, false, nil
		}
		i, ok := v.(int64)
		if !ok {
			return 0, false, fmt.Errorf("slice indices must be integers or None, not %s", typeName(v))
		}
		return i, true, nil
	}
	start, hasStart, err := bound(x.Start)
	if err != nil {
		return nil, err
	}
	stop, hasStop, err := bound(x.End)
	if err != nil {
		return nil, err
	}
	step, hasStep, err := bound(x.Step)
	if err != nil {
		return nil, err
	}
	if !hasStep {
		step = 1
	}
	if step == 0 {
		return nil, fmt.Errorf("slice step cannot be zero")
	}
	var items []any
	str, isStr := obj.(string)
	_, isTuple := obj.(tuple)
	if isStr {
		for _, c := range str {
			items = append(items, string(c))
		}
	} else if l, ok := listItems(obj); ok {
		items = l
	} else {
		return nil, fmt.Errorf("'%s' object is not subscriptable", typeName(obj))
	}
	idx := sliceIndices(int64(len(items)), start, hasStart, stop, hasStop, step)
	out := make([]any, 0, len(idx))
	for _, i := range idx {
		out = append(out, items[i])
	}
	if isStr {
		var b strings.Builder
		for _, c := range out {
			b.WriteString(c.(string))
		}
		return b.String(), nil
	}
	if isTuple {
		return tuple(out), nil
	}
	return out, nil
}

// sliceIndices implements Python's slice semantics.
func sliceIndices(n, start int64, hasStart bool, stop int64, hasStop bool, step int64) []int64 {
	norm := func(i int64, lo, hi int64) int64 {
		if i < 0 {
			i += n
		}
		if i < lo {
			return lo
		}
		if i > hi {
			return hi
		}
		return i
	}
	var out []int64
	if step > 0 {
		s, e := int64(0), n
		if hasStart {
			s = norm(start, 0, n)
		}
		if hasStop {
			e = norm(stop, 0, n)
		}
		for i := s; i < e; i += step {
			out = append(out, i)
		}
		return out
	}
	s, e := n-1, int64(-1)
	if hasStart {
		s = norm(start, -1, n-1)
	}
	if hasStop {
		e = norm(stop, -1, n-1)
	}
	for i := s; i > e; i += step {
		out = append(out, i)
	}
	return out
}

// call evaluates f(...) and obj.method(...).
func (r *renderer) call(x *nodes.Call) (any, error) {
	args := make([]any, 0, len(x.Args))
	for _, a := range x.Args {
		v, err := r.evalDefined(a)
		if err != nil {
			return nil, err
		}
		args = append(args, v)
	}
	kw := make(map[string]any, len(x.Kwargs))
	for k, a := range x.Kwargs {
		if strings.HasPrefix(k, "__") {
			return nil, errAt(a.Position(), "argument name '%s' is not allowed", k)
		}
		v, err := r.evalDefined(a)
		if err != nil {
			return nil, err
		}
		kw[k] = v
	}
	// obj.method(...): methods win over data keys, so variables.items() is the method even
	// when variables has a key "items" (variables.items without a call is the data).
	if ga, ok := x.Func.(*nodes.GetAttribute); ok && ga.Attribute != "" {
		if strings.HasPrefix(ga.Attribute, "__") {
			return nil, errAt(ga.Location, "access to attribute '%s' is not allowed (names starting with '__' are reserved)", ga.Attribute)
		}
		obj, err := r.eval(ga.Node)
		if err != nil {
			return nil, err
		}
		if u, ok := obj.(undefined); ok {
			return nil, undefErr(u)
		}
		if m := methodOf(obj, ga.Attribute); m != nil {
			return m.fn(r, args, kw)
		}
		if isMap(obj) {
			if _, ok := mapGet(obj, ga.Attribute); !ok {
				return nil, errAt(ga.Location, "'%s' is undefined and 'dict' has no method '%s'", path(ga), ga.Attribute)
			}
		}
	}
	fv, err := r.eval(x.Func.(nodes.Expression))
	if err != nil {
		return nil, err
	}
	switch f := fv.(type) {
	case *function:
		return f.fn(r, args, kw)
	case undefined:
		return nil, undefErr(f)
	}
	return nil, errAt(x.Location, "'%s' object is not callable (%s)", typeName(fv), path(x.Func))
}

func (r *renderer) filtered(x *nodes.FilteredExpression) (any, error) {
	v, err := r.eval(x.Expression)
	if err != nil {
		return nil, err
	}
	for _, f := range x.Filters {
		if v, err = r.applyFilter(f, v); err != nil {
			return nil, err
		}
	}
	return v, nil
}

func (r *renderer) applyFilter(f *nodes.FilterCall, v any) (any, error) {
	fn, ok := filters[f.Name]
	if !ok {
		return nil, errAt(f.Token, "no filter named '%s'", f.Name)
	}
	if u, isU := v.(undefined); isU && f.Name != "default" && f.Name != "d" {
		return nil, undefErr(u)
	}
	args := make([]any, 0, len(f.Args))
	for _, a := range f.Args {
		av, err := r.evalDefined(a)
		if err != nil {
			return nil, err
		}
		args = append(args, av)
	}
	kw := make(map[string]any, len(f.Kwargs))
	for k, a := range f.Kwargs {
		av, err := r.evalDefined(a)
		if err != nil {
			return nil, err
		}
		kw[k] = av
	}
	out, err := fn(r, v, args, kw)
	if err != nil {
		var pe *posError
		if errors.As(err, &pe) {
			return nil, atTok(f.Token, err)
		}
		return nil, errAt(f.Token, "filter %s: %s", f.Name, err)
	}
	return out, nil
}

func (r *renderer) test(x *nodes.TestExpression) (any, error) {
	v, err := r.eval(x.Expression)
	if err != nil {
		return nil, err
	}
	name := x.Test.Name
	fn, ok := jinjaTests[name]
	if !ok {
		return nil, errAt(x.Test.Token, "no test named '%s'", name)
	}
	if u, isU := v.(undefined); isU && name != "defined" && name != "undefined" && name != "none" {
		return nil, undefErr(u)
	}
	args := make([]any, 0, len(x.Test.Args))
	for _, a := range x.Test.Args {
		av, err := r.evalDefined(a)
		if err != nil {
			return nil, err
		}
		args = append(args, av)
	}
	res, err := fn(r, v, args)
	if err != nil {
		return nil, errAt(x.Test.Token, "test %s: %s", name, err)
	}
	return res, nil
}

func (r *renderer) binary(x *nodes.BinaryExpression) (any, error) {
	op := x.Operator.Token
	switch op.Type {
	case tokens.And, tokens.Or:
		left, err := r.evalDefined(x.Left)
		if err != nil {
			return nil, err
		}
		lt, err := truth(left)
		if err != nil {
			return nil, err
		}
		if (op.Type == tokens.And) != lt {
			return left, nil
		}
		return r.evalDefined(x.Right)
	}
	left, err := r.evalDefined(x.Left)
	if err != nil {
		return nil, err
	}
	right, err := r.evalDefined(x.Right)
	if err != nil {
		return nil, err
	}
	v, err := r.binop(op, left, right)
	return v, atTok(op, err)
}
