package template

import (
	"errors"
	"fmt"
	"strings"

	"github.com/nikolalohinski/gonja/v2/config"
	"github.com/nikolalohinski/gonja/v2/nodes"
	"github.com/nikolalohinski/gonja/v2/parser"
	"github.com/nikolalohinski/gonja/v2/tokens"
)

// compiled is a parsed template, shared by all renders of the same source.
type compiled struct {
	root *nodes.Template
}

var gonjaConfig = func() *config.Config {
	c := config.New()
	c.VariableStartString = "<<"
	c.VariableEndString = ">>"
	c.BlockStartString = "<%"
	c.BlockEndString = "%>"
	c.CommentStartString = "<#"
	c.CommentEndString = "#>"
	c.AutoEscape = false
	c.StrictUndefined = true
	return c
}()

// statement is implemented by this package's control structures.
type statement interface {
	nodes.ControlStructure
	exec(r *renderer) error
}

type structures map[string]parser.ControlStructureParser

func (s structures) Get(name string) (parser.ControlStructureParser, bool) {
	p, ok := s[name]
	return p, ok
}

// controlStructures are the statements templates may use. Everything that would read files
// (include, import, from, extends) or define callables (macro, call) is refused with a clear
// message instead of "not found".
var controlStructures structures

func init() {
	controlStructures = structures{
		"if":       parseIf,
		"for":      parseFor,
		"set":      parseSet,
		"with":     parseWith,
		"filter":   parseFilterBlock,
		"raw":      parseRaw,
		"break":    parseLoopControl("break"),
		"continue": parseLoopControl("continue"),
	}
	for name, why := range map[string]string{
		"include":    "templates cannot read other files",
		"import":     "templates cannot read other files",
		"from":       "templates cannot read other files",
		"extends":    "templates cannot read other files",
		"block":      "template inheritance is not supported",
		"macro":      "macros are not supported in pipeline templates",
		"call":       "macros are not supported in pipeline templates",
		"autoescape": "pipeline templates never escape HTML",
		"trans":      "translations are not supported",
		"do":         "use API.setvariable(...) inside << >> instead",
		"comment":    "use <# ... #> comments",
	} {
		why := why
		name := name
		controlStructures[name] = func(p *parser.Parser, args *parser.Parser) (nodes.ControlStructure, error) {
			return nil, args.Error(fmt.Sprintf("'%s' is not allowed in ankaflow templates: %s", name, why), args.Current())
		}
	}
}

func (e *Engine) compile(src string) (*compiled, error) {
	e.mu.Lock()
	c, ok := e.cache[src]
	e.mu.Unlock()
	if ok {
		return c, nil
	}
	c, err := compile(src)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	if len(e.cache) >= cacheSize {
		e.cache = map[string]*compiled{}
	}
	e.cache[src] = c
	e.mu.Unlock()
	return c, nil
}

// compile lexes and parses a template. Errors are *posError with the template position.
func compile(src string) (c *compiled, err error) {
	if len(src) > maxTemplate {
		return nil, &posError{kind: ErrSize, msg: fmt.Sprintf("template is %d bytes; the limit is %d", len(src), maxTemplate)}
	}
	defer func() {
		if p := recover(); p != nil {
			c, err = nil, &posError{kind: ErrSyntax, msg: fmt.Sprintf("cannot parse template: %v", p)}
		}
	}()
	// The parser is recursive in bracket nesting: refuse absurd nesting before parsing.
	if err := checkTokens(tokens.LexAll(src, gonjaConfig)); err != nil {
		return nil, err
	}
	p := parser.NewParser("template", tokens.LexAll(src, gonjaConfig), gonjaConfig, nil, controlStructures)
	root, err := p.Parse()
	if err != nil {
		return nil, syntaxError(err)
	}
	return &compiled{root: root}, nil
}

