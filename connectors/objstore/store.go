package objstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/minio/minio-go/v7"
)

// Object is one listed object.
type Object struct {
	Key  string
	Size int64
}

// Store lists, reads and writes the objects of one bucket.
type Store interface {
	// List returns the objects matching u (one key, or a glob listed with the store's prefix
	// listing), sorted by key.
	List(ctx context.Context, u URL) ([]Object, error)
	// Download copies one object into the local file dst.
	Download(ctx context.Context, key, dst string) error
	// Upload writes the local file src to key atomically: the object appears (or is replaced)
	// only when the whole file is stored; on failure or cancellation an existing object is
	// left as it was and no multipart upload is left open.
	Upload(ctx context.Context, key, src string) error
	// Follow uploads src while a writer is still appending to it; see Upload for the
	// guarantees, which hold once Finish has returned.
	Follow(ctx context.Context, key, src string) Upload
}

// Upload is an upload in progress (see Store.Follow).
type Upload interface {
	// Finish completes the upload when writeErr is nil and aborts it otherwise.
	Finish(writeErr error) error
}

// Open connects to the store of u with the options' (or the standard chain's) credentials.
func Open(u URL, o Options) (Store, Credentials, error) {
	creds, err := SelectCredentials(u.Scheme, o)
	if err != nil {
		return nil, creds, err
	}
	switch u.Scheme {
	case "az":
		st, err := openAzure(u, o, creds)
		return st, creds, err
	case "gs":
		if creds.gcs != nil {
			st, err := openGCS(u, o, creds)
			return st, creds, err
		}
		if o.EndpointURL == "" {
			o.EndpointURL = "https://storage.googleapis.com"
		}
	}
	endpoint, secure := "s3.amazonaws.com", true
	if o.EndpointURL != "" {
		e, err := url.Parse(o.EndpointURL)
		if err != nil || e.Host == "" || (e.Scheme != "http" && e.Scheme != "https") {
			return nil, creds, fmt.Errorf("endpoint_url %q must look like https://host[:port] or http://host:port", o.EndpointURL)
		}
		endpoint, secure = e.Host, e.Scheme == "https"
	}
	region := o.Region
	if region == "" && u.Scheme == "s3" {
		if region = o.getenv("AWS_REGION"); region == "" {
			region = o.getenv("AWS_DEFAULT_REGION")
		}
	}
	lookup := minio.BucketLookupAuto
	switch strings.ToLower(o.URLStyle) {
	case "":
	case "path":
		lookup = minio.BucketLookupPath
	case "vhost", "virtual", "virtual-host", "virtual_host":
		lookup = minio.BucketLookupDNS
	default:
		return nil, creds, fmt.Errorf("url_style %q: use path or vhost", o.URLStyle)
	}
	transport := o.Transport
	if transport == nil && !secure {
		tr, err := minio.DefaultTransport(secure)
		if err != nil {
			return nil, creds, err
		}
		transport = sendfileTransport{tr}
	}
	cl, err := minio.New(endpoint, &minio.Options{Creds: creds.creds, Secure: secure, Region: region,
		BucketLookup: lookup, MaxRetries: 3, Transport: transport})
	if err != nil {
		return nil, creds, err
	}
	_, sendfile := transport.(sendfileTransport)
	return &s3Store{core: minio.Core{Client: cl}, u: u, creds: creds, region: region, endpoint: endpoint, sendfile: sendfile}, creds, nil
}

// s3Store speaks the S3 protocol (AWS S3, S3-compatible stores, and GCS's XML API with HMAC keys).
type s3Store struct {
	core     minio.Core
	u        URL
	creds    Credentials
	region   string
	endpoint string
	sendfile bool // parts go to net/http as partReaders (plain HTTP through sendfileTransport)
}

