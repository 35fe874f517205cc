package template

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// DateTime is what API.dt returns: an instant with a time zone, modelled on Python's Arrow.
type DateTime struct{ t time.Time }

// Date is DateTime.date(): a calendar day.
type Date struct{ t time.Time } // midnight UTC of the day

// Time returns the instant.
func (d *DateTime) Time() time.Time { return d.t }

func (d *DateTime) isoformat(sep string) string {
	t := d.t
	s := t.Format("2006-01-02") + sep + t.Format("15:04:05")
	if us := t.Nanosecond() / 1000; us != 0 {
		s += fmt.Sprintf(".%06d", us)
	}
	return s + offsetString(t, true)
}

func (d *Date) isoformat() string { return d.t.Format("2006-01-02") }

func offsetString(t time.Time, colon bool) string {
	_, off := t.Zone()
	sign := "+"
	if off < 0 {
		sign = "-"
		off = -off
	}
	h, m := off/3600, off%3600/60
	if colon {
		return fmt.Sprintf("%s%02d:%02d", sign, h, m)
	}
	return fmt.Sprintf("%s%02d%02d", sign, h, m)
}

// loadZone resolves a tz argument: an IANA name, UTC, local, or an offset like +02:00.
func loadZone(name string) (*time.Location, error) {
	n := strings.TrimSpace(name)
	switch strings.ToLower(n) {
	case "utc", "z", "gmt", "zulu", "etc/utc":
		return time.UTC, nil
	case "local":
		return time.Local, nil
	case "":
		return nil, errors.New("empty time zone")
	}
	if n[0] == '+' || n[0] == '-' {
		if off, ok := parseOffset(n); ok {
			return time.FixedZone("", off), nil
		}
	}
	loc, err := time.LoadLocation(n)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone '%s'", name)
	}
	return loc, nil
}

