package cli

import (
	"github.com/apache/arrow-go/v18/arrow"
	bindings "github.com/duckdb/duckdb-go-bindings"

	"github.com/ankaflow/ankaflow/engine"
	"github.com/ankaflow/ankaflow/engine/value"
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

// cellString is one value in DuckDB's text form (CAST … AS VARCHAR), NULL as "NULL".
func cellString(col arrow.Array, i int) string {
	return value.Format(value.FromArrow(col, i))
}
