package value

import (
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Format prints v as DuckDB's CAST(v AS VARCHAR) does (NULL as "NULL"): DOUBLE 7 is "7.0",
// DECIMAL(5,2) 1.5 is "1.50", an INTERVAL of 90 minutes is "01:30:00", a STRUCT is
// {'k': v} with its keys in order, a MAP {k=v}, a LIST [a, b]. This is the one text form of a
// value shown to a person: `show`, `ankaflow sql` tables and CSV, connections(), messages.
func Format(v any) string {
	var b strings.Builder
	write(&b, v, false)
	return b.String()
}

func write(b *strings.Builder, v any, nested bool) {
	if nested {
		switch x := v.(type) {
		case nil, string, []any, []string, *Map, MapValue, map[string]any:
		case RawJSON:
			b.WriteString(string(x))
			return
		default:
			// DuckDB quotes the text of any element that needs it, e.g. an INTERVAL '01:00:00'.
			var e strings.Builder
			write(&e, v, false)
			writeNestedString(b, e.String())
			return
		}
	}
	switch x := v.(type) {
	case nil:
		b.WriteString("NULL")
	case string:
		if nested {
			writeNestedString(b, x)
		} else {
			b.WriteString(x)
		}
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case int:
		b.WriteString(strconv.Itoa(x))
	case int8:
		b.WriteString(strconv.FormatInt(int64(x), 10))
	case int16:
		b.WriteString(strconv.FormatInt(int64(x), 10))
	case int32:
		b.WriteString(strconv.FormatInt(int64(x), 10))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case uint8:
		b.WriteString(strconv.FormatUint(uint64(x), 10))
	case uint16:
		b.WriteString(strconv.FormatUint(uint64(x), 10))
	case uint32:
		b.WriteString(strconv.FormatUint(uint64(x), 10))
	case uint64:
		b.WriteString(strconv.FormatUint(x, 10))
	case uint:
		b.WriteString(strconv.FormatUint(uint64(x), 10))
	case *big.Int:
		b.WriteString(x.String())
	case float64:
		b.WriteString(FormatFloat(x, 64))
	case float32:
		b.WriteString(FormatFloat(float64(x), 32))
	case Decimal:
		b.WriteString(string(x))
	case RawJSON:
		b.WriteString(string(x))
	case []byte:
		writeBlob(b, x)
	case Date:
		b.WriteString(x.String())
	case Time:
		b.WriteString(x.String())
	case Timestamp:
		b.WriteString(x.String())
	case time.Time:
		b.WriteString(Timestamp{T: x, Unit: time.Nanosecond, Zone: x.Location()}.String())
	case Interval:
		b.WriteString(x.String())
	case time.Duration:
		b.WriteString(Interval{Micros: x.Microseconds()}.String())
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			write(b, e, true)
		}
		b.WriteByte(']')
	case []string:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			writeNestedString(b, e)
		}
		b.WriteByte(']')
	case *Map:
		if x == nil {
			b.WriteString("NULL")
			return
		}
		b.WriteByte('{')
		for i, k := range x.Keys {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('\'')
			b.WriteString(escapeNested(k))
			b.WriteString("': ")
			write(b, x.Values[k], true)
		}
		b.WriteByte('}')
	case MapValue:
		b.WriteByte('{')
		for i, p := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			write(b, p.Key, true)
			b.WriteByte('=')
			write(b, p.Value, true)
		}
		b.WriteByte('}')
	case map[string]any:
		// Go maps have no order; they should not reach a person, but if one does its keys
		// are sorted so the output is at least stable.
		write(b, sortedMap(x), nested)
	case fmt.Stringer:
		b.WriteString(x.String())
	case error:
		b.WriteString(x.Error())
	default:
		fmt.Fprint(b, v)
	}
}

// FormatFloat prints a DOUBLE (bits 64) or FLOAT (bits 32) as DuckDB does: the shortest
// digits that read back as the same number, positional with at least one decimal
// ("7.0", "1000000.0") from 1e-4 up to below 1e16, scientific otherwise ("1e+16", "1.5e-07").
func FormatFloat(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	e := strconv.FormatFloat(f, 'e', -1, bits) // d.ddde±XX
	mant, expText, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expText)
	neg := strings.HasPrefix(mant, "-")
	digits := strings.Replace(strings.TrimPrefix(mant, "-"), ".", "", 1)
	sign := ""
	if neg {
		sign = "-"
	}
	if exp < -4 || exp >= 16 {
		m := digits[:1]
		if len(digits) > 1 {
			m += "." + digits[1:]
		}
		es := "+"
		if exp < 0 {
			es = "-"
			exp = -exp
		}
		return fmt.Sprintf("%s%se%s%02d", sign, m, es, exp)
	}
	var intPart, frac string
	if exp >= 0 {
		if len(digits) <= exp+1 {
			intPart = digits + strings.Repeat("0", exp+1-len(digits))
		} else {
			intPart, frac = digits[:exp+1], digits[exp+1:]
		}
	} else {
		intPart = "0"
		frac = strings.Repeat("0", -exp-1) + digits
	}
	if frac == "" {
		frac = "0"
	}
	return sign + intPart + "." + frac
}

