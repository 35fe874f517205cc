package pgwire

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/engine"
)

// Fuzz targets for everything that reads bytes a client chose. Each asserts that the input is
// either decoded or refused with a *pgError of a data or protocol class, never a panic, a
// stack overflow or an allocation out of proportion to the input. `make test` runs each one
// for a few seconds; the seed corpus (including every input that once crashed the server) is
// in testdata/fuzz/<target>.

// fuzzOIDs are the parameter types a client can name, in a stable order.
var fuzzOIDs = func() []uint32 {
	var oids []uint32
	for oid := range pgTypes {
		oids = append(oids, oid)
	}
	slices.Sort(oids)
	return append(oids, 0, oidUnknown, 999999)
}()

// fuzzOID keeps the OIDs the server knows and maps any other number onto one of them, so
// the fuzzer spends its time on real decoders.
func fuzzOID(oid uint32) uint32 {
	if _, ok := pgTypes[oid]; ok {
		return oid
	}
	return fuzzOIDs[int(oid%uint32(len(fuzzOIDs)))]
}

// checkDecodeErr fails unless err is nil or a client-facing refusal.
func checkDecodeErr(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var pe *pgError
	if !errors.As(err, &pe) {
		t.Fatalf("error is %T, not *pgError: %v", err, err)
	}
	switch pe.Code[:2] {
	case "22", "54", "0A", "08":
	default:
		t.Fatalf("unexpected SQLSTATE %s: %s", pe.Code, pe.Message)
	}
}

// checkAllocs fails when decoding len(in) bytes allocated far more than the input could
// justify. The slack covers pgproto3, which sizes slices from 16-bit counts before checking
// them (at most 65535 entries, about 1.5 MB, per message).
func checkAllocs(t *testing.T, in int, f func()) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	if got, limit := after.TotalAlloc-before.TotalAlloc, uint64(64*in+(4<<20)); got > limit {
		t.Fatalf("decoding %d bytes allocated %d bytes", in, got)
	}
}

func FuzzDecodeBinary(f *testing.F) {
	f.Add(oidInt4, []byte{0, 0, 0, 7})
	f.Add(oidNumeric, numericMsg(2, 0, 0x4000, 2, 12, 3400))
	f.Add(oidInt4Array, binArray(1, 0, oidInt4, []int32{0x7fffffff}, nil))
	f.Fuzz(func(t *testing.T, oid uint32, data []byte) {
		oid = fuzzOID(oid)
		checkAllocs(t, len(data), func() {
			_, err := decodeBinary(oid, data)
			checkDecodeErr(t, err)
		})
	})
}

func FuzzDecodeArrayBinary(f *testing.F) {
	f.Add(uint32(oidInt4), binArray(1, 0, oidInt4, []int32{1}, append(binary.BigEndian.AppendUint32(nil, 4), 0, 0, 0, 7)))
	f.Add(uint32(oidText), binArray(1, 1, oidText, []int32{2}, append(binary.BigEndian.AppendUint32(nil, 0xffffffff), 0, 0, 0, 1, 'x')))
	f.Add(uint32(oidInt4), binArray(1, 0, oidInt4Array, []int32{1}, nil))
	f.Fuzz(func(t *testing.T, elem uint32, data []byte) {
		checkAllocs(t, len(data), func() {
			_, err := decodeArrayBinary(elem, data)
			checkDecodeErr(t, err)
		})
	})
}

func FuzzDecodeNumericBinary(f *testing.F) {
	f.Add(numericMsg(2, 0, 0x4000, 2, 12, 3400))
	f.Add(numericMsg(1, -3, 0, 20, 5))
	f.Add(numericMsg(0, 0, 0xC000, 0))
	f.Fuzz(func(t *testing.T, data []byte) {
		// A 10-byte numeric may legitimately print 32767 digit groups (weight), so the
		// allocation bound is the text PostgreSQL itself would produce.
		v, err := decodeNumericBinary(data)
		checkDecodeErr(t, err)
		if s, ok := v.(string); ok && len(s) > 4*32768+1100 {
			t.Fatalf("numeric text of %d bytes", len(s))
		}
	})
}

func FuzzDecodeText(f *testing.F) {
	f.Add(oidInt4Array, "{1,2,NULL}")
	f.Add(oidBytea, `\x0102`)
	f.Add(oidBytea, `a\\b\001`)
	f.Add(oidTextArray, `[1:2]={"a b",c}`)
	f.Add(oidFloat8, "-Infinity")
	f.Fuzz(func(t *testing.T, oid uint32, s string) {
		oid = fuzzOID(oid)
		checkAllocs(t, len(s), func() {
			_, err := decodeParam(oid, 0, []byte(s), engine.TypeInfo{})
			checkDecodeErr(t, err)
		})
	})
}

// fuzzCopyReader is a COPY FROM STDIN reader over an (int4, text) table with data already
// received; no connection behind it, so running out of data ends the parse.
func fuzzCopyReader(t *testing.T, stmt string, data []byte) *copyInReader {
	cmd, pe := parseCopy(stmt)
	require.Nil(t, pe)
	return &copyInReader{cmd: cmd, buf: data, ended: true, cols: []copyColumn{{name: "a", oid: oidInt4}, {name: "b", oid: oidText}}}
}

