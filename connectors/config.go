package connectors

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
)

// BucketConfig locates data in one store: a root ("bucket": an absolute local directory or a
// URL such as s3://b), a prefix under it, and an optional locator wildcard rewrite.
type BucketConfig struct {
	Bucket     string `yaml:"bucket" json:"bucket,omitempty"`
	DataPrefix string `yaml:"data_prefix" json:"data_prefix,omitempty"`
	// LocatorWildcard is [regex, replacement]: taps read `data*.parquet` where sinks wrote
	// `data-2024.parquet`.
	LocatorWildcard []string `yaml:"locator_wildcard" json:"locator_wildcard,omitempty"`
	Region          string   `yaml:"region" json:"region,omitempty"`
	// EndpointURL points s3:// at an S3-compatible store (MinIO, Ceph, R2…); URLStyle is
	// "path" or "vhost" addressing.
	EndpointURL string `yaml:"endpoint_url" json:"endpoint_url,omitempty"`
	URLStyle    string `yaml:"url_style" json:"url_style,omitempty"`
	// Credentials of object stores. Secret: never logged or listed.
	AccessKeyID     string `yaml:"access_key_id" json:"-"`
	SecretAccessKey string `yaml:"secret_access_key" json:"-"`
	HMACKey         string `yaml:"hmac_key" json:"-"`
	HMACSecret      string `yaml:"hmac_secret" json:"-"`
	CredentialFile  string `yaml:"credential_file" json:"credential_file,omitempty"`
	// Azure (config.az): a storage connection string, or an account and its key.
	ConnectionString string `yaml:"connection_string" json:"-"`
	AccountName      string `yaml:"account_name" json:"account_name,omitempty"`
	AccountKey       string `yaml:"account_key" json:"-"`
}

// Config is AnkaFlow's ConnectionConfiguration: one BucketConfig per store, plus the sections of
// other systems (bigquery, clickhouse, llm, or anything a custom connection reads) as plain maps.
type Config struct {
	Local    BucketConfig              `yaml:"local" json:"local"`
	S3       BucketConfig              `yaml:"s3" json:"s3"`
	GS       BucketConfig              `yaml:"gs" json:"gs"`
	AZ       BucketConfig              `yaml:"az" json:"az"`
	Sections map[string]map[string]any `yaml:"-" json:"sections,omitempty"`
}

// Merge returns c overridden by over, field by field: a connection that sets only
// `data_prefix` keeps the run's bucket (AnkaFlow replaced the whole configuration instead).
func (c Config) Merge(over Config) Config {
	out := c
	out.Local = mergeBucket(c.Local, over.Local)
	out.S3 = mergeBucket(c.S3, over.S3)
	out.GS = mergeBucket(c.GS, over.GS)
	out.AZ = mergeBucket(c.AZ, over.AZ)
	if len(over.Sections) > 0 {
		out.Sections = map[string]map[string]any{}
		for k, v := range c.Sections {
			out.Sections[k] = v
		}
		for k, v := range over.Sections {
			m := map[string]any{}
			for kk, vv := range out.Sections[k] {
				m[kk] = vv
			}
			for kk, vv := range v {
				m[kk] = vv
			}
			out.Sections[k] = m
		}
	}
	return out
}

func mergeBucket(a, b BucketConfig) BucketConfig {
	pick := func(x, y string) string {
		if y != "" {
			return y
		}
		return x
	}
	out := BucketConfig{
		Bucket:          pick(a.Bucket, b.Bucket),
		DataPrefix:      pick(a.DataPrefix, b.DataPrefix),
		Region:          pick(a.Region, b.Region),
		EndpointURL:     pick(a.EndpointURL, b.EndpointURL),
		URLStyle:        pick(a.URLStyle, b.URLStyle),
		AccessKeyID:     pick(a.AccessKeyID, b.AccessKeyID),
		SecretAccessKey: pick(a.SecretAccessKey, b.SecretAccessKey),
		HMACKey:         pick(a.HMACKey, b.HMACKey),
		HMACSecret:      pick(a.HMACSecret, b.HMACSecret),
		CredentialFile:  pick(a.CredentialFile, b.CredentialFile),
		LocatorWildcard: a.LocatorWildcard,
	}
	out.ConnectionString = pick(a.ConnectionString, b.ConnectionString)
	out.AccountName = pick(a.AccountName, b.AccountName)
	out.AccountKey = pick(a.AccountKey, b.AccountKey)
	if len(b.LocatorWildcard) > 0 {
		out.LocatorWildcard = b.LocatorWildcard
	}
	return out
}