// nestedSpecial are the characters that make DuckDB quote a string inside a LIST, STRUCT or MAP.
const nestedSpecial = "\"'(),:=[]{}"

func writeNestedString(b *strings.Builder, s string) {
	if !needsQuotes(s) {
		b.WriteString(s)
		return
	}
	b.WriteByte('\'')
	b.WriteString(escapeNested(s))
	b.WriteByte('\'')
}

func needsQuotes(s string) bool {
	if s == "" || strings.EqualFold(s, "null") {
		return true
	}
	if isSpace(s[0]) || isSpace(s[len(s)-1]) {
		return true
	}
	return strings.ContainsAny(s, nestedSpecial)
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

func escapeNested(s string) string {
	return strings.ReplaceAll(s, "'", `\'`)
}

func writeBlob(b *strings.Builder, x []byte) {
	const hex = "0123456789ABCDEF"
	for _, c := range x {
		if c >= 32 && c <= 126 && c != '\\' && c != '\'' && c != '"' {
			b.WriteByte(c)
			continue
		}
		b.WriteString(`\x`)
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
}

func sortedMap(m map[string]any) *Map {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return &Map{Keys: keys, Values: m}
}

var epoch = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)

// String prints the date as DuckDB does ("2024-01-02", "0044-03-15 (BC)", "infinity").
func (d Date) String() string {
	switch {
	case d.Infinite > 0:
		return "infinity"
	case d.Infinite < 0:
		return "-infinity"
	}
	return formatDate(epoch.AddDate(0, 0, int(d.Days)))
}

func formatDate(t time.Time) string {
	y := t.Year()
	if y <= 0 { // year 0 is 1 BC
		return fmt.Sprintf("%04d-%02d-%02d (BC)", 1-y, int(t.Month()), t.Day())
	}
	return fmt.Sprintf("%04d-%02d-%02d", y, int(t.Month()), t.Day())
}

// String prints the time of day ("01:02:03", "01:02:03.5").
func (t Time) String() string {
	return clock(t.Micros*1000, false)
}

// clock prints nanoseconds as HH:MM:SS with the fraction's trailing zeros dropped.
func clock(nanos int64, allowNeg bool) string {
	sign := ""
	if nanos < 0 && allowNeg {
		sign = "-"
		nanos = -nanos
	}
	h := nanos / int64(time.Hour)
	nanos -= h * int64(time.Hour)
	m := nanos / int64(time.Minute)
	nanos -= m * int64(time.Minute)
	s := nanos / int64(time.Second)
	nanos -= s * int64(time.Second)
	out := fmt.Sprintf("%s%02d:%02d:%02d", sign, h, m, s)
	if nanos > 0 {
		out += "." + strings.TrimRight(fmt.Sprintf("%09d", nanos), "0")
	}
	return out
}

// String prints the timestamp as DuckDB does: "2024-01-02 03:04:05.5", and for TIMESTAMPTZ the
// time in its zone with the offset ("2024-01-02 01:04:05.123+00", "…+05:30").
func (ts Timestamp) String() string {
	switch {
	case ts.Infinite > 0:
		return "infinity"
	case ts.Infinite < 0:
		return "-infinity"
	}
	t := ts.T
	if ts.Zone != nil {
		t = t.In(ts.Zone)
	}
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
	out := formatDate(t)
	bc := strings.HasSuffix(out, " (BC)")
	out = strings.TrimSuffix(out, " (BC)")
	nanos := t.Sub(day).Nanoseconds()
	out += " " + clock(nanos, false)
	if ts.Zone != nil {
		_, off := t.Zone()
		sign := "+"
		if off < 0 {
			sign = "-"
			off = -off
		}
		out += fmt.Sprintf("%s%02d", sign, off/3600)
		if m := off % 3600 / 60; m != 0 || off%60 != 0 {
			out += fmt.Sprintf(":%02d", m)
		}
		if s := off % 60; s != 0 {
			out += fmt.Sprintf(":%02d", s)
		}
	}
	if bc {
		out += " (BC)"
	}
	return out
}

// String prints the interval as DuckDB does: "1 year 2 months 3 days 04:00:00", "01:30:00".
func (iv Interval) String() string {
	var parts []string
	unit := func(n int64, one, many string) {
		if n == 0 {
			return
		}
		u := many
		if n == 1 || n == -1 {
			u = one
		}
		parts = append(parts, strconv.FormatInt(n, 10)+" "+u)
	}
	years := int64(iv.Months) / 12
	unit(years, "year", "years")
	unit(int64(iv.Months)-years*12, "month", "months")
	unit(int64(iv.Days), "day", "days")
	if iv.Micros != 0 || len(parts) == 0 {
		parts = append(parts, clock(iv.Micros*1000, true))
	}
	return strings.Join(parts, " ")
}
