// Command tests3 is the S3-protocol server the object-storage tests start as their own process
// on 127.0.0.1: gofakes3's S3 protocol (objects, listings) over an in-memory store of its own
// (store.go), multipart uploads served here (multipart.go), behind a thin front that behaves
// like AWS where gofakes3 does not check: unknown access keys, requests signed for another
// region, keys without write permission, and one addressing style only.
//
//	tests3 -addr 127.0.0.1:9000 -buckets lake,other -keys AKID:secret -region eu-west-1
package main

import (
	"encoding/xml"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/johannesboyne/gofakes3"

	"github.com/ankaflow/ankaflow/internal/testenv"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	buckets := flag.String("buckets", "", "comma-separated buckets to create")
	keys := flag.String("keys", "", "comma-separated access key ids accepted (id or id:secret); empty accepts any signed request")
	readonly := flag.String("readonly", "", "comma-separated access key ids that may only read")
	region := flag.String("region", "", "the buckets' region: requests signed for another one get AuthorizationHeaderMalformed")
	style := flag.String("style", "", "accept only this addressing style: path or vhost (bucket.localhost)")
	partDelay := flag.Duration("part-delay", 0, "delay each multipart part upload (to cancel a sink mid-upload)")
	flag.Parse()

	backend := newStore()
	uploads := newMultipart(backend)
	for _, b := range strings.Split(*buckets, ",") {
		if b != "" {
			if err := backend.CreateBucket(b); err != nil {
				log.Fatal(err)
			}
		}
	}
	fake := gofakes3.New(backend, gofakes3.WithHostBucketBase("localhost"), gofakes3.WithoutVersioning())
	known := set(*keys)
	ro := set(*readonly)
	h := fake.Server()
	var served atomic.Int64 // bytes of GET response bodies, for tests that count reads
	front := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/_tests3/served" {
			fmt.Fprint(w, served.Load())
			return
		}
		host := r.Host
		if i := strings.LastIndexByte(host, ':'); i > 0 {
			host = host[:i]
		}
		vhost := strings.HasSuffix(host, ".localhost")
		if vhost {
			r.Host = host // gofakes3 matches the host without the port
		}
		switch {
		case *style == "vhost" && !vhost:
			s3err(w, 400, "InvalidRequest", "this server accepts virtual-host-style requests only (bucket.localhost)", "")
			return
		case *style == "path" && vhost:
			s3err(w, 400, "InvalidRequest", "this server accepts path-style requests only", "")
			return
		}
		id, reg := credential(r.Header.Get("Authorization"))
		if len(known) > 0 {
			if id == "" {
				s3err(w, 403, "AccessDenied", "Access Denied", "")
				return
			}
			if !known[id] {
				s3err(w, 403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.", "")
				return
			}
		}
		if *region != "" && reg != "" && reg != *region {
			s3err(w, 400, "AuthorizationHeaderMalformed", fmt.Sprintf("The authorization header is malformed; the region '%s' is wrong; expecting '%s'", reg, *region), *region)
			return
		}
		if ro[id] && r.Method != http.MethodGet && r.Method != http.MethodHead {
			s3err(w, 403, "AccessDenied", "Access Denied", "")
			return
		}
		if *partDelay > 0 && r.Method == http.MethodPut && r.URL.Query().Get("partNumber") != "" {
			time.Sleep(*partDelay)
		}
		if *region != "" && r.Method == http.MethodGet && r.URL.Query().Has("location") {
			w.Header().Set("Content-Type", "application/xml")
			fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">%s</LocationConstraint>`, *region)
			return
		}
		bucket, key := strings.TrimPrefix(r.URL.Path, "/"), ""
		if vhost {
			bucket, key = strings.TrimSuffix(host, ".localhost"), bucket
		} else {
			bucket, key, _ = strings.Cut(bucket, "/")
		}
		if uploads.serve(w, r, bucket, key) {
			return
		}
		if r.Method == http.MethodGet {
			w = &testenv.CountingWriter{ResponseWriter: w, N: &served}
		}
		h.ServeHTTP(w, r)
	})
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stdout, "listening on %s\n", l.Addr())
	log.Fatal(http.Serve(l, front))
}

func set(list string) map[string]bool {
	m := map[string]bool{}
	for _, k := range strings.Split(list, ",") {
		if id, _, _ := strings.Cut(k, ":"); id != "" {
			m[id] = true
		}
	}
	return m
}

// credential reads the access key id and region of a SigV4 Authorization header
// ("AWS4-HMAC-SHA256 Credential=ID/20240101/us-east-1/s3/aws4_request, …").
func credential(auth string) (id, region string) {
	_, rest, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return "", ""
	}
	scope, _, _ := strings.Cut(rest, ",")
	parts := strings.Split(scope, "/")
	if len(parts) < 3 {
		return parts[0], ""
	}
	return parts[0], parts[2]
}

func s3err(w http.ResponseWriter, status int, code, msg, region string) {
	type resp struct {
		XMLName xml.Name `xml:"Error"`
		Code    string
		Message string
		Region  string `xml:",omitempty"`
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	xml.NewEncoder(w).Encode(resp{Code: code, Message: msg, Region: region})
}
