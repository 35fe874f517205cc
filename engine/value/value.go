// Package value is ankaflow's one model of a record and of a value as it travels between
// DuckDB, templates, connection params and what is shown to a person. It keeps what Go's
// built-in maps and floats lose: the order of a record's keys (a CSV `columns` mapping defines
// column order) and the exact digits of decimal numbers. Format prints any value the way
// DuckDB's CAST(… AS VARCHAR) does; JSON writes it with keys in order and numbers exact.
//
// The Go types of a value:
//
//	nil                  NULL
//	bool                 BOOLEAN
//	int64, uint64        integers (*big.Int for HUGEINT and wider)
//	float64, float32     DOUBLE, FLOAT
//	Decimal              DECIMAL and JSON numbers that are not integers (exact text)
//	string               VARCHAR (and UUID, JSON text, ENUM labels)
//	[]byte               BLOB
//	Date, Time, Timestamp, Interval
//	[]any                LIST / ARRAY
//	*Map                 STRUCT, JSON object, YAML mapping: keys in order
//	MapValue             DuckDB MAP: key/value pairs in order, keys of any type
package value

import (
	"math/big"
	"strings"
	"time"
)

// Map is an ordered mapping: a record, a STRUCT value, a JSON object or a YAML mapping. Keys
// keep the order in which they were first set.
type Map struct {
	Keys   []string
	Values map[string]any
}

// NewMap returns an empty ordered map.
func NewMap() *Map { return &Map{Values: map[string]any{}} }

// MapOf builds an ordered map from alternating keys and values (for tests and literals).
func MapOf(kv ...any) *Map {
	m := NewMap()
	for i := 0; i+1 < len(kv); i += 2 {
		m.Set(kv[i].(string), kv[i+1])
	}
	return m
}

// Set appends k (or replaces its value, keeping its place).
func (m *Map) Set(k string, v any) {
	if _, ok := m.Values[k]; !ok {
		m.Keys = append(m.Keys, k)
	}
	m.Values[k] = v
}

// Get returns the value of k.
func (m *Map) Get(k string) (any, bool) {
	v, ok := m.Values[k]
	return v, ok
}

// Delete removes k.
func (m *Map) Delete(k string) {
	if _, ok := m.Values[k]; !ok {
		return
	}
	delete(m.Values, k)
	for i, x := range m.Keys {
		if x == k {
			m.Keys = append(m.Keys[:i:i], m.Keys[i+1:]...)
			break
		}
	}
}

// Len is the number of keys.
func (m *Map) Len() int { return len(m.Keys) }

// Clone copies the map (not its values).
func (m *Map) Clone() *Map {
	out := &Map{Keys: append([]string(nil), m.Keys...), Values: make(map[string]any, len(m.Values))}
	for k, v := range m.Values {
		out.Values[k] = v
	}
	return out
}

// Pair is one entry of a DuckDB MAP.
type Pair struct {
	Key, Value any
}

// MapValue is a DuckDB MAP value: its entries in order; keys may be of any type.
type MapValue []Pair

// Decimal is an exact number kept as its decimal text ("-12.50", "1e400" is not a Decimal:
// only plain digits with an optional sign and point). It is what DECIMAL columns and
// non-integer JSON numbers become, so no digit is ever rounded away by a float64.
type Decimal string

// Float64 is the nearest float64, for arithmetic in templates.
func (d Decimal) Float64() float64 {
	f, _ := new(big.Float).SetPrec(64).SetString(string(d))
	if f == nil {
		return 0
	}
	x, _ := f.Float64()
	return x
}

// String is the exact text.
func (d Decimal) String() string { return string(d) }

// DecimalFromInt renders an unscaled integer with scale digits after the point, as DuckDB
// prints DECIMAL(w, scale): 150 with scale 2 is "1.50".
func DecimalFromInt(unscaled *big.Int, scale int) Decimal {
	s := unscaled.String()
	if scale <= 0 {
		return Decimal(s)
	}
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	if len(s) <= scale {
		s = strings.Repeat("0", scale-len(s)+1) + s
	}
	s = s[:len(s)-scale] + "." + s[len(s)-scale:]
	if neg {
		s = "-" + s
	}
	return Decimal(s)
}

// IsDecimalText reports whether s is a plain decimal number: optional sign, digits, optional
// point and digits (no exponent).
func IsDecimalText(s string) bool {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "-"), "+")
	digits, point := 0, false
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '.' && !point:
			point = true
		default:
			return false
		}
	}
	return digits > 0
}

// Date is a DuckDB DATE (days since 1970-01-01; Infinite is ±1 for ±infinity).
type Date struct {
	Days     int32
	Infinite int8
}

// Time is a time of day in microseconds since midnight.
type Time struct {
	Micros int64
}

// Timestamp is a point in time. Zone is set for TIMESTAMPTZ: the time is shown in that zone
// with its offset; without it the timestamp is a local date and time (shown as is). Unit is
// the precision DuckDB keeps (time.Second, time.Millisecond, time.Microsecond,
// time.Nanosecond). Infinite is ±1 for ±infinity.
type Timestamp struct {
	T        time.Time
	Zone     *time.Location
	Unit     time.Duration
	Infinite int8
}

// Interval is a DuckDB INTERVAL: months, days and microseconds, kept apart as DuckDB does.
type Interval struct {
	Months int32
	Days   int32
	Micros int64
}

// RawJSON is the text of a DuckDB JSON value found inside a LIST. DuckDB prints it as is
// there (CAST(['{"a": 1}'::JSON] AS VARCHAR) is [{"a": 1}]), where a VARCHAR with the same
// text would be quoted; JSON output embeds it as JSON, not as a string.
type RawJSON string
