package fnmacros

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
)

func openDB(t testing.TB, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// conn opens a fresh in-memory database and one session with the macros installed.
func conn(t testing.TB, user ...Macro) *sql.Conn {
	t.Helper()
	db := openDB(t, "")
	c, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := Install(context.Background(), c, user); err != nil {
		t.Fatal(err)
	}
	return c
}

// query returns the first column of every row, as text ("NULL" for NULL).
func query(c *sql.Conn, q string) ([]string, error) {
	rows, err := c.QueryContext(context.Background(), q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v sql.NullString
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		if v.Valid {
			out = append(out, v.String)
		} else {
			out = append(out, "NULL")
		}
	}
	return out, rows.Err()
}

// scalar evaluates expr and returns it as text.
func scalar(c *sql.Conn, expr string) (string, error) {
	r, err := query(c, "SELECT CAST(("+expr+") AS VARCHAR)")
	if err != nil {
		return "", err
	}
	if len(r) != 1 {
		return "", fmt.Errorf("%d rows", len(r))
	}
	return r[0], nil
}

func TestScalarMacros(t *testing.T) {
	c := conn(t)
	cases := []struct{ expr, want string }{
		// arithmetic
		{"Fn.add(1, 2)", "3"},
		{"Fn.plus(1.5, 2)", "3.5"},
		{"Fn.minus(5, 2)", "3"},
		{"Fn.mult(3, 4)", "12"},
		{"Fn.div(6, 3)", "2.0"},
		{"Fn.div(1, 0)", "0.0"},
		{"Fn.div(NULL, 2)", "0.0"},
		// conversions
		{"Fn.float('1.5')", "1.5"},
		{"Fn.float('x')", "0.0"},
		{"typeof(Fn.float('1.1'))", "DOUBLE"},
		{"Fn.int('42')", "42"},
		{"Fn.int('x')", "0"},
		{"Fn.int(3.7)", "4"},
		{"typeof(Fn.int('1'))", "BIGINT"},
		{"Fn.str(5)", "5"},
		{"Fn.str(NULL)", ""},
		// Fn.dt: strings
		{"Fn.dt('2024-03-01')", "2024-03-01 00:00:00"},
		{"Fn.dt('2024-03-01T10:00:00')", "2024-03-01 10:00:00"},
		{"Fn.dt(' 2024-03-01 10:00:00.123 ')", "2024-03-01 10:00:00.123"},
		{"Fn.dt('2024-03-01T10:00:00Z')", "2024-03-01 10:00:00"},
		{"Fn.dt('2024-03-01T10:00:00+02:00')", "2024-03-01 08:00:00"},
		{"Fn.dt('2024-03-01T10:00:00.5+02:00')", "2024-03-01 08:00:00.5"},
		{"Fn.dt('2024-03-01 10:00:00-0530')", "2024-03-01 15:30:00"},
		{"Fn.dt('2024-03-01 10:00:00+02')", "2024-03-01 08:00:00"},
		{"Fn.dt('2024-03-01 10:00:00 UTC')", "2024-03-01 10:00:00"},
		{"Fn.dt('garbage')", "NULL"},
		{"Fn.dt('')", "NULL"},
		{"Fn.dt(NULL)", "NULL"},
		{"typeof(Fn.dt('2024-03-01'))", "TIMESTAMP"},
		// Fn.dt: numbers
		{"Fn.dt(1709287200)", "2024-03-01 10:00:00"},
		{"Fn.dt('1709287200')", "2024-03-01 10:00:00"},
		{"Fn.dt(1709287200.5)", "2024-03-01 10:00:00.5"},
		{"Fn.dt(1709287200000)", "2024-03-01 10:00:00"},
		{"Fn.dt(1709287200123)", "2024-03-01 10:00:00.123"},
		{"Fn.dt(1709287200000000)", "2024-03-01 10:00:00"},
		{"Fn.dt(1709287200000000000)", "2024-03-01 10:00:00"},
		{"Fn.dt(5)", "1970-01-01 00:00:00.005"},
		{"Fn.dt(1.5)", "NULL"},
		// Fn.dt: typed values
		{"Fn.dt(DATE '2024-03-01')", "2024-03-01 00:00:00"},
		{"Fn.dt(TIMESTAMP '2024-03-01 10:00:00')", "2024-03-01 10:00:00"},
		{"Fn.dt(TIMESTAMP_NS '2024-03-01 10:00:00.123456789')", "2024-03-01 10:00:00.123456"},
		{"Fn.dt(TIMESTAMPTZ '2024-03-01 10:00:00+02')", "2024-03-01 08:00:00"},
		// Fn.dt: patterns
		{"Fn.dt('01/03/2024', 'DD/MM/YYYY')", "2024-03-01 00:00:00"},
		{"Fn.dt('01/03/2024', '%d/%m/%Y')", "2024-03-01 00:00:00"},
		{"Fn.dt('01.03.24 10:11:12', 'DD.MM.YY HH:mm:ss')", "2024-03-01 10:11:12"},
		{"Fn.dt('2024-03-01 10:00:00+02:00', 'YYYY-MM-DD HH:mm:ssZZ')", "2024-03-01 08:00:00"},
		{"Fn.dt('2024-03-01T10:00:00+0200', '%Y-%m-%dT%H:%M:%S%z')", "2024-03-01 08:00:00"},
		{"Fn.dt('2024-03-01T10:00:00Z', '%Y-%m-%dT%H:%M:%S%z')", "2024-03-01 10:00:00"},
		{"Fn.dt('2024-03-01 10:00:00 Europe/Tallinn', '%Y-%m-%d %H:%M:%S %Z')", "2024-03-01 08:00:00"},
		{"Fn.dt('2024-03-01 10:00:00 Europe/Tallinn')", "2024-03-01 08:00:00"},
		{"Fn.dt('2024-07-01 10:00:00 Europe/Tallinn')", "2024-07-01 07:00:00"},
		{"Fn.dt('nope', 'DD/MM/YYYY')", "NULL"},
		{"Fn.dt(NULL, 'DD/MM/YYYY')", "NULL"},
		{"Fn.dt('2024-03-01', fail_on_error := TRUE)", "2024-03-01 00:00:00"},
		// formatting helpers
		{"Fn.dt_isoformat(TIMESTAMP '2024-04-01 13:14:15')", "2024-04-01 13:14:15"},
		{"Fn.dt_yyyy_mm_dd('2024-04-01 13:14:15')", "2024-04-01"},
		{"Fn.dt_YYYY(DATE '2024-04-01')", "2024"},
		{"Fn.dt_yyyy(DATE '2024-04-01')", "2024"},
		{"Fn.dt_MM('2024-04-01')", "04"},
		{"Fn.dt_DD('2024-04-01')", "01"},
		{"Fn.dt_HH('2024-04-01 13:14:15')", "13"},
		{"Fn.dt_iso_year('2024-12-30')", "2025"},
		{"Fn.dt_iso_week('2024-12-30')", "01"},
		{"Fn.dt_iso_day('2024-12-30')", "1"},
		{"Fn.dt_iso_week_day('2024-12-30')", "01-1"},
		{"Fn.dt_iso_weekdate('2024-12-30')", "2025-W01-1"},
		{"Fn.dt_dayname('2024-04-01')", "Monday"},
		{"Fn.dt_monthname('2024-04-01')", "Apr"},
		{"Fn.dt_quarter('2024-04-01')", "2"},
		{"Fn.dt_add('2024-02-28', 2)", "2024-03-01 00:00:00"},
		{"Fn.dt_add(DATE '2024-03-01', -1)", "2024-02-29 00:00:00"},
		{"Fn.dt_boy('2024-04-17 10:00')", "2024-01-01 00:00:00"},
		{"Fn.dt_bom('2024-04-17 10:00')", "2024-04-01 00:00:00"},
		{"Fn.dt_eom('2024-02-10')", "2024-02-29 00:00:00"},
		{"Fn.dt_monday('2024-04-04 10:00')", "2024-04-01 00:00:00"},
		{"Fn.dt_YYYY(NULL)", "NULL"},
		// comparisons and logic
		{"Fn.eq(1, 1)", "true"},
		{"Fn.ne(1, 1)", "false"},
		{"Fn.gt(2, 1)", "true"},
		{"Fn.lt(2, 1)", "false"},
		{"Fn.gte(2, 2)", "true"},
		{"Fn.lte(3, 2)", "false"},
		{"Fn.ifelse(1 > 0, 'a', 'b')", "a"},
		{"Fn.ifelse(1 < 0, 'a', 'b')", "b"},
		{"Fn.bool(NULL)", "false"},
		{"Fn.bool('true')", "true"},
		{"Fn.bool('f')", "false"},
		{"Fn.bool('0')", "false"},
		{"Fn.bool(0)", "false"},
		{"Fn.bool(0.0)", "false"},
		{"Fn.bool(2)", "true"},
		{"Fn.bool('')", "false"},
		{"Fn.bool('yes')", "true"},
		{"Fn.when('yes', 1, 2)", "1"},
		{"Fn.when(0, 1, 2)", "2"},
		{"Fn.and_('yes', 1)", "true"},
		{"Fn.and_('yes', 0)", "false"},
		{"Fn.or_(0, NULL)", "false"},
		{"Fn.or_(0, 'x')", "true"},
		{"Fn.not_(0)", "true"},
		{"Fn.not_('t')", "false"},
		// lists and text
		{"Fn.has([1, 2], 2)", "true"},
		{"Fn.has([1, 2], 3)", "false"},
		{"Fn.includes('abc', 'b')", "true"},
		{"Fn.includes('abc', '^b')", "false"},
		{"Fn.extract('abc123', '[0-9]+')", "123"},
		{"Fn.trim('  a ')", "a"},
		// retail calendar
		{"Fn.month445('2024-12-30')", "2025-01"},
		{"Fn.month445(DATE '2024-01-01')", "2024-01"},
		{"Fn.month445('2024-01-29')", "2024-02"},
		{"Fn.month445('2024-03-25')", "2024-03"},
		{"Fn.month445('2024-04-01')", "2024-04"},
		{"Fn.month445('2024-06-24')", "2024-06"},
		{"Fn.month445('2024-11-25')", "2024-12"},
		{"Fn.month445('2020-12-31')", "2020-12"},
		{"Fn.month445(NULL)", "NULL"},
		// validation
		{"Fn.validate_regex('abc', '^a', false)", "abc"},
		{"Fn.validate_regex('abc', '^a')", "abc"},
		{"Fn.validate_regex(NULL, '^a', true)", "NULL"},
		{"Fn.validate_regex(123, '^1', false)", "123"},
		{"Fn.validate_gt(5, 3, false)", "5"},
		{"Fn.validate_gt(NULL, 3, true)", "NULL"},
		{"Fn.validate_lt(2, 3)", "2"},
		{"Fn.validate_between(5, 1, 10, false)", "5"},
		{"Fn.validate_between('b', 'a', 'c')", "b"},
		{"Fn.validate_not_between(11, 1, 10, false)", "11"},
	}
	for _, tc := range cases {
		got, err := scalar(c, tc.expr)
		if err != nil {
			t.Errorf("%s: %v", tc.expr, err)
			continue
		}
		if got != tc.want {
			t.Errorf("%s = %q, want %q", tc.expr, got, tc.want)
		}
	}
}

func TestMacroErrors(t *testing.T) {
	c := conn(t)
	cases := []struct{ expr, want string }{
		{"Fn.dt('garbage', fail_on_error := TRUE)", "Fn.dt: cannot convert 'garbage' to TIMESTAMP"},
		{"Fn.dt('nope', 'DD/MM/YYYY', fail_on_error := TRUE)", "Fn.dt: cannot convert 'nope' to TIMESTAMP with pattern 'DD/MM/YYYY'"},
		{"Fn.validate_regex('xbc', '^a', false)", "Validation failed: xbc does not match pattern ^a"},
		{"Fn.validate_regex(NULL, '^a', false)", "Validation failed: NULL value not allowed"},
		{"Fn.validate_gt(2, 3, false)", "Validation failed: 2 <= 3"},
		{"Fn.validate_lt(5, 3, false)", "Validation failed: 5 >= 3"},
		{"Fn.validate_between(11, 1, 10, false)", "Validation failed: 11 not in [1, 10]"},
		{"Fn.validate_between(NULL, 1, 10)", "Validation failed: NULL value not allowed"},
		{"Fn.validate_not_between(5, 1, 10, false)", "Validation failed: 5 is within disallowed range [1, 10]"},
	}
	for _, tc := range cases {
		_, err := scalar(c, tc.expr)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to contain %q", tc.expr, err, tc.want)
		}
	}
}

