package template

import (
	"fmt"
	"testing"
)

// BenchmarkRenderQuery renders a typical query field (parse cached after the first call).
func BenchmarkRenderQuery(b *testing.B) {
	e := newEngine()
	scope := testScope()
	src := "SELECT * FROM \"<< variables.loop_control.name >>\" WHERE day >= '<< API.dt().shift(days=-7).format('YYYY-MM-DD') >>' AND id IN << API.sqltuple(variables.items, 'number') >>"
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := e.RenderText(src, scope, Where{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRenderLoop renders a loop over 1000 rows.
func BenchmarkRenderLoop(b *testing.B) {
	e := newEngine()
	rows := make([]any, 1000)
	for i := range rows {
		rows[i] = map[string]any{"id": i, "name": fmt.Sprintf("n%d", i)}
	}
	scope := &Scope{Variables: map[string]any{"rows": rows}}
	src := "<% for r in variables.rows %>(<< r.id >>, << r.name | tojson >>)<% if not loop.last %>,<% endif %><% endfor %>"
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := e.RenderText(src, scope, Where{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRenderValue renders connection params with a few templated leaves.
func BenchmarkRenderValue(b *testing.B) {
	e := newEngine()
	scope := testScope()
	v := map[string]any{
		"host": "db.example.com", "port": "5432", "user": "<< context.user.name >>",
		"params": map[string]any{"since": "<< API.dt().date() >>", "limit": "<< variables.a * 100 >>"},
		"body":   "@json {\"ids\": << API.look('rows[*].id', variables) | tojson >>}",
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := e.RenderValue(v, scope, Where{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompile measures parsing (no cache).
func BenchmarkCompile(b *testing.B) {
	src := "SELECT * FROM \"<< variables.loop_control.name >>\" WHERE day >= '<< API.dt().shift(days=-7).format('YYYY-MM-DD') >>' <% for x in variables.items %><< x >><% endfor %>"
	for i := 0; i < b.N; i++ {
		if _, err := compile(src); err != nil {
			b.Fatal(err)
		}
	}
}
