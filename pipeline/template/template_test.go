package template

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ankaflow/ankaflow/engine/value"
)

var fixedNow = time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)

func newEngine() *Engine {
	return New(Options{Now: func() time.Time { return fixedNow }})
}

// testScope returns a fresh scope with a little of everything.
func testScope() *Scope {
	return &Scope{
		Context: map[string]any{
			"env":  map[string]any{"HOME": "/home/ann"},
			"user": map[string]any{"name": "ann", "tags": []any{"a", "b"}},
		},
		Variables: map[string]any{
			"a":     1,
			"f":     1.5,
			"s":     "text",
			"flag":  true,
			"nil":   nil,
			"items": []any{int64(1), int64(2), int64(3)},
			"names": []string{"x", "y"},
			"rows": []any{
				map[string]any{"id": 1, "name": "a", "city": "Tartu"},
				map[string]any{"id": 2, "name": "b", "city": "Tallinn"},
				map[string]any{"id": 3, "name": "c", "city": "Tartu"},
			},
			"m":            map[string]any{"k": "v", "items": "data", "keys": "K", "n": map[string]any{"deep": 42}},
			"_ver":         3,
			"__secret__":   "hidden",
			"loop_control": map[string]any{"id": 7, "name": "seven"},
			"when":         time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC),
		},
	}
}

type tcase struct {
	name string
	src  string
	want string // expected output; ignored when err is set
	err  string // substring of the expected error
}

