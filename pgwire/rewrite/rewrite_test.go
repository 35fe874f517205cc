package rewrite

import "testing"

func TestSimilarToRegex(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"a%", "^(?:a.*)$"},
		{"_b.c", `^(?:.b\.c)$`},
		{"(a|b)%", "^(?:(a|b).*)$"},
		{`100\%`, `^(?:100\%)$`},
		{"[a_]%", "^(?:[a_].*)$"},
	} {
		if got := SimilarToRegex(c.in); got != c.want {
			t.Errorf("SimilarToRegex(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
