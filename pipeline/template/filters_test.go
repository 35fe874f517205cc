package template

import (
	"sort"
	"strings"
	"testing"
)

func TestFilters(t *testing.T) {
	runCases(t, []tcase{
		// bool: skip_if truthiness
		{src: "<< 'false' | bool >>", want: "False"},
		{src: "<< 'False' | bool >>", want: "False"},
		{src: "<< '0' | bool >>", want: "False"},
		{src: "<< 'none' | bool >>", want: "False"},
		{src: "<< '' | bool >>", want: "False"},
		{src: "<< [] | bool >>", want: "False"},
		{src: "<< 0 | bool >>", want: "False"},
		{src: "<< 'yes' | bool >>", want: "True"},
		{src: "<< 'no' | bool >>", want: "True"},
		{src: "<< 1 | bool >>", want: "True"},
		{src: "<< variables.nil | bool >>", want: "False"},
		// int / float: Python int() and float()
		{src: "<< '42' | int >>", want: "42"},
		{src: "<< '007' | int >>", want: "7"},
		{src: "<< ' -3 ' | int >>", want: "-3"},
		{src: "<< 3.9 | int >>", want: "3"},
		{src: "<< '3.9' | int >>", want: "3"},
		{src: "<< true | int >>", want: "1"},
		{src: "<< 'ff' | int(base=16) >>", want: "255"},
		{src: "<< 'abc' | int(0) >>", want: "0"},
		{src: "<< 'abc' | int(default=-1) >>", want: "-1"},
		{src: "<< 'abc' | int >>", err: "invalid literal for int() with base 10: 'abc'"},
		{src: "<< '1.5' | float >>", want: "1.5"},
		{src: "<< 2 | float >>", want: "2.0"},
		{src: "<< '1e3' | float >>", want: "1000.0"},
		{src: "<< 'x' | float(0.5) >>", want: "0.5"},
		{src: "<< 'x' | float >>", err: "could not convert string to float: 'x'"},
		// tojson: plain JSON like json.dumps
		{src: "<< variables.rows[0] | tojson >>", want: `{"city": "Tartu", "id": 1, "name": "a"}`},
		{src: "<< {'b': 1, 'a': [1, 2.5, none, true]} | tojson >>", want: `{"b": 1, "a": [1, 2.5, null, true]}`},
		{src: "<< '<a href=\"x\">&amp;</a>' | tojson >>", want: `"<a href=\"x\">&amp;</a>"`},
		{src: "<< 'Tõnu' | tojson >>", want: `"T\u00f5nu"`},
		{src: "<< {'a': [1]} | tojson(indent=2) >>", want: "{\n  \"a\": [\n    1\n  ]\n}"},
		{src: "<< variables.when | tojson >>", want: `"2024-03-01T10:00:00+00:00"`},
		// strings
		{src: "<< 'abc' | upper >>", want: "ABC"},
		{src: "<< 'ABC' | lower >>", want: "abc"},
		{src: "<< 'hello world' | title >>", want: "Hello World"},
		{src: "<< 'hELLO' | capitalize >>", want: "Hello"},
		{src: "<< '  x  ' | trim >>|", want: "x|"},
		{src: "<< 'xxaxx' | trim('x') >>", want: "a"},
		{src: "<< 'a-b-c' | replace('-', '_') >>", want: "a_b_c"},
		{src: "<< 'a-b-c' | replace('-', '_', 1) >>", want: "a_b-c"},
		{src: "<< 'abc' | length >>", want: "3"},
		{src: "<< 'abc' | count >>", want: "3"},
		{src: "<< 'abc' | first >><< 'abc' | last >>", want: "ac"},
		{src: "<< 'abc' | list >>", want: "['a', 'b', 'c']"},
		{src: "<< 'abc' | reverse >>", want: "cba"},
		{src: "<< 42 | string ~ '!' >>", want: "42!"},
		{src: "<< [1, 'a'] | string >>", want: "[1, 'a']"},
		{src: "<< 'a b  c' | wordcount >>", want: "3"},
		{src: "<< 'one two three' | truncate(9, leeway=0) >>", want: "one..."},
		{src: "<< 'a b' | urlencode >>", want: "a%20b"},
		{src: "<< {'a': 'x y', 'b': 1} | urlencode >>", want: "a=x+y&b=1"},
		{src: "<< '<b>x</b>' | escape >>", want: "&lt;b&gt;x&lt;/b&gt;"},
		{src: "<< '<b>x</b>  y' | striptags >>", want: "x y"},
		{src: "<< 'x' | center(5) >>|", want: "x  |"},
		{src: "<< 'a\nb' | indent(2) >>", want: "a\n  b"},
		{src: "<< '%s=%d' | format('a', 1) >>", want: "a=1"},
		{src: "<< 'x' | safe >>", want: "x"},
		{src: "<< [1, 'a'] | pprint >>", want: "[1, 'a']"},
		// numbers
		{src: "<< -3 | abs >>", want: "3"},
		{src: "<< -2.5 | abs >>", want: "2.5"},
		{src: "<< 2.567 | round(2) >>", want: "2.57"},
		{src: "<< 2.5 | round >>", want: "3.0"},
		{src: "<< 2.1 | round(method='ceil') >>", want: "3.0"},
		{src: "<< 2.9 | round(0, 'floor') >>", want: "2.0"},
		// sequences
		{src: "<< variables.items | join(',') >>", want: "1,2,3"},
		{src: "<< variables.items | join >>", want: "123"},
		{src: "<< variables.rows | join(', ', attribute='name') >>", want: "a, b, c"},
		{src: "<< variables.items | length >>", want: "3"},
		{src: "<< variables.m | length >>", want: "4"},
		{src: "<< variables.items | first >>-<< variables.items | last >>", want: "1-3"},
		{src: "<< [] | first | default('none') >>", want: "none"},
		{src: "<< variables.items | sum >>", want: "6"},
		{src: "<< variables.rows | sum(attribute='id') >>", want: "6"},
		{src: "<< variables.items | max >>-<< variables.items | min >>", want: "3-1"},
		{src: "<< variables.rows | max(attribute='id') | attr('name') >>", want: "c"},
		{src: "<< [3, 1, 2] | sort >>", want: "[1, 2, 3]"},
		{src: "<< [3, 1, 2] | sort(reverse=true) >>", want: "[3, 2, 1]"},
		{src: "<< ['b', 'A', 'c'] | sort >>", want: "['A', 'b', 'c']"},
		{src: "<< ['b', 'A', 'c'] | sort(case_sensitive=true) >>", want: "['A', 'b', 'c']"},
		{src: "<< variables.rows | sort(attribute='city') | map(attribute='name') | list >>", want: "['b', 'a', 'c']"},
		{src: "<< [1, 2, 1, 3, 2] | unique | list >>", want: "[1, 2, 3]"},
		{src: "<< ['a', 'A', 'b'] | unique | list >>", want: "['a', 'b']"},
		{src: "<< [1, 1.0, true] | unique | list >>", want: "[1]"},
		{src: "<< variables.rows | unique(attribute='city') | map(attribute='id') | list >>", want: "[1, 2]"},
		{src: "<< variables.rows | map(attribute='id') | list >>", want: "[1, 2, 3]"},
		{src: "<< variables.rows | map(attribute='zip', default='-') | join >>", want: "---"},
		{src: "<< ['a', 'b'] | map('upper') | join >>", want: "AB"},
		{src: "<< variables.rows | selectattr('city', 'equalto', 'Tartu') | map(attribute='name') | join >>", want: "ac"},
		{src: "<< variables.rows | rejectattr('city', '==', 'Tartu') | map(attribute='name') | join >>", want: "b"},
		{src: "<< variables.rows | selectattr('id', 'gt', 1) | list | length >>", want: "2"},
		{src: "<< [{'a': 1}, {'a': 0}, {}] | selectattr('a') | list >>", want: "[{'a': 1}]"},
		{src: "<< [1, 2, 3, 4] | select('odd') | list >>", want: "[1, 3]"},
		{src: "<< [1, 2, 3, 4] | reject('odd') | list >>", want: "[2, 4]"},
		{src: "<< [0, 1, '', 'a'] | select | list >>", want: "[1, 'a']"},
		{src: "<< [1, 2, 3, 4, 5] | batch(2) | list >>", want: "[[1, 2], [3, 4], [5]]"},
		{src: "<< [1, 2, 3] | batch(2, 0) | list >>", want: "[[1, 2], [3, 0]]"},
		{src: "<< [1, 2, 3, 4, 5] | slice(2) | list >>", want: "[[1, 2, 3], [4, 5]]"},
		{src: "<< [1, 2, 3] | reverse | list >>", want: "[3, 2, 1]"},
		{src: "<< variables.loop_control | items | list >>", want: "[('id', 7), ('name', 'seven')]"},
		{src: "<< {'b': 1, 'a': 2} | dictsort >>", want: "[('a', 2), ('b', 1)]"},
		{src: "<< {'b': 1, 'a': 2} | dictsort(by='value') >>", want: "[('b', 1), ('a', 2)]"},
		{src: "<% for city, rows in variables.rows | groupby('city') %><< city >>:<< rows | length >> <% endfor %>", want: "Tallinn:1 Tartu:2"},
		{src: "<< variables.m | attr('k') >>", want: "v"},
		{name: "unknown filter", src: "<< 1 | nope >>", err: "no filter named 'nope'"},
		{name: "filter on undefined", src: "<< variables.missing | upper >>", err: "'variables.missing' is undefined"},
		{name: "bad argument", src: "<< 'a' | replace('a') >>", err: "replace() missing required argument 'new'"},
		{name: "unknown keyword", src: "<< [1] | join(sep=',') >>", err: "unexpected keyword argument 'sep'"},
	})
}

