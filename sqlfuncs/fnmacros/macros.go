package fnmacros

import (
	"fmt"
	"strconv"
	"strings"
)

// builtin is one built-in macro: its canonical name and its body, "(params) AS expr" or
// "(params) AS TABLE select".
type builtin struct {
	name string
	body string
}

// dtBody builds the body of Fn.dt. Macros have no local variables, so the repeated
// sub-expressions are spelled out here once and pasted where needed. DuckDB binds every
// branch of the CASE for the argument's type, so each branch must bind for any type; typeof()
// is constant per call site, so the branches that do not apply cost nothing at run time.
func dtBody() string {
	// Casts to TIMESTAMP, TIMESTAMPTZ and BIGINT ignore surrounding spaces, so the text is not
	// trimmed (trim alone would double the cost of the common case).
	s := `CAST(a AS VARCHAR)`
	// Exact conversions: TIMESTAMPTZ through its epoch (UTC, whatever the session TimeZone),
	// naive timestamp types and DATE by a plain cast.
	tzType := `typeof(a) = 'TIMESTAMP WITH TIME ZONE'`
	tsType := `typeof(a) IN ('TIMESTAMP', 'DATE', 'TIMESTAMP_S', 'TIMESTAMP_MS', 'TIMESTAMP_NS')`
	numType := `(typeof(a) IN ('TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'HUGEINT', 'UTINYINT', ` +
		`'USMALLINT', 'UINTEGER', 'UBIGINT', 'UHUGEINT', 'FLOAT', 'DOUBLE') OR typeof(a) LIKE 'DECIMAL%')`
	fromTZ := func(x string) string { return `make_timestamp(epoch_us(` + x + `))` }

	// Numbers: the magnitude of the integer part decides the unit (10 digits = seconds,
	// 16 = microseconds, 17 and more = nanoseconds, anything else = milliseconds); only
	// seconds may carry a fraction.
	i := `TRY_CAST(` + s + ` AS BIGINT)`
	mag := `abs(TRY_CAST(` + s + ` AS DOUBLE))`
	numeric := `(CASE ` +
		`WHEN NOT (contains(` + s + `, '.') OR contains(lower(` + s + `), 'e')) AND ` + i + ` IS NOT NULL THEN (CASE ` +
		`WHEN ` + mag + ` >= 1e9 AND ` + mag + ` < 1e10 THEN make_timestamp(` + i + ` * 1000000) ` +
		`WHEN ` + mag + ` >= 1e15 AND ` + mag + ` < 1e16 THEN make_timestamp(` + i + `) ` +
		`WHEN ` + mag + ` >= 1e16 THEN make_timestamp(` + i + ` // 1000) ` +
		`ELSE make_timestamp(` + i + ` * 1000) END) ` +
		`WHEN ` + mag + ` >= 1e9 AND ` + mag + ` < 1e10 THEN ` +
		`make_timestamp(CAST(round(TRY_CAST(` + s + ` AS DOUBLE) * 1000000) AS BIGINT)) ` +
		`ELSE NULL END)`

	// Text: a naive text is cast to TIMESTAMP (a TIMESTAMPTZ cast would read it in the
	// session's zone); a text with an offset after the date (+02:00, -0530) goes through
	// TIMESTAMPTZ, which converts it; Z and UTC are what the plain TIMESTAMP cast does anyway;
	// a zone name (Europe/Tallinn) fails the plain cast and is converted by the TIMESTAMPTZ one.
	viaTZ := fromTZ(`TRY_CAST(` + s + ` AS TIMESTAMPTZ)`)
	hasOffset := `(contains(` + s + `, '+') OR contains(substr(trim(` + s + `), 11), '-'))`
	text := `(CASE ` +
		`WHEN ` + hasOffset + ` THEN coalesce(` + viaTZ + `, ` + numeric + `) ` +
		`ELSE coalesce(TRY_CAST(` + s + ` AS TIMESTAMP), ` + viaTZ + `, ` + numeric + `) END)`

	// Pattern: % codes are used as they are; otherwise Arrow-style tokens are translated.
	// strptime converts %z offsets and %Z zone names itself (result TIMESTAMPTZ, taken to UTC
	// through its epoch); a trailing Z, which %z does not accept, is rewritten as +00:00.
	fmtExpr := `(CASE WHEN position('%' IN pattern) > 0 THEN pattern ELSE ` +
		`replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(pattern, ` +
		`'YYYY', '%Y'), 'YY', '%y'), 'MM', '%m'), 'DD', '%d'), 'HH', '%H'), 'mm', '%M'), 'ss', '%S'), ` +
		`'SSSSSS', '%f'), 'SSS', '%g'), 'ZZ', '%z'), 'Z', '%z') END)`
	ts := `trim(` + s + `)`
	patValue := `(CASE WHEN (suffix(` + ts + `, 'Z') OR suffix(` + ts + `, 'z')) AND position('%z' IN ` + fmtExpr + `) > 0 ` +
		`THEN left(` + ts + `, length(` + ts + `) - 1) || '+00:00' ELSE ` + ts + ` END)`
	withPattern := fromTZ(`try_strptime(` + patValue + `, ` + fmtExpr + `)`)

	result := `(CASE ` +
		`WHEN a IS NULL THEN NULL ` +
		`WHEN ` + tzType + ` THEN ` + fromTZ(`TRY_CAST(a AS TIMESTAMPTZ)`) + ` ` +
		`WHEN ` + tsType + ` THEN TRY_CAST(a AS TIMESTAMP) ` +
		`WHEN pattern IS NOT NULL THEN ` + withPattern + ` ` +
		`WHEN ` + numType + ` THEN ` + numeric + ` ` +
		`ELSE ` + text + ` END)`

	return `(a, pattern := NULL, fail_on_error := FALSE) AS coalesce(` + result + `, ` +
		`CASE WHEN fail_on_error AND a IS NOT NULL THEN error('Fn.dt: cannot convert ''' || CAST(a AS VARCHAR) || ''' to TIMESTAMP' || ` +
		`CASE WHEN pattern IS NULL THEN '' ELSE ' with pattern ''' || pattern || '''' END) END)`
}

