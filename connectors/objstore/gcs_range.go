package objstore

import (
	"context"
	"errors"
	"io"

	"cloud.google.com/go/storage"
)

// ReadRange reads n bytes of key from offset off (a tap's description reads a Parquet footer or
// the first lines of a text object this way), all of one generation: the one List saw, or for a
// key not listed by this store the one the first read saw. The reads that describe one object
// (the footer's length, then the footer) so never come from two versions; an object replaced
// in between fails the read instead.
func (s *gcsStore) ReadRange(ctx context.Context, key string, off, n int64) ([]byte, error) {
	u := s.u.Object(key)
	obj := s.cl.Bucket(u.Bucket).Object(key).ReadCompressed(true) // the stored bytes, as Download reads them
	gen, pinned := s.gens.Load(key)
	if pinned {
		obj = obj.Generation(gen.(int64))
	}
	r, err := obj.NewRangeReader(ctx, off, n)
	if err != nil {
		if pinned && errors.Is(err, storage.ErrObjectNotExist) {
			return nil, &Error{Op: "read", URL: u.String(), Msg: "the object changed while it was read (replaced or deleted)",
				Hint: "run again, or stop writing the object while it is read", Err: err}
		}
		return nil, s.wrap("read", u, err)
	}
	defer r.Close()
	if !pinned {
		s.gens.Store(key, r.Attrs.Generation)
	}
	data, err := io.ReadAll(io.LimitReader(r, n))
	if err != nil {
		return nil, s.wrap("read", u, err)
	}
	return data, nil
}

var _ RangeReader = (*gcsStore)(nil)
