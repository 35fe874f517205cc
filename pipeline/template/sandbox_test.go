package template

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// evil has exported fields and methods; none of its methods may ever run from a template.
type evil struct {
	Name   string
	called *bool
}

func (e evil) Delete() string  { *e.called = true; return "deleted" }
func (e evil) String() string  { return "evil:" + e.Name }
func (e *evil) Mutate() string { *e.called = true; return "mutated" }

type sandboxFixture struct {
	scope  *Scope
	called *bool
	before *Scope
}

func newSandboxFixture() *sandboxFixture {
	called := new(bool)
	ev := evil{Name: "x", called: called}
	scope := testScope()
	scope.Context["obj"] = ev
	scope.Context["ptr"] = &ev
	scope.Context["fn"] = func() string { *called = true; return "ran" }
	scope.Context["t"] = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	scope.Context["ch"] = make(chan int)
	scope.Variables["evil"] = ev
	return &sandboxFixture{scope: scope, called: called, before: &Scope{
		Context: shallow(scope.Context), Variables: deepCopy(scope.Variables).(map[string]any)}}
}

func shallow(m map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

// TestSandboxEscapes tries the escapes Jinja sandboxes guard against (and a few more): each
// must fail with a clear error and leave no trace.
func TestSandboxEscapes(t *testing.T) {
	cases := []struct {
		src  string
		want string // substring of the error
	}{
		// Python object internals.
		{"<< API.__class__ >>", "access to attribute '__class__' is not allowed"},
		{"<< variables.__class__.__mro__ >>", "access to attribute '__class__' is not allowed"},
		{"<< ''.__class__ >>", "access to attribute '__class__' is not allowed"},
		{"<< ''.__class__.__mro__[1].__subclasses__() >>", "is not allowed"},
		{"<< (1).__class__ >>", "'__class__' is not allowed"},
		{"<< [].__class__.__base__ >>", "'__class__' is not allowed"},
		{"<< cycler.__init__.__globals__ >>", "'__init__' is not allowed"},
		{"<< joiner.__init__.__globals__.os >>", "'__init__' is not allowed"},
		{"<< lipsum.__globals__ >>", "'__globals__' is not allowed"},
		{"<< API.dt.__globals__ >>", "'__globals__' is not allowed"},
		{"<< API.dt.__code__ >>", "'__code__' is not allowed"},
		{"<< API.__dict__ >>", "'__dict__' is not allowed"},
		{"<< __builtins__ >>", "names starting with '__' are reserved"},
		{"<< __import__('os') >>", "names starting with '__' are reserved"},
		{"<< variables['__class__'] >>", "access to key '__class__' is not allowed"},
		{"<< variables['__secret__'] >>", "access to key '__secret__' is not allowed"},
		{"<< variables.__secret__ >>", "'__secret__' is not allowed"},
		{"<< variables.get('__secret__') >>", "'__secret__' is not allowed"},
		{"<< variables | attr('__class__') >>", "'__class__' is not allowed"},
		{"<< variables.rows | map(attribute='__class__') | list >>", "'__class__' is not allowed"},
		{"<< variables.rows | sort(attribute='__class__') >>", "'__class__' is not allowed"},
		{"<< '{0.__class__}'.format(1) >>", "'__class__' is not allowed"},
		{"<< '{0[__secret__]}'.format(variables) >>", "'__secret__' is not allowed"},
		{"<< {'__class__': 1} >>", "not allowed"},
		{"<< API.dt(__x__=1) >>", "argument name '__x__' is not allowed"},
		{"<% set __x = 1 %>", "names starting with '__' are not allowed"},
		// Jinja globals that AnkaFlow removed.
		{"<< range(10) >>", "'range' is undefined"},
		{"<< range(10**9) >>", "'range' is undefined"},
		{"<< dict(a=1) >>", "'dict' is undefined"},
		{"<< lipsum() >>", "'lipsum' is undefined"},
		{"<< cycler('a') >>", "'cycler' is undefined"},
		{"<< joiner() >>", "'joiner' is undefined"},
		{"<% set ns = namespace(a=1) %>", "'namespace' is undefined"},
		{"<< self >>", "'self' is undefined"},
		{"<< self._TemplateReference__context >>", "'self' is undefined"},
		{"<< config >>", "'config' is undefined"},
		{"<< config.items() >>", "'config' is undefined"},
		{"<< request.environ >>", "'request' is undefined"},
		{"<< os.environ >>", "'os' is undefined"},
		{"<< env >>", "'env' is undefined"},
		{"<< caller() >>", "'caller' is undefined"},
		{"<< super() >>", "'super' is undefined"},
		{"<< varargs >>", "'varargs' is undefined"},
		// loop tricks
		{"<< loop >>", "'loop' is undefined"},
		{"<% for x in [1] %><< loop.__class__ >><% endfor %>", "'__class__' is not allowed"},
		{"<% for x in [1] %><< loop._LoopContext__length >><% endfor %>", "'LoopContext' object has no attribute '_LoopContext__length'"},
		{"<% for x in [1] %><< loop.items >><% endfor %>", "'LoopContext' object has no attribute 'items'"},
		{"<% for x in [1] %><< loop(x) >><% endfor %>", "'LoopContext' object is not callable"},
		{"<% for loop in [1] %><% endfor %>", "cannot assign to 'loop'"},
		// functions have no attributes
		{"<< API.dt.func_globals >>", "'function' object has no attribute 'func_globals'"},
		{"<< API.dt.fn >>", "'function' object has no attribute 'fn'"},
		{"<< API.dt.name >>", "'function' object has no attribute 'name'"},
		{"<< API.Dt() >>", "'API' object has no attribute 'Dt'"},
		{"<< API.apiDt() >>", "'API' object has no attribute 'apiDt'"},
		// Go methods of the caller's values are unreachable.
		{"<< context.obj.Delete() >>", "'context.obj.Delete' is undefined"},
		{"<< context.ptr.Mutate() >>", "'context.ptr.Mutate' is undefined"},
		{"<< context.obj.String() >>", "'context.obj.String' is undefined"},
		{"<< variables.evil.Delete() >>", "'variables.evil.Delete' is undefined"},
		{"<< context.fn() >>", "'str' object is not callable"},
		{"<< context.t.AddDate(1, 0, 0) >>", "'datetime' object has no attribute 'AddDate'"},
		{"<< context.t.Unix() >>", "'datetime' object has no attribute 'Unix'"},
		{"<< API.dt().t >>", "'datetime' object has no attribute 't'"},
		{"<< API.dt().Time() >>", "'datetime' object has no attribute 'Time'"},
		{"<< variables.items.Len() >>", "'list' object has no attribute 'Len'"},
		// Files and other templates
		{"<% include '/etc/passwd' %>", "'include' is not allowed"},
		{"<% import 'x' as y %>", "'import' is not allowed"},
		{"<% from 'x' import y %>", "'from' is not allowed"},
		{"<% extends 'base' %>", "'extends' is not allowed"},
		{"<% macro m() %><% endmacro %>", "'macro' is not allowed"},
		{"<% call m() %><% endcall %>", "'call' is not allowed"},
		{"<% do variables.update({}) %>", "'do' is not allowed"},
		// Mutation of data
		{"<< variables.items.append(4) >>", "cannot change values in templates"},
		{"<< variables.m.update({'k': 1}) >>", "use API.setvariable"},
		{"<< variables.m.pop('k') >>", "use API.setvariable"},
		{"<< variables.m.clear() >>", "use API.setvariable"},
		{"<< variables.update({'k': 1}) >>", "use API.setvariable"},
		{"<< context.user.tags.append('x') >>", "'context' is read-only"},
		{"<% set variables.m.k = 1 %>", "use API.setvariable"},
	}
	e := newEngine()
	for _, tc := range cases {
		t.Run(tc.src, func(t *testing.T) {
			f := newSandboxFixture()
			out, err := e.RenderText(tc.src, f.scope, Where{Stage: "s", Field: "query"})
			if err == nil {
				t.Fatalf("rendered %q, want an error containing %q", out, tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q, want it to contain %q", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "stage 's' field query") {
				t.Fatalf("error %q does not name the stage and field", err)
			}
			if *f.called {
				t.Fatal("a Go method of a caller's value ran")
			}
			if !reflect.DeepEqual(f.scope.Variables, f.before.Variables) {
				t.Fatal("variables changed")
			}
			if len(f.scope.Context) != len(f.before.Context) {
				t.Fatal("context changed")
			}
		})
	}
}

// TestCallerValuesAreData: Go values reach templates as plain data only.
func TestCallerValuesAreData(t *testing.T) {
	f := newSandboxFixture()
	e := newEngine()
	out, err := e.RenderText("<< context.obj.Name >>|<< context.ptr.Name >>|<< context.t.year >>|<< API.peek(context.fn) >>|<< variables._ver >>|<< variables.keys() | select('equalto', '__secret__') | list >>", f.scope, Where{})
	if err != nil {
		t.Fatal(err)
	}
	if out != "x|x|2024|str|3|[]" {
		t.Fatalf("got %q", out)
	}
	if *f.called {
		t.Fatal("a Go method ran")
	}
	// Dunder keys are hidden from listings and dumps too.
	out, err = e.RenderText("<< variables | tojson >>", f.scope, Where{})
	if err != nil || strings.Contains(out, "hidden") {
		t.Fatalf("tojson shows a dunder key: %q %v", out, err)
	}
	out, err = e.RenderText("<< API.look('__secret__', variables) >>", f.scope, Where{})
	if err != nil || out != "None" {
		t.Fatalf("look finds a dunder key: %q %v", out, err)
	}
}

func errKind(err error) ErrorKind {
	var te *Error
	if errors.As(err, &te) {
		return te.Kind
	}
	return 0
}

// TestTimeBound: pathological loops are stopped by Options.Timeout.
func TestTimeBound(t *testing.T) {
	e := New(Options{Timeout: 150 * time.Millisecond})
	for _, src := range []string{
		"<% for i in 'a' * 1000000 %><% for j in 'a' * 1000000 %><% endfor %><% endfor %>",
		"<% for i in [0] * 1000000 %><% for j in [0] * 1000000 %><< '' >><% endfor %><% endfor %>",
		"<% for i in [0] * 1000000 %><% for j in [0] * 1000000 %><% if j > 5 %><% continue %><% endif %><% endfor %><% endfor %>",
		"<% for i in [0] * 1000000 %><< API.look('rows[*].id', variables) | length >><% endfor %>",
		"<% for i in [0] * 1000000 %><% for j in [0] * 1000000 %><% set x = [i, j] | sort | unique | list %><% endfor %><% endfor %>",
		"<% for i in [0] * 1000000 %><< API.dt().shift(days=i).format('YYYY') | length >><% endfor %>",
	} {
		start := time.Now()
		_, err := e.RenderText(src, testScope(), Where{Stage: "s", Field: "query"})
		elapsed := time.Since(start)
		if errKind(err) != ErrTimeout {
			t.Errorf("%s: error %v, want a timeout", src, err)
			continue
		}
		if !strings.Contains(err.Error(), "rendering took longer than 150ms (Options.Timeout)") {
			t.Errorf("%s: message %q", src, err)
		}
		if elapsed > 2*time.Second {
			t.Errorf("%s: stopped after %s", src, elapsed)
		}
	}
	// The default is 2 s.
	if d := New(Options{}).opts.Timeout; d != 2*time.Second {
		t.Errorf("default timeout %s", d)
	}
}

// TestSizeBounds: output and intermediate values are bounded.
func TestSizeBounds(t *testing.T) {
	// A generous time bound: this test is about sizes, and on a loaded machine some of these
	// renders take longer than the default 2 s before they reach their size limit.
	e := New(Options{Now: func() time.Time { return fixedNow }, Timeout: 5 * time.Minute})
	scope := testScope()
	for _, tc := range []struct{ src, want string }{
		{"<< 'a' * 10**10 >>", "string repetition would build 10000000000 bytes; the limit is 16777216"},
		{"<< 'a' * 9223372036854775807 >>", "string repetition would build"},
		{"<< [1] * 10**9 >>", "list repetition would build 1000000000 items"},
		{"<% for i in 'a' * 16000000 %><% endfor %>", "exceeds the 1048576-item limit"},
		{"<< ('a' * 16000000) | list | length >>", "exceeds the 1048576-item limit"},
		{"<% for i in [0] * 1000000 %><< 'x' * 100 >><% endfor %>", "rendered output exceeds 16777216 bytes"},
		{"<% set d = {'s': 'ab'} %><% for i in [0] * 100 %><< API.setvariable(d, 's', d.s ~ d.s) | length >><% endfor %>", "exceeds the 16777216-byte limit"},
		{"<% for i in [0] * 1000 %><% set s = 'x' * 1000000 %><% endfor %>", "template built more than"},
		{"<< ('a' * 1000000) | replace('a', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa') | length >>", "exceeds the 16777216-byte limit"},
		{"<< 'x' | center(100000000) >>", "exceeds the 16777216-byte limit"},
		{"<< '%100000000d' % 1 >>", "exceeds the 16777216-byte limit"},
		{"<< '{:>100000000}'.format(1) >>", "exceeds the output limit"},
		{"<< (['a' * 1000000] * 100) | join(',') | length >>", "exceeds the 16777216-byte limit"},
		{"<< ['a' * 1000000] * 20 >>", "the value's text exceeds 16777216 bytes"},
	} {
		_, err := e.RenderText(tc.src, scope, Where{Stage: "s", Field: "query"})
		if errKind(err) != ErrSize || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want a size error containing %q", tc.src, err, tc.want)
		}
	}
	// MaxOutput is configurable.
	small := New(Options{MaxOutput: 10})
	if _, err := small.RenderText("<< 1 >> 0123456789", nil, Where{}); errKind(err) != ErrSize {
		t.Errorf("MaxOutput 10: %v", err)
	}
	if out, err := small.RenderText("<< 1 >>23456789", nil, Where{}); err != nil || out != "123456789" {
		t.Errorf("MaxOutput 10, 9 bytes: %q %v", out, err)
	}
	// Oversized templates and absurd nesting are refused before parsing.
	if _, err := e.RenderText("<< 1 >>"+strings.Repeat(" ", maxTemplate), nil, Where{}); errKind(err) != ErrSize {
		t.Errorf("huge template: %v", err)
	}
	deep := "<< " + strings.Repeat("(", 200) + "1" + strings.Repeat(")", 200) + " >>"
	if _, err := e.RenderText(deep, nil, Where{}); err == nil || !strings.Contains(err.Error(), "nests brackets more than 64 deep") {
		t.Errorf("deep nesting: %v", err)
	}
	deep = "<< " + strings.Repeat("[", 5000) + " >>"
	if _, err := e.RenderText(deep, nil, Where{}); err == nil {
		t.Errorf("deep list nesting accepted")
	}
}

// TestCyclicData: self-referencing caller data does not crash the renderer.
func TestCyclicData(t *testing.T) {
	m := map[string]any{"name": "loop"}
	m["self"] = m
	l := []any{1}
	l = append(l, nil)
	l[1] = l
	scope := &Scope{Variables: map[string]any{"m": m, "l": l}}
	e := newEngine()
	for _, src := range []string{
		"<< variables.m.self.self.name >>",
		"<< variables.m | length >>",
		"<< variables.m >>",
		"<< variables.l >>",
		"<< variables.m == variables.m >>",
		"<< API.setvariable(variables, 'copy', variables.m) | length >>",
		"<< API.look('self.self.name', variables.m) >>",
	} {
		if _, err := e.RenderText(src, scope, Where{}); err != nil {
			t.Logf("%s: %v", src, err) // an error is fine, a crash is not
		}
	}
	if _, err := e.RenderText("<< variables.m | tojson >>", scope, Where{}); err == nil {
		t.Error("tojson of a cycle succeeded")
	}
}