func runCases(t *testing.T, cases []tcase) {
	t.Helper()
	e := newEngine()
	for _, tc := range cases {
		name := tc.name
		if name == "" {
			name = tc.src
		}
		t.Run(name, func(t *testing.T) {
			got, err := e.RenderText(tc.src, testScope(), Where{Stage: "st", Field: "query"})
			if tc.err != "" {
				if err == nil {
					t.Fatalf("RenderText(%q) = %q, want error containing %q", tc.src, got, tc.err)
				}
				if !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("RenderText(%q) error = %q, want it to contain %q", tc.src, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("RenderText(%q) error: %v", tc.src, err)
			}
			if got != tc.want {
				t.Fatalf("RenderText(%q) = %q, want %q", tc.src, got, tc.want)
			}
		})
	}
}

func TestExpressions(t *testing.T) {
	runCases(t, []tcase{
		{src: "<< 1 + 2 >>", want: "3"},
		{src: "<< 7 - 10 >>", want: "-3"},
		{src: "<< 2 * 3.5 >>", want: "7.0"},
		{src: "<< 7 / 2 >>", want: "3.5"},
		{src: "<< 7 // 2 >>", want: "3"},
		{src: "<< -7 // 2 >>", want: "-4"},
		{src: "<< 7 % 3 >>", want: "1"},
		{src: "<< -7 % 3 >>", want: "2"},
		{src: "<< 2 ** 10 >>", want: "1024"},
		{src: "<< 2 ** -1 >>", want: "0.5"},
		{src: "<< 1 / 3 >>", want: "0.3333333333333333"},
		{src: "<< 1.0 >>", want: "1.0"},
		{src: "<< 1e20 >>", want: "1e+20"},
		{src: "<< 0.00001 >>", want: "1e-05"},
		{src: "<< 'a' ~ 1 ~ none >>", want: "a1None"},
		{src: "<< 'ab' + 'cd' >>", want: "abcd"},
		{src: "<< 'ab' * 3 >>", want: "ababab"},
		{src: "<< [1] + [2] >>", want: "[1, 2]"},
		{src: "<< [0] * 3 >>", want: "[0, 0, 0]"},
		{src: "<< (1, 2) >>", want: "(1, 2)"},
		{src: "<< (1,) >>", want: "(1,)"},
		{src: "<< {'a': 1, 'b': [1, 'x']} >>", want: "{'a': 1, 'b': [1, 'x']}"},
		{src: "<< ['a', 'b'] >>", want: "['a', 'b']"},
		{src: `<< ["it's", 'x'] >>`, want: `["it's", 'x']`},
		{src: "<< None >>", want: "None"},
		{src: "<< none >>", want: "None"},
		{src: "<< True >>", want: "True"},
		{src: "<< false >>", want: "False"},
		{src: "<< 1 == 1.0 >>", want: "True"},
		{src: "<< 'a' < 'b' >>", want: "True"},
		{src: "<< [1, 2] < [1, 3] >>", want: "True"},
		{src: "<< 2 > 1 and 'yes' >>", want: "yes"},
		{src: "<< '' or 'fallback' >>", want: "fallback"},
		{src: "<< not 0 >>", want: "True"},
		{src: "<< 'x' in 'xyz' >>", want: "True"},
		{src: "<< 4 in variables.items >>", want: "False"},
		{src: "<< 1 not in variables.items >>", want: "False"},
		{src: "<< 'k' in variables.m >>", want: "True"},
		{src: "<< 1 if variables.flag else 2 >>", want: "1"},
		{src: "<< 1 if not variables.flag else 2 >>", want: "2"},
		{src: "<< 'shown' if false >>", want: ""},
		{src: "<< variables.items[-1] >>", want: "3"},
		{src: "<< variables.items[1:] >>", want: "[2, 3]"},
		{src: "<< variables.items[::-1] >>", want: "[3, 2, 1]"},
		{src: "<< 'abcdef'[1:4] >>", want: "bcd"},
		{src: "<< 'abc'[0] >>", want: "a"},
		{src: `<< 'a\nb' >>`, want: "a\nb"},
		{src: `<< 'it\'s' >>`, want: "it's"},
		{src: "<< '%s-%05.1f|%d|%x' % ('a', 3.14159, 42, 255) >>", want: "a-003.1|42|ff"},
		{src: "<< '%(a)s!' % {'a': 1} >>", want: "1!"},
		{src: "<< '{}-{:>5}-{name}-{0}'.format('a', 'b', name='n') >>", want: "a-    b-n-a"},
		{src: "<< '{:.2f} {:,}'.format(3.14159, 1234567) >>", want: "3.14 1,234,567"},
		{name: "string escapes are not HTML-escaped", src: "<< '<b>&' >>", want: "<b>&"},
		{name: "overflow", src: "<< 2 ** 63 >>", err: "integer overflow"},
		{name: "division by zero", src: "<< 1 / 0 >>", err: "division by zero"},
		{name: "str plus int", src: "<< 'a' + 1 >>", err: "unsupported operand type(s) for +: 'str' and 'int'"},
		{name: "ordering mixed", src: "<< 'a' < 1 >>", err: "'<' not supported between instances of 'str' and 'int'"},
	})
}

func TestNamesAndAccess(t *testing.T) {
	runCases(t, []tcase{
		{src: "<< variables.a >>", want: "1"},
		{src: "<< variables['a'] >>", want: "1"},
		{src: "<< variables.m.n.deep >>", want: "42"},
		{src: "<< variables['m']['n']['deep'] >>", want: "42"},
		{src: "<< variables.rows[1].name >>", want: "b"},
		{src: "<< variables.rows.1.name >>", want: "b"},
		{name: "items attribute is data", src: "<< variables.m.items >>", want: "data"},
		{name: "keys attribute is data", src: "<< variables.m.keys >>", want: "K"},
		{name: "items() is the method", src: "<< variables.m.items()|length >>", want: "4"},
		{name: "keys() is the method", src: "<< variables.m.keys()|join(',') >>", want: "items,k,keys,n"},
		{src: "<< variables.m.get('k') >> << variables.m.get('zz', 'd') >>", want: "v d"},
		{src: "<< variables.m.values()|length >>", want: "4"},
		{src: "<< variables._ver >>", want: "3"},
		{src: "<< variables.names >>", want: "['x', 'y']"},
		{src: "<< variables.f >>", want: "1.5"},
		{src: "<< variables.flag >>", want: "True"},
		{src: "<< variables.nil >>", want: "None"},
		{src: "<< variables.when >>", want: "2024-03-01T10:00:00+00:00"},
		{src: "<< variables.when.year >>", want: "2024"},
		{src: "<< variables.loop_control.id >>", want: "7"},
		{src: "<< context.env.HOME >>", want: "/home/ann"},
		{src: "<< context['user']['tags'][1] >>", want: "b"},
		{src: "<< variables.rows[0] >>", want: "{'city': 'Tartu', 'id': 1, 'name': 'a'}"},
		{src: "<< API.peek(variables.m) >>", want: "dict"},
		{name: "strict undefined name", src: "<< nope >>", err: "template line 1, col 4: 'nope' is undefined"},
		{name: "strict undefined variable", src: "<< variables.missing >>", err: "'variables.missing' is undefined"},
		{name: "strict undefined item", src: "<< variables['missing'] >>", err: "'variables['missing']' is undefined"},
		{name: "attribute of undefined", src: "<< variables.missing.x >>", err: "'variables.missing' is undefined"},
		{name: "undefined in concat", src: "<< 'a' ~ variables.missing >>", err: "'variables.missing' is undefined"},
		{name: "undefined in condition", src: "<% if variables.missing %>x<% endif %>", err: "'variables.missing' is undefined"},
		{name: "undefined in loop", src: "<% for x in variables.missing %>x<% endfor %>", err: "'variables.missing' is undefined"},
		{name: "undefined index", src: "<< variables.items[10] >>", err: "'variables.items[10]' is undefined"},
		{name: "undefined as argument", src: "<< API.int(variables.missing) >>", err: "'variables.missing' is undefined"},
		{src: "<< variables.missing | default('a') >>", want: "a"},
		{src: "<< variables.missing | d('a') >>", want: "a"},
		{src: "<< variables.nil | default('a') >>", want: "None"},
		{src: "<< variables.nil | default('a', true) >>", want: "a"},
		{src: "<< '' | default('a', boolean=true) >>", want: "a"},
		{src: "<< variables.a | default('a') >>", want: "1"},
		{src: "<< variables.missing is defined >>", want: "False"},
		{src: "<< variables.missing is undefined >>", want: "True"},
		{src: "<< variables.a is defined >>", want: "True"},
		{src: "<% if variables.missing is defined %>y<% else %>n<% endif %>", want: "n"},
		{name: "undefined method on dict", src: "<< variables.m.nomethod() >>", err: "'variables.m.nomethod' is undefined"},
		{name: "not callable", src: "<< variables.a() >>", err: "'int' object is not callable"},
		{name: "attribute on int", src: "<< variables.a.b >>", err: "'int' object has no attribute 'b'"},
		{name: "index on None", src: "<< variables.nil[0] >>", err: "is None"},
		{name: "None attribute", src: "<< variables.nil.x >>", err: "is None: it has no attribute 'x'"},
	})
}

func TestStatements(t *testing.T) {
	runCases(t, []tcase{
		{src: "<% for i in variables.items %><< i >><% if not loop.last %>,<% endif %><% endfor %>", want: "1,2,3"},
		{src: "<% for i in variables.items %><< loop.index >>/<< loop.index0 >>/<< loop.revindex >>/<< loop.length >><< ';' if not loop.last >><% endfor %>", want: "1/0/3/3;2/1/2/3;3/2/1/3"},
		{src: "<% for i in variables.items %><< loop.first >><% endfor %>", want: "TrueFalseFalse"},
		{src: "<% for i in variables.items %><< loop.cycle('a', 'b') >><% endfor %>", want: "aba"},
		{src: "<% for i in [1, 1, 2] %><< loop.changed(i) >><% endfor %>", want: "TrueFalseTrue"},
		{src: "<% for i in variables.items %><% if loop.previtem is defined %><< loop.previtem >><% endif %><% endfor %>", want: "12"},
		{src: "<% for row in variables.rows %><< row.name >><< ', ' if not loop.last >><% endfor %>", want: "a, b, c"},
		{src: "<% for k, v in variables.loop_control.items() %><< k >>=<< v >>;<% endfor %>", want: "id=7;name=seven;"},
		{src: "<% for k in variables.loop_control %><< k >><% endfor %>", want: "idname"},
		{src: "<% for c in 'ab' %>[<< c >>]<% endfor %>", want: "[a][b]"},
		{src: "<% for a, b in [(1, 2), (3, 4)] %><< a + b >><% endfor %>", want: "37"},
		{src: "<% for x in [] %>a<% else %>empty<% endfor %>", want: "empty"},
		{src: "<% for x in [1, 2, 3, 4] if x is even %><< x >><% endfor %>", want: "24"},
		{src: "<% for x in [1, 2, 3] %><% if x == 2 %><% continue %><% endif %><< x >><% endfor %>", want: "13"},
		{src: "<% for x in [1, 2, 3] %><% if x == 2 %><% break %><% endif %><< x >><% endfor %>", want: "1"},
		{src: "<% for x in [1, 2] %><% for y in ['a', 'b'] %><< x >><< y >><< loop.index >> <% endfor %><% endfor %>", want: "1a1 1b2 2a1 2b2"},
		{name: "loop variable does not leak", src: "<% for x in [1] %><% endfor %><< x | default('gone') >>", want: "gone"},
		{name: "set inside loop does not leak", src: "<% set n = 0 %><% for x in [1, 2] %><% set n = n + x %><% endfor %><< n >>", want: "0"},
		{src: "<% if variables.a == 1 %>one<% elif variables.a == 2 %>two<% else %>other<% endif %>", want: "one"},
		{src: "<% if variables.a == 2 %>two<% elif variables.a == 1 %>one<% endif %>", want: "one"},
		{src: "<% if false %>x<% else %>y<% endif %>", want: "y"},
		{src: "<% set x = 5 %><< x * 2 >>", want: "10"},
		{src: "<% set x = 1 if false else 3 %><< x >>", want: "3"},
		{src: "<% set a, b = [1, 2] %><< a >><< b >>", want: "12"},
		{src: "<% set blk %>hello << variables.s >><% endset %><< blk | upper >>", want: "HELLO TEXT"},
		{name: "set in if is visible after", src: "<% if true %><% set y = 2 %><% endif %><< y >>", want: "2"},
		{src: "<% with y = 5, z = 6 %><< y + z >><% endwith %>", want: "11"},
		{src: "<% filter upper %>abc << variables.s >><% endfilter %>", want: "ABC TEXT"},
		{src: "<% raw %><< x >> <% if %><% endraw %>", want: "<< x >> <% if %>"},
		{src: "a <# a comment #>b", want: "a b"},
		{src: "<%- if true -%>  yes  <%- endif -%>", want: "yes"},
		{src: "  << 1 >>  ", want: "1"},
		{src: "x\n<< 1 >>\ny", want: "x\n1\ny"},
		{name: "break outside loop", src: "<% break %>", err: "'break' outside a loop"},
		{name: "assign context", src: "<% set context = 1 %>", err: "'context' is read-only"},
		{name: "assign variables", src: "<% set variables = 1 %>", err: "use API.setvariable"},
		{name: "assign into variables", src: "<% set variables.x = 1 %>", err: "use API.setvariable(variables, key, value)"},
		{name: "unknown statement", src: "<% foo %>", err: "unknown statement 'foo'"},
		{name: "syntax error position", src: "line1\n<< 1 + >>", err: "template line 2, col 8: syntax error"},
		{name: "unclosed block", src: "<% if true %>x", err: "syntax error"},
		{name: "recursive loop", src: "<% for x in [1] recursive %><% endfor %>", err: "recursive loops are not supported"},
	})
}

func TestErrorFormat(t *testing.T) {
	e := newEngine()
	_, err := e.RenderText("select 1\nfrom << nope >>", testScope(), Where{File: "p.yaml", Line: 7, Col: 12, Stage: "load", Field: "query"})
	want := "stage 'load' field query (p.yaml:7:12): template line 2, col 9: 'nope' is undefined"
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v\nwant    %s", err, want)
	}
	var te *Error
	if !errors.As(err, &te) || te.Kind != ErrRender || te.Line != 2 || te.Col != 9 || te.Where.Stage != "load" {
		t.Fatalf("error fields = %+v", te)
	}
	// Where without a file.
	_, err = e.RenderText("<< nope >>", nil, Where{Field: "skip_if", Line: 3, Col: 2})
	if err == nil || err.Error() != "field skip_if (line 3, col 2): template line 1, col 4: 'nope' is undefined" {
		t.Fatalf("error = %v", err)
	}
	if got := (Where{Stage: "s"}).String(); got != "stage 's'" {
		t.Errorf("Where.String = %q", got)
	}
}