// TestOnColumns checks the macros on table columns, not only literals (the original's
// pattern form of Fn.dt worked only on literals).
func TestOnColumns(t *testing.T) {
	c := conn(t)
	ctx := context.Background()
	if _, err := c.ExecContext(ctx, `CREATE TABLE t AS SELECT * FROM (VALUES
		(1, '2024-03-01T10:00:00+02:00', '01/03/2024', 1709287200, 'abc'),
		(2, NULL, '02/03/2024', NULL, 'abd'),
		(3, 'garbage', 'x', 1709287200000, NULL)) v(id, s, d, n, txt)`); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		q    string
		want []string
	}{
		{"SELECT CAST(Fn.dt(s) AS VARCHAR) FROM t ORDER BY id", []string{"2024-03-01 08:00:00", "NULL", "NULL"}},
		{"SELECT CAST(Fn.dt(d, 'DD/MM/YYYY') AS VARCHAR) FROM t ORDER BY id", []string{"2024-03-01 00:00:00", "2024-03-02 00:00:00", "NULL"}},
		{"SELECT CAST(Fn.dt(n) AS VARCHAR) FROM t ORDER BY id", []string{"2024-03-01 10:00:00", "NULL", "2024-03-01 10:00:00"}},
		{"SELECT Fn.dt_dayname(d2) FROM (SELECT id, Fn.dt(d, '%d/%m/%Y') AS d2 FROM t) ORDER BY id", []string{"Friday", "Saturday", "NULL"}},
		{"SELECT Fn.validate_regex(txt, '^ab', true) FROM t ORDER BY id", []string{"abc", "abd", "NULL"}},
		{"SELECT CAST(list_sort(Fn.uniquelist(x)) AS VARCHAR) FROM (VALUES (1), (1), (2)) v(x)", []string{"[1, 2]"}},
		{"SELECT CAST(Fn.when(id > 1, id, 0) AS VARCHAR) FROM t ORDER BY id", []string{"0", "2", "3"}},
	}
	for _, tc := range cases {
		got, err := query(c, tc.q)
		if err != nil {
			t.Errorf("%s: %v", tc.q, err)
			continue
		}
		if strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("%s = %q, want %q", tc.q, got, tc.want)
		}
	}
	if _, err := query(c, "SELECT Fn.dt(s, fail_on_error := TRUE) FROM t"); err == nil ||
		!strings.Contains(err.Error(), "cannot convert 'garbage'") {
		t.Errorf("fail_on_error on a column: %v", err)
	}
	if _, err := query(c, "SELECT Fn.validate_gt(id, 1, false) FROM t"); err == nil ||
		!strings.Contains(err.Error(), "Validation failed: 1 <= 1") {
		t.Errorf("validate_gt on a column: %v", err)
	}
}