// parseOffset parses +HH, +HHMM, +HH:MM into seconds east of UTC.
func parseOffset(s string) (int, bool) {
	if len(s) < 3 || (s[0] != '+' && s[0] != '-') {
		return 0, false
	}
	digits := strings.ReplaceAll(s[1:], ":", "")
	if len(digits) != 2 && len(digits) != 4 {
		return 0, false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	h, _ := strconv.Atoi(digits[:2])
	m := 0
	if len(digits) == 4 {
		m, _ = strconv.Atoi(digits[2:])
	}
	if h > 23 || m > 59 {
		return 0, false
	}
	off := h*3600 + m*60
	if s[0] == '-' {
		off = -off
	}
	return off, true
}

// ---- ISO-8601 parsing ----

// parseISO parses the ISO-8601 forms Arrow's get() accepts: a date (2024-03-01, 20240301,
// 2024-03, 2024, 2024-W09-5, 2024-061), optionally followed by T or a space and a time
// (10, 10:00, 10:00:00, 10:00:00.123456, 1000, 100000) and an offset (Z, +02, +0200, +02:00).
// Text without an offset is UTC.
func parseISO(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	fail := fmt.Errorf("could not match input '%s' to any of the ISO-8601 formats", s)
	datePart, timePart := s, ""
	if i := strings.IndexAny(s, "Tt "); i >= 0 {
		datePart, timePart = s[:i], strings.TrimSpace(s[i+1:])
		if timePart == "" {
			return time.Time{}, fail
		}
	}
	y, mo, d, ok := parseISODate(datePart)
	if !ok {
		return time.Time{}, fail
	}
	loc := time.UTC
	h, mi, sec, ns := 0, 0, 0, 0
	if timePart != "" {
		// Offset.
		if strings.HasSuffix(timePart, "Z") || strings.HasSuffix(timePart, "z") {
			timePart = timePart[:len(timePart)-1]
		} else if strings.HasSuffix(strings.ToUpper(timePart), " UTC") {
			timePart = strings.TrimSpace(timePart[:len(timePart)-4])
		} else if i := strings.LastIndexAny(timePart, "+-"); i > 0 {
			off, ok := parseOffset(timePart[i:])
			if !ok {
				return time.Time{}, fail
			}
			loc = time.FixedZone("", off)
			timePart = timePart[:i]
		}
		if h, mi, sec, ns, ok = parseISOTime(timePart); !ok {
			return time.Time{}, fail
		}
	}
	if mo < 1 || mo > 12 || d < 1 || d > daysIn(y, time.Month(mo)) || h > 24 || mi > 59 || sec > 60 {
		return time.Time{}, fmt.Errorf("date out of range in '%s'", s)
	}
	return time.Date(y, time.Month(mo), d, h, mi, sec, ns, loc), nil
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func parseISODate(s string) (y, m, d int, ok bool) {
	switch {
	case len(s) == 4 && allDigits(s):
		return atoi(s), 1, 1, true
	case len(s) == 8 && allDigits(s):
		return atoi(s[:4]), atoi(s[4:6]), atoi(s[6:]), true
	case len(s) == 7 && s[4] == '-' && allDigits(s[:4]) && allDigits(s[5:]):
		return atoi(s[:4]), atoi(s[5:]), 1, true
	case len(s) == 10 && s[4] == '-' && s[7] == '-' && allDigits(s[:4]) && allDigits(s[5:7]) && allDigits(s[8:]):
		return atoi(s[:4]), atoi(s[5:7]), atoi(s[8:]), true
	case len(s) == 8 && s[4] == '-' && allDigits(s[:4]) && allDigits(s[5:]): // ordinal 2024-061
		t := time.Date(atoi(s[:4]), 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, atoi(s[5:])-1)
		if atoi(s[5:]) < 1 || t.Year() != atoi(s[:4]) {
			return 0, 0, 0, false
		}
		return t.Year(), int(t.Month()), t.Day(), true
	case (len(s) == 8 || len(s) == 10) && s[4] == '-' && (s[5] == 'W' || s[5] == 'w') && allDigits(s[:4]) && allDigits(s[6:8]):
		wd := 1
		if len(s) == 10 {
			if s[8] != '-' || !allDigits(s[9:]) {
				return 0, 0, 0, false
			}
			wd = atoi(s[9:])
		}
		t, ok := isoWeekDate(atoi(s[:4]), atoi(s[6:8]), wd)
		if !ok {
			return 0, 0, 0, false
		}
		return t.Year(), int(t.Month()), t.Day(), true
	}
	return 0, 0, 0, false
}

// isoWeekDate returns the day of ISO year y, week w, weekday wd (1 = Monday).
func isoWeekDate(y, w, wd int) (time.Time, bool) {
	if w < 1 || w > 53 || wd < 1 || wd > 7 {
		return time.Time{}, false
	}
	jan4 := time.Date(y, 1, 4, 0, 0, 0, 0, time.UTC)
	monday := jan4.AddDate(0, 0, -(isoWeekday(jan4) - 1))
	t := monday.AddDate(0, 0, (w-1)*7+wd-1)
	if yy, ww := t.ISOWeek(); yy != y || ww != w {
		return time.Time{}, false
	}
	return t, true
}

func isoWeekday(t time.Time) int {
	wd := int(t.Weekday())
	if wd == 0 {
		return 7
	}
	return wd
}

func parseISOTime(s string) (h, m, sec, ns int, ok bool) {
	frac := ""
	if i := strings.IndexAny(s, ".,"); i >= 0 {
		frac = s[i+1:]
		s = s[:i]
		if !allDigits(frac) {
			return 0, 0, 0, 0, false
		}
	}
	parts := strings.Split(s, ":")
	if len(parts) == 1 && allDigits(s) {
		switch len(s) {
		case 2:
			parts = []string{s}
		case 4:
			parts = []string{s[:2], s[2:]}
		case 6:
			parts = []string{s[:2], s[2:4], s[4:]}
		default:
			return 0, 0, 0, 0, false
		}
	}
	for _, p := range parts {
		if len(p) != 2 || !allDigits(p) {
			return 0, 0, 0, 0, false
		}
	}
	h = atoi(parts[0])
	if len(parts) > 1 {
		m = atoi(parts[1])
	}
	if len(parts) > 2 {
		sec = atoi(parts[2])
	}
	if len(parts) > 3 || frac != "" && len(parts) < 3 {
		return 0, 0, 0, 0, false
	}
	if frac != "" {
		ns = fracToNanos(frac)
	}
	return h, m, sec, ns, true
}

// fracToNanos turns fraction digits into nanoseconds rounded to the microsecond (Python
// datetimes have microseconds).
func fracToNanos(frac string) int {
	for len(frac) < 7 {
		frac += "0"
	}
	us := atoi(frac[:6])
	if frac[6] >= '5' {
		us++
	}
	return us * 1000
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// ---- Arrow format tokens ----

var (
	monthNames = []string{"", "January", "February", "March", "April", "May", "June", "July",
		"August", "September", "October", "November", "December"}
	dayNames = []string{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}
)

// arrowTokens in the order the tokenizer tries them (longest first).
var arrowTokens = []string{
	"YYYY", "YY", "MMMM", "MMM", "MM", "M", "DDDD", "DDD", "Do", "DD", "D",
	"dddd", "ddd", "d", "HH", "H", "hh", "h", "mm", "m", "ss", "s",
	"SSSSSS", "SSSSS", "SSSS", "SSS", "SS", "S", "ZZZ", "ZZ", "Z", "a", "A", "X", "x", "W",
}

// fmtItem is one piece of a format: a literal or a token.
type fmtItem struct {
	lit   string
	token string
}

// tokenizeArrow splits an Arrow format; [text] is literal text.
func tokenizeArrow(f string) []fmtItem {
	var items []fmtItem
	lit := func(s string) {
		if n := len(items); n > 0 && items[n-1].token == "" {
			items[n-1].lit += s
			return
		}
		items = append(items, fmtItem{lit: s})
	}
	for i := 0; i < len(f); {
		if f[i] == '[' {
			if j := strings.IndexByte(f[i:], ']'); j > 0 {
				lit(f[i+1 : i+j])
				i += j + 1
				continue
			}
		}
		matched := ""
		for _, tok := range arrowTokens {
			if strings.HasPrefix(f[i:], tok) {
				matched = tok
				break
			}
		}
		if matched == "" {
			lit(f[i : i+1])
			i++
			continue
		}
		items = append(items, fmtItem{token: matched})
		i += len(matched)
	}
	return items
}

// strftimeTokens maps % codes to the equivalent Arrow tokens (or fixed expansions).
var strftimeTokens = map[byte]string{
	'Y': "YYYY", 'y': "YY", 'm': "MM", 'd': "DD", 'H': "HH", 'I': "hh", 'M': "mm", 'S': "ss",
	'f': "SSSSSS", 'z': "Z", 'Z': "ZZZ", 'a': "ddd", 'A': "dddd", 'b': "MMM", 'B': "MMMM",
	'h': "MMM", 'j': "DDDD", 'p': "A", 'u': "d", 's': "X",
	'G': "%G", 'V': "%V", 'w': "%w", 'e': "%e", 'U': "%U", 'W': "%W",
}

// tokenizeStrftime converts a % format into items.
func tokenizeStrftime(f string) ([]fmtItem, error) {
	var items []fmtItem
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			items = append(items, fmtItem{lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			lit.WriteByte(f[i])
			continue
		}
		i++
		if i >= len(f) {
			return nil, errors.New("format ends with a lone %")
		}
		c := f[i]
		switch c {
		case '%':
			lit.WriteByte('%')
			continue
		case 'T':
			flush()
			items = append(items, fmtItem{token: "HH"}, fmtItem{lit: ":"}, fmtItem{token: "mm"}, fmtItem{lit: ":"}, fmtItem{token: "ss"})
			continue
		case 'F':
			flush()
			items = append(items, fmtItem{token: "YYYY"}, fmtItem{lit: "-"}, fmtItem{token: "MM"}, fmtItem{lit: "-"}, fmtItem{token: "DD"})
			continue
		case 'c':
			flush()
			items = append(items, fmtItem{token: "ddd"}, fmtItem{lit: " "}, fmtItem{token: "MMM"}, fmtItem{lit: " "},
				fmtItem{token: "%e"}, fmtItem{lit: " "}, fmtItem{token: "HH"}, fmtItem{lit: ":"}, fmtItem{token: "mm"},
				fmtItem{lit: ":"}, fmtItem{token: "ss"}, fmtItem{lit: " "}, fmtItem{token: "YYYY"})
			continue
		case 'x':
			flush()
			items = append(items, fmtItem{token: "MM"}, fmtItem{lit: "/"}, fmtItem{token: "DD"}, fmtItem{lit: "/"}, fmtItem{token: "YY"})
			continue
		case 'X':
			flush()
			items = append(items, fmtItem{token: "HH"}, fmtItem{lit: ":"}, fmtItem{token: "mm"}, fmtItem{lit: ":"}, fmtItem{token: "ss"})
			continue
		}
		tok, ok := strftimeTokens[c]
		if !ok {
			return nil, fmt.Errorf("unsupported format code %%%c", c)
		}
		flush()
		items = append(items, fmtItem{token: tok})
	}
	flush()
	return items, nil
}

func formatItems(t time.Time, items []fmtItem) string {
	var b strings.Builder
	for _, it := range items {
		if it.token == "" {
			b.WriteString(it.lit)
			continue
		}
		b.WriteString(formatToken(t, it.token))
	}
	return b.String()
}

func formatToken(t time.Time, tok string) string {
	switch tok {
	case "YYYY":
		return fmt.Sprintf("%04d", t.Year())
	case "YY":
		return fmt.Sprintf("%04d", t.Year())[2:]
	case "MMMM":
		return monthNames[t.Month()]
	case "MMM":
		return monthNames[t.Month()][:3]
	case "MM":
		return fmt.Sprintf("%02d", int(t.Month()))
	case "M":
		return strconv.Itoa(int(t.Month()))
	case "DDDD":
		return fmt.Sprintf("%03d", t.YearDay())
	case "DDD":
		return strconv.Itoa(t.YearDay())
	case "DD":
		return fmt.Sprintf("%02d", t.Day())
	case "D":
		return strconv.Itoa(t.Day())
	case "Do":
		return ordinal(t.Day())
	case "dddd":
		return dayNames[isoWeekday(t)-1]
	case "ddd":
		return dayNames[isoWeekday(t)-1][:3]
	case "d":
		return strconv.Itoa(isoWeekday(t))
	case "HH":
		return fmt.Sprintf("%02d", t.Hour())
	case "H":
		return strconv.Itoa(t.Hour())
	case "hh":
		return fmt.Sprintf("%02d", hour12(t))
	case "h":
		return strconv.Itoa(hour12(t))
	case "mm":
		return fmt.Sprintf("%02d", t.Minute())
	case "m":
		return strconv.Itoa(t.Minute())
	case "ss":
		return fmt.Sprintf("%02d", t.Second())
	case "s":
		return strconv.Itoa(t.Second())
	case "SSSSSS", "SSSSS", "SSSS", "SSS", "SS", "S":
		us := fmt.Sprintf("%06d", t.Nanosecond()/1000)
		return us[:len(tok)]
	case "ZZZ":
		name, off := t.Zone()
		if name == "" {
			return offsetString(t, true)
		}
		_ = off
		return name
	case "ZZ":
		return offsetString(t, true)
	case "Z":
		return offsetString(t, false)
	case "a":
		if t.Hour() < 12 {
			return "am"
		}
		return "pm"
	case "A":
		if t.Hour() < 12 {
			return "AM"
		}
		return "PM"
	case "X":
		return strconv.FormatInt(t.Unix(), 10)
	case "x":
		return strconv.FormatInt(t.UnixMicro(), 10)
	case "W":
		y, w := t.ISOWeek()
		return fmt.Sprintf("%04d-W%02d-%d", y, w, isoWeekday(t))
	case "%G":
		y, _ := t.ISOWeek()
		return fmt.Sprintf("%04d", y)
	case "%V":
		_, w := t.ISOWeek()
		return fmt.Sprintf("%02d", w)
	case "%w":
		return strconv.Itoa(int(t.Weekday()))
	case "%e":
		return fmt.Sprintf("%2d", t.Day())
	case "%U", "%W":
		// Week of the year, first Sunday (%U) or Monday (%W) starts week 1.
		wd := int(t.Weekday())
		if tok == "%W" {
			wd = (wd + 6) % 7
		}
		return fmt.Sprintf("%02d", (t.YearDay()+6-wd)/7)
	}
	return tok
}

func hour12(t time.Time) int {
	h := t.Hour() % 12
	if h == 0 {
		return 12
	}
	return h
}

func ordinal(n int) string {
	suffix := "th"
	if n%100 < 11 || n%100 > 13 {
		switch n % 10 {
		case 1:
			suffix = "st"
		case 2:
			suffix = "nd"
		case 3:
			suffix = "rd"
		}
	}
	return strconv.Itoa(n) + suffix
}

// parseWithFormat parses s with an Arrow token format or, when it contains %, a strftime
// format. The whole (trimmed) text must match. Text without an offset or zone is UTC.
func parseWithFormat(s, format string) (time.Time, error) {
	var items []fmtItem
	if strings.Contains(format, "%") {
		var err error
		if items, err = tokenizeStrftime(format); err != nil {
			return time.Time{}, err
		}
	} else {
		items = tokenizeArrow(format)
	}
	p := dtParser{s: strings.TrimSpace(s), year: 1970, month: 1, day: 1, loc: time.UTC}
	fail := func() (time.Time, error) {
		return time.Time{}, fmt.Errorf("failed to match '%s' when parsing '%s'", format, s)
	}
	for _, it := range items {
		if it.token == "" {
			if !strings.HasPrefix(p.s[p.i:], it.lit) {
				// Arrow is lenient about whitespace runs.
				if strings.TrimSpace(it.lit) == "" && p.i < len(p.s) && p.s[p.i] == ' ' {
					for p.i < len(p.s) && p.s[p.i] == ' ' {
						p.i++
					}
					continue
				}
				return fail()
			}
			p.i += len(it.lit)
			continue
		}
		if !p.token(it.token) {
			return fail()
		}
	}
	if p.i != len(p.s) {
		return fail()
	}
	return p.result()
}

type dtParser struct {
	s                         string
	i                         int
	year, month, day          int
	hour, minute, second, ns  int
	yearDay                   int
	pm, hasAmPm, hour12       bool
	loc                       *time.Location
	isoYear, isoWeek, isoWDay int
	unix                      *float64
	unixMicro                 *int64
	hasISOWeek, hasDayOfYear  bool
}

func (p *dtParser) digits(min, max int) (int, bool) {
	j := p.i
	for j < len(p.s) && j-p.i < max && p.s[j] >= '0' && p.s[j] <= '9' {
		j++
	}
	if j-p.i < min {
		return 0, false
	}
	n := atoi(p.s[p.i:j])
	p.i = j
	return n, true
}

func (p *dtParser) word(names []string, abbr bool) (int, bool) {
	rest := strings.ToLower(p.s[p.i:])
	for idx, n := range names {
		if n == "" {
			continue
		}
		cand := strings.ToLower(n)
		if abbr {
			cand = cand[:3]
		}
		if strings.HasPrefix(rest, cand) {
			p.i += len(cand)
			return idx, true
		}
	}
	return 0, false
}

func (p *dtParser) token(tok string) bool {
	var ok bool
	switch tok {
	case "YYYY":
		p.year, ok = p.digits(4, 4)
	case "YY":
		var y int
		if y, ok = p.digits(2, 2); ok {
			if y > 68 {
				p.year = 1900 + y
			} else {
				p.year = 2000 + y
			}
		}
	case "MMMM":
		p.month, ok = p.word(monthNames, false)
	case "MMM":
		p.month, ok = p.word(monthNames, true)
	case "MM":
		p.month, ok = p.digits(2, 2)
	case "M":
		p.month, ok = p.digits(1, 2)
	case "DDDD":
		p.yearDay, ok = p.digits(3, 3)
		p.hasDayOfYear = true
	case "DDD":
		p.yearDay, ok = p.digits(1, 3)
		p.hasDayOfYear = true
	case "DD":
		p.day, ok = p.digits(2, 2)
	case "D":
		p.day, ok = p.digits(1, 2)
	case "Do":
		if p.day, ok = p.digits(1, 2); ok {
			rest := strings.ToLower(p.s[p.i:])
			for _, suf := range []string{"st", "nd", "rd", "th"} {
				if strings.HasPrefix(rest, suf) {
					p.i += 2
					return true
				}
			}
			return false
		}
	case "dddd":
		_, ok = p.word(dayNames, false)
	case "ddd":
		_, ok = p.word(dayNames, true)
	case "d":
		_, ok = p.digits(1, 1)
	case "HH":
		p.hour, ok = p.digits(2, 2)
	case "H":
		p.hour, ok = p.digits(1, 2)
	case "hh":
		p.hour, ok = p.digits(2, 2)
		p.hour12 = true
	case "h":
		p.hour, ok = p.digits(1, 2)
		p.hour12 = true
	case "mm":
		p.minute, ok = p.digits(2, 2)
	case "m":
		p.minute, ok = p.digits(1, 2)
	case "ss":
		p.second, ok = p.digits(2, 2)
	case "s":
		p.second, ok = p.digits(1, 2)
	case "SSSSSS", "SSSSS", "SSSS", "SSS", "SS", "S":
		j := p.i
		for j < len(p.s) && p.s[j] >= '0' && p.s[j] <= '9' {
			j++
		}
		if j == p.i {
			return false
		}
		p.ns = fracToNanos(p.s[p.i:j])
		p.i = j
		ok = true
	case "ZZZ":
		j := p.i
		for j < len(p.s) && (p.s[j] == '/' || p.s[j] == '_' || p.s[j] == '+' || p.s[j] == '-' ||
			p.s[j] >= 'a' && p.s[j] <= 'z' || p.s[j] >= 'A' && p.s[j] <= 'Z' || p.s[j] >= '0' && p.s[j] <= '9') {
			j++
		}
		loc, err := loadZone(p.s[p.i:j])
		if err != nil {
			return false
		}
		p.loc, p.i, ok = loc, j, true
	case "ZZ", "Z":
		rest := p.s[p.i:]
		if strings.HasPrefix(rest, "Z") || strings.HasPrefix(rest, "z") {
			p.loc, p.i = time.UTC, p.i+1
			return true
		}
		for _, n := range []int{6, 5, 3} {
			if len(rest) >= n {
				if off, good := parseOffset(rest[:n]); good {
					p.loc, p.i = time.FixedZone("", off), p.i+n
					return true
				}
			}
		}
		return false
	case "a", "A":
		rest := strings.ToLower(p.s[p.i:])
		switch {
		case strings.HasPrefix(rest, "am"):
			p.hasAmPm, p.pm, p.i, ok = true, false, p.i+2, true
		case strings.HasPrefix(rest, "pm"):
			p.hasAmPm, p.pm, p.i, ok = true, true, p.i+2, true
		}
	case "X":
		j := p.i
		for j < len(p.s) && (p.s[j] >= '0' && p.s[j] <= '9' || p.s[j] == '.' || j == p.i && p.s[j] == '-') {
			j++
		}
		f, err := strconv.ParseFloat(p.s[p.i:j], 64)
		if err != nil {
			return false
		}
		p.unix, p.i, ok = &f, j, true
	case "x":
		j := p.i
		for j < len(p.s) && (p.s[j] >= '0' && p.s[j] <= '9' || j == p.i && p.s[j] == '-') {
			j++
		}
		n, err := strconv.ParseInt(p.s[p.i:j], 10, 64)
		if err != nil {
			return false
		}
		p.unixMicro, p.i, ok = &n, j, true
	case "W":
		rest := p.s[p.i:]
		if len(rest) >= 8 && rest[4] == '-' && (rest[5] == 'W' || rest[5] == 'w') && allDigits(rest[:4]) && allDigits(rest[6:8]) {
			p.isoYear, p.isoWeek, p.isoWDay = atoi(rest[:4]), atoi(rest[6:8]), 1
			p.i += 8
			if len(rest) >= 10 && rest[8] == '-' && allDigits(rest[9:10]) {
				p.isoWDay = atoi(rest[9:10])
				p.i += 2
			}
			p.hasISOWeek, ok = true, true
		}
	case "%G":
		p.isoYear, ok = p.digits(4, 4)
		p.hasISOWeek = true
	case "%V":
		p.isoWeek, ok = p.digits(1, 2)
		p.hasISOWeek = true
	case "%e":
		for p.i < len(p.s) && p.s[p.i] == ' ' {
			p.i++
		}
		p.day, ok = p.digits(1, 2)
	case "%w", "%U", "%W":
		_, ok = p.digits(1, 2)
	}
	return ok
}

func (p *dtParser) result() (time.Time, error) {
	if p.unix != nil {
		sec, frac := math.Modf(*p.unix)
		return time.Unix(int64(sec), int64(math.Round(frac*1e6))*1000).In(p.loc), nil
	}
	if p.unixMicro != nil {
		return time.UnixMicro(*p.unixMicro).In(p.loc), nil
	}
	if p.hour12 || p.hasAmPm {
		if p.hour > 12 && p.hasAmPm {
			return time.Time{}, fmt.Errorf("hour %d with AM/PM", p.hour)
		}
		if p.hasAmPm && p.pm && p.hour < 12 {
			p.hour += 12
		} else if p.hasAmPm && !p.pm && p.hour == 12 {
			p.hour = 0
		}
	}
	if p.hasISOWeek {
		if p.isoWDay == 0 {
			p.isoWDay = 1
		}
		if p.isoYear == 0 {
			p.isoYear = p.year
		}
		t, ok := isoWeekDate(p.isoYear, p.isoWeek, p.isoWDay)
		if !ok {
			return time.Time{}, errors.New("invalid ISO week date")
		}
		p.year, p.month, p.day = t.Year(), int(t.Month()), t.Day()
	}
	if p.hasDayOfYear {
		if p.yearDay < 1 || p.yearDay > 366 {
			return time.Time{}, errors.New("day of year out of range")
		}
		t := time.Date(p.year, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, p.yearDay-1)
		p.month, p.day = int(t.Month()), t.Day()
	}
	if p.month < 1 || p.month > 12 {
		return time.Time{}, fmt.Errorf("month %d is out of range", p.month)
	}
	if p.day < 1 || p.day > daysIn(p.year, time.Month(p.month)) {
		return time.Time{}, fmt.Errorf("day %d is out of range for month", p.day)
	}
	if p.hour > 23 || p.minute > 59 || p.second > 59 {
		return time.Time{}, errors.New("time is out of range")
	}
	return time.Date(p.year, time.Month(p.month), p.day, p.hour, p.minute, p.second, p.ns, p.loc), nil
}

// ---- shift, replace, floor ----

// wall returns the wall-clock fields of t as a UTC time (naive arithmetic, like Python's
// datetime + relativedelta in Arrow).
func wall(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}

func rezone(w time.Time, loc *time.Location) time.Time {
	return time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), w.Nanosecond(), loc)
}

// addMonths adds months clamping the day to the month's length (Jan 31 + 1 month = Feb 29).
func addMonths(w time.Time, months int) time.Time {
	y, m := w.Year(), int(w.Month())-1+months
	y += m / 12
	m %= 12
	if m < 0 {
		m += 12
		y--
	}
	d := w.Day()
	if dim := daysIn(y, time.Month(m+1)); d > dim {
		d = dim
	}
	return time.Date(y, time.Month(m+1), d, w.Hour(), w.Minute(), w.Second(), w.Nanosecond(), time.UTC)
}

var shiftUnits = map[string]time.Duration{
	"weeks": 7 * 24 * time.Hour, "days": 24 * time.Hour, "hours": time.Hour, "minutes": time.Minute,
	"seconds": time.Second, "microseconds": time.Microsecond,
}

func shiftTime(t time.Time, kw map[string]any, dateOnly bool) (time.Time, error) {
	w := wall(t)
	months := 0
	var dur time.Duration
	days := 0
	for k, v := range kw {
		n, ok := number(v)
		if !ok {
			return t, fmt.Errorf("shift(%s=...) needs a number, not %s", k, typeName(v))
		}
		switch k {
		case "years", "months", "quarters":
			if n != math.Trunc(n) {
				return t, fmt.Errorf("shift(%s=...) needs a whole number", k)
			}
			switch k {
			case "years":
				months += int(n) * 12
			case "quarters":
				months += int(n) * 3
			default:
				months += int(n)
			}
		case "weeks", "days":
			mult := 1
			if k == "weeks" {
				mult = 7
			}
			switch {
			case n == math.Trunc(n) && math.Abs(n) < 1e7:
				days += int(n) * mult
			case dateOnly:
				return t, fmt.Errorf("shift(%s=...) on a date needs a whole number", k)
			case math.Abs(n) > 1e7:
				return t, fmt.Errorf("shift(%s=%v) is out of range", k, v)
			default:
				dur += time.Duration(n * float64(shiftUnits[k]))
			}
		case "hours", "minutes", "seconds", "microseconds":
			if dateOnly {
				return t, fmt.Errorf("a date cannot be shifted by %s", k)
			}
			if math.Abs(n) > 1e12 {
				return t, fmt.Errorf("shift(%s=%v) is out of range", k, v)
			}
			dur += time.Duration(n * float64(shiftUnits[k]))
		default:
			return t, fmt.Errorf("shift() got an unexpected argument '%s' (use years, quarters, months, weeks, days, hours, minutes, seconds, microseconds)", k)
		}
	}
	if months != 0 {
		w = addMonths(w, months)
	}
	if days != 0 {
		w = w.AddDate(0, 0, days)
	}
	w = w.Add(dur)
	return rezone(w, t.Location()), nil
}

func replaceTime(t time.Time, kw map[string]any, dateOnly bool) (time.Time, error) {
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	ns := t.Nanosecond()
	loc := t.Location()
	for k, v := range kw {
		if k == "tzinfo" || k == "tz" {
			if dateOnly {
				return t, errors.New("a date has no time zone")
			}
			name, ok := v.(string)
			if !ok {
				return t, errors.New("replace(tzinfo=...) needs a time zone name")
			}
			z, err := loadZone(name)
			if err != nil {
				return t, err
			}
			loc = z
			continue
		}
		n, ok := v.(int64)
		if !ok {
			return t, fmt.Errorf("replace(%s=...) needs an integer, not %s", k, typeName(v))
		}
		i := int(n)
		switch k {
		case "year":
			y = i
		case "month":
			mo = time.Month(i)
		case "day":
			d = i
		case "hour", "minute", "second", "microsecond":
			if dateOnly {
				return t, fmt.Errorf("a date has no %s", k)
			}
			switch k {
			case "hour":
				h = i
			case "minute":
				mi = i
			case "second":
				s = i
			default:
				ns = i * 1000
			}
		default:
			return t, fmt.Errorf("replace() got an unexpected argument '%s'", k)
		}
	}
	switch {
	case y < 1 || y > 9999:
		return t, errors.New("year is out of range")
	case mo < 1 || mo > 12:
		return t, errors.New("month must be in 1..12")
	case d < 1 || d > daysIn(y, mo):
		return t, errors.New("day is out of range for month")
	case h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 59 || ns < 0 || ns > 999999000:
		return t, errors.New("time is out of range")
	}
	return time.Date(y, mo, d, h, mi, s, ns, loc), nil
}

func floorTime(t time.Time, frame string) (time.Time, error) {
	y, mo, d := t.Date()
	loc := t.Location()
	switch strings.TrimSuffix(frame, "s") {
	case "year":
		return time.Date(y, 1, 1, 0, 0, 0, 0, loc), nil
	case "quarter":
		return time.Date(y, (mo-1)/3*3+1, 1, 0, 0, 0, 0, loc), nil
	case "month":
		return time.Date(y, mo, 1, 0, 0, 0, 0, loc), nil
	case "week":
		day := time.Date(y, mo, d, 0, 0, 0, 0, loc)
		return rezone(wall(day).AddDate(0, 0, -(isoWeekday(t)-1)), loc), nil
	case "day":
		return time.Date(y, mo, d, 0, 0, 0, 0, loc), nil
	case "hour":
		return time.Date(y, mo, d, t.Hour(), 0, 0, 0, loc), nil
	case "minute":
		return time.Date(y, mo, d, t.Hour(), t.Minute(), 0, 0, loc), nil
	case "second":
		return time.Date(y, mo, d, t.Hour(), t.Minute(), t.Second(), 0, loc), nil
	}
	return t, fmt.Errorf("unsupported frame '%s' (use year, quarter, month, week, day, hour, minute, second)", frame)
}

func ceilTime(t time.Time, frame string) (time.Time, error) {
	f, err := floorTime(t, frame)
	if err != nil {
		return t, err
	}
	unit := strings.TrimSuffix(frame, "s")
	w := wall(f)
	switch unit {
	case "year":
		w = addMonths(w, 12)
	case "quarter":
		w = addMonths(w, 3)
	case "month":
		w = addMonths(w, 1)
	case "week":
		w = w.AddDate(0, 0, 7)
	case "day":
		w = w.AddDate(0, 0, 1)
	case "hour":
		w = w.Add(time.Hour)
	case "minute":
		w = w.Add(time.Minute)
	case "second":
		w = w.Add(time.Second)
	}
	return rezone(w.Add(-time.Microsecond), t.Location()), nil
}
