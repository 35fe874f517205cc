package objstore

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
)

// Azure Blob Storage speaks its own protocol (shared-key signing, block lists), so az:// uses
// Microsoft's own client, azblob: it signs with account keys and SAS tokens, retries, and has
// ranged concurrent downloads and block staging, which is all a Store needs.

// Block blobs: a sink stages its file as blocks (azBlockSize, growing like S3 parts so a file of
// any size stays within Azure's 50,000 blocks per blob) and commits the block list at the end.
// Until the commit the blob, if it exists, is unchanged; staged blocks that are never committed
// are discarded by the service (after a week, or when the blob is next committed).
const (
	azBlockSize = 16 << 20
	azWorkers   = 4 // blocks staged, or ranges read, at once per object
)

func azBlockLen(n int) int64 { return azBlockSize * int64(1+n/2000) }

// openAzure connects to the container of u with the selected account.
func openAzure(u URL, o Options, creds Credentials) (Store, error) {
	e, err := url.Parse(creds.blobEndpoint)
	if err != nil || e.Host == "" || (e.Scheme != "http" && e.Scheme != "https") {
		return nil, fmt.Errorf("blob endpoint %q must look like https://account.blob.core.windows.net or http://host:port/account (config.az.endpoint_url or the connection string's BlobEndpoint)", creds.blobEndpoint)
	}
	contURL := creds.blobEndpoint + "/" + url.PathEscape(u.Bucket)
	opts := &container.ClientOptions{ClientOptions: azcore.ClientOptions{
		Retry: policy.RetryOptions{MaxRetries: 3, RetryDelay: 200 * time.Millisecond, MaxRetryDelay: 2 * time.Second},
		// The SDK's telemetry header names the SDK only; no logging is set up.
	}}
	if o.Transport != nil {
		opts.Transport = &http.Client{Transport: o.Transport}
	}
	var cl *container.Client
	switch {
	case creds.accountKey != "":
		key, kerr := container.NewSharedKeyCredential(creds.account, creds.accountKey)
		if kerr != nil {
			// The decoder's own message is left out: it is about the key's bytes.
			return nil, fmt.Errorf("the account key from %s is not valid base64: check it (copy it whole from the portal's Access keys)", creds.Source)
		}
		cl, err = container.NewClientWithSharedKeyCredential(contURL, key, opts)
	case creds.sas != "":
		cl, err = container.NewClientWithNoCredential(contURL+"?"+creds.sas, opts)
	default:
		cl, err = container.NewClientWithNoCredential(contURL, opts)
	}
	if err != nil {
		return nil, err
	}
	return &azStore{cont: cl, u: u, creds: creds, endpoint: e.Scheme + "://" + e.Host + e.Path}, nil
}

// azStore is one Azure Blob Storage container.
type azStore struct {
	cont     *container.Client
	u        URL
	creds    Credentials
	endpoint string   // the blob endpoint, for messages (a SAS is never part of it)
	etags    sync.Map // key → azcore.ETag last listed or read, for ReadRange
}

