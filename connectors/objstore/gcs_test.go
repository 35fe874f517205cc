package objstore

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/internal/testgcs"
)

const testAccount = "ankaflow@ankaflow-test.iam.gserviceaccount.com"

func TestGCSSelectCredentials(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o700))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
		return p
	}
	sa := write("sa.json", `{"type":"service_account","client_email":"sa@p.iam.gserviceaccount.com","private_key":"-----BEGIN PRIVATE KEY-----\nTOPSECRET\n-----END PRIVATE KEY-----\n"}`)
	other := write("other.json", `{"type":"service_account","client_email":"other@p.iam.gserviceaccount.com","private_key":"x"}`)
	home := filepath.Join(dir, "home")
	write("home/.config/gcloud/application_default_credentials.json", `{"type":"authorized_user","client_id":"c","client_secret":"s","refresh_token":"r"}`)
	cases := []struct {
		name string
		o    Options
		env  map[string]string
		src  string
		id   string
		err  string
	}{
		{name: "hmac first", o: Options{HMACKey: "GOOG1", HMACSecret: "x", CredentialFile: sa}, src: "connection config (gs.hmac_key)", id: "GOOG1"},
		{name: "config file over env", o: Options{CredentialFile: sa}, env: map[string]string{"GOOGLE_APPLICATION_CREDENTIALS": other}, src: "config.gs.credential_file (" + sa + ")", id: "sa@p.iam.gserviceaccount.com"},
		{name: "GOOGLE_APPLICATION_CREDENTIALS", env: map[string]string{"GOOGLE_APPLICATION_CREDENTIALS": other, "HOME": home}, src: "GOOGLE_APPLICATION_CREDENTIALS (" + other + ")", id: "other@p.iam.gserviceaccount.com"},
		{name: "emulator", env: map[string]string{"STORAGE_EMULATOR_HOST": "127.0.0.1:4443", "HOME": home}, src: "emulator (STORAGE_EMULATOR_HOST"},
		{name: "emulator never authenticates", o: Options{CredentialFile: sa}, env: map[string]string{"STORAGE_EMULATOR_HOST": "127.0.0.1:4443"}, src: "emulator (STORAGE_EMULATOR_HOST"},
		{name: "application default", env: map[string]string{"HOME": home}, src: "application default credentials (" + home + "/.config/gcloud/application_default_credentials.json)"},
		{name: "CLOUDSDK_CONFIG", env: map[string]string{"CLOUDSDK_CONFIG": home + "/.config/gcloud"}, src: "application default credentials"},
		{name: "endpoint anonymous", o: Options{EndpointURL: "http://127.0.0.1:1"}, env: map[string]string{"HOME": dir}, src: "anonymous"},
		{name: "metadata last", env: map[string]string{"HOME": dir}, src: "metadata server"},
		{name: "missing file", o: Options{CredentialFile: dir + "/nope.json"}, err: "cannot read the credentials file " + dir + "/nope.json (from config.gs.credential_file)"},
		{name: "not json", o: Options{CredentialFile: write("bad.json", "TOPSECRET")}, err: "is not JSON: use a service-account key file"},
		{name: "wrong type", env: map[string]string{"GOOGLE_APPLICATION_CREDENTIALS": write("t.json", `{"type":"api_key","key":"TOPSECRET"}`)}, err: `has type "api_key"`},
		{name: "incomplete key", o: Options{CredentialFile: write("i.json", `{"type":"service_account","client_email":"a@b"}`)}, err: "has no client_email or private_key"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.o.Getenv = env(c.env)
			got, err := SelectCredentials("gs", c.o)
			if c.err != "" {
				require.ErrorContains(t, err, c.err)
				require.NotContains(t, err.Error(), "TOPSECRET")
				return
			}
			require.NoError(t, err)
			require.Contains(t, got.Source, c.src)
			require.Equal(t, c.id, got.AccessKeyID)
			require.NotContains(t, got.Source+got.AccessKeyID, "TOPSECRET")
		})
	}
}

// TestGCSNoCredentials: off Google Cloud with nothing configured, the chain ends at the metadata
// server, which is not there: the error says what to set.
func TestGCSNoCredentials(t *testing.T) {
	u, _ := Parse("gs://lake/a.csv")
	_, creds, err := Open(u, Options{Getenv: env(map[string]string{"HOME": t.TempDir()})})
	require.Contains(t, creds.Source, "metadata server")
	require.ErrorContains(t, err, "gs://lake/a.csv: no Google credentials found")
	require.ErrorContains(t, err, "set config.gs.credential_file or GOOGLE_APPLICATION_CREDENTIALS")
}

