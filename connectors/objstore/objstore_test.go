package objstore

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/internal/tests3"
)

func TestParseAndGlob(t *testing.T) {
	u, err := Parse("s3://lake/orders/2024-*/part-*.parquet")
	require.NoError(t, err)
	require.Equal(t, URL{Scheme: "s3", Bucket: "lake", Key: "orders/2024-*/part-*.parquet"}, u)
	require.True(t, u.IsGlob())
	require.Equal(t, "orders/2024-", u.ListPrefix())
	require.True(t, u.Match("orders/2024-01/part-1.parquet"))
	require.False(t, u.Match("orders/2024-01/x/part-1.parquet"), "* stays within a segment")
	require.False(t, u.Match("orders/2023-01/part-1.parquet"))

	deep, _ := Parse("gs://b/data/**/*.csv")
	require.Equal(t, "gs", deep.Scheme)
	require.True(t, deep.Match("data/a/b/c.csv"))
	require.True(t, deep.Match("data/c.csv"))

	for in, want := range map[string]string{"s3a://b/k": "s3://b/k", "gcs://b/k": "gs://b/k", "azure://c/k": "az://c/k", "az://c/dir/k.json": "az://c/dir/k.json"} {
		u, err := Parse(in)
		require.NoError(t, err)
		require.Equal(t, want, u.String())
	}
	_, err = Parse("s3:///key")
	require.ErrorContains(t, err, "has no bucket")
	_, err = Parse("s3://b*/key")
	require.ErrorContains(t, err, "bucket name cannot be a glob")
	require.False(t, IsURL("https://x/y"))
	require.False(t, IsURL("/tmp/x"))
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestSelectCredentials(t *testing.T) {
	home := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(home, ".aws"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(home, ".aws", "credentials"), []byte("[default]\naws_access_key_id = DEFAULTID\naws_secret_access_key = s1\n[dev]\naws_access_key_id = DEVID\naws_secret_access_key = s2\n"), 0o600))

	cases := []struct {
		name, scheme string
		o            Options
		env          map[string]string
		source, id   string
		err          string
	}{
		{name: "config wins", scheme: "s3", o: Options{AccessKeyID: "CFG", SecretAccessKey: "x"}, env: map[string]string{"AWS_ACCESS_KEY_ID": "ENV", "AWS_SECRET_ACCESS_KEY": "y"}, source: "connection config", id: "CFG"},
		{name: "half config", scheme: "s3", o: Options{AccessKeyID: "CFG"}, err: "only one of access_key_id and secret_access_key"},
		{name: "environment", scheme: "s3", env: map[string]string{"AWS_ACCESS_KEY_ID": "ENV", "AWS_SECRET_ACCESS_KEY": "y", "HOME": home}, source: "environment", id: "ENV"},
		{name: "default profile", scheme: "s3", env: map[string]string{"HOME": home}, source: `profile "default"`, id: "DEFAULTID"},
		{name: "AWS_PROFILE", scheme: "s3", env: map[string]string{"HOME": home, "AWS_PROFILE": "dev"}, source: `profile "dev"`, id: "DEVID"},
		{name: "missing profile", scheme: "s3", env: map[string]string{"HOME": home, "AWS_PROFILE": "nope"}, err: `profile "nope"`},
		{name: "instance role last", scheme: "s3", env: map[string]string{}, source: "instance role"},
		{name: "anonymous", scheme: "s3", env: map[string]string{"AWS_EC2_METADATA_DISABLED": "true"}, source: "anonymous"},
		{name: "gs hmac", scheme: "gs", o: Options{HMACKey: "GOOG1", HMACSecret: "x"}, source: "connection config (gs.hmac_key)", id: "GOOG1"},
		{name: "gs key file missing", scheme: "gs", env: map[string]string{"GOOGLE_APPLICATION_CREDENTIALS": "/k.json"}, err: "cannot read the credentials file /k.json (from GOOGLE_APPLICATION_CREDENTIALS)"},
		{name: "az connection string", scheme: "az", env: map[string]string{"AZURE_STORAGE_CONNECTION_STRING": "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=c2VjcmV0;EndpointSuffix=core.windows.net"}, source: "AZURE_STORAGE_CONNECTION_STRING", id: "acct"},
		{name: "az account and key", scheme: "az", env: map[string]string{"AZURE_STORAGE_ACCOUNT": "acct2", "AZURE_STORAGE_KEY": "k"}, source: "AZURE_STORAGE_ACCOUNT, AZURE_STORAGE_KEY", id: "acct2"},
		{name: "az nothing", scheme: "az", env: map[string]string{}, err: "set AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT and AZURE_STORAGE_KEY"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.o.Getenv = env(c.env)
			got, err := SelectCredentials(c.scheme, c.o)
			if c.err != "" {
				require.ErrorContains(t, err, c.err)
				return
			}
			require.NoError(t, err)
			require.Contains(t, got.Source, c.source)
			require.Equal(t, c.id, got.AccessKeyID)
		})
	}
	got, _ := SelectCredentials("az", Options{Getenv: env(map[string]string{"AZURE_STORAGE_CONNECTION_STRING": "AccountName=a;AccountKey=k;EndpointSuffix=core.chinacloudapi.cn"})})
	require.Equal(t, "https://a.blob.core.chinacloudapi.cn", got.blobEndpoint)

	_, _, err := Open(URL{Scheme: "az", Bucket: "c", Key: "k"}, Options{Getenv: env(map[string]string{"AZURE_STORAGE_ACCOUNT": "a", "AZURE_STORAGE_KEY": "k"})})
	require.ErrorContains(t, err, "the account key from environment (AZURE_STORAGE_ACCOUNT, AZURE_STORAGE_KEY) is not valid base64")
	require.NotContains(t, err.Error(), "=k", "no secret in messages")
}

