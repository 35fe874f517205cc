package pgwire

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// PostgreSQL run-time parameters (GUCs) that the server answers itself, because DuckDB does
// not know them and PostgreSQL clients set or read them (pgjdbc sends SET extra_float_digits
// and SET application_name before anything else). Everything not listed goes to DuckDB.

const (
	serverVersion    = "15.6 (ankaflow)"
	serverVersionNum = "150006"
)

type gucDef struct {
	name     string // spelled as PostgreSQL spells it (SHOW's column name, ParameterStatus name)
	report   bool   // sent as ParameterStatus at startup and whenever it changes
	readOnly bool
	def      string
	// check validates and normalises a new value.
	check func(v string) (string, *pgError)
}

var gucDefs = map[string]*gucDef{}

func init() {
	onOff := func(only string) func(string) (string, *pgError) {
		return func(v string) (string, *pgError) {
			b, err := parseBool(v)
			if err != nil {
				return "", newError(codeInvalidParameterValue, "invalid value %q: a Boolean is expected", v)
			}
			s := "off"
			if b {
				s = "on"
			}
			if only != "" && s != only {
				return "", newError(codeFeatureNotSupported, "only %q is supported for this parameter", only)
			}
			return s, nil
		}
	}
	intRange := func(lo, hi int) func(string) (string, *pgError) {
		return func(v string) (string, *pgError) {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || n < lo || n > hi {
				return "", newError(codeInvalidParameterValue, "invalid value %q: an integer from %d to %d is expected", v, lo, hi)
			}
			return strconv.Itoa(n), nil
		}
	}
	duration := func(v string) (string, *pgError) {
		d, err := parseDurationMS(v)
		if err != nil {
			return "", newError(codeInvalidParameterValue, "invalid value for a time parameter: %q", v)
		}
		return formatDurationMS(d), nil
	}
	for _, g := range []*gucDef{
		{name: "application_name", report: true},
		{name: "client_encoding", report: true, def: "UTF8", check: checkEncoding},
		{name: "DateStyle", report: true, def: "ISO, MDY", check: checkDateStyle},
		{name: "IntervalStyle", report: true, def: "postgres", check: func(v string) (string, *pgError) {
			if !strings.EqualFold(strings.TrimSpace(v), "postgres") {
				return "", newError(codeFeatureNotSupported, "only IntervalStyle postgres is supported")
			}
			return "postgres", nil
		}},
		{name: "TimeZone", report: true, def: "UTC", check: checkTimeZone},
		{name: "integer_datetimes", report: true, readOnly: true, def: "on"},
		{name: "standard_conforming_strings", report: true, def: "on", check: onOff("on")},
		{name: "server_version", report: true, readOnly: true, def: serverVersion},
		{name: "server_version_num", readOnly: true, def: serverVersionNum},
		{name: "server_encoding", report: true, readOnly: true, def: "UTF8"},
		{name: "is_superuser", report: true, readOnly: true, def: "off"},
		{name: "session_authorization", report: true, readOnly: true},
		{name: "default_transaction_read_only", report: true, def: "off", check: onOff("off")},
		{name: "in_hot_standby", report: true, readOnly: true, def: "off"},
		{name: "extra_float_digits", def: "1", check: intRange(-15, 3)},
		{name: "statement_timeout", def: "0", check: duration},
		{name: "lock_timeout", def: "0", check: duration},
		{name: "idle_in_transaction_session_timeout", def: "0", check: duration},
		{name: "idle_session_timeout", def: "0", check: duration},
		{name: "client_min_messages", def: "notice"},
		{name: "bytea_output", def: "hex", check: func(v string) (string, *pgError) {
			if !strings.EqualFold(strings.TrimSpace(v), "hex") {
				return "", newError(codeFeatureNotSupported, "only bytea_output hex is supported")
			}
			return "hex", nil
		}},
		{name: "max_identifier_length", readOnly: true, def: "63"},
		{name: "transaction_isolation", def: "repeatable read"},
		{name: "default_transaction_isolation", def: "repeatable read"},
		{name: "transaction_read_only", readOnly: true, def: "off"},
		{name: "lc_messages", def: "C"},
		{name: "lc_monetary", def: "C"},
		{name: "lc_numeric", def: "C"},
		{name: "lc_time", def: "C"},
		{name: "escape_string_warning", def: "on"},
		{name: "synchronous_commit", def: "on"},
		{name: "row_security", def: "on"},
		{name: "jit", def: "off"},
		{name: "check_function_bodies", def: "on"},
		{name: "search_path", def: `"$user", public`, check: checkSearchPath}, // applied to DuckDB: pgcatalog.go
	} {
		gucDefs[strings.ToLower(g.name)] = g
	}
}