// TestDtTimeZoneIndependent: a TIMESTAMPTZ is converted to UTC whatever the session TimeZone.
func TestDtTimeZoneIndependent(t *testing.T) {
	c := conn(t)
	if _, err := c.ExecContext(context.Background(), "SET TimeZone = 'America/New_York'"); err != nil {
		t.Fatal(err)
	}
	for expr, want := range map[string]string{
		"Fn.dt(TIMESTAMPTZ '2024-03-01 10:00:00+02')": "2024-03-01 08:00:00",
		"Fn.dt('2024-03-01 10:00:00')":                "2024-03-01 10:00:00",
		"Fn.dt('2024-03-01T10:00:00Z')":               "2024-03-01 10:00:00",
	} {
		got, err := scalar(c, expr)
		if err != nil || got != want {
			t.Errorf("%s = %q, %v; want %q", expr, got, err, want)
		}
	}
}

func TestColumnsMacro(t *testing.T) {
	c := conn(t)
	if _, err := c.ExecContext(context.Background(), `CREATE TABLE tt (a INTEGER, b VARCHAR, c TIMESTAMP)`); err != nil {
		t.Fatal(err)
	}
	got, err := query(c, "SELECT column_name || ' ' || data_type FROM Fn.columns('tt')")
	if err != nil {
		t.Fatal(err)
	}
	if want := "a INTEGER|b VARCHAR|c TIMESTAMP"; strings.Join(got, "|") != want {
		t.Errorf("Fn.columns = %q, want %q", got, want)
	}
	got, err = query(c, "SELECT count(*) FROM Fn.columns('no_such_table')")
	if err != nil || got[0] != "0" {
		t.Errorf("missing table: %v %v", got, err)
	}
}

