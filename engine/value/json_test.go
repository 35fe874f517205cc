package value

import (
	"testing"
)

func TestDecodeJSONKeepsOrderAndDigits(t *testing.T) {
	v, err := DecodeJSON([]byte(`{"id": "INTEGER", "amount": {"z": 1, "a": [123456789012345678.12, 1e3, 7]}, "b": null}`))
	if err != nil {
		t.Fatal(err)
	}
	m := v.(*Map)
	if got := string(JSON(m)); got != `{"id":"INTEGER","amount":{"z":1,"a":[123456789012345678.12,1000,7]},"b":null}` {
		t.Fatalf("JSON round trip: %s", got)
	}
	if got := Format(m); got != `{'id': INTEGER, 'amount': {'z': 1, 'a': [123456789012345678.12, 1000.0, 7]}, 'b': NULL}` {
		t.Fatalf("Format: %s", got)
	}
	if _, err := DecodeJSON([]byte(`{"a": 1} x`)); err == nil {
		t.Fatal("trailing data accepted")
	}
}
