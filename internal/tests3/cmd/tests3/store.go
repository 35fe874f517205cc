package main

import (
	"crypto/md5"
	"io"
	"sort"
	"sync"
	"time"

	"github.com/johannesboyne/gofakes3"
)

// store is the server's in-memory object store (a gofakes3 backend). Unlike gofakes3's own
// s3mem, an object is a list of chunks, so completing a multipart upload links its parts into
// the object as real S3 does, instead of copying and hashing the whole object in one request:
// the completion of a 150 MB upload took 0.5-1.6 s in s3mem and made the test server, not the
// client, the bottleneck of the sink benchmark. Chunks are never modified once stored; a
// replaced object's chunks stay readable by the GETs already reading them, and go back to the
// buffer pool (pool.go) when the last of those is done.
type store struct {
	mu      sync.RWMutex
	buckets map[string]*storeBucket
}

type storeBucket struct {
	created time.Time
	objects map[string]*object
}

type object struct {
	chunks   []*buffer // each held once by the object
	size     int64
	hash     []byte // what the ETag shows: the MD5 of a PUT, the MD5 of the parts' MD5s for a multipart object
	meta     map[string]string
	modified time.Time
}

var _ gofakes3.Backend = (*store)(nil)

func newStore() *store { return &store{buckets: map[string]*storeBucket{}} }