func checkTokens(s *tokens.Stream) error {
	depth := 0
	for !s.End() {
		t := s.Next()
		if t == nil {
			break
		}
		switch t.Type {
		case tokens.Error:
			return &posError{kind: ErrSyntax, line: t.Line, col: t.Col, msg: "cannot parse template: " + t.Val}
		case tokens.LeftParenthesis, tokens.LeftBracket, tokens.LeftBrace:
			depth++
			if depth > maxNesting {
				return &posError{kind: ErrSyntax, line: t.Line, col: t.Col,
					msg: fmt.Sprintf("expression nests brackets more than %d deep", maxNesting)}
			}
		case tokens.RightParenthesis, tokens.RightBracket, tokens.RightBrace:
			depth--
		case tokens.EOF:
			return nil
		}
	}
	return nil
}

// syntaxError turns a gonja parse error into a *posError with its position.
func syntaxError(err error) error {
	var pe *posError
	if errors.As(err, &pe) {
		if pe.kind == 0 {
			pe.kind = ErrSyntax
		}
		return pe
	}
	var se *parser.SyntaxError
	if errors.As(err, &se) {
		msg := se.Message
		if se.Raw != "" {
			msg += fmt.Sprintf(" (near %q)", se.Raw)
		}
		if strings.Contains(msg, "not found (or beginning not provided)") {
			msg = fmt.Sprintf("unknown statement '%s' (allowed: if, for, set, with, filter, raw, break, continue)", se.Raw)
		}
		return &posError{kind: ErrSyntax, line: se.Line, col: se.Column, msg: "syntax error: " + msg}
	}
	msg := err.Error()
	// gonja wraps control-structure errors as: Unable to parse controlStructure "x": <cause>
	if i := strings.Index(msg, ": "); i >= 0 && strings.HasPrefix(msg, "Unable to parse controlStructure") {
		msg = msg[i+2:]
	}
	return &posError{kind: ErrSyntax, msg: "syntax error: " + msg}
}

// ---- control structures ----

type ifStmt struct {
	tok    *tokens.Token
	conds  []nodes.Expression
	bodies []*nodes.Wrapper // len(bodies) == len(conds) or len(conds)+1 (else)
}

func (s *ifStmt) Position() *tokens.Token { return s.tok }
func (s *ifStmt) String() string          { return "if" }

func parseIf(p *parser.Parser, args *parser.Parser) (nodes.ControlStructure, error) {
	s := &ifStmt{tok: args.Current()}
	cond, err := args.ParseExpression()
	if err != nil {
		return nil, err
	}
	if !args.End() {
		return nil, args.Error("malformed if condition", args.Current())
	}
	s.conds = append(s.conds, cond)
	for {
		body, tagArgs, err := p.WrapUntil("elif", "else", "endif")
		if err != nil {
			return nil, err
		}
		s.bodies = append(s.bodies, body)
		switch body.EndTag {
		case "elif":
			c, err := tagArgs.ParseExpression()
			if err != nil {
				return nil, err
			}
			if !tagArgs.End() {
				return nil, tagArgs.Error("malformed elif condition", tagArgs.Current())
			}
			s.conds = append(s.conds, c)
		case "else":
			if !tagArgs.End() {
				return nil, tagArgs.Error("else takes no arguments", tagArgs.Current())
			}
			body, tagArgs, err := p.WrapUntil("endif")
			if err != nil {
				return nil, err
			}
			if !tagArgs.End() {
				return nil, tagArgs.Error("endif takes no arguments", tagArgs.Current())
			}
			s.bodies = append(s.bodies, body)
			return s, nil
		default:
			if !tagArgs.End() {
				return nil, tagArgs.Error("endif takes no arguments", tagArgs.Current())
			}
			return s, nil
		}
	}
}

type forStmt struct {
	tok      *tokens.Token
	targets  []string
	iter     nodes.Expression
	cond     nodes.Expression
	body     *nodes.Wrapper
	elseBody *nodes.Wrapper
}

func (s *forStmt) Position() *tokens.Token { return s.tok }
func (s *forStmt) String() string          { return "for" }

