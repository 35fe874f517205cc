// Package objstore reaches object storage (s3://, gs://, az://) for the file connections
// (Parquet, CSV, JSON, File). DuckDB's httpfs extension is not available, so ankaflow lists,
// downloads and uploads objects itself: taps spill objects into a bounded local directory that
// DuckDB's readers then read, sinks write a local file with COPY and upload it atomically.
package objstore

import (
	"fmt"
	"path"
	"strings"
)

// URL is an object locator: s3://bucket/key, gs://bucket/key or az://container/key.
type URL struct {
	Scheme string // "s3", "gs" or "az"
	Bucket string // bucket, or Azure container
	Key    string // object key or glob, without a leading slash
}

var schemes = map[string]bool{"s3": true, "s3a": true, "gs": true, "gcs": true, "az": true, "azure": true}

// IsURL reports whether s is an object-store locator this package handles.
func IsURL(s string) bool {
	scheme, _, ok := strings.Cut(s, "://")
	return ok && schemes[strings.ToLower(scheme)]
}

// Parse splits an object-store locator. s3a:// is read as s3://, gcs:// as gs:// and azure://
// as az://, as DuckDB does.
func Parse(s string) (URL, error) {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok || !schemes[strings.ToLower(scheme)] {
		return URL{}, fmt.Errorf("%q is not an object-store URL (s3://bucket/key, gs://bucket/key or az://container/key)", s)
	}
	switch scheme = strings.ToLower(scheme); scheme {
	case "s3a":
		scheme = "s3"
	case "gcs":
		scheme = "gs"
	case "azure":
		scheme = "az"
	}
	bucket, key, _ := strings.Cut(rest, "/")
	if bucket == "" {
		return URL{}, fmt.Errorf("%s has no bucket: write %s://bucket/key", s, scheme)
	}
	if strings.ContainsAny(bucket, "*?[{") {
		return URL{}, fmt.Errorf("%s: the bucket name cannot be a glob; only the key may contain * ? [ ]", s)
	}
	return URL{Scheme: scheme, Bucket: bucket, Key: strings.TrimLeft(key, "/")}, nil
}

func (u URL) String() string { return u.Scheme + "://" + u.Bucket + "/" + u.Key }

// Object returns the URL of another key in the same bucket.
func (u URL) Object(key string) URL { return URL{Scheme: u.Scheme, Bucket: u.Bucket, Key: key} }

// IsGlob reports whether the key has glob characters (* ? [).
func (u URL) IsGlob() bool { return strings.ContainsAny(u.Key, "*?[") }

// ListPrefix is the literal part of a glob key before its first glob character: the prefix the
// store lists, so a glob never lists more of the bucket than it must.
func (u URL) ListPrefix() string {
	i := strings.IndexAny(u.Key, "*?[")
	if i < 0 {
		return u.Key
	}
	return u.Key[:i]
}

// Match reports whether key matches the URL's glob with DuckDB's rules: * and ? stay within one
// path segment, ** matches any number of segments.
func (u URL) Match(key string) bool {
	return matchSegments(strings.Split(u.Key, "/"), strings.Split(key, "/"))
}

func matchSegments(pat, name []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			for i := 0; i <= len(name); i++ {
				if matchSegments(pat[1:], name[i:]) {
					return true
				}
			}
			return false
		}
		if len(name) == 0 {
			return false
		}
		if ok, err := path.Match(pat[0], name[0]); err != nil || !ok {
			return false
		}
		pat, name = pat[1:], name[1:]
	}
	return len(name) == 0
}