func testOptions(s *tests3.Server, i int) Options {
	id, secret := s.Key(i)
	return Options{EndpointURL: s.Endpoint, AccessKeyID: id, SecretAccessKey: secret, URLStyle: "path", Region: "eu-west-1",
		Getenv: env(map[string]string{})}
}

func TestS3ListGlobAndDownload(t *testing.T) {
	s := tests3.Start(t, tests3.Options{Buckets: []string{"lake"}, Keys: []string{"AKTEST:secret"}, Region: "eu-west-1"})
	want := putOrders(func(key string, data []byte) { s.Put(t, "lake", key, data) })
	u, _ := Parse("s3://lake/orders/2024-*/part-*.csv")
	st, creds, err := Open(u, testOptions(s, 0))
	require.NoError(t, err)
	require.Equal(t, "connection config (s3.access_key_id)", creds.Source)
	checkOrders(t, st, "s3", want)
}

func TestS3Errors(t *testing.T) {
	s := tests3.Start(t, tests3.Options{Buckets: []string{"lake"}, Keys: []string{"AKTEST:secret", "AKREAD:secret2"}, ReadOnly: []string{"AKREAD"}, Region: "eu-west-1"})
	s.Put(t, "lake", "a.csv", []byte("id\n1\n"))
	ctx := context.Background()
	check := func(raw string, o Options, op string, wants ...string) {
		t.Helper()
		requireErr(t, raw, o, op, []string{"secret2", ":secret"}, wants...)
	}
	check("s3://nobucket/x/*.csv", testOptions(s, 0), "list", "list s3://nobucket/x/*.csv", `bucket "nobucket" does not exist`, "NoSuchBucket", "check the bucket name")
	check("s3://lake/missing.csv", testOptions(s, 0), "list", `object "missing.csv" does not exist`, "check the key")
	wrong := testOptions(s, 0)
	wrong.AccessKeyID = "AKWRONG"
	check("s3://lake/a.csv", wrong, "list", "the store rejected the credentials", "InvalidAccessKeyId", `key id "AKWRONG"`, "connection config")
	check("s3://lake/new.csv", testOptions(s, 1), "write", "write s3://lake/new.csv: access denied", "AccessDenied", "key id AKREAD")
	region := testOptions(s, 0)
	region.Region = "us-west-2"
	check("s3://lake/*.csv", region, "list", "wrong region: the bucket is in eu-west-1, requests were signed for us-west-2", "set config.s3.region (or AWS_REGION)")
	noRegion := testOptions(s, 0)
	noRegion.Region = ""
	u, _ := Parse("s3://lake/a.csv")
	st, _, err := Open(u, noRegion)
	require.NoError(t, err)
	_, err = st.List(ctx, u)
	require.NoError(t, err, "without a region the client asks the bucket's location")
	_, _, err = Open(u, Options{EndpointURL: "127.0.0.1:9"})
	require.ErrorContains(t, err, "endpoint_url")
}