func gcsOptions(s *testgcs.Server, keyFile string) Options {
	return Options{EndpointURL: s.Endpoint, CredentialFile: keyFile, Getenv: env(map[string]string{})}
}

// TestGCSListGlobAndDownload: a glob is listed by prefix against a real GCS-protocol server
// with service-account sign-in, and the objects download (a large one in ranges) byte for byte.
func TestGCSListGlobAndDownload(t *testing.T) {
	s := testgcs.Start(t, testgcs.Options{Buckets: []string{"lake"}, Accounts: []string{testAccount}})
	want := putOrders(func(key string, data []byte) { s.Put(t, "lake", key, data) })
	big := make([]byte, 5*rangeSize/2+77)
	for i := range big {
		big[i] = byte(i * 7)
	}
	s.Put(t, "lake", "big/one.bin", big)

	u, _ := Parse("gs://lake/orders/2024-*/part-*.csv")
	st, creds, err := Open(u, gcsOptions(s, s.KeyFile(t, testAccount)))
	require.NoError(t, err)
	require.Contains(t, creds.Source, "config.gs.credential_file")
	checkOrders(t, st, "gs", want)

	one, _ := Parse("gs://lake/big/one.bin")
	objs, err := st.List(context.Background(), one)
	require.NoError(t, err)
	require.Equal(t, []Object{{Key: "big/one.bin", Size: int64(len(big))}}, objs)
	p := filepath.Join(t.TempDir(), "one.bin")
	require.NoError(t, st.Download(context.Background(), "big/one.bin", p))
	got, err := os.ReadFile(p)
	require.NoError(t, err)
	require.Equal(t, big, got)
}

// TestGCSCredentialsFromEnvAndEmulator: GOOGLE_APPLICATION_CREDENTIALS signs in; the server
// verifies the key's JWT signature, so a key it does not know is refused. STORAGE_EMULATOR_HOST
// reaches an emulator without authentication.
func TestGCSCredentialsFromEnvAndEmulator(t *testing.T) {
	s := testgcs.Start(t, testgcs.Options{Buckets: []string{"lake"}, Accounts: []string{testAccount}})
	s.Put(t, "lake", "a.csv", []byte("id\n1\n"))
	u, _ := Parse("gs://lake/a.csv")
	key := s.KeyFile(t, testAccount)
	st, creds, err := Open(u, Options{EndpointURL: s.Endpoint, Getenv: env(map[string]string{"GOOGLE_APPLICATION_CREDENTIALS": key})})
	require.NoError(t, err)
	require.Equal(t, "GOOGLE_APPLICATION_CREDENTIALS ("+key+")", creds.Source)
	objs, err := st.List(context.Background(), u)
	require.NoError(t, err)
	require.Equal(t, []Object{{Key: "a.csv", Size: 5}}, objs)

	stranger := s.KeyFile(t, "stranger@ankaflow-test.iam.gserviceaccount.com")
	st, _, err = Open(u, gcsOptions(s, stranger))
	require.NoError(t, err)
	_, err = st.List(context.Background(), u)
	require.ErrorContains(t, err, "list gs://lake/a.csv: could not get an access token (HTTP 400); the credentials from config.gs.credential_file ("+stranger+") (stranger@ankaflow-test.iam.gserviceaccount.com) were refused")
	keyText, _ := os.ReadFile(stranger)
	require.NotContains(t, err.Error(), "PRIVATE KEY")
	require.NotContains(t, err.Error(), string(keyText[len(keyText)/2:len(keyText)/2+20]))

	open := testgcs.Start(t, testgcs.Options{Buckets: []string{"lake"}})
	open.Put(t, "lake", "b.json", []byte(`{"a":1}`))
	host := strings.TrimPrefix(open.Endpoint, "http://")
	u, _ = Parse("gs://lake/b.json")
	st, creds, err = Open(u, Options{Getenv: env(map[string]string{"STORAGE_EMULATOR_HOST": host})})
	require.NoError(t, err)
	require.Contains(t, creds.Source, "STORAGE_EMULATOR_HOST")
	objs, err = st.List(context.Background(), u)
	require.NoError(t, err)
	require.Equal(t, []Object{{Key: "b.json", Size: 7}}, objs)
}

