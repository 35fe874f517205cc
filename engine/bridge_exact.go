package engine

import "context"

// exactSession is a session of the database whose Arrow conversions are lossless
// (arrow_lossless_conversion): COPY targets that keep rows exactly (CopyTarget.Exact) convert
// with its options. It is opened on first need and closed with the database.
func (db *DB) exactSession() (*Session, error) {
	db.exactMu.Lock()
	defer db.exactMu.Unlock()
	if s := db.exact; s != nil {
		s.mu.Lock()
		closed := s.closed
		s.mu.Unlock()
		if !closed {
			return s, nil
		}
	}
	s, err := db.NewSession(context.Background())
	if err != nil {
		return nil, err
	}
	if _, err := s.Exec(context.Background(), "SET SESSION arrow_lossless_conversion = true"); err != nil {
		s.Close()
		return nil, err
	}
	db.exact = s
	return s, nil
}