func FuzzCopyBinary(f *testing.F) {
	hdr := append(append([]byte(nil), binaryCopySignature...), 0, 0, 0, 0, 0, 0, 0, 0)
	row := append(binary.BigEndian.AppendUint16(nil, 2), 0, 0, 0, 4, 0, 0, 0, 9, 0, 0, 0, 2, 'h', 'i')
	f.Add(append(append(append([]byte(nil), hdr...), row...), 0xff, 0xff))
	f.Add(append(append([]byte(nil), hdr...), 0, 2, 0x7f, 0xff, 0xff, 0xff))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := fuzzCopyReader(t, "COPY t FROM STDIN (FORMAT binary)", data)
		checkAllocs(t, len(data), func() {
			for {
				fields, need, pe := r.parseBinary()
				if pe != nil {
					checkDecodeErr(t, pe)
					return
				}
				if need > 0 || fields == nil {
					return
				}
				for i, fv := range fields {
					if fv != nil {
						_, err := decodeBinary(r.cols[i].oid, fv)
						checkDecodeErr(t, err)
					}
				}
			}
		})
	})
}

func FuzzCopyText(f *testing.F) {
	f.Add(false, []byte("1\thello\n2\t\\N\n"))
	f.Add(true, []byte("1,\"a \"\"quoted\"\" b\"\n2,\n"))
	f.Add(true, []byte("3,\"unterminated\n"))
	f.Fuzz(func(t *testing.T, csv bool, data []byte) {
		stmt := "COPY t FROM STDIN"
		if csv {
			stmt += " (FORMAT csv)"
		}
		r := fuzzCopyReader(t, stmt, data)
		checkAllocs(t, len(data), func() {
			for {
				end := r.lineEnd()
				if r.err != nil || end < 0 {
					return
				}
				line := r.buf[:end]
				r.buf = r.buf[end+1:]
				if _, pe := r.splitFields(line); pe != nil {
					checkDecodeErr(t, pe)
				}
			}
		})
	})
}

// fuzzConn is a connection reading from data, for the startup and framing readers.
func fuzzConn(data []byte) *conn {
	return &conn{rd: bufio.NewReader(bytes.NewReader(data)), budget: newByteBudget(readAheadBytes)}
}

func FuzzStartupPacket(f *testing.F) {
	startup := func(body string) []byte {
		b := binary.BigEndian.AppendUint32(nil, uint32(8+len(body)))
		b = binary.BigEndian.AppendUint32(b, 196608)
		return append(b, body...)
	}
	f.Add(startup("user\x00tester\x00database\x00db\x00\x00"))
	f.Add(startup("user\x00u\x00options\x00-c a=b --c-d=e\\ f\x00_pq_.x\x00y\x00\x00"))
	f.Add(startup("user\x00unterminated"))
	f.Add([]byte{0, 0, 0, 8, 4, 210, 22, 47})
	f.Fuzz(func(t *testing.T, data []byte) {
		c := fuzzConn(data)
		checkAllocs(t, len(data), func() {
			body, err := c.readStartupPacket()
			if err != nil {
				return
			}
			params, _, err := parseStartupParams(body[4:])
			if err != nil {
				return
			}
			parseOptions(params["options"])
		})
	})
}

func FuzzMessageFraming(f *testing.F) {
	frame := func(typ byte, body string) []byte {
		return append(binary.BigEndian.AppendUint32([]byte{typ}, uint32(4+len(body))), body...)
	}
	f.Add(frame('Q', "SELECT 1\x00"))
	f.Add(append(frame('P', "s\x00SELECT $1\x00\x00\x01\x00\x00\x00\x17"), frame('S', "")...))
	f.Add(frame('B', "\x00s\x00\x00\x01\x00\x01\x00\x01\x00\x00\x00\x04\x00\x00\x00\x07\x00\x00"))
	f.Add([]byte{'Q', 0x0f, 0xff, 0xff, 0xff, 'x'})
	f.Add(frame('Z', ""))
	f.Fuzz(func(t *testing.T, data []byte) {
		c := fuzzConn(data)
		checkAllocs(t, len(data), func() {
			for {
				// The server's consumer gives each message's bytes back to the read budget
				// (conn.take); the harness must too, or a second message larger than the
				// budget waits forever for bytes nobody releases.
				_, size, err := c.readMessage()
				c.budget.release(size)
				if err != nil {
					var pe *pgError
					if errors.As(err, &pe) {
						require.Equal(t, codeProtocolViolation, pe.Code)
					}
					return
				}
			}
		})
	})
}

// A frame header claiming 200 MB followed by a few bytes allocates about what arrived.
func TestFrameLengthClaimAllocatesWhatArrives(t *testing.T) {
	data := append([]byte{'Q', 0x0c, 0, 0, 0}, strings.Repeat("x", 100)...)
	c := fuzzConn(data)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, _, err := c.readMessage()
	runtime.ReadMemStats(&after)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(8<<20))
}