func TestFilterNamesDocumented(t *testing.T) {
	doc := readDoc(t)
	var missing []string
	for _, f := range FilterNames() {
		if !strings.Contains(doc, "`"+f+"`") && !strings.Contains(doc, "`"+f+"(") {
			missing = append(missing, f)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("docs/templating.md does not mention filters %v", missing)
	}
}

func TestJinjaTests(t *testing.T) {
	runCases(t, []tcase{
		{src: "<< variables.a is number >>", want: "True"},
		{src: "<< variables.a is integer >>", want: "True"},
		{src: "<< variables.f is float >>", want: "True"},
		{src: "<< variables.s is string >>", want: "True"},
		{src: "<< variables.m is mapping >>", want: "True"},
		{src: "<< variables.items is sequence >>", want: "True"},
		{src: "<< variables.items is iterable >>", want: "True"},
		{src: "<< variables.a is iterable >>", want: "False"},
		{src: "<< variables.nil is none >>", want: "True"},
		{src: "<< variables.missing is none >>", want: "False"},
		{src: "<< variables.flag is boolean >>", want: "True"},
		{src: "<< variables.flag is true >>", want: "True"},
		{src: "<< variables.flag is false >>", want: "False"},
		{src: "<< 3 is odd >><< 3 is even >>", want: "TrueFalse"},
		{src: "<< 9 is divisibleby 3 >>", want: "True"},
		{src: "<< 9 is divisibleby(2) >>", want: "False"},
		{src: "<< 'abc' is lower >><< 'ABC' is upper >>", want: "TrueTrue"},
		{src: "<< 1 is eq 1 >><< 1 is ne 1 >>", want: "TrueFalse"},
		{src: "<< 2 is gt 1 >><< 2 is lt 1 >><< 2 is ge 2 >><< 2 is le 1 >>", want: "TrueFalseTrueFalse"},
		{src: "<< API.dt is callable >>", want: "True"},
		{src: "<< variables.nil is sameas none >>", want: "True"},
		{src: "<< variables.a is not string >>", want: "True"},
		{name: "unknown test", src: "<< 1 is nope >>", err: "no test named 'nope'"},
	})
}
