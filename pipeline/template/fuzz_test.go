package template

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// FuzzRender checks that no template, however broken, panics or escapes the error type.
func FuzzRender(f *testing.F) {
	for _, s := range []string{
		"<< 1 + 2 >>", "<% for x in variables.items %><< loop.index >><% endfor %>", "<< variables.m.items() >>",
		"<% set %>", "<% for %>", "<< >>", "<% if %>", "<% raw %>x", "<< a. >>", "<< a[ >>", "<< {1:} >>",
		"<< 'a' | replace( >>", "<% endfor %>", "<% else %>", "<< x is >>", "<< x if >>", "<% set a, = 1 %>",
		"<< API.dt('2024-03-01').format('YYYY') >>", "@json {\"a\": << 1 >>}", "<< '%(a)s' % {} >>",
		"<< '{0[}'.format(1) >>", "<< '{'.format() >>", "<< [1][::0] >>", "<< 1 // 0 >>", "<< -9223372036854775807 - 2 >>",
		"<< variables.items[1:2:-1] >>", "<< '' | first >>", "<% with %><% endwith %>", "<% filter %><% endfilter %>",
		"<< API.dt().shift(days=1e300) >>", "<< API.dt(1e300) >>", "<< API.int('-') >>", "<< 'x' * -1 >>",
		"<< API.dt('x', format='[') >>", "<< API.dt('2024', format='YYYY[') >>", "<< API.look('a', none) >>",
	} {
		f.Add(s)
	}
	e := New(Options{Timeout: 200 * time.Millisecond, MaxOutput: 1 << 16,
		Now: func() time.Time { return fixedNow }})
	f.Fuzz(func(t *testing.T, src string) {
		if len(src) > 4096 {
			return
		}
		out, err := e.RenderValue(src, testScope(), Where{Field: "f"})
		if err != nil {
			var te *Error
			if !errors.As(err, &te) {
				t.Fatalf("%q: error of type %T: %v", src, err, err)
			}
			if strings.Contains(err.Error(), "internal error") {
				t.Fatalf("%q: %v", src, err)
			}
			return
		}
		_ = out
	})
}
