package pipeline

import (
	"database/sql"
	"fmt"
	"math/big"
	"strings"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// templateValue converts a value scanned from DuckDB into what templates see: numbers, text,
// booleans, lists and maps. Timestamps keep their SQL text form ("2024-01-02 03:04:05"), dates
// "2024-01-02", so pasting them into SQL works; NULL is nil (AnkaFlow gave NaN via pandas).
func templateValue(v any, dbType string) any {
	switch x := v.(type) {
	case nil:
		return nil
	case time.Time:
		switch {
		case dbType == "DATE":
			return x.Format("2006-01-02")
		case strings.HasPrefix(dbType, "TIME") && !strings.HasPrefix(dbType, "TIMESTAMP"):
			return x.Format("15:04:05.999999")
		case strings.Contains(dbType, "WITH TIME ZONE") || dbType == "TIMESTAMPTZ":
			return x.Format("2006-01-02 15:04:05.999999-07:00")
		default:
			return x.Format("2006-01-02 15:04:05.999999")
		}
	case *big.Int:
		if x.IsInt64() {
			return x.Int64()
		}
		return x.String()
	case duckdb.Decimal:
		return x.Float64()
	case duckdb.UUID:
		return x.String()
	case []byte:
		return string(x)
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case uint8:
		return int64(x)
	case uint16:
		return int64(x)
	case uint32:
		return int64(x)
	case uint64:
		if x < 1<<63 {
			return int64(x)
		}
		return fmt.Sprint(x)
	case float32:
		return float64(x)
	case duckdb.Interval:
		return fmt.Sprintf("%d months %d days %d microseconds", x.Months, x.Days, x.Micros)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = templateValue(e, "")
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = templateValue(e, "")
		}
		return out
	case duckdb.Map:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[fmt.Sprint(k)] = templateValue(e, "")
		}
		return out
	}
	return v
}

// readRows reads a whole result into template values (loops read their source up front: the
// loop body may replace the very table it loops over).
func readRows(rows *sql.Rows) ([]map[string]any, []string, error) {
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, nil, err
	}
	types, _ := rows.ColumnTypes()
	var out []map[string]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, nil, err
		}
		m := make(map[string]any, len(cols))
		for i, c := range cols {
			t := ""
			if types != nil {
				t = types[i].DatabaseTypeName()
			}
			m[c] = templateValue(vals[i], t)
		}
		out = append(out, m)
	}
	return out, cols, rows.Err()
}