func lookupGUC(name string) *gucDef { return gucDefs[strings.ToLower(name)] }

func checkEncoding(v string) (string, *pgError) {
	switch strings.ToUpper(strings.Trim(strings.TrimSpace(v), `'"`)) {
	case "UTF8", "UTF-8", "UNICODE":
		return "UTF8", nil
	}
	return "", newError(codeFeatureNotSupported, "client_encoding %q is not supported: ankaflow speaks UTF8 only", v)
}

// checkDateStyle accepts ISO output with any field order (only ISO output is produced).
func checkDateStyle(v string) (string, *pgError) {
	order := "MDY"
	for _, part := range strings.Split(v, ",") {
		switch p := strings.ToUpper(strings.TrimSpace(part)); p {
		case "ISO", "":
		case "MDY", "DMY", "YMD", "US", "NONEURO", "NONEUROPEAN", "EURO", "EUROPEAN":
			switch p {
			case "US", "NONEURO", "NONEUROPEAN":
				p = "MDY"
			case "EURO", "EUROPEAN":
				p = "DMY"
			}
			order = p
		default:
			return "", newError(codeFeatureNotSupported, "DateStyle %q is not supported: only ISO output is", v)
		}
	}
	return "ISO, " + order, nil
}

func checkTimeZone(v string) (string, *pgError) {
	v = strings.TrimSpace(v)
	if strings.EqualFold(v, "utc") || strings.EqualFold(v, "z") {
		return "UTC", nil
	}
	if _, err := time.LoadLocation(v); err != nil {
		return "", newError(codeInvalidParameterValue, "invalid value for parameter \"TimeZone\": %q", v)
	}
	return v, nil
}

// parseDurationMS parses a PostgreSQL time parameter (milliseconds by default, or with a unit).
func parseDurationMS(v string) (time.Duration, error) {
	v = strings.TrimSpace(strings.Trim(strings.TrimSpace(v), `'`))
	i := 0
	for i < len(v) && (v[i] >= '0' && v[i] <= '9' || v[i] == '.' || v[i] == '-') {
		i++
	}
	n, err := strconv.ParseFloat(v[:i], 64)
	if err != nil {
		return 0, err
	}
	unit := time.Millisecond
	switch strings.ToLower(strings.TrimSpace(v[i:])) {
	case "", "ms":
	case "us":
		unit = time.Microsecond
	case "s":
		unit = time.Second
	case "min":
		unit = time.Minute
	case "h":
		unit = time.Hour
	case "d":
		unit = 24 * time.Hour
	default:
		return 0, strconv.ErrSyntax
	}
	return time.Duration(n * float64(unit)), nil
}

// formatDurationMS shows a time parameter as PostgreSQL does: whole milliseconds in the largest
// unit that divides them (5000 → 5s, 90000 → 90s, 1500 → 1500ms), 0 without a unit.
func formatDurationMS(d time.Duration) string {
	ms := int64(math.RoundToEven(float64(d) / float64(time.Millisecond))) // rint, as PostgreSQL
	if ms <= 0 {
		return strconv.FormatInt(ms, 10)
	}
	for _, u := range []struct {
		ms   int64
		name string
	}{{86400000, "d"}, {3600000, "h"}, {60000, "min"}, {1000, "s"}} {
		if ms%u.ms == 0 {
			return strconv.FormatInt(ms/u.ms, 10) + u.name
		}
	}
	return strconv.FormatInt(ms, 10) + "ms"
}

// gucCmd is a SET/RESET/SHOW statement the server recognised.
type gucCmd struct {
	kind  gucKind
	name  string // as written ("" for RESET ALL / SHOW ALL)
	value string // SET value (joined list), "" with isDefault for TO DEFAULT
	isDef bool
}

type gucKind int

