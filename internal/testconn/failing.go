package testconn

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow/array"
)

// FailingReader passes After batches of a reader through, then fails: an upstream stage that
// breaks mid-stream, for testing that sinks leave their target as it was.
type FailingReader struct {
	array.RecordReader
	After int
	n     int
	err   error
}

// Next implements array.RecordReader.
func (r *FailingReader) Next() bool {
	if r.n >= r.After {
		r.err = fmt.Errorf("upstream failed after %d batches", r.n)
		return false
	}
	r.n++
	return r.RecordReader.Next()
}

// Err implements array.RecordReader.
func (r *FailingReader) Err() error {
	if r.err != nil {
		return r.err
	}
	return r.RecordReader.Err()
}