func TestGCSErrors(t *testing.T) {
	const reader = "reader@ankaflow-test.iam.gserviceaccount.com"
	s := testgcs.Start(t, testgcs.Options{Buckets: []string{"lake"}, Accounts: []string{testAccount, reader}, ReadOnly: []string{reader}})
	s.Put(t, "lake", "a.csv", []byte("id\n1\n"))
	check := func(raw string, o Options, op string, wants ...string) {
		t.Helper()
		requireErr(t, raw, o, op, []string{"PRIVATE KEY"}, wants...)
	}
	full := gcsOptions(s, s.KeyFile(t, testAccount))
	check("gs://nobucket/x/*.csv", full, "list", "list gs://nobucket/x/*.csv", `bucket "nobucket" does not exist`, "NoSuchBucket", "check the bucket name", "endpoint "+s.Addr)
	check("gs://nobucket/x.csv", full, "list", `bucket "nobucket" does not exist`)
	check("gs://lake/missing.csv", full, "list", `list gs://lake/missing.csv: object "missing.csv" does not exist (NoSuchKey); check the key`)
	check("gs://lake/new.csv", gcsOptions(s, s.KeyFile(t, reader)), "write", "write gs://lake/new.csv: access denied (AccessDenied)",
		"credentials from config.gs.credential_file", "("+reader+") lack permission for this write", "roles/storage.objectViewer")
	check("gs://lake/a.csv", Options{EndpointURL: s.Endpoint, Getenv: env(map[string]string{})}, "list",
		"the store rejected the credentials (Unauthorized)", "credentials from anonymous")
	require.Equal(t, []string{"a.csv"}, s.Keys(t, "lake"), "the denied write created nothing")

	u, _ := Parse("gs://lake/a.csv")
	_, _, err := Open(u, Options{EndpointURL: "127.0.0.1:9", Getenv: env(map[string]string{})})
	require.ErrorContains(t, err, "must look like https://host[:port]")
}

// TestGCSUploadAtomic: a resumable upload cancelled while its chunks are in flight, or whose
// writer fails, leaves the old object as it was; a completed one replaces it whole.
func TestGCSUploadAtomic(t *testing.T) {
	s := testgcs.Start(t, testgcs.Options{Buckets: []string{"lake"}, ChunkDelay: 300 * time.Millisecond})
	s.Put(t, "lake", "out/big.bin", []byte("old contents"))
	u, _ := Parse("gs://lake/out/big.bin")
	st, _, err := Open(u, Options{EndpointURL: s.Endpoint, Getenv: env(map[string]string{})})
	require.NoError(t, err)
	// Three chunks, cancelled once the first reaches the server.
	p, data, err := cancelledUpload(t, st, "out/big.bin", 5*gcsChunk/2+123, func() bool { return s.Chunks(t) > 0 })
	require.ErrorContains(t, err, "write gs://lake/out/big.bin: cancelled")
	require.Equal(t, "old contents", string(s.Get(t, "lake", "out/big.bin")))
	require.Equal(t, []string{"out/big.bin"}, s.Keys(t, "lake"))

	require.NoError(t, st.Upload(context.Background(), "out/big.bin", p))
	require.Equal(t, data, s.Get(t, "lake", "out/big.bin"))
}

// TestGCSFollowGrowingFile: chunks go up while the file is still written; the object appears
// only at Finish(nil), and Finish(err) abandons the upload, keeping the old object.
func TestGCSFollowGrowingFile(t *testing.T) {
	s := testgcs.Start(t, testgcs.Options{Buckets: []string{"lake"}})
	u, _ := Parse("gs://lake/out.bin")
	st, _, err := Open(u, Options{EndpointURL: s.Endpoint, Getenv: env(map[string]string{})})
	require.NoError(t, err)
	for _, fail := range []bool{true, false} {
		s.Put(t, "lake", "out.bin", []byte("old"))
		before := s.Chunks(t)
		p := filepath.Join(t.TempDir(), "grow")
		up := st.Follow(context.Background(), "out.bin", p)
		want := growFile(t, p, func() {
			require.Eventually(t, func() bool { return s.Chunks(t) > before }, 5*time.Second, 10*time.Millisecond, "the upload starts before the file is complete")
			require.Equal(t, "old", string(s.Get(t, "lake", "out.bin")))
		})
		if fail {
			require.ErrorContains(t, up.Finish(fmt.Errorf("writer failed")), "writer failed")
			require.Equal(t, "old", string(s.Get(t, "lake", "out.bin")))
		} else {
			require.NoError(t, up.Finish(nil))
			require.Equal(t, want, s.Get(t, "lake", "out.bin"))
		}
		require.Equal(t, []string{"out.bin"}, s.Keys(t, "lake"))
	}
}