func (s *azStore) List(ctx context.Context, u URL) ([]Object, error) {
	if !u.IsGlob() {
		p, err := s.cont.NewBlobClient(u.Key).GetProperties(ctx, nil)
		if err != nil {
			return nil, s.wrap(ctx, "list", u, err)
		}
		if p.ETag != nil {
			s.etags.Store(u.Key, *p.ETag)
		}
		return []Object{{Key: u.Key, Size: deref(p.ContentLength)}}, nil
	}
	prefix := u.ListPrefix()
	pager := s.cont.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{Prefix: &prefix})
	var out []Object
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, s.wrap(ctx, "list", u, err)
		}
		for _, b := range page.Segment.BlobItems {
			if b.Name == nil || strings.HasSuffix(*b.Name, "/") || !u.Match(*b.Name) {
				continue
			}
			var size int64
			if b.Properties != nil {
				size = deref(b.Properties.ContentLength)
				if b.Properties.ETag != nil {
					s.etags.Store(*b.Name, *b.Properties.ETag)
				}
			}
			out = append(out, Object{Key: *b.Name, Size: size})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// Download reads the blob in ranges of azBlockSize, azWorkers at once, all of the version the
// first request saw (If-Match on its ETag: a blob replaced meanwhile fails the read instead of
// mixing two versions).
func (s *azStore) Download(ctx context.Context, key, dst string) error {
	u := s.u.Object(key)
	b := s.cont.NewBlobClient(key)
	p, err := b.GetProperties(ctx, nil)
	if err != nil {
		return s.wrap(ctx, "read", u, err)
	}
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	size := deref(p.ContentLength)
	if size > 0 {
		_, err = b.DownloadFile(ctx, f, &blob.DownloadFileOptions{
			Range:            blob.HTTPRange{Count: size},
			BlockSize:        azBlockSize,
			Concurrency:      azWorkers,
			AccessConditions: &blob.AccessConditions{ModifiedAccessConditions: &blob.ModifiedAccessConditions{IfMatch: p.ETag}},
		})
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return s.wrap(ctx, "read", u, err)
}

func (s *azStore) Upload(ctx context.Context, key, src string) error {
	return s.Follow(ctx, key, src).Finish(nil)
}

// Follow stages blocks of src while a writer is still appending to it (DuckDB writes every
// format front to back), so the upload overlaps the writing; Finish commits the block list.
func (s *azStore) Follow(ctx context.Context, key, src string) Upload {
	ctx, cancel := context.WithCancel(ctx)
	up := &azUpload{s: s, bb: s.cont.NewBlockBlobClient(key), u: s.u.Object(key), src: src, ctx: ctx, cancel: cancel,
		slots: make(chan struct{}, azWorkers), stop: make(chan struct{}), tailed: make(chan struct{})}
	var id [12]byte
	rand.Read(id[:])
	up.uploadID = hex.EncodeToString(id[:])
	go up.tail()
	return up
}

// azUpload is a block blob being staged from a growing local file.
type azUpload struct {
	s        *azStore
	bb       *blockblob.Client
	u        URL
	src      string
	ctx      context.Context
	cancel   context.CancelFunc
	uploadID string // in every block id: blocks of concurrent or earlier uploads never mix

	file   *os.File
	slots  chan struct{} // bounds the blocks in flight
	staged sync.WaitGroup
	stop   chan struct{}
	tailed chan struct{}

	mu     sync.Mutex
	ids    []string // block ids in file order
	queued int64    // bytes handed to staging
	err    error
}

// blockID is the n-th block's id: base64 of a fixed-length text, as Azure wants every id of
// a blob to have the same length.
func (up *azUpload) blockID(n int) string {
	return base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("%s-%06d", up.uploadID, n)))
}

func (up *azUpload) failed(err error) {
	up.mu.Lock()
	if up.err == nil {
		up.err = err
	}
	up.mu.Unlock()
	up.cancel()
}

