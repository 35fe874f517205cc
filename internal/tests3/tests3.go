// Package tests3 starts a throwaway S3-protocol server (cmd/tests3: gofakes3 in memory behind an
// AWS-like front) as its own process on 127.0.0.1, for the object-storage tests.
package tests3

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/ankaflow/ankaflow/internal/testenv"
)

// Options of a server. Keys are "id:secret" pairs; the first one is the test's own.
type Options struct {
	Buckets   []string
	Keys      []string
	ReadOnly  []string // key ids that may only read
	Region    string
	Style     string // "path" or "vhost": accept only that addressing style
	PartDelay time.Duration
}

// Server is a running test server.
type Server struct {
	Endpoint string // http://127.0.0.1:port
	Addr     string // 127.0.0.1:port
	opts     Options
}

// Start builds cmd/tests3 (the Go build cache makes this a link step) and runs it until the
// test ends.
func Start(tb testing.TB, o Options) *Server {
	tb.Helper()
	_, here, _, _ := runtime.Caller(0)
	addr := testenv.StartServer(tb, filepath.Join(filepath.Dir(here), "cmd", "tests3"), "S3 test server",
		"-addr", "127.0.0.1:0", "-buckets", strings.Join(o.Buckets, ","), "-keys", strings.Join(o.Keys, ","),
		"-readonly", strings.Join(o.ReadOnly, ","), "-region", o.Region, "-style", o.Style, "-part-delay", o.PartDelay.String())
	return &Server{Endpoint: "http://" + addr, Addr: addr, opts: o}
}

// Key returns the id and secret of the i-th key.
func (s *Server) Key(i int) (id, secret string) {
	id, secret, _ = strings.Cut(s.opts.Keys[i], ":")
	return id, secret
}

// Client is a path-style client with the first key, for setting up and checking objects.
func (s *Server) Client(tb testing.TB) *minio.Core {
	tb.Helper()
	id, secret := "test", "test"
	if len(s.opts.Keys) > 0 {
		id, secret = s.Key(0)
	}
	region := s.opts.Region
	if region == "" {
		region = "us-east-1"
	}
	lookup := minio.BucketLookupPath
	if s.opts.Style == "vhost" {
		lookup = minio.BucketLookupDNS
	}
	c, err := minio.New(s.Addr, &minio.Options{Creds: credentials.NewStaticV4(id, secret, ""), Region: region, BucketLookup: lookup})
	if err != nil {
		tb.Fatal(err)
	}
	return &minio.Core{Client: c}
}

// Put stores an object.
func (s *Server) Put(tb testing.TB, bucket, key string, data []byte) {
	tb.Helper()
	_, err := s.Client(tb).Client.PutObject(context.Background(), bucket, key, strings.NewReader(string(data)), int64(len(data)), minio.PutObjectOptions{DisableContentSha256: true})
	if err != nil {
		tb.Fatalf("put %s/%s: %v", bucket, key, err)
	}
}

// Get reads an object.
func (s *Server) Get(tb testing.TB, bucket, key string) []byte {
	tb.Helper()
	o, err := s.Client(tb).Client.GetObject(context.Background(), bucket, key, minio.GetObjectOptions{})
	if err != nil {
		tb.Fatalf("get %s/%s: %v", bucket, key, err)
	}
	defer o.Close()
	data, err := io.ReadAll(o)
	if err != nil {
		tb.Fatalf("get %s/%s: %v", bucket, key, err)
	}
	return data
}

// OpenUploads lists the multipart uploads still open in bucket.
func (s *Server) OpenUploads(tb testing.TB, bucket string) []string {
	tb.Helper()
	res, err := s.Client(tb).ListMultipartUploads(context.Background(), bucket, "", "", "", "", 1000)
	if minio.ToErrorResponse(err).Code == "NoSuchUpload" {
		return nil // gofakes3's answer for a bucket that never had an upload
	}
	if err != nil {
		tb.Fatalf("list multipart uploads: %v", err)
	}
	var out []string
	for _, u := range res.Uploads {
		out = append(out, u.Key+" "+u.UploadID)
	}
	return out
}

// Served is how many bytes of GET response bodies the server has sent so far.
func (s *Server) Served(tb testing.TB) int64 {
	tb.Helper()
	resp, err := http.Get(s.Endpoint + "/_tests3/served")
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	n, err := strconv.ParseInt(string(data), 10, 64)
	if err != nil {
		tb.Fatalf("served: %q: %v", data, err)
	}
	return n
}
