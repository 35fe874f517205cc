package objstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"cloud.google.com/go/auth"
	"cloud.google.com/go/storage"
	"golang.org/x/sync/errgroup"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"
)

// gs:// locators with Google credentials (service account, application default credentials,
// the metadata server) or none (an emulator) use GCS's own JSON API through
// cloud.google.com/go/storage; HMAC keys keep using the S3-compatible XML API (s3Store).

// openGCS connects to Cloud Storage. The endpoint is config.gs.endpoint_url, else
// STORAGE_EMULATOR_HOST, else Google's. Options.Transport is not used: the library's own
// transport carries the authentication (it honours HTTPS_PROXY).
func openGCS(u URL, o Options, creds Credentials) (Store, error) {
	endpoint := "storage.googleapis.com"
	opts := append([]option.ClientOption{option.WithTelemetryDisabled()}, creds.gcs.opts...)
	ep := o.EndpointURL
	if ep == "" {
		if host := o.getenv("STORAGE_EMULATOR_HOST"); host != "" {
			ep = host
			if !strings.Contains(ep, "://") {
				ep = "http://" + ep // as Google's libraries read it
			}
		}
	}
	if ep != "" {
		e, err := url.Parse(ep)
		if err != nil || e.Host == "" || (e.Scheme != "http" && e.Scheme != "https") {
			return nil, fmt.Errorf("gs endpoint %q must look like https://host[:port] or http://host:port", ep)
		}
		endpoint = e.Host
		opts = append(opts, option.WithEndpoint(e.Scheme+"://"+e.Host+"/storage/v1/"))
	}
	// NewClient only prepares: no request is sent, so a context of its own is enough.
	cl, err := storage.NewClient(context.Background(), opts...)
	if err != nil && strings.Contains(err.Error(), "could not find default credentials") {
		return nil, fmt.Errorf("%s: no Google credentials found (no key file, no gcloud application default credentials, and no metadata server: not on Google Cloud): set config.gs.credential_file or GOOGLE_APPLICATION_CREDENTIALS to a service-account key file, run `gcloud auth application-default login`, or set config.gs.hmac_key and hmac_secret", u)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: Cloud Storage client (credentials from %s): %v", u, creds.Source, err)
	}
	return &gcsStore{cl: cl, u: u, creds: creds, endpoint: endpoint}, nil
}

type gcsStore struct {
	cl       *storage.Client
	u        URL
	creds    Credentials
	endpoint string
	gens     sync.Map // key → generation (int64) last listed or read, for ReadRange
}