// validate builds the body of a validate_* macro: value passes through when ok is true,
// NULL passes when allowed, everything else raises msg. error() is typed NULL, so the
// result keeps value's type (the original cast its messages to INT, which broke text values).
func validate(params, ok, msg string) string {
	return `(` + params + `, allow_null := FALSE) AS CASE ` +
		`WHEN value IS NULL THEN CASE WHEN allow_null THEN NULL ELSE error('Validation failed: NULL value not allowed') END ` +
		`WHEN ` + ok + ` THEN value ` +
		`ELSE error('Validation failed: ' || CAST(value AS VARCHAR) || ` + msg + `) END`
}

func month445() string {
	week := `CAST(strftime(Fn.dt(d), '%V') AS INTEGER)`
	year := `strftime(Fn.dt(d), '%G')`
	var b strings.Builder
	b.WriteString(`(d) AS CASE WHEN d IS NULL THEN NULL `)
	// 4-4-5 weeks per quarter: months end after ISO weeks 4, 8, 13, 17, 21, 26, ...
	ends := []int{4, 8, 13, 17, 21, 26, 30, 34, 39, 43, 47}
	lo := 1
	for i, hi := range ends {
		b.WriteString(`WHEN ` + week + ` BETWEEN ` + strconv.Itoa(lo) + ` AND ` + strconv.Itoa(hi) +
			` THEN ` + year + ` || '-` + fmt.Sprintf("%02d", i+1) + `' `)
		lo = hi + 1
	}
	b.WriteString(`ELSE ` + year + ` || '-12' END`)
	return b.String()
}

// strf builds a one-argument formatting macro over Fn.dt.
func strf(format string) string {
	return `(a) AS strftime(Fn.dt(a), '` + format + `')`
}

