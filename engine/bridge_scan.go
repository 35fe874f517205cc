package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"

	"github.com/apache/arrow-go/v18/arrow/array"
)

// scanFunction is the internal table function behind ScanArrow.
const scanFunction = "__ankaflow_scan"

func init() {
	RegisterExtension(Extension{
		Name: "engine.bridge",
		OnOpen: func(ctx context.Context, db *DB, s *Session) error {
			return s.RegisterTableFunction(TableFunction{
				Name: scanFunction,
				Args: []ArgType{ArgVarchar},
				Bind: bindScan,
			})
		},
		OnSession: func(ctx context.Context, s *Session) error {
			optionalFns.Lock()
			var fns []TableFunction
			for _, f := range optionalFns.m[s.db] {
				fns = append(fns, f)
			}
			optionalFns.Unlock()
			for _, f := range fns {
				if err := s.createOptionalMacro(ctx, f); err != nil {
					return err
				}
			}
			return nil
		},
	})
}

var scans = struct {
	sync.Mutex
	m map[string]*scanEntry
}{m: map[string]*scanEntry{}}

type scanEntry struct {
	session uint64
	r       array.RecordReader
	taken   bool
	done    chan struct{} // closed when the query that took the rows let go of them
}

// ScanArrow makes r readable in this session as `SELECT * FROM <from>`, once: the first query
// that reads it consumes the rows. The returned release must be called when done (after the
// statement reading it has finished); it waits for that statement to let go of the reader.
// ScanArrow retains r and release releases it: the caller keeps its own reference.
func (s *Session) ScanArrow(r array.RecordReader) (from string, release func()) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	token := hex.EncodeToString(b[:])
	r.Retain()
	e := &scanEntry{session: s.id, r: r, done: make(chan struct{})}
	scans.Lock()
	scans.m[token] = e
	scans.Unlock()
	var once sync.Once
	release = func() {
		once.Do(func() {
			scans.Lock()
			delete(scans.m, token)
			taken := e.taken
			scans.Unlock()
			if taken {
				<-e.done
			}
			r.Release()
		})
	}
	return scanFunction + "(" + QuoteLiteral(token) + ")", release
}

func bindScan(ctx context.Context, caller *Session, args []any, named map[string]any) (array.RecordReader, error) {
	token, _ := args[0].(string)
	scans.Lock()
	defer scans.Unlock()
	e := scans.m[token]
	if e == nil || caller == nil || caller.id != e.session {
		return nil, fmt.Errorf("%s: no such scan in this session (scans are made by Session.ScanArrow and read by the session that made them)", scanFunction)
	}
	if e.taken {
		return nil, fmt.Errorf("%s: these rows were already read (a scan can be read once)", scanFunction)
	}
	e.taken = true
	return &borrowedReader{RecordReader: e.r, done: e.done}, nil
}

// borrowedReader lends a reader to one query: its Release signals the lender instead of
// releasing the reader.
type borrowedReader struct {
	array.RecordReader
	done chan struct{}
	once sync.Once
}

func (b *borrowedReader) Retain() {}
func (b *borrowedReader) Release() {
	b.once.Do(func() { close(b.done) })
}