func TestS3CredentialsFromEnvAndProfile(t *testing.T) {
	s := tests3.Start(t, tests3.Options{Buckets: []string{"lake"}, Keys: []string{"AKENV:e", "AKPROF:p"}})
	s.Put(t, "lake", "a.csv", []byte("id\n1\n"))
	u, _ := Parse("s3://lake/a.csv")
	home := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(home, ".aws"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(home, ".aws", "credentials"), []byte("[other]\naws_access_key_id = AKPROF\naws_secret_access_key = p\n"), 0o600))
	for name, e := range map[string]map[string]string{
		"environment": {"AWS_ACCESS_KEY_ID": "AKENV", "AWS_SECRET_ACCESS_KEY": "e", "AWS_REGION": "us-east-1"},
		"profile":     {"HOME": home, "AWS_PROFILE": "other", "AWS_REGION": "us-east-1"},
	} {
		st, creds, err := Open(u, Options{EndpointURL: s.Endpoint, URLStyle: "path", Getenv: env(e)})
		require.NoError(t, err, name)
		require.Contains(t, creds.Source, name)
		objs, err := st.List(context.Background(), u)
		require.NoError(t, err, name)
		require.Equal(t, []Object{{Key: "a.csv", Size: 5}}, objs)
	}
}

func TestS3AddressingStyles(t *testing.T) {
	for _, style := range []string{"path", "vhost"} {
		t.Run(style, func(t *testing.T) {
			s := tests3.Start(t, tests3.Options{Buckets: []string{"lake"}, Style: style})
			port := s.Addr[strings.LastIndexByte(s.Addr, ':'):]
			// bucket.localhost does not resolve here: the transport dials the server whatever the host.
			o := Options{EndpointURL: "http://localhost" + port, URLStyle: style, Region: "us-east-1", AccessKeyID: "a", SecretAccessKey: "b", Transport: loopbackTransport(s.Addr)}
			u, _ := Parse("s3://lake/k.json")
			st, _, err := Open(u, o)
			require.NoError(t, err)
			p := filepath.Join(t.TempDir(), "f")
			require.NoError(t, os.WriteFile(p, []byte(`{"a":1}`), 0o600))
			require.NoError(t, st.Upload(context.Background(), "k.json", p))
			objs, err := st.List(context.Background(), u)
			require.NoError(t, err)
			require.Equal(t, []Object{{Key: "k.json", Size: 7}}, objs)

			other := "vhost"
			if style == "vhost" {
				other = "path"
			}
			o.URLStyle = other
			st, _, err = Open(u, o)
			require.NoError(t, err)
			_, err = st.List(context.Background(), u)
			require.ErrorContains(t, err, "accepts "+map[string]string{"path": "path-style", "vhost": "virtual-host-style"}[style]+" requests only")
		})
	}
}

