package value

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// DuckDB's lossless Arrow form (arrow_lossless_conversion, used for Variable rows) carries
// UUID, HUGEINT, UHUGEINT, TIME WITH TIME ZONE, BIT and BIGNUM as binary values marked with
// an extension name on their field. fromArrowField reads them back as the values they are,
// so a template shows a UUID as its text, not as 16 raw bytes.

// fromArrowField is FromArrow for a column or child whose field (and so its extension mark)
// is known.
func fromArrowField(f arrow.Field, a arrow.Array, i int) any {
	if a.IsNull(i) {
		return nil
	}
	kind := losslessKind(f)
	if kind == "" {
		return FromArrow(a, i)
	}
	var raw []byte
	switch x := a.(type) {
	case *array.FixedSizeBinary:
		raw = x.Value(i)
	case *array.Binary:
		raw = x.Value(i)
	default:
		return FromArrow(a, i)
	}
	if v, ok := decodeLossless(kind, raw); ok {
		return v
	}
	return FromArrow(a, i)
}

// losslessKind is "uuid" or the DuckDB type name of an opaque column ("hugeint", "time_tz", …).
func losslessKind(f arrow.Field) string {
	name, ok := f.Metadata.GetValue("ARROW:extension:name")
	if !ok {
		return ""
	}
	switch name {
	case "arrow.uuid":
		return "uuid"
	case "arrow.opaque":
		md, _ := f.Metadata.GetValue("ARROW:extension:metadata")
		var m struct {
			TypeName   string `json:"type_name"`
			VendorName string `json:"vendor_name"`
		}
		if json.Unmarshal([]byte(md), &m) == nil && m.VendorName == "DuckDB" {
			return m.TypeName
		}
	}
	return ""
}

func decodeLossless(kind string, b []byte) (any, bool) {
	switch kind {
	case "uuid":
		if len(b) != 16 {
			return nil, false
		}
		return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), true
	case "hugeint", "uhugeint":
		if len(b) != 16 {
			return nil, false
		}
		// Little-endian 128-bit integer, two's complement for hugeint.
		be := make([]byte, 16)
		for j := range b {
			be[15-j] = b[j]
		}
		n := new(big.Int).SetBytes(be)
		if kind == "hugeint" && b[15]&0x80 != 0 {
			n.Sub(n, new(big.Int).Lsh(big.NewInt(1), 128))
		}
		return smallInt(n), true
	case "time_tz":
		if len(b) != 8 {
			return nil, false
		}
		// DuckDB's dtime_tz_t: microseconds of the day in the upper 40 bits, and the zone
		// offset in seconds as (57599 - offset) in the lower 24.
		v := binary.LittleEndian.Uint64(b)
		micros := int64(v >> 24)
		offset := 57599 - int64(v&0xFFFFFF)
		return Time{Micros: micros}.String() + zoneText(offset), true
	case "bit":
		if len(b) < 1 {
			return nil, false
		}
		// The first byte counts the padding bits at the start of the second.
		var s strings.Builder
		for j, c := range b[1:] {
			for k := 7; k >= 0; k-- {
				if j == 0 && 7-k < int(b[0]) {
					continue
				}
				s.WriteByte('0' + (c>>k)&1)
			}
		}
		return s.String(), true
	case "bignum":
		if len(b) < 3 {
			return nil, false
		}
		// A 3-byte header (top bit set for a positive number), then the magnitude big-endian;
		// a negative number has every byte inverted.
		data := append([]byte(nil), b[3:]...)
		neg := b[0]&0x80 == 0
		if neg {
			for j := range data {
				data[j] = ^data[j]
			}
		}
		n := new(big.Int).SetBytes(data)
		if neg {
			n.Neg(n)
		}
		return smallInt(n), true
	}
	return nil, false
}

func smallInt(n *big.Int) any {
	if n.IsInt64() {
		return n.Int64()
	}
	return n
}

// zoneText prints a UTC offset as DuckDB does: +05:30, -08, +00.
func zoneText(sec int64) string {
	sign := byte('+')
	if sec < 0 {
		sign, sec = '-', -sec
	}
	s := fmt.Sprintf("%c%02d", sign, sec/3600)
	if m, ss := sec%3600/60, sec%60; m != 0 || ss != 0 {
		s += fmt.Sprintf(":%02d", m)
		if ss != 0 {
			s += fmt.Sprintf(":%02d", ss)
		}
	}
	return s
}