const (
	gucSet gucKind = iota + 1
	gucReset
	gucShow
	gucNoop // SET TRANSACTION …, SET SESSION CHARACTERISTICS …: accepted, no effect
)

// parseGUCStatement recognises SET/RESET/SHOW statements by their tokens. It returns nil for
// anything else (and for forms DuckDB should see, such as SET VARIABLE or SET GLOBAL).
func parseGUCStatement(text string) *gucCmd {
	toks := tokenize(text)
	for len(toks) > 0 && toks[len(toks)-1].kind == tokPunct && toks[len(toks)-1].text == ";" {
		toks = toks[:len(toks)-1]
	}
	if len(toks) < 2 || toks[0].kind != tokWord {
		return nil
	}
	word := func(i int) string {
		if i < len(toks) && (toks[i].kind == tokWord || toks[i].kind == tokQIdent) {
			return toks[i].upper
		}
		return ""
	}
	name := func(i int) string {
		if i < len(toks) && toks[i].kind == tokQIdent {
			return toks[i].text
		}
		if i < len(toks) && toks[i].kind == tokWord {
			// dotted names (custom.var) stay whole
			n := toks[i].text
			for j := i + 1; j+1 < len(toks) && toks[j].text == "." && toks[j+1].kind == tokWord; j += 2 {
				n += "." + toks[j+1].text
			}
			return n
		}
		return ""
	}
	switch toks[0].upper {
	case "SHOW":
		switch {
		case word(1) == "TRANSACTION" && word(2) == "ISOLATION" && word(3) == "LEVEL":
			return &gucCmd{kind: gucShow, name: "transaction_isolation"}
		case word(1) == "TIME" && word(2) == "ZONE":
			return &gucCmd{kind: gucShow, name: "TimeZone"}
		case word(1) == "SESSION" && word(2) == "AUTHORIZATION":
			return &gucCmd{kind: gucShow, name: "session_authorization"}
		}
		if len(toks) != 2 {
			return nil
		}
		return &gucCmd{kind: gucShow, name: name(1)}
	case "RESET":
		if word(1) == "ALL" && len(toks) == 2 {
			return &gucCmd{kind: gucReset}
		}
		if word(1) == "TIME" && word(2) == "ZONE" {
			return &gucCmd{kind: gucReset, name: "TimeZone"}
		}
		return &gucCmd{kind: gucReset, name: name(1)}
	case "SET":
		i := 1
		switch word(1) {
		case "SESSION":
			if word(2) == "CHARACTERISTICS" {
				return &gucCmd{kind: gucNoop}
			}
			if word(2) == "AUTHORIZATION" {
				return nil
			}
			i = 2
		case "LOCAL":
			i = 2
		case "TRANSACTION":
			return &gucCmd{kind: gucNoop}
		case "GLOBAL", "VARIABLE":
			return nil
		}
		if word(i) == "TIME" && word(i+1) == "ZONE" {
			cmd := &gucCmd{kind: gucSet, name: "TimeZone"}
			rest := toks[i+2:]
			if len(rest) == 1 && rest[0].kind == tokWord && (rest[0].upper == "DEFAULT" || rest[0].upper == "LOCAL") {
				cmd.isDef = true
				return cmd
			}
			if len(rest) == 0 {
				return nil
			}
			cmd.value = joinValue(rest)
			return cmd
		}
		n := name(i)
		if n == "" {
			return nil
		}
		j := i + 1 + 2*strings.Count(n, ".")
		if j >= len(toks) || !(toks[j].text == "=" || toks[j].upper == "TO") {
			return nil
		}
		rest := toks[j+1:]
		if len(rest) == 0 {
			return nil
		}
		cmd := &gucCmd{kind: gucSet, name: n}
		if len(rest) == 1 && rest[0].kind == tokWord && rest[0].upper == "DEFAULT" {
			cmd.isDef = true
			return cmd
		}
		cmd.value = joinValue(rest)
		return cmd
	}
	return nil
}

// joinValue renders a SET value list: 'a', b, 3 → "a, b, 3".
func joinValue(toks []sqlToken) string {
	var parts []string
	cur := ""
	for _, t := range toks {
		if t.kind == tokPunct && t.text == "," {
			parts = append(parts, cur)
			cur = ""
			continue
		}
		cur += t.text
	}
	parts = append(parts, cur)
	return strings.Join(parts, ", ")
}