func TestCalendar(t *testing.T) {
	c := conn(t)
	got, err := query(c, "SELECT column_name || ' ' || column_type FROM (DESCRIBE SELECT * FROM Fn.calendar())")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"date TIMESTAMP", "year VARCHAR", "month VARCHAR", "month_no VARCHAR", "day VARCHAR",
		"weekday VARCHAR", "weekday_no VARCHAR", "isoyear VARCHAR", "iso_week VARCHAR",
		"isoweekdate VARCHAR", "isoweek VARCHAR", "iso_week_day VARCHAR", "isodate VARCHAR",
		"quarter BIGINT", "yearweek BIGINT",
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("calendar columns:\n got %q\nwant %q", got, want)
	}
	// One row per day from today-4 years to today+1 year, both ends included.
	today := time.Now().UTC()
	var todayDB string
	r, err := query(c, "SELECT CAST(current_date AS VARCHAR)")
	if err != nil {
		t.Fatal(err)
	}
	todayDB = r[0]
	if d, err := time.Parse("2006-01-02", todayDB); err == nil {
		today = d
	}
	from := today.AddDate(-4, 0, 0)
	to := today.AddDate(1, 0, 0)
	wantRows := int(to.Sub(from).Hours()/24) + 1
	got, err = query(c, "SELECT count(*) FROM Fn.calendar()")
	if err != nil {
		t.Fatal(err)
	}
	if got[0] != fmt.Sprint(wantRows) {
		t.Errorf("calendar rows = %s, want %d", got[0], wantRows)
	}
	got, err = query(c, `SELECT concat_ws(',', year, month, month_no, day, weekday, weekday_no, isoyear, iso_week,
		isoweekdate, isoweek, iso_week_day, isodate, quarter, yearweek)
		FROM Fn.calendar() WHERE date = current_date - INTERVAL 4 YEAR`)
	if err != nil || len(got) != 1 {
		t.Fatalf("first row: %v %v", got, err)
	}
	d := from
	_, wk := d.ISOWeek()
	if !strings.HasPrefix(got[0], fmt.Sprintf("%d,%s,%02d,%02d,%s,", d.Year(), d.Format("Jan"), d.Month(), d.Day(), d.Format("Mon"))) ||
		!strings.Contains(got[0], fmt.Sprintf(",%s,", d.Format("2006-01-02"))) ||
		!strings.Contains(got[0], fmt.Sprintf("%02d", wk)) {
		t.Errorf("first row %q does not describe %s", got[0], d.Format("2006-01-02"))
	}
}

