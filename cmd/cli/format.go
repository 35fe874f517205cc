package cli

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	bindings "github.com/duckdb/duckdb-go-bindings"

	"github.com/ankaflow/ankaflow/engine"
	"github.com/ankaflow/ankaflow/pipeline"
)

const bindingsCall = bindings.StatementTypeCall

var writeTable = pipeline.FormatTable

func isNumericType(t engine.TypeInfo) bool {
	switch t.ID {
	case bindings.TypeTinyInt, bindings.TypeSmallInt, bindings.TypeInteger, bindings.TypeBigInt,
		bindings.TypeUTinyInt, bindings.TypeUSmallInt, bindings.TypeUInteger, bindings.TypeUBigInt,
		bindings.TypeHugeInt, bindings.TypeUHugeInt, bindings.TypeFloat, bindings.TypeDouble, bindings.TypeDecimal:
		return true
	}
	return false
}

// textRows renders a record batch as text, the way DuckDB prints values.
func textRows(rec arrow.RecordBatch) [][]string {
	out := make([][]string, rec.NumRows())
	for i := range out {
		out[i] = make([]string, rec.NumCols())
	}
	for c := 0; c < int(rec.NumCols()); c++ {
		col := rec.Column(c)
		for r := 0; r < col.Len(); r++ {
			out[r][c] = cellString(col, r)
		}
	}
	return out
}

func cellString(col arrow.Array, i int) string {
	if col.IsNull(i) {
		return "NULL"
	}
	switch a := col.(type) {
	case *array.Int8:
		return strconv.FormatInt(int64(a.Value(i)), 10)
	case *array.Int16:
		return strconv.FormatInt(int64(a.Value(i)), 10)
	case *array.Int32:
		return strconv.FormatInt(int64(a.Value(i)), 10)
	case *array.Int64:
		return strconv.FormatInt(a.Value(i), 10)
	case *array.Uint8:
		return strconv.FormatUint(uint64(a.Value(i)), 10)
	case *array.Uint16:
		return strconv.FormatUint(uint64(a.Value(i)), 10)
	case *array.Uint32:
		return strconv.FormatUint(uint64(a.Value(i)), 10)
	case *array.Uint64:
		return strconv.FormatUint(a.Value(i), 10)
	case *array.Float32:
		return strconv.FormatFloat(float64(a.Value(i)), 'g', -1, 32)
	case *array.Float64:
		return strconv.FormatFloat(a.Value(i), 'g', -1, 64)
	// Strings are cloned: Value points into the batch, which is released while the table
	// printer still holds the rows.
	case *array.String:
		return strings.Clone(a.Value(i))
	case *array.LargeString:
		return strings.Clone(a.Value(i))
	case *array.StringView:
		return strings.Clone(a.Value(i))
	case *array.Binary:
		return `\x` + hex.EncodeToString(a.Value(i))
	case *array.Boolean:
		return strconv.FormatBool(a.Value(i))
	case *array.Date32:
		return a.Value(i).ToTime().Format("2006-01-02")
	case *array.Timestamp:
		unit := a.DataType().(*arrow.TimestampType).Unit
		tz := a.DataType().(*arrow.TimestampType).TimeZone
		t := a.Value(i).ToTime(unit)
		if tz != "" {
			return t.Format("2006-01-02 15:04:05.999999Z07")
		}
		return t.Format("2006-01-02 15:04:05.999999")
	case *array.Time64:
		unit := a.DataType().(*arrow.Time64Type).Unit
		return a.Value(i).ToTime(unit).Format("15:04:05.999999")
	case *array.Decimal128, *array.Decimal256:
		return col.ValueStr(i)
	case *array.MonthDayNanoInterval:
		v := a.Value(i)
		return fmt.Sprintf("%d months %d days %s", v.Months, v.Days, time.Duration(v.Nanoseconds))
	case *array.List, *array.LargeList, *array.Struct, *array.Map, *array.FixedSizeList:
		b, err := json.Marshal(col.GetOneForMarshal(i))
		if err == nil {
			return string(b)
		}
	}
	return col.ValueStr(i)
}