func TestS3UploadAtomic(t *testing.T) {
	s := tests3.Start(t, tests3.Options{Buckets: []string{"lake"}, PartDelay: 300 * time.Millisecond})
	s.Put(t, "lake", "out/big.bin", []byte("old contents"))
	u, _ := Parse("s3://lake/out/big.bin")
	st, _, err := Open(u, Options{EndpointURL: s.Endpoint, URLStyle: "path", Region: "us-east-1", AccessKeyID: "a", SecretAccessKey: "b"})
	require.NoError(t, err)
	// Cancelled while the parts (three) are in flight: the old object stays, no upload is left open.
	p, data, err := cancelledUpload(t, st, "out/big.bin", 5*partSize/2+123, func() bool { return len(s.OpenUploads(t, "lake")) > 0 })
	require.ErrorContains(t, err, "write s3://lake/out/big.bin: cancelled")
	require.Equal(t, "old contents", string(s.Get(t, "lake", "out/big.bin")))
	require.Empty(t, s.OpenUploads(t, "lake"))

	// Completed: the new contents replace the old at once.
	require.NoError(t, st.Upload(context.Background(), "out/big.bin", p))
	require.Equal(t, data, s.Get(t, "lake", "out/big.bin"))
	require.Empty(t, s.OpenUploads(t, "lake"))
}

// loopbackTransport dials addr for every host (bucket.localhost included).
func loopbackTransport(addr string) http.RoundTripper {
	d := &net.Dialer{}
	return &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return d.DialContext(ctx, network, addr)
	}}
}

// TestS3FollowGrowingFile: parts go up while the file is still written; the object appears
// only at Finish(nil), and Finish(err) aborts, keeping the old object.
func TestS3FollowGrowingFile(t *testing.T) {
	s := tests3.Start(t, tests3.Options{Buckets: []string{"lake"}})
	s.Put(t, "lake", "out.bin", []byte("old"))
	u, _ := Parse("s3://lake/out.bin")
	st, _, err := Open(u, Options{EndpointURL: s.Endpoint, URLStyle: "path", Region: "us-east-1", AccessKeyID: "a", SecretAccessKey: "b"})
	require.NoError(t, err)
	for _, fail := range []bool{false, true} {
		p := filepath.Join(t.TempDir(), "grow")
		up := st.Follow(context.Background(), "out.bin", p)
		want := growFile(t, p, func() {
			require.Eventually(t, func() bool { return len(s.OpenUploads(t, "lake")) == 1 }, 5*time.Second, 10*time.Millisecond, "the upload starts before the file is complete")
		})
		if fail {
			require.ErrorContains(t, up.Finish(fmt.Errorf("writer failed")), "writer failed")
			require.Equal(t, "old", string(s.Get(t, "lake", "out.bin")))
		} else {
			require.NoError(t, up.Finish(nil))
			require.Equal(t, want, s.Get(t, "lake", "out.bin"))
			s.Put(t, "lake", "out.bin", []byte("old"))
		}
		require.Empty(t, s.OpenUploads(t, "lake"))
	}
}

// TestS3DownloadRanges: an object of several ranges comes down byte for byte (the first
// range's GET also tells its size), an empty object too, and a missing key says so.
func TestS3DownloadRanges(t *testing.T) {
	s := tests3.Start(t, tests3.Options{Buckets: []string{"lake"}, Keys: []string{"AKTEST:secret"}, Region: "eu-west-1"})
	big := make([]byte, 2*rangeSize+12345)
	for i := range big {
		big[i] = byte(i*7 + i/rangeSize)
	}
	s.Put(t, "lake", "big.bin", big)
	s.Put(t, "lake", "empty.bin", nil)
	s.Put(t, "lake", "small.bin", []byte("id\n1\n"))
	u, _ := Parse("s3://lake/big.bin")
	st, _, err := Open(u, testOptions(s, 0))
	require.NoError(t, err)
	ctx := context.Background()
	dir := t.TempDir()
	for key, want := range map[string][]byte{"big.bin": big, "empty.bin": {}, "small.bin": []byte("id\n1\n")} {
		dst := filepath.Join(dir, key)
		require.NoError(t, st.Download(ctx, key, dst), key)
		got, err := os.ReadFile(dst)
		require.NoError(t, err)
		require.True(t, bytes.Equal(want, got), "%s: %d bytes downloaded, %d stored", key, len(got), len(want))
	}
	err = st.Download(ctx, "missing.bin", filepath.Join(dir, "missing.bin"))
	require.ErrorContains(t, err, `object "missing.bin" does not exist`)
}