func TestUserMacros(t *testing.T) {
	c := conn(t,
		Macro{Name: "double_it", Body: " (a) AS a * 2 ;; "},
		Macro{Name: "evens", Body: "(n) AS TABLE SELECT i FROM range(n) r(i) WHERE i % 2 = 0"},
		Macro{Name: "semi_in_string", Body: "(a) AS a || ';'"},
		Macro{Name: "last_days", Body: "(n) AS TABLE SELECT CAST(current_date - to_days(CAST(i AS INTEGER)) AS DATE) AS day FROM range(n) r(i)"},
	)
	for expr, want := range map[string]string{
		"Fn.double_it(21)":                       "42",
		"fn.DOUBLE_IT(2)":                        "4",
		"(SELECT sum(i) FROM Fn.evens(10))":      "20",
		"Fn.semi_in_string('x')":                 "x;",
		"(SELECT count(*) FROM Fn.last_days(3))": "3",
	} {
		got, err := scalar(c, expr)
		if err != nil || got != want {
			t.Errorf("%s = %q, %v; want %q", expr, got, err, want)
		}
	}
	// Re-installing replaces a user macro's body.
	if err := Install(context.Background(), c, []Macro{{Name: "double_it", Body: "(a) AS a * 3"}}); err != nil {
		t.Fatal(err)
	}
	if got, err := scalar(c, "Fn.double_it(2)"); err != nil || got != "6" {
		t.Errorf("replaced macro: %q %v", got, err)
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		m    Macro
		want string // "" = valid
	}{
		{Macro{"double_it", "(a) AS a * 2"}, ""},
		{Macro{"double_it", "(a) AS a * 2;"}, ""},
		{Macro{"_x1", "(a, b := 2) AS a + b"}, ""},
		{Macro{"t", "(a) as table select 1"}, ""},
		{Macro{"f", "(a) AS a || '(' || ';' -- ;\n"}, ""},
		{Macro{"f", "(a) AS /* ; */ a"}, ""},
		{Macro{"dt", "(a) AS a"}, "macro 'dt' already exists as a built-in Fn macro: choose another name"},
		{Macro{"DT_yyyy", "(a) AS a"}, "macro 'DT_yyyy' already exists as a built-in Fn macro: choose another name"},
		{Macro{"add", "(a) AS a"}, "already exists as a built-in Fn macro"},
		{Macro{"", "(a) AS a"}, "no name"},
		{Macro{"1x", "(a) AS a"}, "not an identifier"},
		{Macro{"a-b", "(a) AS a"}, "not an identifier"},
		{Macro{"x", ""}, "has no body"},
		{Macro{"x", "a AS a"}, "must start with the parameter list"},
		{Macro{"x", "(a) a + 1"}, "expected AS"},
		{Macro{"x", "(a) ASa"}, "expected AS"},
		{Macro{"x", "(a) AS "}, "nothing after AS"},
		{Macro{"x", "(a) AS  \n"}, "nothing after AS"},
		{Macro{"x", "(a AS a"}, "unbalanced"},
		{Macro{"x", "(a) AS a; DROP TABLE t"}, "single statement"},
		{Macro{"x", "(a) AS 'abc"}, "unterminated"},
	}
	for _, tc := range cases {
		err := Validate(tc.m)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("Validate(%+v) = %v, want ok", tc.m, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("Validate(%+v) = %v, want error containing %q", tc.m, err, tc.want)
		}
	}
}