// builtins lists every built-in macro in creation order.
var builtins = []builtin{
	{"columns", `(tbl) AS TABLE SELECT column_name, data_type FROM information_schema.columns ` +
		`WHERE table_name = tbl ORDER BY table_catalog, table_schema, ordinal_position`},
	{"calendar", `() AS TABLE SELECT ` +
		`generate_series AS date, ` +
		`strftime(generate_series, '%Y') AS year, ` +
		`strftime(generate_series, '%b') AS month, ` +
		`strftime(generate_series, '%m') AS month_no, ` +
		`strftime(generate_series, '%d') AS day, ` +
		`strftime(generate_series, '%a') AS weekday, ` +
		`strftime(generate_series, '%u') AS weekday_no, ` +
		`strftime(generate_series, '%G') AS isoyear, ` +
		`strftime(generate_series, '%V') AS iso_week, ` +
		`strftime(generate_series, '%G-%V-%u') AS isoweekdate, ` +
		`strftime(generate_series, '%G-00-%V') AS isoweek, ` +
		`strftime(generate_series, '%V-%u') AS iso_week_day, ` +
		`strftime(generate_series, '%Y-%m-%d') AS isodate, ` +
		`quarter(generate_series) AS quarter, ` +
		`yearweek(generate_series) AS yearweek ` +
		`FROM generate_series(CAST(current_date - INTERVAL 4 YEAR AS TIMESTAMP), ` +
		`CAST(current_date + INTERVAL 1 YEAR AS TIMESTAMP), INTERVAL 1 DAY)`},

	{"add", `(a, b) AS a + b`},
	{"plus", `(a, b) AS a + b`},
	{"minus", `(a, b) AS a - b`},
	{"mult", `(a, b) AS a * b`},
	{"div", `(a, b) AS ifnull(a / nullif(b, 0), 0)`},
	{"float", `(a) AS ifnull(TRY_CAST(a AS DOUBLE), 0.0)`},
	{"int", `(a) AS ifnull(TRY_CAST(a AS BIGINT), CAST(0 AS BIGINT))`},
	{"str", `(a) AS ifnull(TRY_CAST(a AS VARCHAR), '')`},

	{"dt", dtBody()},
	{"dt_isoformat", strf("%Y-%m-%d %H:%M:%S")},
	{"dt_yyyy_mm_dd", strf("%Y-%m-%d")},
	{"dt_YYYY", strf("%Y")},
	{"dt_MM", strf("%m")},
	{"dt_DD", strf("%d")},
	{"dt_HH", strf("%H")},
	{"dt_iso_year", strf("%G")},
	{"dt_iso_week", strf("%V")},
	{"dt_iso_day", strf("%u")},
	{"dt_iso_week_day", strf("%V-%u")},
	{"dt_iso_weekdate", strf("%G-W%V-%u")},
	{"dt_dayname", strf("%A")},
	{"dt_monthname", strf("%b")},
	{"dt_quarter", `(d) AS quarter(Fn.dt(d))`},
	{"dt_add", `(d, days) AS Fn.dt(d) + to_days(CAST(days AS INTEGER))`},
	{"dt_boy", `(d) AS CAST(date_trunc('year', Fn.dt(d)) AS TIMESTAMP)`},
	{"dt_bom", `(d) AS CAST(date_trunc('month', Fn.dt(d)) AS TIMESTAMP)`},
	{"dt_eom", `(d) AS CAST(last_day(Fn.dt(d)) AS TIMESTAMP)`},
	{"dt_monday", `(d) AS CAST(date_trunc('week', Fn.dt(d)) AS TIMESTAMP)`},

	{"eq", `(a, b) AS a = b`},
	{"ne", `(a, b) AS a <> b`},
	{"gt", `(a, b) AS a > b`},
	{"lt", `(a, b) AS a < b`},
	{"gte", `(a, b) AS a >= b`},
	{"lte", `(a, b) AS a <= b`},

	{"ifelse", `(a, b, c) AS CASE WHEN a THEN b ELSE c END`},
	{"bool", `(a) AS CASE ` +
		`WHEN a IS NULL THEN FALSE ` +
		`WHEN TRY_CAST(a AS BOOLEAN) IS NOT NULL THEN TRY_CAST(a AS BOOLEAN) ` +
		`WHEN TRY_CAST(a AS DOUBLE) = 0 THEN FALSE ` +
		`WHEN CAST(a AS VARCHAR) = '' THEN FALSE ` +
		`ELSE TRUE END`},
	{"when", `(a, b, c) AS CASE WHEN Fn.bool(a) THEN b ELSE c END`},
	{"and_", `(a, b) AS Fn.bool(a) AND Fn.bool(b)`},
	{"or_", `(a, b) AS Fn.bool(a) OR Fn.bool(b)`},
	{"not_", `(a) AS NOT Fn.bool(a)`},

	{"uniquelist", `(a) AS list_distinct(list(a))`},
	{"has", `(l, x) AS list_contains(l, x)`},
	{"includes", `(text, pattern) AS regexp_matches(text, pattern)`},
	{"extract", `(text, pattern) AS regexp_extract(text, pattern)`},
	{"trim", `(a) AS trim(a)`},
	{"month445", month445()},

	{"validate_regex", validate(`value, pattern`, `regexp_matches(CAST(value AS VARCHAR), pattern)`,
		`' does not match pattern ' || pattern`)},
	{"validate_gt", validate(`value, threshold`, `value > threshold`,
		`' <= ' || CAST(threshold AS VARCHAR)`)},
	{"validate_lt", validate(`value, threshold`, `value < threshold`,
		`' >= ' || CAST(threshold AS VARCHAR)`)},
	{"validate_between", validate(`value, min_val, max_val`, `value BETWEEN min_val AND max_val`,
		`' not in [' || CAST(min_val AS VARCHAR) || ', ' || CAST(max_val AS VARCHAR) || ']'`)},
	{"validate_not_between", validate(`value, min_val, max_val`, `value NOT BETWEEN min_val AND max_val`,
		`' is within disallowed range [' || CAST(min_val AS VARCHAR) || ', ' || CAST(max_val AS VARCHAR) || ']'`)},
}
