package objstore

import (
	"context"
	"io"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
)

// ReadRange reads n bytes of key from offset off (a tap's description reads a Parquet footer or
// the first lines of a text object this way) with one ranged Get Blob, all of one version: the
// ETag List saw, or for a key not listed by this store the one the first read saw (If-Match),
// so the reads that describe one blob never come from two versions.
func (s *azStore) ReadRange(ctx context.Context, key string, off, n int64) ([]byte, error) {
	u := s.u.Object(key)
	opts := &blob.DownloadStreamOptions{Range: blob.HTTPRange{Offset: off, Count: n}}
	etag, pinned := s.etags.Load(key)
	if pinned {
		e := etag.(azcore.ETag)
		opts.AccessConditions = &blob.AccessConditions{ModifiedAccessConditions: &blob.ModifiedAccessConditions{IfMatch: &e}}
	}
	r, err := s.cont.NewBlobClient(key).DownloadStream(ctx, opts)
	if err != nil {
		return nil, s.wrap(ctx, "read", u, err)
	}
	defer r.Body.Close()
	if !pinned && r.ETag != nil {
		s.etags.Store(key, *r.ETag)
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, n))
	if err != nil {
		return nil, s.wrap(ctx, "read", u, err)
	}
	return data, nil
}

var _ RangeReader = (*azStore)(nil)
