package sqlfuncs

import (
	"reflect"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// jsonType is Arrow's canonical arrow.json extension over UTF-8 text, which DuckDB reads as
// its JSON type. (arrow-go's own extensions package would pull Parquet into the build.)
type jsonType struct {
	arrow.ExtensionBase
}

type jsonArray struct {
	array.ExtensionArrayBase
}

func (*jsonType) ExtensionName() string { return "arrow.json" }

func (*jsonType) Serialize() string { return "" }

func (t *jsonType) Deserialize(storage arrow.DataType, _ string) (arrow.ExtensionType, error) {
	return &jsonType{arrow.ExtensionBase{Storage: storage}}, nil
}

func (t *jsonType) ExtensionEquals(o arrow.ExtensionType) bool {
	return o.ExtensionName() == t.ExtensionName() && arrow.TypeEqual(t.Storage, o.StorageType())
}

func (*jsonType) ArrayType() reflect.Type { return reflect.TypeOf(jsonArray{}) }