func TestInstallRejectsBadUserMacros(t *testing.T) {
	db := openDB(t, "")
	ctx := context.Background()
	c, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	err = Install(ctx, c, []Macro{{Name: "dt", Body: "(a) AS a"}})
	if err == nil || err.Error() != "macro 'dt' already exists as a built-in Fn macro: choose another name" {
		t.Errorf("built-in name: %v", err)
	}
	err = Install(ctx, c, []Macro{{Name: "x", Body: "(a) AS a"}, {Name: "X", Body: "(a) AS a"}})
	if err == nil || !strings.Contains(err.Error(), "defined twice") {
		t.Errorf("duplicate: %v", err)
	}
	err = Install(ctx, c, []Macro{{Name: "broken", Body: "(a) AS a +"}})
	if err == nil || !strings.Contains(err.Error(), "macro 'broken'") {
		t.Errorf("DuckDB rejects the body: %v", err)
	}
	err = Install(ctx, c, []Macro{{Name: "good1", Body: "(a) AS a"}, {Name: "bad2", Body: "(a) AS nosuchfn(a"}, {Name: "good3", Body: "(a) AS a"}})
	if err == nil || !strings.Contains(err.Error(), "macro 'bad2'") {
		t.Errorf("the failing macro of a batch is named: %v", err)
	}
}