func parseFor(p *parser.Parser, args *parser.Parser) (nodes.ControlStructure, error) {
	s := &forStmt{tok: args.Current()}
	for {
		t := args.Match(tokens.Name)
		if t == nil {
			return nil, args.Error("expected a loop variable name", args.Current())
		}
		if err := checkAssignable(t.Val, t); err != nil {
			return nil, err
		}
		s.targets = append(s.targets, t.Val)
		if args.Match(tokens.Comma) == nil {
			break
		}
	}
	if args.Match(tokens.In) == nil {
		return nil, args.Error("expected 'in'", args.Current())
	}
	iter, err := args.ParseExpression()
	if err != nil {
		return nil, err
	}
	s.iter = iter
	if args.MatchName("if") != nil {
		c, err := args.ParseExpression()
		if err != nil {
			return nil, err
		}
		s.cond = c
	}
	if args.MatchName("recursive") != nil {
		return nil, args.Error("recursive loops are not supported", args.Current())
	}
	if !args.End() {
		return nil, args.Error("malformed for loop", args.Current())
	}
	body, tagArgs, err := p.WrapUntil("else", "endfor")
	if err != nil {
		return nil, err
	}
	if !tagArgs.End() {
		return nil, tagArgs.Error("arguments not allowed here", tagArgs.Current())
	}
	s.body = body
	if body.EndTag == "else" {
		eb, tagArgs, err := p.WrapUntil("endfor")
		if err != nil {
			return nil, err
		}
		if !tagArgs.End() {
			return nil, tagArgs.Error("arguments not allowed here", tagArgs.Current())
		}
		s.elseBody = eb
	}
	return s, nil
}

type setStmt struct {
	tok     *tokens.Token
	targets []string
	expr    nodes.Expression
	cond    nodes.Expression
	alt     nodes.Expression
	body    *nodes.Wrapper
}

func (s *setStmt) Position() *tokens.Token { return s.tok }
func (s *setStmt) String() string          { return "set" }

// checkAssignable refuses assignments to the global names.
func checkAssignable(name string, t *tokens.Token) error {
	switch name {
	case "context":
		return &posError{kind: ErrSyntax, line: t.Line, col: t.Col, msg: "'context' is read-only: templates cannot assign to it"}
	case "variables":
		return &posError{kind: ErrSyntax, line: t.Line, col: t.Col, msg: "cannot assign to 'variables': use API.setvariable(variables, key, value)"}
	case "API", "loop":
		return &posError{kind: ErrSyntax, line: t.Line, col: t.Col, msg: fmt.Sprintf("cannot assign to '%s'", name)}
	}
	if strings.HasPrefix(name, "__") {
		return &posError{kind: ErrSyntax, line: t.Line, col: t.Col, msg: fmt.Sprintf("names starting with '__' are not allowed ('%s')", name)}
	}
	return nil
}

func parseSet(p *parser.Parser, args *parser.Parser) (nodes.ControlStructure, error) {
	s := &setStmt{tok: args.Current()}
	for {
		t := args.Current()
		target, err := args.ParseVariableOrLiteral()
		if err != nil {
			return nil, err
		}
		n, ok := target.(*nodes.Name)
		if !ok {
			root := rootName(target)
			switch root {
			case "context":
				return nil, &posError{kind: ErrSyntax, line: t.Line, col: t.Col, msg: "'context' is read-only: templates cannot modify it"}
			case "variables":
				return nil, &posError{kind: ErrSyntax, line: t.Line, col: t.Col, msg: "cannot assign into 'variables' with set: use API.setvariable(variables, key, value)"}
			}
			return nil, &posError{kind: ErrSyntax, line: t.Line, col: t.Col, msg: "set can only assign to names"}
		}
		if err := checkAssignable(n.Name.Val, n.Name); err != nil {
			return nil, err
		}
		s.targets = append(s.targets, n.Name.Val)
		if args.Match(tokens.Comma) == nil {
			break
		}
	}
	if args.Match(tokens.Assign) == nil {
		if !args.End() {
			return nil, args.Error("expected '=' or the end of the tag", args.Current())
		}
		if len(s.targets) != 1 {
			return nil, args.Error("block set takes one name", args.Current())
		}
		body, endArgs, err := p.WrapUntil("endset")
		if err != nil {
			return nil, err
		}
		if !endArgs.End() {
			return nil, endArgs.Error("endset takes no arguments", endArgs.Current())
		}
		s.body = body
		return s, nil
	}
	expr, err := args.ParseExpression()
	if err != nil {
		return nil, err
	}
	s.expr = expr
	cond, alt, err := args.ParseCondition()
	if err != nil {
		return nil, err
	}
	s.cond, s.alt = cond, alt
	if !args.End() {
		return nil, args.Error("malformed set", args.Current())
	}
	return s, nil
}

