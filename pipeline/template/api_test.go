package template

import (
	"os"
	"strings"
	"testing"
	"time"
)

func readDoc(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../docs/templating.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestAPIDt(t *testing.T) {
	runCases(t, []tcase{
		// construction
		{src: "<< API.dt() >>", want: "2024-03-01T10:00:00+00:00"},
		{src: "<< API.dt(none) >>", want: "2024-03-01T10:00:00+00:00"},
		{src: "<< API.dt(none, default='2020-01-01') >>", want: "2020-01-01T00:00:00+00:00"},
		{src: "<< API.dt('2024-03-01') >>", want: "2024-03-01T00:00:00+00:00"},
		{src: "<< API.dt('2024-03-01T10:11:12') >>", want: "2024-03-01T10:11:12+00:00"},
		{src: "<< API.dt('2024-03-01 10:11:12.5') >>", want: "2024-03-01T10:11:12.500000+00:00"},
		{src: "<< API.dt('2024-03-01T10:00:00+02:00') >>", want: "2024-03-01T10:00:00+02:00"},
		{src: "<< API.dt('2024-03-01T10:00:00Z') >>", want: "2024-03-01T10:00:00+00:00"},
		{src: "<< API.dt('2024-03-01T10:00:00-0530') >>", want: "2024-03-01T10:00:00-05:30"},
		{src: "<< API.dt('20240301') >>", want: "2024-03-01T00:00:00+00:00"},
		{src: "<< API.dt('2024-03') >>", want: "2024-03-01T00:00:00+00:00"},
		{src: "<< API.dt('2024') >>", want: "2024-01-01T00:00:00+00:00"},
		{src: "<< API.dt('2024-W09-5') >>", want: "2024-03-01T00:00:00+00:00"},
		{src: "<< API.dt('2024-061') >>", want: "2024-03-01T00:00:00+00:00"},
		{src: "<< API.dt('2024-03-01T1011') >>", want: "2024-03-01T10:11:00+00:00"},
		{src: "<< API.dt(1709287200) >>", want: "2024-03-01T10:00:00+00:00"},
		{src: "<< API.dt(1709287200.25) >>", want: "2024-03-01T10:00:00.250000+00:00"},
		{name: "nanoseconds", src: "<< API.dt(1709287200000000000) >>", want: "2024-03-01T10:00:00+00:00"},
		{src: "<< API.dt(API.dt('2024-03-01')) >>", want: "2024-03-01T00:00:00+00:00"},
		{src: "<< API.dt(variables.when) >>", want: "2024-03-01T10:00:00+00:00"},
		{src: "<< API.dt('01/03/2024', format='DD/MM/YYYY') >>", want: "2024-03-01T00:00:00+00:00"},
		{src: "<< API.dt('1 March 2024 3:04 pm', format='D MMMM YYYY h:mm a') >>", want: "2024-03-01T15:04:00+00:00"},
		{src: "<< API.dt('Fri, 01 Mar 2024 10:00:00 +0200', format='ddd, DD MMM YYYY HH:mm:ss Z') >>", want: "2024-03-01T10:00:00+02:00"},
		{src: "<< API.dt('2024-03-01 10:00 Europe/Tallinn', format='YYYY-MM-DD HH:mm ZZZ') >>", want: "2024-03-01T10:00:00+02:00"},
		{src: "<< API.dt('01.03.24', format='DD.MM.YY') >>", want: "2024-03-01T00:00:00+00:00"},
		{src: "<< API.dt('1709287200', format='X') >>", want: "2024-03-01T10:00:00+00:00"},
		{src: "<< API.dt('2024-03-01 10:11:12.123456', format='YYYY-MM-DD HH:mm:ss.SSSSSS') >>", want: "2024-03-01T10:11:12.123456+00:00"},
		{src: "<< API.dt('[x] 2024', format='[[x]] YYYY') >>", want: "2024-01-01T00:00:00+00:00"},
		{src: "<< API.dt('01/03/2024 10:00', format='%d/%m/%Y %H:%M') >>", want: "2024-03-01T10:00:00+00:00"},
		{src: "<< API.dt('bad', default='2020-02-02') >>", want: "2020-02-02T00:00:00+00:00"},
		{src: "<< API.dt('bad', format='YYYY', default=0) >>", want: "1970-01-01T00:00:00+00:00"},
		{name: "parse failure", src: "<< API.dt('bad') >>", err: "API.dt: could not match input 'bad'"},
		{name: "format mismatch", src: "<< API.dt('2024-03-01', format='DD/MM/YYYY') >>", err: "failed to match 'DD/MM/YYYY'"},
		// A default that is not a date is returned as given (AnkaFlow), for templates to test.
		{src: "<< API.dt('bad', default='none-given') >>", want: "none-given"},
		{src: "<< API.dt(none, default='none-given') >>", want: "none-given"},
		{src: "<< API.dt('bad', default='none-given') == 'none-given' >>", want: "True"},
		{name: "out of range", src: "<< API.dt('2024-02-30') >>", err: "date out of range"},
		{name: "list", src: "<< API.dt([1]) >>", err: "cannot convert a list to a date"},
		// tz converts
		{src: "<< API.dt('2024-03-01T10:00:00', tz='Europe/Tallinn') >>", want: "2024-03-01T12:00:00+02:00"},
		{src: "<< API.dt('2024-07-01T10:00:00Z', tz='Europe/Tallinn') >>", want: "2024-07-01T13:00:00+03:00"},
		{src: "<< API.dt(tz='America/New_York') >>", want: "2024-03-01T05:00:00-05:00"},
		{src: "<< API.dt('2024-03-01T10:00:00', tz='+05:30') >>", want: "2024-03-01T15:30:00+05:30"},
		{name: "bad tz", src: "<< API.dt(tz='Mars/Base') >>", err: "unknown time zone 'Mars/Base'"},
		// methods
		{src: "<< API.dt().isoformat() >>", want: "2024-03-01T10:00:00+00:00"},
		{src: "<< API.dt().isoformat(' ') >>", want: "2024-03-01 10:00:00+00:00"},
		{src: "<< API.dt().format() >>", want: "2024-03-01 10:00:00+00:00"},
		{src: "<< API.dt().format('YYYY-MM-DD HH:mm:ss') >>", want: "2024-03-01 10:00:00"},
		{src: "<< API.dt('2024-03-01T15:04:05.123456+02:00').format('YYYY YY MMMM MMM MM M DDDD DDD DD D Do dddd ddd d') >>",
			want: "2024 24 March Mar 03 3 061 61 01 1 1st Friday Fri 5"},
		{src: "<< API.dt('2024-03-01T15:04:05.123456+02:00').format('HH H hh h mm m ss s SSSSSS SSS S A a ZZ Z W') >>",
			want: "15 15 03 3 04 4 05 5 123456 123 1 PM pm +02:00 +0200 2024-W09-5"},
		{src: "<< API.dt('2024-03-01T10:00:00+02:00').format('X x') >>", want: "1709280000 1709280000000000"},
		{src: "<< API.dt('2024-03-01T10:00:00', tz='Europe/Tallinn').format('ZZZ') >>", want: "EET"},
		{src: "<< API.dt().format('[Day] D [of] MMMM') >>", want: "Day 1 of March"},
		{src: "<< API.dt().strftime('%Y-%m-%d %H:%M:%S %a %b %j %G-W%V-%u %%') >>", want: "2024-03-01 10:00:00 Fri Mar 061 2024-W09-5 %"},
		{src: "<< API.dt().shift(days=-1) >>", want: "2024-02-29T10:00:00+00:00"},
		{src: "<< API.dt().shift(hours=5, minutes=30) >>", want: "2024-03-01T15:30:00+00:00"},
		{src: "<< API.dt().shift(weeks=1) >>", want: "2024-03-08T10:00:00+00:00"},
		{src: "<< API.dt().shift(months=1) >>", want: "2024-04-01T10:00:00+00:00"},
		{src: "<< API.dt('2024-01-31').shift(months=1) >>", want: "2024-02-29T00:00:00+00:00"},
		{src: "<< API.dt('2024-02-29').shift(years=1) >>", want: "2025-02-28T00:00:00+00:00"},
		{src: "<< API.dt().shift(quarters=-1) >>", want: "2023-12-01T10:00:00+00:00"},
		{src: "<< API.dt().shift(seconds=1.5) >>", want: "2024-03-01T10:00:01.500000+00:00"},
		{src: "<< API.dt().shift(days=0.5) >>", want: "2024-03-01T22:00:00+00:00"},
		{name: "shift over DST keeps wall time", src: "<< API.dt('2024-03-30T12:00:00+02:00', tz='Europe/Tallinn').shift(days=1) >>", want: "2024-03-31T12:00:00+03:00"},
		{name: "bad shift unit", src: "<< API.dt().shift(fortnights=1) >>", err: "unexpected argument 'fortnights'"},
		{name: "positional shift", src: "<< API.dt().shift(1) >>", err: "keyword arguments only"},
		{src: "<< API.dt().replace(day=15, hour=0) >>", want: "2024-03-15T00:00:00+00:00"},
		{src: "<< API.dt().replace(tzinfo='Europe/Tallinn') >>", want: "2024-03-01T10:00:00+02:00"},
		{name: "bad replace", src: "<< API.dt().replace(day=31, month=2) >>", err: "day is out of range for month"},
		{src: "<< API.dt('2024-03-14T10:11:12').floor('day') >>", want: "2024-03-14T00:00:00+00:00"},
		{src: "<< API.dt('2024-03-14T10:11:12').floor('week') >>", want: "2024-03-11T00:00:00+00:00"},
		{src: "<< API.dt('2024-03-14T10:11:12').floor('month') >>", want: "2024-03-01T00:00:00+00:00"},
		{src: "<< API.dt('2024-08-14T10:11:12').floor('quarter') >>", want: "2024-07-01T00:00:00+00:00"},
		{src: "<< API.dt('2024-03-14T10:11:12').floor('year') >>", want: "2024-01-01T00:00:00+00:00"},
		{src: "<< API.dt('2024-03-14T10:11:12').floor('hour') >>", want: "2024-03-14T10:00:00+00:00"},
		{src: "<< API.dt('2024-03-14T10:11:12').ceil('day') >>", want: "2024-03-14T23:59:59.999999+00:00"},
		{src: "<< API.dt('2024-02-14').ceil('month') >>", want: "2024-02-29T23:59:59.999999+00:00"},
		{name: "bad frame", src: "<< API.dt().floor('decade') >>", err: "unsupported frame 'decade'"},
		{src: "<< API.dt('2024-03-01T10:00:00Z').to('Europe/Tallinn') >>", want: "2024-03-01T12:00:00+02:00"},
		{src: "<< API.dt('2024-03-01T10:00:00+02:00').to('UTC') >>", want: "2024-03-01T08:00:00+00:00"},
		{src: "<< API.dt().date() >>", want: "2024-03-01"},
		{src: "<< API.dt().date().isoformat() >>", want: "2024-03-01"},
		{src: "<< API.dt().date().format('DD.MM.YYYY') >>", want: "01.03.2024"},
		{src: "<< API.dt().date().strftime('%d/%m/%Y') >>", want: "01/03/2024"},
		{src: "<< API.dt().date().shift(days=1) >>", want: "2024-03-02"},
		{src: "<< API.dt().date().replace(day=9) >>", want: "2024-03-09"},
		{src: "<< API.dt().date().year >>/<< API.dt().date().weekday() >>", want: "2024/4"},
		{src: "<< API.dt().time() >>", want: "10:00:00"},
		{src: "<< API.dt().timestamp() >>", want: "1709287200.0"},
		{src: "<< API.dt().int_timestamp >>", want: "1709287200"},
		{src: "<< API.dt().year >>-<< API.dt().month >>-<< API.dt().day >> << API.dt().hour >>:<< API.dt().minute >>:<< API.dt().second >>", want: "2024-3-1 10:0:0"},
		{src: "<< API.dt().weekday() >> << API.dt().isoweekday() >> << API.dt().isocalendar() >>", want: "4 5 (2024, 9, 5)"},
		{src: "<< API.dt().week >> << API.dt().quarter >> << API.dt().tzinfo >>", want: "9 1 UTC"},
		{src: "<< API.dt('2024-03-01', tz='Europe/Tallinn').tzinfo >>", want: "Europe/Tallinn"},
		{src: "<< API.dt().microsecond >>", want: "0"},
		{src: "<< API.dt('2024-03-02') > API.dt('2024-03-01') >>", want: "True"},
		{src: "<< API.dt('2024-03-01T12:00:00+02:00') == API.dt('2024-03-01T10:00:00Z') >>", want: "True"},
		{src: "<< [API.dt()] >>", want: "[<Arrow [2024-03-01T10:00:00+00:00]>]"},
		{src: "<< API.dt()|string >>", want: "2024-03-01T10:00:00+00:00"},
		{src: "<< API.dt().format('YYYY') | int + 1 >>", want: "2025"},
	})
}

func TestAPILook(t *testing.T) {
	runCases(t, []tcase{
		{src: "<< API.look('loop_control.id', variables) >>", want: "7"},
		{src: "<< API.look('rows[*].id', variables) >>", want: "[1, 2, 3]"},
		{src: "<< API.look('rows[?id > `1`].name', variables) >>", want: "['b', 'c']"},
		{src: "<< API.look('max(rows[*].id)', variables) >>", want: "3"},
		{src: "<< API.look('rows[0]', variables) >>", want: "{'city': 'Tartu', 'id': 1, 'name': 'a'}"},
		{src: "<< API.look('f', variables) >>", want: "1.5"},
		{src: "<< API.look('env.HOME', context) >>", want: "/home/ann"},
		{src: "<< API.look('nope', variables) >>", want: "None"},
		{src: "<< API.look('nope', variables, 'dflt') >>", want: "dflt"},
		{src: "<< API.look('nope', variables, default=0) >>", want: "0"},
		{src: "<< API.look('[0]', [1, 2]) >>", want: "1"},
		{src: "<< API.look('length(@)', 'abc') >>", want: "3"},
		{src: "<< API.look('a', {'a': [1.5, 2]}) >>", want: "[1.5, 2]"},
		{name: "bad expression", src: "<< API.look('[', variables) >>", err: "API.look: invalid JMESPath expression"},
		{name: "path must be text", src: "<< API.look(1, variables) >>", err: "path must be a string"},
	})
}

func TestAPISQLTuple(t *testing.T) {
	runCases(t, []tcase{
		{src: "<< API.sqltuple(['a', 'b']) >>", want: "('a','b')"},
		{src: "<< API.sqltuple(variables.names) >>", want: "('x','y')"},
		{src: `<< API.sqltuple(["O'Brien", 'x']) >>`, want: "('O''Brien','x')"},
		{src: "<< API.sqltuple([1, 2]) >>", want: "('1','2')"},
		{src: "<< API.sqltuple(['a', none]) >>", want: "('a',NULL)"},
		{src: "<< API.sqltuple((1, 2.5), mode='number') >>", want: "(1, 2.5)"},
		{src: "<< API.sqltuple(variables.rows | map(attribute='id') | list, 'number') >>", want: "(1, 2, 3)"},
		{src: "<< API.sqltuple([]) >>", want: "(NULL)"},
		{src: "<< API.sqltuple([], mode='number') >>", want: "(NULL)"},
		{name: "number mode rejects text", src: "<< API.sqltuple([1, '2'], mode='number') >>", err: "item 1 is '2' (str), not a number"},
		{name: "number mode rejects bool", src: "<< API.sqltuple([true], mode='number') >>", err: "not a number"},
		{name: "bad mode", src: "<< API.sqltuple([1], mode='date') >>", err: "unknown mode 'date'"},
		{name: "not a list", src: "<< API.sqltuple('abc') >>", err: "expects a list or tuple, not str"},
	})
}

func TestAPIMisc(t *testing.T) {
	runCases(t, []tcase{
		{src: "<< API.int('42') + 1 >>", want: "43"},
		{src: "<< API.int('007') >>", want: "7"},
		{src: "<< API.int(' 1_000 ') >>", want: "1000"},
		{src: "<< API.int(3.99) >>", want: "3"},
		{src: "<< API.int(-3.99) >>", want: "-3"},
		{src: "<< API.int(true) >>", want: "1"},
		{src: "<< API.int('ff', 16) >>", want: "255"},
		{name: "int of float text", src: "<< API.int('1.5') >>", err: "invalid literal for int() with base 10: '1.5'"},
		{name: "int of list", src: "<< API.int([]) >>", err: "not 'list'"},
		{src: "<< API.peek(1) >> << API.peek(1.5) >> << API.peek('s') >> << API.peek(none) >> << API.peek(true) >>", want: "int float str NoneType bool"},
		{src: "<< API.peek([1]) >> << API.peek((1,)) >> << API.peek({}) >> << API.peek(API.dt()) >> << API.peek(API.dt().date()) >>", want: "list tuple dict datetime date"},
		{src: "<< API.peek(variables) >> << API.peek(context) >> << API.peek(API.dt) >>", want: "dict dict function"},
		{src: "<< API.error(false, 'not raised') >>", want: "False"},
		{src: "<< API.error(0, 'not raised') >>", want: "0"},
		{src: "x<< API.error(variables.a > 5, 'too big') >>", want: "xFalse"},
	})
}

func TestAPIError(t *testing.T) {
	e := newEngine()
	_, err := e.RenderText("select << API.error(variables.a == 1, 'a must not be 1') >>", testScope(),
		Where{Stage: "check", Field: "query", File: "p.yaml", Line: 4, Col: 10})
	if err == nil || err.Error() != "stage 'check' field query (p.yaml:4:10): a must not be 1" {
		t.Fatalf("error = %v", err)
	}
	var te *Error
	if !asError(err, &te) || te.Kind != ErrUser || te.Msg != "a must not be 1" || te.Line != 1 {
		t.Fatalf("error fields = %+v", te)
	}
}

func asError(err error, te **Error) bool {
	e, ok := err.(*Error)
	if ok {
		*te = e
	}
	return ok
}

func TestNowInjected(t *testing.T) {
	e := New(Options{Now: func() time.Time { return time.Date(2030, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600)) }})
	out, err := e.RenderText("<< API.dt() >>", nil, Where{})
	if err != nil || out != "2030-01-02T02:04:05+00:00" {
		t.Fatalf("got %q %v", out, err)
	}
	// The default clock is the real one.
	out, err = New(Options{}).RenderText("<< API.dt().year >>", nil, Where{})
	if err != nil || out != time.Now().UTC().Format("2006") {
		t.Fatalf("default clock: %q %v", out, err)
	}
}

func TestDocsMentionAPI(t *testing.T) {
	doc := readDoc(t)
	for _, name := range []string{"API.dt", "API.look", "API.sqltuple", "API.setvariable", "API.error", "API.int", "API.peek"} {
		if !strings.Contains(doc, name) {
			t.Errorf("docs/templating.md does not mention %s", name)
		}
	}
}