func (s *gcsStore) List(ctx context.Context, u URL) ([]Object, error) {
	b := s.cl.Bucket(u.Bucket)
	if !u.IsGlob() {
		a, err := b.Object(u.Key).Attrs(ctx)
		if errors.Is(err, storage.ErrObjectNotExist) {
			// GCS answers 404 for a missing bucket too: ask the bucket, to say which is missing.
			if _, berr := b.Attrs(ctx); errors.Is(berr, storage.ErrBucketNotExist) {
				err = berr
			}
		}
		if err != nil {
			return nil, s.wrap("list", u, err)
		}
		s.gens.Store(u.Key, a.Generation)
		return []Object{{Key: u.Key, Size: a.Size}}, nil
	}
	q := &storage.Query{Prefix: u.ListPrefix()}
	if err := q.SetAttrSelection([]string{"Name", "Size", "Generation"}); err != nil {
		return nil, err
	}
	var out []Object
	it := b.Objects(ctx, q)
	for {
		a, err := it.Next()
		if err == iterator.Done {
			break
		}
		if err != nil {
			if isStatus(err, http.StatusNotFound) {
				err = storage.ErrBucketNotExist
			}
			return nil, s.wrap("list", u, err)
		}
		if strings.HasSuffix(a.Name, "/") || !u.Match(a.Name) {
			continue
		}
		s.gens.Store(a.Name, a.Generation)
		out = append(out, Object{Key: a.Name, Size: a.Size})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

func isStatus(err error, code int) bool {
	var g *googleapi.Error
	return errors.As(err, &g) && g.Code == code
}

// Download reads the object in ranges of rangeSize, several at once (one stream rarely fills
// the link), all from the generation the first request saw, so an object replaced meanwhile
// is not mixed from two versions.
func (s *gcsStore) Download(ctx context.Context, key, dst string) error {
	u := s.u.Object(key)
	a, err := s.cl.Bucket(u.Bucket).Object(key).Attrs(ctx)
	if err != nil {
		return s.wrap("read", u, err)
	}
	obj := s.cl.Bucket(u.Bucket).Object(key).Generation(a.Generation).ReadCompressed(true)
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(uploadWorkers)
	for off := int64(0); off < a.Size; off += rangeSize {
		g.Go(func() error {
			n := min(rangeSize, a.Size-off)
			r, err := obj.NewRangeReader(gctx, off, n)
			if err != nil {
				return err
			}
			defer r.Close()
			got, err := io.Copy(io.NewOffsetWriter(f, off), r)
			if err == nil && got != n {
				err = fmt.Errorf("got %d of %d bytes at offset %d", got, n, off)
			}
			return err
		})
	}
	err = g.Wait()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return s.wrap("read", u, err)
}

// gcsChunk is the size of one resumable-upload request; the writer buffers one chunk.
const gcsChunk = 16 << 20

func (s *gcsStore) Upload(ctx context.Context, key, src string) error {
	return s.Follow(ctx, key, src).Finish(nil)
}

// Follow streams src into a resumable upload while a writer may still be appending to it: the
// chunks go up as the file grows, and GCS creates (or replaces) the object only when the
// upload is finalised, in Finish(nil). Anything else cancels the upload's context, which
// abandons the session: the old object stays as it was.
func (s *gcsStore) Follow(ctx context.Context, key, src string) Upload {
	ctx, cancel := context.WithCancel(ctx)
	u := &gcsUpload{s: s, u: s.u.Object(key), src: src, ctx: ctx, cancel: cancel,
		done: make(chan struct{}), finished: make(chan struct{})}
	go u.run()
	return u
}

type gcsUpload struct {
	s      *gcsStore
	u      URL
	src    string
	ctx    context.Context
	cancel context.CancelFunc

	done     chan struct{} // closed by Finish(nil): the file is complete
	finished chan struct{} // closed by run
	err      error
}

func (g *gcsUpload) run() {
	defer close(g.finished)
	w := g.s.cl.Bucket(g.u.Bucket).Object(g.u.Key).NewWriter(g.ctx)
	w.ChunkSize = gcsChunk
	err := g.copyGrowing(w)
	if err != nil {
		// Cancel first: Close on a live context would finalise what was written so far.
		g.cancel()
		w.Close()
		g.err = err
		return
	}
	g.err = w.Close()
}

// copyGrowing copies the file into w as it grows, until Finish says it is complete and all of
// it is copied.
func (g *gcsUpload) copyGrowing(w io.Writer) error {
	var f *os.File
	defer func() {
		if f != nil {
			f.Close()
		}
	}()
	buf := make([]byte, 1<<20)
	for {
		complete := false
		select {
		case <-g.done:
			complete = true
		default:
		}
		if f == nil {
			var err error
			if f, err = os.Open(g.src); err != nil {
				if !os.IsNotExist(err) || complete {
					return err
				}
				f = nil
			}
		}
		if f != nil {
			// Read up to the end as it is now; when complete, that end is final.
			if _, err := io.CopyBuffer(w, f, buf); err != nil {
				return err
			}
			if complete {
				return nil
			}
		}
		select {
		case <-g.done:
		case <-g.ctx.Done():
			return g.ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Finish completes the upload when writeErr is nil and abandons it otherwise.
func (g *gcsUpload) Finish(writeErr error) error {
	defer g.cancel()
	if writeErr != nil {
		g.cancel()
		<-g.finished
		return writeErr
	}
	close(g.done)
	<-g.finished
	return g.s.wrap("write", g.u, g.err)
}

// wrap turns a client error into an Error that says what to check.
func (s *gcsStore) wrap(op string, u URL, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &Error{Op: op, URL: u.String(), Msg: "cancelled", Err: err}
	}
	e := &Error{Op: op, URL: u.String(), Err: err}
	who := "credentials from " + s.creds.Source
	if s.creds.AccessKeyID != "" {
		who += " (" + s.creds.AccessKeyID + ")"
	}
	var g *googleapi.Error
	var a *auth.Error
	switch {
	case errors.Is(err, storage.ErrBucketNotExist):
		e.Code, e.Msg = "NoSuchBucket", fmt.Sprintf("bucket %q does not exist", u.Bucket)
		e.Hint = "check the bucket name in the locator (or config bucket) and the endpoint " + s.endpoint
	case errors.Is(err, storage.ErrObjectNotExist):
		e.Code, e.Msg = "NoSuchKey", fmt.Sprintf("object %q does not exist", u.Key)
		e.Hint = "check the key (the locator, data_prefix and locator_wildcard); a glob such as *.parquet lists a prefix"
	case errors.As(err, &a):
		e.Msg = "could not get an access token"
		if a.Response != nil {
			e.Msg += fmt.Sprintf(" (HTTP %d)", a.Response.StatusCode)
		}
		e.Hint = fmt.Sprintf("the %s were refused: check that the key file is current (not deleted or rotated) and its account exists", who)
	case errors.As(err, &g) && g.Code == http.StatusUnauthorized:
		e.Code, e.Msg = "Unauthorized", "the store rejected the credentials"
		e.Hint = fmt.Sprintf("%s: check config.gs.credential_file, GOOGLE_APPLICATION_CREDENTIALS or `gcloud auth application-default login`", who)
	case errors.As(err, &g) && g.Code == http.StatusForbidden:
		e.Code, e.Msg = "AccessDenied", "access denied"
		e.Hint = fmt.Sprintf("the %s lack permission for this %s: grant the account a Storage role on the bucket (roles/storage.objectViewer to read, objectUser or objectAdmin to write)", who, op)
	case errors.As(err, &g):
		e.Code, e.Msg = http.StatusText(g.Code), g.Message
		if e.Msg == "" {
			e.Msg = fmt.Sprintf("HTTP %d", g.Code)
		}
	default:
		e.Msg = err.Error()
		e.Hint = "check that the endpoint " + s.endpoint + " is reachable (config.gs.endpoint_url or STORAGE_EMULATOR_HOST for emulators)"
	}
	return e
}