// rootName is the leftmost name of an attribute/item chain.
func rootName(n nodes.Node) string {
	for {
		switch x := n.(type) {
		case *nodes.Name:
			return x.Name.Val
		case *nodes.GetAttribute:
			n = x.Node
		case *nodes.GetItem:
			n = x.Node
		case *nodes.GetSlice:
			n = x.Node
		case *nodes.Call:
			n = x.Func
		default:
			return ""
		}
	}
}

type withStmt struct {
	tok   *tokens.Token
	names []string
	exprs []nodes.Expression
	body  *nodes.Wrapper
}

func (s *withStmt) Position() *tokens.Token { return s.tok }
func (s *withStmt) String() string          { return "with" }

func parseWith(p *parser.Parser, args *parser.Parser) (nodes.ControlStructure, error) {
	s := &withStmt{tok: args.Current()}
	for !args.End() {
		t := args.Match(tokens.Name)
		if t == nil {
			return nil, args.Error("expected a name", args.Current())
		}
		if err := checkAssignable(t.Val, t); err != nil {
			return nil, err
		}
		if args.Match(tokens.Assign) == nil {
			return nil, args.Error("expected '='", args.Current())
		}
		e, err := args.ParseExpression()
		if err != nil {
			return nil, err
		}
		s.names = append(s.names, t.Val)
		s.exprs = append(s.exprs, e)
		if args.Match(tokens.Comma) == nil && !args.End() {
			return nil, args.Error("expected ',' between assignments", args.Current())
		}
	}
	body, endArgs, err := p.WrapUntil("endwith")
	if err != nil {
		return nil, err
	}
	if !endArgs.End() {
		return nil, endArgs.Error("endwith takes no arguments", endArgs.Current())
	}
	s.body = body
	return s, nil
}

type filterStmt struct {
	tok     *tokens.Token
	filters []*nodes.FilterCall
	body    *nodes.Wrapper
}

func (s *filterStmt) Position() *tokens.Token { return s.tok }
func (s *filterStmt) String() string          { return "filter" }

func parseFilterBlock(p *parser.Parser, args *parser.Parser) (nodes.ControlStructure, error) {
	s := &filterStmt{tok: args.Current()}
	for {
		f, err := args.ParseFilter()
		if err != nil {
			return nil, err
		}
		s.filters = append(s.filters, f)
		if args.Match(tokens.Pipe) == nil {
			break
		}
	}
	if !args.End() {
		return nil, args.Error("malformed filter block", args.Current())
	}
	body, endArgs, err := p.WrapUntil("endfilter")
	if err != nil {
		return nil, err
	}
	if !endArgs.End() {
		return nil, endArgs.Error("endfilter takes no arguments", endArgs.Current())
	}
	s.body = body
	return s, nil
}

type rawStmt struct {
	tok  *tokens.Token
	text string
}

func (s *rawStmt) Position() *tokens.Token { return s.tok }
func (s *rawStmt) String() string          { return "raw" }

func parseRaw(p *parser.Parser, args *parser.Parser) (nodes.ControlStructure, error) {
	s := &rawStmt{tok: p.Current()}
	if !args.End() {
		return nil, args.Error("raw takes no arguments", args.Current())
	}
	body, _, err := p.WrapUntil("endraw")
	if err != nil {
		return nil, err
	}
	for _, n := range body.Nodes {
		d, ok := n.(*nodes.Data)
		if !ok {
			return nil, p.Error("raw block can only contain text", n.Position())
		}
		s.text += d.Data.Val
	}
	return s, nil
}

type loopControl struct {
	tok  *tokens.Token
	kind string
}

func (s *loopControl) Position() *tokens.Token { return s.tok }
func (s *loopControl) String() string          { return s.kind }

func parseLoopControl(kind string) parser.ControlStructureParser {
	return func(p *parser.Parser, args *parser.Parser) (nodes.ControlStructure, error) {
		if !args.End() {
			return nil, args.Error(kind+" takes no arguments", args.Current())
		}
		return &loopControl{tok: p.Current(), kind: kind}, nil
	}
}