func (s *store) ListBuckets() ([]gofakes3.BucketInfo, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]gofakes3.BucketInfo, 0, len(s.buckets))
	for name, b := range s.buckets {
		out = append(out, gofakes3.BucketInfo{Name: name, CreationDate: gofakes3.NewContentTime(b.created)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// ListBucket lists keys in byte order after the page's marker; keys under a common prefix
// (the part up to the delimiter) count once, as one prefix.
func (s *store) ListBucket(name string, prefix *gofakes3.Prefix, page gofakes3.ListBucketPage) (*gofakes3.ObjectList, error) {
	if prefix == nil {
		prefix = &gofakes3.Prefix{}
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	b := s.buckets[name]
	if b == nil {
		return nil, gofakes3.BucketNotFound(name)
	}
	keys := make([]string, 0, len(b.objects))
	for k := range b.objects {
		if page.Marker == "" || k > page.Marker {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	out := gofakes3.NewObjectList()
	var match gofakes3.PrefixMatch
	var lastPrefix string
	var n int64
	for i, k := range keys {
		if !prefix.Match(k, &match) {
			continue
		}
		if match.CommonPrefix {
			if match.MatchedPart == lastPrefix {
				continue
			}
			out.AddPrefix(match.MatchedPart)
			lastPrefix = match.MatchedPart
		} else {
			o := b.objects[k]
			out.Add(&gofakes3.Content{Key: k, LastModified: gofakes3.NewContentTime(o.modified),
				ETag: gofakes3.FormatETag(o.hash), Size: o.size})
		}
		n++
		if page.MaxKeys > 0 && n >= page.MaxKeys {
			out.NextMarker = k
			out.IsTruncated = i+1 < len(keys)
			break
		}
	}
	return out, nil
}

func (s *store) CreateBucket(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.buckets[name] != nil {
		return gofakes3.ResourceError(gofakes3.ErrBucketAlreadyExists, name)
	}
	s.buckets[name] = &storeBucket{created: time.Now(), objects: map[string]*object{}}
	return nil
}

func (s *store) BucketExists(name string) (bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.buckets[name] != nil, nil
}

func (s *store) DeleteBucket(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.buckets[name]
	if b == nil {
		return gofakes3.BucketNotFound(name)
	}
	if len(b.objects) > 0 {
		return gofakes3.ResourceError(gofakes3.ErrBucketNotEmpty, name)
	}
	delete(s.buckets, name)
	return nil
}

func (s *store) ForceDeleteBucket(name string) error {
	s.mu.Lock()
	b := s.buckets[name]
	delete(s.buckets, name)
	s.mu.Unlock()
	if b == nil {
		return gofakes3.BucketNotFound(name)
	}
	for _, o := range b.objects {
		releaseAll(o.chunks)
	}
	return nil
}

// get returns the object under key; with retain, its chunks get a holder each before the lock is
// let go (a put replacing the object could otherwise hand them to the next upload), which the
// caller releases.
func (s *store) get(bucket, key string, retain bool) (*object, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	b := s.buckets[bucket]
	if b == nil {
		return nil, gofakes3.BucketNotFound(bucket)
	}
	o := b.objects[key]
	if o == nil {
		return nil, gofakes3.KeyNotFound(key)
	}
	if retain {
		for _, c := range o.chunks {
			c.retain()
		}
	}
	return o, nil
}

func (s *store) HeadObject(bucket, key string) (*gofakes3.Object, error) {
	o, err := s.get(bucket, key, false)
	if err != nil {
		return nil, err
	}
	return &gofakes3.Object{Name: key, Metadata: o.meta, Size: o.size, Hash: o.hash, Contents: io.NopCloser(eof{})}, nil
}

func (s *store) GetObject(bucket, key string, rangeRequest *gofakes3.ObjectRangeRequest) (*gofakes3.Object, error) {
	o, err := s.get(bucket, key, true)
	if err != nil {
		return nil, err
	}
	rng, err := rangeRequest.Range(o.size)
	if err != nil {
		releaseAll(o.chunks)
		return nil, err
	}
	start, length := int64(0), o.size
	if rng != nil {
		start, length = rng.Start, rng.Length
	}
	return &gofakes3.Object{Name: key, Metadata: o.meta, Size: o.size, Hash: o.hash, Range: rng,
		Contents: &chunkReader{held: o.chunks, chunks: o.chunks, off: start, left: length}}, nil
}

// put stores o under key (replacing what was there). The store takes o's holds on its chunks;
// when the bucket is missing, they stay the caller's.
func (s *store) put(bucket, key string, o *object) error {
	s.mu.Lock()
	b := s.buckets[bucket]
	if b == nil {
		s.mu.Unlock()
		return gofakes3.BucketNotFound(bucket)
	}
	old := b.objects[key]
	b.objects[key] = o
	s.mu.Unlock()
	if old != nil {
		releaseAll(old.chunks)
	}
	return nil
}

func (s *store) PutObject(bucket, key string, meta map[string]string, input io.Reader, size int64, conditions *gofakes3.PutConditions) (gofakes3.PutObjectResult, error) {
	if conditions != nil {
		return gofakes3.PutObjectResult{}, gofakes3.ErrNotImplemented
	}
	if ok, _ := s.BucketExists(bucket); !ok {
		return gofakes3.PutObjectResult{}, gofakes3.BucketNotFound(bucket)
	}
	body := getBuffer(size)
	if _, err := io.ReadFull(input, body.b); err != nil {
		body.release()
		return gofakes3.PutObjectResult{}, gofakes3.ErrIncompleteBody
	}
	sum := md5.Sum(body.b)
	o := &object{chunks: []*buffer{body}, size: size, hash: sum[:], meta: meta, modified: time.Now()}
	if err := s.put(bucket, key, o); err != nil {
		body.release()
		return gofakes3.PutObjectResult{}, err
	}
	return gofakes3.PutObjectResult{}, nil
}

func (s *store) DeleteObject(bucket, key string) (gofakes3.ObjectDeleteResult, error) {
	s.mu.Lock()
	b := s.buckets[bucket]
	if b == nil {
		s.mu.Unlock()
		return gofakes3.ObjectDeleteResult{}, gofakes3.BucketNotFound(bucket)
	}
	o := b.objects[key]
	delete(b.objects, key) // S3 answers a delete of a missing key with success too
	s.mu.Unlock()
	if o != nil {
		releaseAll(o.chunks)
	}
	return gofakes3.ObjectDeleteResult{}, nil
}

func (s *store) DeleteMulti(bucket string, keys ...string) (gofakes3.MultiDeleteResult, error) {
	var res gofakes3.MultiDeleteResult
	for _, k := range keys {
		if _, err := s.DeleteObject(bucket, k); err != nil {
			return res, err
		}
		res.Deleted = append(res.Deleted, gofakes3.ObjectID{Key: k})
	}
	return res, nil
}

// CopyObject shares the source's chunks: they are never modified.
func (s *store) CopyObject(srcBucket, srcKey, dstBucket, dstKey string, meta map[string]string) (gofakes3.CopyObjectResult, error) {
	o, err := s.get(srcBucket, srcKey, true)
	if err != nil {
		return gofakes3.CopyObjectResult{}, err
	}
	c := *o
	c.meta, c.modified = meta, time.Now()
	if err := s.put(dstBucket, dstKey, &c); err != nil {
		releaseAll(c.chunks)
		return gofakes3.CopyObjectResult{}, err
	}
	return gofakes3.CopyObjectResult{ETag: gofakes3.FormatETag(c.hash), LastModified: gofakes3.NewContentTime(c.modified)}, nil
}

// chunkReader reads left bytes from off in a list of chunks, holding them until closed.
type chunkReader struct {
	held   []*buffer
	chunks []*buffer
	off    int64
	left   int64
}

func (r *chunkReader) Close() error {
	releaseAll(r.held)
	r.held, r.chunks, r.left = nil, nil, 0
	return nil
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for len(r.chunks) > 0 && r.off >= int64(len(r.chunks[0].b)) {
		r.off -= int64(len(r.chunks[0].b))
		r.chunks = r.chunks[1:]
	}
	if r.left <= 0 || len(r.chunks) == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	n := copy(p, r.chunks[0].b[r.off:])
	r.off += int64(n)
	r.left -= int64(n)
	return n, nil
}

// WriteTo sends the chunks as they are, without a copy through io.Copy's buffer.
func (r *chunkReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for r.left > 0 && len(r.chunks) > 0 {
		c := r.chunks[0].b
		if r.off >= int64(len(c)) {
			r.off -= int64(len(c))
			r.chunks = r.chunks[1:]
			continue
		}
		c = c[r.off:]
		if int64(len(c)) > r.left {
			c = c[:r.left]
		}
		n, err := w.Write(c)
		total += int64(n)
		r.off += int64(n)
		r.left -= int64(n)
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

type eof struct{}

func (eof) Read([]byte) (int, error) { return 0, io.EOF }