// ConfigFromEnv reads the run-wide configuration from ANKAFLOW_BUCKET, ANKAFLOW_DATA_PREFIX and
// ANKAFLOW_LOCATOR_WILDCARD ("regex=replacement") into the local store.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	var c Config
	c.Local.Bucket = getenv("ANKAFLOW_BUCKET")
	c.Local.DataPrefix = getenv("ANKAFLOW_DATA_PREFIX")
	if w := getenv("ANKAFLOW_LOCATOR_WILDCARD"); w != "" {
		re, repl, ok := strings.Cut(w, "=")
		if !ok {
			return c, fmt.Errorf("ANKAFLOW_LOCATOR_WILDCARD must be 'regex=replacement', got %q", w)
		}
		c.Local.LocatorWildcard = []string{re, repl}
	}
	return c, nil
}

// store picks the configuration that locates files: the first of local, s3, gs, az with a bucket,
// taking every field from that one store (AnkaFlow mixed fields of different stores).
func (c Config) store() BucketConfig {
	for _, b := range []BucketConfig{c.Local, c.S3, c.GS, c.AZ} {
		if b.Bucket != "" {
			return b
		}
	}
	return c.Local
}

var remoteScheme = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*://`)

// IsRemote reports whether a locator or bucket is a URL (s3://, gs://, https://…).
func IsRemote(s string) bool { return remoteScheme.MatchString(s) && !strings.HasPrefix(s, "file://") }

// Locate resolves a locator to a path or URL:
//
//   - with useWildcard (taps, show_schema), the store's locator_wildcard rewrite applies first;
//   - URLs (s3://, gs://, https://…) are returned unchanged; file://x means the local path x;
//   - a relative name resolves to <bucket>/<data_prefix>/<name>; with no bucket configured the
//     root is the current directory;
//   - an absolute local name goes under the bucket when one is configured (as in AnkaFlow), and
//     is used as is when none is;
//   - the result can never escape the root: `..` segments that climb out are an error.
func (c Config) Locate(name string, useWildcard bool) (string, error) {
	st := c.store()
	if name == "" {
		return "", fmt.Errorf("locator is empty: set `locator` on the connection")
	}
	if useWildcard && len(st.LocatorWildcard) > 0 {
		if len(st.LocatorWildcard) != 2 {
			return "", fmt.Errorf("locator_wildcard must be [regex, replacement], got %d items", len(st.LocatorWildcard))
		}
		re, err := regexp.Compile(st.LocatorWildcard[0])
		if err != nil {
			return "", fmt.Errorf("locator_wildcard: %w", err)
		}
		name = re.ReplaceAllString(name, st.LocatorWildcard[1])
	}
	if IsRemote(name) {
		return name, nil
	}
	name = strings.TrimPrefix(name, "file://")

	prefix := st.DataPrefix
	if prefix != "" {
		prefix = strings.TrimLeft(prefix, "/")
		for _, seg := range strings.Split(filepath.ToSlash(prefix), "/") {
			if seg == ".." {
				return "", fmt.Errorf("data_prefix %q cannot contain '..' segments", st.DataPrefix)
			}
		}
	}

	root := st.Bucket
	if IsRemote(root) {
		rel := path.Join(prefix, name)
		if strings.HasPrefix(name, "/") {
			rel = strings.TrimLeft(name, "/")
		}
		if escapes(rel) {
			return "", fmt.Errorf("locator %q escapes its bucket %q: '..' may not climb above the bucket", name, root)
		}
		return strings.TrimRight(root, "/") + "/" + path.Clean(rel), nil
	}

	if root == "" {
		if filepath.IsAbs(name) {
			return filepath.Clean(name), nil
		}
		wd, err := os.Getwd()
		if err != nil {
			return "", err
		}
		root = wd
	} else if !filepath.IsAbs(root) {
		return "", fmt.Errorf("bucket %q must be an absolute directory or a URL", root)
	}
	root = filepath.Clean(root)
	var full string
	if filepath.IsAbs(name) {
		full = filepath.Join(root, name)
	} else {
		full = filepath.Join(root, prefix, name)
	}
	rel, err := filepath.Rel(root, full)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("locator %q escapes its bucket %q: '..' may not climb above the bucket", name, root)
	}
	if st.Bucket != "" {
		if err := checkResolvedInside(root, full, name); err != nil {
			return "", err
		}
	}
	return full, nil
}

// escapes reports whether a slash-separated relative path climbs above its start.
func escapes(p string) bool {
	depth := 0
	for _, seg := range strings.Split(p, "/") {
		switch seg {
		case "", ".":
		case "..":
			depth--
			if depth < 0 {
				return true
			}
		default:
			depth++
		}
	}
	return false
}