func TestRenderTextRules(t *testing.T) {
	e := newEngine()
	scope := testScope()
	for in, want := range map[string]string{
		"  plain text  ":        "  plain text  ", // untouched, not even stripped
		"2024":                  "2024",
		"select * from t":       "select * from t",
		"  << 2024 >>  ":        "2024", // rendered text is stripped
		"<< 'true' >>":          "true", // no inference
		"<< variables.items >>": "[1, 2, 3]",
	} {
		got, err := e.RenderText(in, scope, Where{})
		if err != nil || got != want {
			t.Errorf("RenderText(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestHasTemplate(t *testing.T) {
	for s, want := range map[string]bool{
		"plain": false, "a < b": false, "x <<y": true, "<% if %>": true, "<# c #>": true,
		"@json{}": true, "JSON>{}": true, " @json{}": false, "a@json": false, "": false,
	} {
		if got := HasTemplate(s); got != want {
			t.Errorf("HasTemplate(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestInferType(t *testing.T) {
	cases := []struct {
		in   string
		want any
	}{
		{"true", true}, {"True", true}, {"FALSE", false}, {"null", nil}, {"None", nil}, {"none", nil},
		{"42", int64(42)}, {"-3", int64(-3)}, {"+5", int64(5)}, {"0", int64(0)}, {"-0", int64(0)},
		{" 1_000 ", int64(1000)}, {"1__000", "1__000"}, {"_1", "_1"}, {"1_", "1_"},
		{"007", "007"}, {"00", "00"}, {"0x10", "0x10"}, {"1.50", 1.5}, {".5", 0.5}, {"5.", 5.0},
		{"1e3", 1000.0}, {"-2.5E-3", -0.0025}, {"1_000.5", 1000.5}, {"007.5", "007.5"}, {"0.5", 0.5},
		{"NaN", "NaN"}, {"nan", "nan"}, {"inf", "inf"}, {"-Infinity", "-Infinity"}, {"1e999", "1e999"},
		{"99999999999999999999", "99999999999999999999"}, {"", ""}, {"abc", "abc"}, {"1 2", "1 2"},
		{"2024-03-01", "2024-03-01"}, {"e5", "e5"}, {"1e", "1e"}, {".", "."},
	}
	for _, c := range cases {
		got := InferType(c.in)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("InferType(%q) = %#v, want %#v", c.in, got, c.want)
		}
	}
}

func TestTruthy(t *testing.T) {
	falsy := []any{nil, false, "false", "False", "0", "0.0", "none", "None", "", "  ", "[]", "{}", "()",
		0, int64(0), 0.0, []any{}, map[string]any{}}
	truthy := []any{true, "true", "1", "no", "off", "yes", "x", 1, -1, 0.5, []any{1}, map[string]any{"a": 1}, "-0.0"}
	for _, v := range falsy {
		if Truthy(v) {
			t.Errorf("Truthy(%#v) = true, want false", v)
		}
	}
	for _, v := range truthy {
		if !Truthy(v) {
			t.Errorf("Truthy(%#v) = false, want true", v)
		}
	}
}

func TestRenderValue(t *testing.T) {
	e := newEngine()
	scope := testScope()
	in := map[string]any{
		"plain_year":  "2024",
		"plain_zero":  "007",
		"plain_true":  "true",
		"tpl_int":     "<< variables.a + 1 >>",
		"tpl_zero":    "<< '007' >>",
		"tpl_bool":    "<< variables.flag >>",
		"tpl_none":    "<< variables.nil >>",
		"tpl_float":   "<< variables.f >>",
		"tpl_text":    "id-<< variables.a >>",
		"number":      5,
		"nested":      map[string]any{"list": []any{"<< 1 >>", "x", 2, map[string]any{"deep": "<< 'd' >>"}}},
		"json":        "@json {\"a\": [1, 2.5, \"  spaced   text  \"], \"b\": {\"c\": << variables.a >>}, \"t\": << variables.flag | tojson >>}",
		"json_plain":  "@json[1, 2]",
		"not_json":    " @json{}",
		"<< key >>":   "keys are not rendered",
		"strings":     []string{"<< 1 >>", "b"},
		"json_string": "@json \"<< variables.s >>\"",
	}
	snapshot := deepCopy(in)
	got, err := e.RenderValue(in, scope, Where{Field: "connection"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"plain_year":  "2024",
		"plain_zero":  "007",
		"plain_true":  "true",
		"tpl_int":     int64(2),
		"tpl_zero":    "007",
		"tpl_bool":    true,
		"tpl_none":    nil,
		"tpl_float":   1.5,
		"tpl_text":    "id-1",
		"number":      5,
		"nested":      map[string]any{"list": []any{int64(1), "x", 2, map[string]any{"deep": "d"}}},
		"json":        value.MapOf("a", []any{int64(1), 2.5, "  spaced   text  "}, "b", value.MapOf("c", int64(1)), "t", true),
		"json_plain":  []any{int64(1), int64(2)},
		"not_json":    " @json{}",
		"<< key >>":   "keys are not rendered",
		"strings":     []any{int64(1), "b"},
		"json_string": "text",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("RenderValue:\n got %#v\nwant %#v", got, want)
	}
	if !reflect.DeepEqual(in, snapshot) {
		t.Error("RenderValue mutated its input")
	}
	// Errors name the leaf's path.
	_, err = e.RenderValue(map[string]any{"params": map[string]any{"host": "<< nope >>"}}, scope, Where{Stage: "s", Field: "connection"})
	if err == nil || !strings.Contains(err.Error(), "field connection.params.host: template line 1, col 4: 'nope' is undefined") {
		t.Errorf("error = %v", err)
	}
	_, err = e.RenderValue([]any{"ok", "<< nope >>"}, scope, Where{Field: "args"})
	if err == nil || !strings.Contains(err.Error(), "field args[1]") {
		t.Errorf("error = %v", err)
	}
	// Scalars pass through.
	if v, err := e.RenderValue(3.5, scope, Where{}); err != nil || v != 3.5 {
		t.Errorf("scalar: %v %v", v, err)
	}
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			out[k] = deepCopy(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = deepCopy(e)
		}
		return out
	case []string:
		return append([]string(nil), x...)
	}
	return v
}

func TestJSONBlocks(t *testing.T) {
	e := newEngine()
	scope := testScope()
	// Nested maps from a loop.
	src := `@json {"rows": [<% for r in variables.rows %>{"id": << r.id >>, "name": << r.name | tojson >>}<% if not loop.last %>, <% endif %><% endfor %>]}`
	got, err := e.RenderValue(src, scope, Where{})
	if err != nil {
		t.Fatal(err)
	}
	// Objects keep their key order (value.Map).
	if string(value.JSON(got)) != `{"rows":[{"id":1,"name":"a"},{"id":2,"name":"b"},{"id":3,"name":"c"}]}` {
		t.Errorf("got %#v", got)
	}
	// Invalid JSON: a clear error with the parser's message and position.
	_, err = e.RenderValue("@json {\"a\": \n  << variables.s >>}", scope, Where{Stage: "s", Field: "body"})
	var te *Error
	if !errors.As(err, &te) || te.Kind != ErrJSON || !strings.Contains(err.Error(), "invalid JSON in @json value (rendered text line 2, col 4)") {
		t.Errorf("error = %v", err)
	}
	_, err = e.RenderValue("@json {} extra", scope, Where{})
	if err == nil || !strings.Contains(err.Error(), "invalid JSON") {
		t.Errorf("trailing data: %v", err)
	}
	// The deprecated prefix works and warns.
	got, err = e.RenderValue(`JSON>{"a": << variables.a >>}`, scope, Where{Stage: "s", Field: "params.q"})
	if err != nil || !reflect.DeepEqual(got, value.MapOf("a", int64(1))) {
		t.Errorf("JSON>: %#v %v", got, err)
	}
	w := e.Warnings()
	if len(w) != 1 || w[0] != "stage 's' field params.q: Using deprecated JSON> prefix. Please replace with '@json'." {
		t.Errorf("warnings = %q", w)
	}
	if w := e.Warnings(); len(w) != 0 {
		t.Errorf("warnings not drained: %q", w)
	}
	// A Warn callback receives them instead.
	var seen []string
	e2 := New(Options{Warn: func(s string) { seen = append(seen, s) }})
	if _, err := e2.RenderValue("JSON>[1]", nil, Where{}); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1 || len(e2.Warnings()) != 0 {
		t.Errorf("Warn callback: %q", seen)
	}
	// Big integers that do not fit int64 keep every digit.
	got, err = e.RenderValue("@json [123456789012345678901234567890]", scope, Where{})
	if err != nil || !reflect.DeepEqual(got, []any{value.Decimal("123456789012345678901234567890")}) {
		t.Errorf("big int: %#v %v", got, err)
	}
}

func TestContextIsReadOnly(t *testing.T) {
	e := newEngine()
	scope := testScope()
	before := deepCopy(scope.Context)
	for _, src := range []string{
		"<% set context.x = 1 %>",
		"<% set context['x'] = 1 %>",
		"<% set context.env.HOME = 'x' %>",
		"<< context.update({'x': 1}) >>",
		"<< context.env.update({'x': 1}) >>",
		"<< context.pop('env') >>",
		"<< context.clear() >>",
		"<< context.setdefault('x', 1) >>",
		"<< context.user.tags.append('c') >>",
		"<< API.setvariable(context, 'x', 1) >>",
		"<< API.setvariable(context.env, 'x', 1) >>",
		"<% set context = {} %>",
		"<% for context in [1] %><% endfor %>",
	} {
		_, err := e.RenderText(src, scope, Where{})
		if err == nil || !strings.Contains(err.Error(), "'context' is read-only") {
			t.Errorf("%s: error = %v, want read-only", src, err)
		}
	}
	if !reflect.DeepEqual(scope.Context, before) {
		t.Errorf("context changed: %#v", scope.Context)
	}
}

func TestSetVariablePersists(t *testing.T) {
	e := newEngine()
	scope := &Scope{Variables: map[string]any{"a": 1}}
	out, err := e.RenderText("<< API.setvariable(variables, 'x', [1, 2]) >>|<< variables.x >>|<< variables.x|length >>", scope, Where{})
	if err != nil || out != "[1, 2]|[1, 2]|2" {
		t.Fatalf("got %q %v", out, err)
	}
	if !reflect.DeepEqual(scope.Variables["x"], []any{int64(1), int64(2)}) {
		t.Fatalf("variables.x = %#v", scope.Variables["x"])
	}
	// A later render (a later stage) sees it.
	out, err = e.RenderText("<< variables.x[1] >>", scope, Where{})
	if err != nil || out != "2" {
		t.Fatalf("later render: %q %v", out, err)
	}
	// Values are stored as plain Go data.
	_, err = e.RenderText("<< API.setvariable(variables, 'd', {'k': API.dt('2024-01-02')}) >>", scope, Where{})
	if err != nil {
		t.Fatal(err)
	}
	if d, ok := scope.Variables["d"].(*value.Map); !ok || !d.Values["k"].(time.Time).Equal(time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("variables.d = %#v", scope.Variables["d"])
	}
	// A failed render changes nothing.
	_, err = e.RenderText("<< API.setvariable(variables, 'y', 1) >><< nope >>", scope, Where{})
	if err == nil {
		t.Fatal("no error")
	}
	if _, ok := scope.Variables["y"]; ok {
		t.Fatal("variables.y was set by a failed render")
	}
	// Nil variables map: created on the first write.
	empty := &Scope{}
	if _, err := e.RenderText("<< API.setvariable(variables, 'z', 'v') >>", empty, Where{}); err != nil {
		t.Fatal(err)
	}
	if empty.Variables["z"] != "v" {
		t.Fatalf("nil map: %#v", empty.Variables)
	}
	// A dict made in the template works like a namespace.
	runCases(t, []tcase{
		{src: "<% set ns = {} %><% for i in [1, 2, 3] %><< API.setvariable(ns, 'last', i) | string | replace('1','') | replace('2','') | replace('3','') >><% endfor %><< ns.last >>", want: "3"},
		{name: "nested data", src: "<< API.setvariable(variables.m, 'x', 1) >>", err: "can only set top-level pipeline variables"},
		{name: "dunder key", src: "<< API.setvariable(variables, '__class__', 1) >>", err: "not allowed"},
		{name: "non-string key", src: "<< API.setvariable(variables, 1, 1) >>", err: "key must be a string"},
		{name: "other collection", src: "<< API.setvariable([1], 'a', 1) >>", err: "collection must be variables"},
	})
}

func TestCache(t *testing.T) {
	e := newEngine()
	for i := 0; i < cacheSize+10; i++ {
		src := "<< " + strings.Repeat("1+", i%50) + "1 >>" + strings.Repeat(" ", i)
		if _, err := e.RenderText(src, nil, Where{}); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(e.cache); n == 0 || n > cacheSize {
		t.Fatalf("cache size %d", n)
	}
}

func TestConcurrentUse(t *testing.T) {
	e := newEngine()
	done := make(chan error, 8)
	for g := 0; g < 8; g++ {
		go func() {
			for i := 0; i < 200; i++ {
				scope := testScope()
				out, err := e.RenderText("<% for r in variables.rows %><< r.id >><% endfor %>", scope, Where{})
				if err == nil && out != "123" {
					err = errors.New(out)
				}
				if err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for g := 0; g < 8; g++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