func TestInstallTwiceAndManySessions(t *testing.T) {
	db := openDB(t, "")
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c, err := db.Conn(ctx)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			for k := 0; k < 2; k++ { // twice on the same session
				if err := Install(ctx, c, []Macro{{Name: "shared_one", Body: "(a) AS a + 1"}}); err != nil {
					errs <- fmt.Errorf("session %d: %w", i, err)
					return
				}
			}
			if got, err := scalar(c, "Fn.add(Fn.shared_one(1), 1)"); err != nil || got != "3" {
				errs <- fmt.Errorf("session %d: %q %v", i, got, err)
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// execOnly hides QueryRowContext, so Install cannot probe and runs the whole script.
type execOnly struct{ c *sql.Conn }

func (e execOnly) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return e.c.ExecContext(ctx, q, args...)
}

func TestInstallWithPlainExecer(t *testing.T) {
	db := openDB(t, "")
	ctx := context.Background()
	c, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := 0; i < 2; i++ {
		if err := Install(ctx, execOnly{c}, []Macro{{Name: "twice", Body: "(a) AS 2 * a"}}); err != nil {
			t.Fatalf("install %d: %v", i, err)
		}
	}
	if got, err := scalar(c, "Fn.twice(Fn.dt_YYYY('2024-01-01')::INT)"); err != nil || got != "4048" {
		t.Errorf("got %q %v", got, err)
	}
	// *sql.DB works too (a pool: every connection sees the database-wide Fn catalog).
	if err := Install(ctx, db, nil); err != nil {
		t.Fatal(err)
	}
	var s string
	if err := db.QueryRowContext(ctx, "SELECT Fn.dt_dayname('2024-04-01')").Scan(&s); err != nil || s != "Monday" {
		t.Errorf("via *sql.DB: %q %v", s, err)
	}
}

// TestNothingPersisted installs into a file-backed database and checks that reopening it
// finds no Fn schema, catalog or macro.
func TestNothingPersisted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.duckdb")
	ctx := context.Background()
	func() {
		db, err := sql.Open("duckdb", path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		c, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := Install(ctx, c, []Macro{{Name: "mine", Body: "(a) AS a"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.ExecContext(ctx, "CREATE TABLE kept AS SELECT Fn.add(1, 2) AS x; CHECKPOINT"); err != nil {
			t.Fatal(err)
		}
	}()
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("duckdb", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	checks := map[string]string{
		"SELECT count(*) FROM kept": "1",
		"SELECT count(*) FROM duckdb_databases() WHERE lower(database_name) = 'fn'":                 "0",
		"SELECT count(*) FROM duckdb_schemas() WHERE lower(schema_name) = 'fn'":                     "0",
		"SELECT count(*) FROM duckdb_functions() WHERE function_name IN ('dt', 'calendar', 'mine')": "0",
	}
	for q, want := range checks {
		got, err := query(c, q)
		if err != nil || got[0] != want {
			t.Errorf("%s = %v %v, want %s", q, got, err, want)
		}
	}
	if _, err := query(c, "SELECT Fn.add(1, 2)"); err == nil {
		t.Error("Fn.add resolves in a session without Install")
	}
}

func TestBuiltinNames(t *testing.T) {
	want := strings.Fields(`columns calendar add plus minus mult div float int str dt dt_isoformat
		dt_yyyy_mm_dd dt_YYYY dt_MM dt_DD dt_HH dt_iso_year dt_iso_week dt_iso_day dt_iso_week_day
		dt_iso_weekdate dt_dayname dt_monthname dt_quarter dt_add dt_boy dt_bom dt_eom dt_monday
		eq ne gt lt gte lte ifelse bool when and_ or_ not_ uniquelist has includes extract trim
		month445 validate_regex validate_gt validate_lt validate_between validate_not_between`)
	got := BuiltinNames()
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("BuiltinNames:\n got %v\nwant %v", got, want)
	}
	// Every built-in is documented.
	doc, err := os.ReadFile("../../docs/fn-macros.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range sortedBuiltinNames() {
		if !strings.Contains(string(doc), "`Fn."+n+"(") {
			t.Errorf("docs/fn-macros.md does not document Fn.%s(", n)
		}
	}
}

// BenchmarkInstallNewDatabase measures the first Install on a database (ATTACH + every CREATE).
func BenchmarkInstallNewDatabase(b *testing.B) {
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		db, err := sql.Open("duckdb", "")
		if err != nil {
			b.Fatal(err)
		}
		c, err := db.Conn(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if err := Install(ctx, c, nil); err != nil {
			b.Fatal(err)
		}
		c.Close()
		db.Close()
	}
}

// BenchmarkOpenDatabase is the baseline for BenchmarkInstallNewDatabase: open + connect only.
func BenchmarkOpenDatabase(b *testing.B) {
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		db, err := sql.Open("duckdb", "")
		if err != nil {
			b.Fatal(err)
		}
		c, err := db.Conn(ctx)
		if err != nil {
			b.Fatal(err)
		}
		c.Close()
		db.Close()
	}
}

// BenchmarkOpenSession is the baseline for BenchmarkInstallNewSession: connect and close only.
func BenchmarkOpenSession(b *testing.B) {
	ctx := context.Background()
	db := openDB(b, "")
	for i := 0; i < b.N; i++ {
		c, err := db.Conn(ctx)
		if err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
}

// BenchmarkInstallNewSession measures Install on each new session of a database that already
// has the macros (the per-session cost).
func BenchmarkInstallNewSession(b *testing.B) {
	ctx := context.Background()
	db := openDB(b, "")
	c0, err := db.Conn(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer c0.Close()
	if err := Install(ctx, c0, nil); err != nil {
		b.Fatal(err)
	}
	user := []Macro{{Name: "double_it", Body: "(a) AS a * 2"}}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c, err := db.Conn(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if err := Install(ctx, c, user); err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
}

// BenchmarkDtColumn measures Fn.dt over one million text timestamps with offsets.
func BenchmarkDtColumn(b *testing.B) {
	ctx := context.Background()
	c := conn(b)
	if _, err := c.ExecContext(ctx, `CREATE TABLE ts AS SELECT strftime(TIMESTAMP '2024-01-01' + to_seconds(i), '%Y-%m-%dT%H:%M:%S') || '+02:00' AS s
		FROM range(1000000) r(i)`); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := query(c, "SELECT count(Fn.dt(s)) FROM ts"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDtColumnNaive measures Fn.dt over one million texts without offsets.
func BenchmarkDtColumnNaive(b *testing.B) {
	ctx := context.Background()
	c := conn(b)
	if _, err := c.ExecContext(ctx, `CREATE TABLE ts AS SELECT strftime(TIMESTAMP '2024-01-01' + to_seconds(i), '%Y-%m-%d %H:%M:%S') AS s
		FROM range(1000000) r(i)`); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := query(c, "SELECT count(Fn.dt(s)) FROM ts"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDtCastBaseline is the plain cast Fn.dt competes with.
func BenchmarkDtCastBaseline(b *testing.B) {
	ctx := context.Background()
	c := conn(b)
	if _, err := c.ExecContext(ctx, `CREATE TABLE ts AS SELECT strftime(TIMESTAMP '2024-01-01' + to_seconds(i), '%Y-%m-%dT%H:%M:%S') || '+02:00' AS s
		FROM range(1000000) r(i)`); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := query(c, "SELECT count(CAST(s AS TIMESTAMPTZ)) FROM ts"); err != nil {
			b.Fatal(err)
		}
	}
}