// tail stages every whole block the writer has written so far, until Finish or cancellation.
func (up *azUpload) tail() {
	defer close(up.tailed)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if err := up.stageReady(false); err != nil {
			up.failed(err)
			return
		}
		select {
		case <-up.stop:
			return
		case <-up.ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// stageReady starts staging the blocks that are complete in the file; with final, also the
// rest of it, unless the whole file fits one block and nothing was staged (Finish then sends
// it in one request).
func (up *azUpload) stageReady(final bool) error {
	if up.file == nil {
		f, err := os.Open(up.src)
		if os.IsNotExist(err) && !final {
			return nil // not created yet
		}
		if err != nil {
			return err
		}
		up.file = f
	}
	st, err := up.file.Stat()
	if err != nil {
		return err
	}
	for {
		up.mu.Lock()
		n, off := len(up.ids), up.queued
		up.mu.Unlock()
		l := azBlockLen(n)
		rest := st.Size() - off
		if rest <= 0 || (rest < l && !final) || (final && n == 0 && rest <= l) {
			return nil
		}
		l = min(l, rest)
		select {
		case up.slots <- struct{}{}:
		case <-up.ctx.Done():
			return up.ctx.Err()
		}
		id := up.blockID(n)
		up.mu.Lock()
		up.ids = append(up.ids, id)
		up.queued += l
		up.mu.Unlock()
		up.staged.Add(1)
		go func() {
			defer func() { <-up.slots; up.staged.Done() }()
			body := streaming.NopCloser(io.NewSectionReader(up.file, off, l))
			if _, err := up.bb.StageBlock(up.ctx, id, body, nil); err != nil {
				up.failed(err)
			}
		}()
	}
}

// Finish commits the staged blocks (and the rest of the file) when writeErr is nil: only then
// does the blob appear or change. Otherwise nothing is committed and the blob stays as it was.
func (up *azUpload) Finish(writeErr error) error {
	close(up.stop)
	<-up.tailed
	defer up.cancel()
	defer func() {
		if up.file != nil {
			up.file.Close()
		}
	}()
	if writeErr != nil {
		up.cancel() // stop staging: these blocks will never be committed
		up.staged.Wait()
		return writeErr
	}
	up.mu.Lock()
	err := up.err
	up.mu.Unlock()
	if err == nil {
		if err = up.stageReady(true); err != nil {
			up.failed(err)
		}
	}
	up.staged.Wait()
	up.mu.Lock()
	if up.err != nil {
		err = up.err
	}
	ids := up.ids
	up.mu.Unlock()
	if err == nil {
		err = up.ctx.Err()
	}
	switch {
	case err != nil:
	case len(ids) == 0:
		// One block or less: a single Put Blob, which Azure also stores atomically.
		var st os.FileInfo
		if st, err = up.file.Stat(); err == nil {
			_, err = up.bb.Upload(up.ctx, streaming.NopCloser(io.NewSectionReader(up.file, 0, st.Size())), nil)
		}
	default:
		_, err = up.bb.CommitBlockList(up.ctx, ids, nil)
	}
	return up.s.wrap(up.ctx, "write", up.u, err)
}

// wrap turns a client error into an Error that says what to check; a missing blob is told
// apart from a missing container (a HEAD response carries no error body to say which).
func (s *azStore) wrap(ctx context.Context, op string, u URL, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &Error{Op: op, URL: u.String(), Msg: "cancelled", Err: err}
	}
	e := &Error{Op: op, URL: u.String(), Err: err}
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		e.Msg = s.redact(err.Error())
		e.Hint = "check that the blob endpoint " + s.endpoint + " is reachable (config.az.endpoint_url or the connection string's BlobEndpoint for emulators)"
		return e
	}
	e.Code = re.ErrorCode
	if e.Code == "" && re.StatusCode == http.StatusNotFound && op != "write" {
		// A HEAD of a blob in a missing container says only 404: ask the container.
		if _, cerr := s.cont.GetProperties(ctx, nil); cerr != nil {
			var ce *azcore.ResponseError
			if errors.As(cerr, &ce) && (ce.ErrorCode == "ContainerNotFound" || ce.StatusCode == http.StatusNotFound) {
				e.Code = "ContainerNotFound"
			}
		}
		if e.Code == "" {
			e.Code = "BlobNotFound"
		}
	}
	where := "the account " + s.creds.account + " at " + s.endpoint
	switch e.Code {
	case "ContainerNotFound":
		e.Msg = fmt.Sprintf("container %q does not exist", u.Bucket)
		e.Hint = "check the container name in the locator (az://container/key, or config bucket) and " + where
	case "BlobNotFound":
		e.Msg = fmt.Sprintf("blob %q does not exist", u.Key)
		e.Hint = "check the key (the locator, data_prefix and locator_wildcard); a glob such as *.parquet lists a prefix"
	case "AuthenticationFailed", "InvalidAuthenticationInfo", "NoAuthenticationInformation":
		e.Msg = "the store rejected the credentials"
		e.Hint = fmt.Sprintf("credentials came from %s (account %q): check the account key (config.az.account_key, AZURE_STORAGE_KEY or the connection string's AccountKey), or the SAS token's expiry", s.creds.Source, s.creds.account)
	case "AuthorizationFailure":
		// Azure says this for a request from outside the account's network rules; emulators
		// (Azurite) also for a wrong account key.
		if s.creds.accountKey == "" {
			e.Msg = "access denied"
		} else {
			e.Msg = "the store rejected the credentials or denied access"
		}
		e.Hint = fmt.Sprintf("credentials came from %s (account %q): check the account key (config.az.account_key, AZURE_STORAGE_KEY or the connection string's AccountKey) and the account's network (firewall) rules", s.creds.Source, s.creds.account)
	case "AuthorizationPermissionMismatch", "AuthorizationResourceTypeMismatch",
		"AuthorizationServiceMismatch", "AuthorizationSourceIPMismatch", "AuthorizationProtocolMismatch", "InsufficientAccountPermissions", "PublicAccessNotPermitted":
		e.Msg = "access denied"
		e.Hint = fmt.Sprintf("the credentials from %s (account %q) lack permission for this %s: check the SAS token's permissions or the account's network and access rules", s.creds.Source, s.creds.account, op)
	case "AccountIsDisabled":
		e.Msg = "the storage account is disabled"
		e.Hint = "check " + where
	case "ConditionNotMet":
		e.Msg = "the blob changed while it was read"
		e.Hint = "run the tap again, or stop writing the blob while it is read"
	default:
		e.Msg = fmt.Sprintf("HTTP %d", re.StatusCode)
		if re.StatusCode == http.StatusForbidden && e.Code == "" {
			e.Msg, e.Hint = "access denied (HTTP 403)", fmt.Sprintf("check the credentials from %s (account %q)", s.creds.Source, s.creds.account)
		}
	}
	return e
}

// sasSignature is a SAS token's secret part, in a request URL that a client error quotes.
var sasSignature = regexp.MustCompile(`(?i)([?&]sig=)[^&\s"]+`)

// redact removes a SAS token's signature from a message.
func (s *azStore) redact(msg string) string {
	return sasSignature.ReplaceAllString(msg, "${1}REDACTED")
}