func (s *s3Store) List(ctx context.Context, u URL) ([]Object, error) {
	if !u.IsGlob() {
		info, err := s.core.Client.StatObject(ctx, u.Bucket, u.Key, minio.StatObjectOptions{})
		if err != nil {
			if minio.ToErrorResponse(err).Code == "NoSuchKey" {
				return nil, s.wrap("list", u, err)
			}
			// A HEAD response has no body, so the store's error code (wrong key, wrong
			// region…) is lost: ask again with a one-byte GET, whose error says it.
			var opts minio.GetObjectOptions
			opts.SetRange(0, 0)
			if o, _, _, gerr := s.core.GetObject(ctx, u.Bucket, u.Key, opts); gerr != nil {
				err = gerr
			} else {
				o.Close()
			}
			return nil, s.wrap("list", u, err)
		}
		return []Object{{Key: u.Key, Size: info.Size}}, nil
	}
	var out []Object
	for o := range s.core.Client.ListObjects(ctx, u.Bucket, minio.ListObjectsOptions{Prefix: u.ListPrefix(), Recursive: true}) {
		if o.Err != nil {
			return nil, s.wrap("list", u, o.Err)
		}
		if strings.HasSuffix(o.Key, "/") || !u.Match(o.Key) {
			continue
		}
		out = append(out, Object{Key: o.Key, Size: o.Size})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// rangeSize is the span of one ranged GET when a large object is read in several at once
// (one connection to S3 rarely fills the link).
const rangeSize = 16 << 20

func (s *s3Store) Download(ctx context.Context, key, dst string) error {
	u := s.u.Object(key)
	// The first range's GET also tells the object's size and ETag (Content-Range), so a small
	// object costs one request, not a HEAD and a GET; the other ranges follow at once.
	var opts minio.GetObjectOptions
	if err := opts.SetRange(0, rangeSize-1); err != nil {
		return err
	}
	body, info, hdr, err := s.core.GetObject(ctx, u.Bucket, key, opts)
	if err != nil {
		if minio.ToErrorResponse(err).Code != "InvalidRange" {
			return s.wrap("read", u, err)
		}
		// An empty object has no byte 0 to range over (AWS answers 416): stat it instead.
		if info, err = s.core.Client.StatObject(ctx, u.Bucket, key, minio.StatObjectOptions{}); err != nil {
			return s.wrap("read", u, err)
		}
		body = io.NopCloser(strings.NewReader(""))
	}
	defer body.Close()
	// Without Content-Range (an empty object, or a server that ignores ranges) the body is the
	// whole object.
	head, n := info.Size, 1
	if total, ok := rangeTotal(hdr.Get("Content-Range")); ok {
		info.Size = total
		head, n = min(total, rangeSize), int((total+rangeSize-1)/rangeSize)
	}
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		next  = make(chan int)
	)
	fail := func(err error) {
		mu.Lock()
		if first == nil {
			first = err
		}
		mu.Unlock()
		cancel()
	}
	for range min(uploadWorkers, n-1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := s.getRange(ctx, u, info, f, int64(i)*rangeSize); err != nil {
					fail(err)
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(next)
		for i := 1; i < n; i++ {
			select {
			case next <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	if got, err := io.Copy(io.NewOffsetWriter(f, 0), body); err != nil {
		fail(err)
	} else if got != head {
		fail(fmt.Errorf("got %d of %d bytes at offset 0", got, head))
	}
	wg.Wait()
	if cerr := f.Close(); first == nil {
		first = cerr
	}
	if first != nil {
		return s.wrap("read", u, first)
	}
	return nil
}

// rangeTotal is the object's size from a Content-Range header ("bytes 0-99/1234").
func rangeTotal(h string) (int64, bool) {
	_, total, ok := strings.Cut(h, "/")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(total, 10, 64)
	return n, err == nil
}

// getRange copies one range of the object (the version stat saw: If-Match on its ETag) into f.
func (s *s3Store) getRange(ctx context.Context, u URL, info minio.ObjectInfo, f *os.File, off int64) error {
	var opts minio.GetObjectOptions
	end := min(off+rangeSize, info.Size) - 1
	if err := opts.SetRange(off, end); err != nil {
		return err
	}
	if info.ETag != "" {
		if err := opts.SetMatchETag(info.ETag); err != nil {
			return err
		}
	}
	body, _, _, err := s.core.GetObject(ctx, u.Bucket, u.Key, opts)
	if err != nil {
		return err
	}
	defer body.Close()
	n, err := io.Copy(io.NewOffsetWriter(f, off), body)
	if err == nil && n != end-off+1 {
		err = fmt.Errorf("got %d of %d bytes at offset %d", n, end-off+1, off)
	}
	return err
}

// partSize is the size of the first multipart parts; files up to one part go up in one PUT,
// which S3 also stores atomically. (8 MiB parts, the AWS CLI's, made the sink benchmark slower
// here: twice the requests, for a shorter wait for the last part.)
const partSize = 16 << 20

// partLen is the size of part n+1: it doubles every 1,000 parts, so that S3's 10,000 parts
// reach past its largest object (5 TiB), and stops at 4 GiB, below its largest part (5 GiB).
func partLen(n int) int64 { return min(int64(partSize)<<(n/1000), 4<<30) }

// uploadWorkers bounds the parts sent at once.
const uploadWorkers = 4

// minPartSize is S3's smallest part (but for the last one).
const minPartSize = 5 << 20

// tailLen is the part size for the rest of a file once the writer has finished: the rest is on
// the sink's critical path (nothing else is left to overlap it with), so it goes up as up to
// uploadWorkers parts at once, none below S3's minimum.
func tailLen(rest int64) int64 {
	k := min(int64(uploadWorkers), rest/minPartSize)
	if k <= 1 {
		return rest
	}
	return (rest + k - 1) / k
}

func (s *s3Store) Upload(ctx context.Context, key, src string) error {
	return s.Follow(ctx, key, src).Finish(nil)
}

// Follow starts uploading src to key while a writer may still be appending to it (DuckDB's
// COPY writes every format front to back): each part goes up as soon as its bytes exist, so
// the upload overlaps the writing. Finish tells whether the writer succeeded.
func (s *s3Store) Follow(ctx context.Context, key, src string) Upload {
	ctx, cancel := context.WithCancel(ctx)
	f := &follower{s: s, ctx: ctx, cancel: cancel, u: s.u.Object(key), src: src,
		stop: make(chan struct{}), stopped: make(chan struct{}), work: make(chan part)}
	go f.follow()
	return f
}

type part struct {
	n        int // 1-based
	off, len int64
}

type follower struct {
	s      *s3Store
	ctx    context.Context
	cancel context.CancelFunc
	u      URL
	src    string
	file   *os.File

	stop, stopped chan struct{}
	work          chan part
	workers       sync.WaitGroup

	forget func() // removes the upload's journal entry (see stale.go)

	mu    sync.Mutex
	id    string // multipart upload id, "" until the first full part exists
	parts []minio.CompletePart
	off   int64 // bytes handed to the workers
	err   error
}

func (f *follower) fail(err error) {
	f.mu.Lock()
	if f.err == nil {
		f.err = err
	}
	f.mu.Unlock()
	f.cancel()
}

// follow hands out every full part of the growing file until Finish stops it.
func (f *follower) follow() {
	defer close(f.stopped)
	for {
		if err := f.dispatch(false); err != nil {
			f.fail(err)
			return
		}
		select {
		case <-f.stop:
			return
		case <-f.ctx.Done():
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// dispatch queues the parts that are complete in the file (with last, also the rest).
func (f *follower) dispatch(last bool) error {
	if f.file == nil {
		file, err := os.Open(f.src)
		if err != nil {
			if os.IsNotExist(err) && !last {
				return nil // the writer has not created it yet
			}
			return err
		}
		f.file = file
	}
	st, err := f.file.Stat()
	if err != nil {
		return err
	}
	size := st.Size()
	for {
		f.mu.Lock()
		n, off, id := len(f.parts)+1, f.off, f.id
		f.mu.Unlock()
		l := partLen(n - 1)
		if rest := size - off; last && rest > 0 {
			l = min(l, tailLen(rest))
		}
		if size-off < l && (!last || size == off) {
			return nil
		}
		if size-off < l {
			l = size - off
		}
		if id == "" {
			if last && off == 0 {
				return nil // small enough for one PUT (Finish sends it)
			}
			// Not cancellable: a cancellation arriving while the request is on its way could
			// leave an upload the store created but whose id we never learnt, so could not abort.
			ictx, cancel := context.WithTimeout(context.WithoutCancel(f.ctx), time.Minute)
			id, err = f.s.core.NewMultipartUpload(ictx, f.u.Bucket, f.u.Key, minio.PutObjectOptions{})
			cancel()
			if err != nil {
				return err
			}
			f.forget = journalUpload(f.s.endpoint, f.u.Bucket, f.u.Key, id)
			f.mu.Lock()
			f.id = id
			f.mu.Unlock()
			for range uploadWorkers {
				f.workers.Add(1)
				go f.uploadParts()
			}
		}
		f.mu.Lock()
		f.parts = append(f.parts, minio.CompletePart{PartNumber: n})
		f.off += l
		f.mu.Unlock()
		select {
		case f.work <- part{n: n, off: off, len: l}:
		case <-f.ctx.Done():
			return f.ctx.Err()
		}
	}
}

func (f *follower) uploadParts() {
	defer f.workers.Done()
	for p := range f.work {
		if f.ctx.Err() != nil {
			continue
		}
		var body io.Reader = io.NewSectionReader(f.file, p.off, p.len)
		var pr *partReader
		if f.s.sendfile {
			var err error
			if pr, err = openPart(f.src, p.off, p.len); err != nil {
				f.fail(err)
				continue
			}
			body = pr
		}
		// Unsigned payload: the part is read once, not hashed first (TLS protects it in transit).
		up, err := f.s.core.PutObjectPart(f.ctx, f.u.Bucket, f.u.Key, f.id, p.n, body, p.len,
			minio.PutObjectPartOptions{DisableContentSha256: true})
		if pr != nil {
			pr.f.Close()
		}
		if err != nil {
			f.fail(err)
			continue
		}
		f.mu.Lock()
		f.parts[p.n-1].ETag = up.ETag
		f.mu.Unlock()
	}
}

// partReader is one part of the file being uploaded, read through a descriptor of its own. It
// is an io.ReadSeeker (minio-go sends a part again after seeking it back to 0) and a
// syscall.Conn: over plain HTTP, net/http then hands the descriptor to sendfile(2), so the part
// goes from the page cache to the socket without a read into our memory and a write out of it
// per 32 KiB (on a VM, where every system call is expensive, the sink benchmark went from
// 1.36-1.45 to 1.13-1.31 times the local sink). Its position is the descriptor's offset, which
// sendfile advances too, so each Read asks for it: parts are partReaders only over plain HTTP
// (s3Store.sendfile); over TLS they are SectionReaders.
type partReader struct {
	f        *os.File
	off, len int64
}

func openPart(path string, off, n int64) (*partReader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	return &partReader{f: f, off: off, len: n}, nil
}

func (p *partReader) Read(b []byte) (int, error) {
	cur, err := p.f.Seek(0, io.SeekCurrent)
	if err != nil {
		return 0, err
	}
	left := p.off + p.len - cur
	if left <= 0 {
		return 0, io.EOF
	}
	if int64(len(b)) > left {
		b = b[:left]
	}
	return p.f.Read(b)
}

func (p *partReader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		cur, err := p.f.Seek(0, io.SeekCurrent)
		if err != nil {
			return 0, err
		}
		offset += cur - p.off
	case io.SeekEnd:
		offset += p.len
	}
	if offset < 0 || offset > p.len {
		return 0, fmt.Errorf("seek to %d outside a part of %d bytes", offset, p.len)
	}
	_, err := p.f.Seek(p.off+offset, io.SeekStart)
	return offset, err
}

func (p *partReader) SyscallConn() (syscall.RawConn, error) { return p.f.SyscallConn() }

// Close does nothing: net/http closes a request's body after sending it, but minio-go may send
// the part again; the worker closes the file.
func (p *partReader) Close() error { return nil }

// sendfileTransport passes a part's reader to net/http as the request body itself. minio-go
// wraps every body in io.NopCloser, which hides the file from net/http's sendfile path (it
// looks through a NopCloser, but not through the wrapper its Transport adds around it). The
// NopCloser's reader is read by reflection: should io.NopCloser change, parts still go up,
// through the ordinary copy.
type sendfileTransport struct{ http.RoundTripper }

func (t sendfileTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		if v := reflect.ValueOf(req.Body); v.Kind() == reflect.Struct {
			if f := v.FieldByName("Reader"); f.IsValid() && f.CanInterface() {
				if p, ok := f.Interface().(*partReader); ok {
					req = req.WithContext(req.Context()) // a copy: RoundTrip must not change the caller's request
					req.Body = p
				}
			}
		}
	}
	return t.RoundTripper.RoundTrip(req)
}

// Finish ends the upload: with writeErr nil it sends the rest and completes it (the object
// appears only now); otherwise, or when anything failed, it aborts the multipart upload.
func (f *follower) Finish(writeErr error) (err error) {
	close(f.stop)
	<-f.stopped
	defer func() {
		if f.file != nil {
			f.file.Close()
		}
	}()
	f.mu.Lock()
	err = f.err
	f.mu.Unlock()
	if err == nil && writeErr == nil && f.ctx.Err() == nil {
		err = f.dispatch(true)
	}
	close(f.work)
	f.workers.Wait()
	f.mu.Lock()
	if err == nil {
		err = f.err
	}
	id := f.id
	f.mu.Unlock()
	if err == nil && writeErr == nil {
		err = f.ctx.Err()
	}
	defer f.cancel()
	switch {
	case writeErr != nil || err != nil:
		if id != "" {
			// Abort even when ctx is cancelled: an open upload would keep its parts (and cost)
			// until a lifecycle rule removes it.
			actx, cancel := context.WithTimeout(context.WithoutCancel(f.ctx), time.Minute)
			defer cancel()
			if aerr := f.s.core.AbortMultipartUpload(actx, f.u.Bucket, f.u.Key, id); aerr != nil {
				if err != nil {
					err = fmt.Errorf("%w (and aborting the multipart upload failed: %v)", err, aerr)
				}
			} else {
				f.forget() // a failed abort stays journalled, for a later run to clean up
			}
		}
		if err == nil {
			return writeErr
		}
		return f.s.wrap("write", f.u, err)
	case id == "":
		st, err := f.file.Stat()
		if err != nil {
			return err
		}
		_, err = f.s.core.PutObject(f.ctx, f.u.Bucket, f.u.Key, io.NewSectionReader(f.file, 0, st.Size()), st.Size(), "", "", minio.PutObjectOptions{})
		return f.s.wrap("write", f.u, err)
	}
	f.mu.Lock()
	parts := f.parts
	f.mu.Unlock()
	if _, err := f.s.core.CompleteMultipartUpload(f.ctx, f.u.Bucket, f.u.Key, id, parts, minio.PutObjectOptions{}); err != nil {
		actx, cancel := context.WithTimeout(context.WithoutCancel(f.ctx), time.Minute)
		defer cancel()
		if f.s.core.AbortMultipartUpload(actx, f.u.Bucket, f.u.Key, id) == nil {
			f.forget()
		}
		return f.s.wrap("write", f.u, err)
	}
	f.forget()
	return nil
}

// Error is a failed object-store operation, with what to check. It never holds a secret.
type Error struct {
	Op   string // list, read, write
	URL  string
	Code string // the store's error code (NoSuchBucket, AccessDenied…), "" when none
	Msg  string
	Hint string
	Err  error
}

func (e *Error) Error() string {
	s := fmt.Sprintf("%s %s: %s", e.Op, e.URL, e.Msg)
	if e.Code != "" {
		s += " (" + e.Code + ")"
	}
	if e.Hint != "" {
		s += "; " + e.Hint
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// wrap turns a client error into an Error that says what to check.
func (s *s3Store) wrap(op string, u URL, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &Error{Op: op, URL: u.String(), Msg: "cancelled", Err: err}
	}
	e := &Error{Op: op, URL: u.String(), Err: err}
	r := minio.ToErrorResponse(err)
	e.Code = r.Code
	where := "endpoint " + s.endpoint
	switch r.Code {
	case "NoSuchBucket":
		e.Msg = fmt.Sprintf("bucket %q does not exist", u.Bucket)
		e.Hint = "check the bucket name in the locator (or config bucket) and the " + where
	case "NoSuchKey", "NotFound":
		if r.Code == "NotFound" && op != "list" {
			e.Msg = "not found"
		} else {
			e.Msg = fmt.Sprintf("object %q does not exist", u.Key)
		}
		e.Hint = "check the key (the locator, data_prefix and locator_wildcard); a glob such as *.parquet lists a prefix"
	case "AccessDenied", "AllAccessDisabled":
		e.Msg = "access denied"
		e.Hint = fmt.Sprintf("the credentials from %s (key id %s) lack permission for this %s: check the bucket policy / IAM role", s.creds.Source, s.creds.AccessKeyID, op)
	case "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken", "InvalidClientTokenId":
		e.Msg = "the store rejected the credentials"
		e.Hint = fmt.Sprintf("credentials came from %s (key id %q): check access_key_id/secret_access_key, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN or the AWS_PROFILE's entry in ~/.aws/credentials", s.creds.Source, s.creds.AccessKeyID)
	case "AuthorizationHeaderMalformed", "PermanentRedirect", "IllegalLocationConstraintException":
		e.Msg = "wrong region"
		if r.Region != "" {
			e.Msg = fmt.Sprintf("wrong region: the bucket is in %s, requests were signed for %s", r.Region, orDefault(s.region, "us-east-1"))
		}
		e.Hint = "set config.s3.region (or AWS_REGION) to the bucket's region"
	default:
		if r.Code != "" {
			e.Msg = r.Message
			if e.Msg == "" {
				e.Msg = fmt.Sprintf("HTTP %d", r.StatusCode)
			}
		} else {
			e.Msg = err.Error()
			e.Hint = "check that " + where + " is reachable (endpoint_url for S3-compatible stores)"
		}
	}
	return e
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// SpillDir is where taps download objects and sinks stage files before upload: ANKAFLOW_SPILL_DIR,
// else the system temp directory.
func SpillDir() string {
	if d := os.Getenv("ANKAFLOW_SPILL_DIR"); d != "" {
		return d
	}
	return filepath.Join(os.TempDir())
}
