package mysql

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/stretchr/testify/require"
)

func TestDecimalText(t *testing.T) {
	for _, c := range []struct {
		text        string
		prec, scale int32
	}{
		{"0.00", 10, 2}, {"-0.05", 10, 2}, {"12.50", 10, 2}, {"-12345678.91", 10, 2}, {"7", 5, 0},
		{"1234567890123456789012345678.0123456789", 38, 10}, {"-99999999999999999999999999999999999999", 38, 0},
		{"0.0000000001", 38, 10},
	} {
		n, err := parseDecimal(c.text, c.prec, c.scale)
		require.NoError(t, err, c.text)
		require.Equal(t, c.text, formatDecimal128(n, c.scale), "round trip of %s", c.text)
	}
	_, err := parseDecimal("123.456", 10, 2)
	require.ErrorContains(t, err, "is not a DECIMAL(10,2) value")
	_, err = parseDecimal("123456789.00", 10, 2)
	require.ErrorContains(t, err, "is not a DECIMAL(10,2) value")
	_, err = parseDecimal("1e5", 10, 2)
	require.Error(t, err)
	require.Equal(t, "-0.5", formatDecimal128(decimal128.FromI64(-5), 1))
}

func TestQuoteIdent(t *testing.T) {
	require.Equal(t, "`a``b; DROP TABLE x`", QuoteIdent("a`b; DROP TABLE x"))
}

func TestFormatTime(t *testing.T) {
	require.Equal(t, "-838:59:59", formatTime(-(838*3600+59*60+59)*1e9))
	require.Equal(t, "1:02:03.5", formatTime((3723*1e6+500000)*1e3))
	us, err := parseClock("-838:59:59.000001")
	require.NoError(t, err)
	require.Equal(t, int64(-3020399000001), us)
}
