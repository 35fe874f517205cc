package objstore

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"
	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/internal/testazurite"
)

// pattern is n bytes that differ from block to block and within one.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i/4093 + i)
	}
	return b
}

func azOptions(s *testazurite.Server) Options {
	return Options{Getenv: env(map[string]string{"AZURE_STORAGE_CONNECTION_STRING": s.ConnectionString()})}
}

func TestAzureListGlobAndDownload(t *testing.T) {
	s := testazurite.Start(t, "lake")
	want := putOrders(func(key string, data []byte) { s.Put(t, "lake", key, data) })

	u, _ := Parse("az://lake/orders/2024-*/part-*.csv")
	st, creds, err := Open(u, azOptions(s))
	require.NoError(t, err)
	require.Equal(t, "environment (AZURE_STORAGE_CONNECTION_STRING)", creds.Source)
	checkOrders(t, st, "az", want)

	// A blob larger than one range is read in several ranges at once, byte for byte.
	big := pattern(2*azBlockSize + 12345)
	s.Put(t, "lake", "big.bin", big)
	dst := filepath.Join(t.TempDir(), "big")
	require.NoError(t, st.Download(context.Background(), "big.bin", dst))
	got, err := os.ReadFile(dst)
	require.NoError(t, err)
	require.Equal(t, big, got)
	// An empty blob is an empty file.
	s.Put(t, "lake", "empty.csv", nil)
	require.NoError(t, st.Download(context.Background(), "empty.csv", dst))
	got, err = os.ReadFile(dst)
	require.NoError(t, err)
	require.Empty(t, got)
}

// TestAzureCredentials: the connection string (with BlobEndpoint), account + key from the
// environment and config.az all reach the server; a config overrides the environment.
func TestAzureCredentials(t *testing.T) {
	s := testazurite.Start(t, "lake")
	s.Put(t, "lake", "a.csv", []byte("id\n1\n"))
	u, _ := Parse("az://lake/a.csv")
	for name, c := range map[string]struct {
		o      Options
		source string
	}{
		"connection string":  {azOptions(s), "environment (AZURE_STORAGE_CONNECTION_STRING)"},
		"account and key":    {Options{EndpointURL: s.Endpoint, Getenv: env(map[string]string{"AZURE_STORAGE_ACCOUNT": testazurite.Account, "AZURE_STORAGE_KEY": testazurite.Key})}, "environment (AZURE_STORAGE_ACCOUNT, AZURE_STORAGE_KEY)"},
		"config account":     {Options{EndpointURL: s.Endpoint, AccountName: testazurite.Account, AccountKey: testazurite.Key, Getenv: env(map[string]string{"AZURE_STORAGE_CONNECTION_STRING": "AccountName=other;AccountKey=eA=="})}, "connection config (az.account_name, az.account_key)"},
		"config conn string": {Options{ConnectionString: s.ConnectionString(), Getenv: env(map[string]string{})}, "connection config (az.connection_string)"},
	} {
		st, creds, err := Open(u, c.o)
		require.NoError(t, err, name)
		require.Equal(t, c.source, creds.Source, name)
		require.Equal(t, testazurite.Account, creds.AccessKeyID, name)
		objs, err := st.List(context.Background(), u)
		require.NoError(t, err, name)
		require.Equal(t, []Object{{Key: "a.csv", Size: 5}}, objs, name)
	}

	// The development-storage shortcut and a SAS-only connection string are understood.
	c, err := SelectCredentials("az", Options{Getenv: env(map[string]string{"AZURE_STORAGE_CONNECTION_STRING": "UseDevelopmentStorage=true"})})
	require.NoError(t, err)
	require.Equal(t, "http://127.0.0.1:10000/devstoreaccount1", c.blobEndpoint)
	c, err = SelectCredentials("az", Options{Getenv: env(map[string]string{"AZURE_STORAGE_CONNECTION_STRING": "BlobEndpoint=https://acct.blob.core.windows.net/;SharedAccessSignature=sv=2024&sig=c2VjcmV0"})})
	require.NoError(t, err)
	require.Equal(t, "sv=2024&sig=c2VjcmV0", c.sas)
	require.Equal(t, "https://acct.blob.core.windows.net", c.blobEndpoint)
	_, err = SelectCredentials("az", Options{AccountKey: "k"})
	require.ErrorContains(t, err, "config.az sets account_key but no account_name")
	_, _, err = Open(u, Options{AccountName: "a", AccountKey: "not base64 secret!"})
	require.ErrorContains(t, err, "the account key from connection config (az.account_name, az.account_key) is not valid base64")
	require.NotContains(t, err.Error(), "secret!")
}

func TestAzureErrors(t *testing.T) {
	s := testazurite.Start(t, "lake")
	s.Put(t, "lake", "a.csv", []byte("id\n1\n"))
	ctx := context.Background()
	wrongKey := "d3Jvbmcgc2VjcmV0IGtleQ==" // "wrong secret key"
	check := func(raw string, o Options, op string, wants ...string) {
		t.Helper()
		u, err := Parse(raw)
		require.NoError(t, err)
		st, _, err := Open(u, o)
		require.NoError(t, err)
		switch op {
		case "write":
			p := filepath.Join(t.TempDir(), "f")
			require.NoError(t, os.WriteFile(p, []byte("x"), 0o600))
			err = st.Upload(ctx, u.Key, p)
		case "read":
			err = st.Download(ctx, u.Key, filepath.Join(t.TempDir(), "f"))
		default:
			_, err = st.List(ctx, u)
		}
		require.Error(t, err)
		for _, w := range wants {
			require.Contains(t, err.Error(), w)
		}
		require.NotContains(t, err.Error(), testazurite.Key)
		require.NotContains(t, err.Error(), wrongKey)
	}
	good := azOptions(s)
	check("az://nocontainer/x/*.csv", good, "list", "list az://nocontainer/x/*.csv", `container "nocontainer" does not exist`, "ContainerNotFound", "check the container name", s.Endpoint)
	check("az://nocontainer/a.csv", good, "list", `container "nocontainer" does not exist`, "ContainerNotFound")
	check("az://nocontainer/new.csv", good, "write", `write az://nocontainer/new.csv: container "nocontainer" does not exist`)
	check("az://lake/missing.csv", good, "list", `list az://lake/missing.csv: blob "missing.csv" does not exist (BlobNotFound)`, "check the key")
	check("az://lake/missing.csv", good, "read", `read az://lake/missing.csv: blob "missing.csv" does not exist`)
	wrong := Options{EndpointURL: s.Endpoint, Getenv: env(map[string]string{"AZURE_STORAGE_ACCOUNT": testazurite.Account, "AZURE_STORAGE_KEY": wrongKey})}
	check("az://lake/a.csv", wrong, "list", "list az://lake/a.csv: the store rejected the credentials", `account "devstoreaccount1"`, "AZURE_STORAGE_KEY")
	check("az://lake/*.csv", wrong, "list", "the store rejected the credentials")
	check("az://lake/b.csv", wrong, "write", "write az://lake/b.csv: the store rejected the credentials")
	check("az://lake/a.csv", Options{EndpointURL: "http://127.0.0.1:9/x", AccountName: "a", AccountKey: wrongKey}, "list", "check that the blob endpoint http://127.0.0.1:9/x is reachable")
	_, _, err := Open(URL{Scheme: "az", Bucket: "c", Key: "k"}, Options{EndpointURL: "127.0.0.1:9", AccountName: "a"})
	require.ErrorContains(t, err, "blob endpoint")
}

// slowBlocks delays every Put Block request, so a test can cancel while blocks are staged.
type slowBlocks struct {
	staged atomic.Int32
}

func (d *slowBlocks) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPut && r.URL.Query().Get("comp") == "block" {
		select {
		case <-time.After(300 * time.Millisecond):
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
		resp, err := http.DefaultTransport.RoundTrip(r)
		if err == nil {
			d.staged.Add(1)
		}
		return resp, err
	}
	return http.DefaultTransport.RoundTrip(r)
}

// TestAzureUploadAtomic: a sink cancelled while its blocks are staged leaves the old blob as it
// was (the staged blocks stay uncommitted); a completed one replaces it at once.
func TestAzureUploadAtomic(t *testing.T) {
	s := testazurite.Start(t, "lake")
	s.Put(t, "lake", "out/big.bin", []byte("old contents"))
	u, _ := Parse("az://lake/out/big.bin")
	slow := &slowBlocks{}
	o := azOptions(s)
	o.Transport = slow
	st, _, err := Open(u, o)
	require.NoError(t, err)
	data := pattern(5*azBlockSize/2 + 123) // three blocks
	p := filepath.Join(t.TempDir(), "big")
	require.NoError(t, os.WriteFile(p, data, 0o600))

	// Cancelled once the first block is stored.
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		defer cancel()
		for slow.staged.Load() < 1 {
			time.Sleep(10 * time.Millisecond)
		}
	}()
	err = st.Upload(ctx, "out/big.bin", p)
	require.ErrorContains(t, err, "write az://lake/out/big.bin: cancelled")
	require.Equal(t, "old contents", string(s.Get(t, "lake", "out/big.bin")))
	require.NotEmpty(t, s.Uncommitted(t, "lake", "out/big.bin"), "blocks were staged, never committed")

	require.NoError(t, st.Upload(context.Background(), "out/big.bin", p))
	require.Equal(t, data, s.Get(t, "lake", "out/big.bin"))
	require.Empty(t, s.Uncommitted(t, "lake", "out/big.bin"), "the commit discards the earlier upload's blocks")

	// A new blob that fails never appears.
	up := st.Follow(context.Background(), "out/new.bin", p)
	time.Sleep(200 * time.Millisecond)
	require.ErrorContains(t, up.Finish(fmt.Errorf("writer failed")), "writer failed")
	_, err = st.List(context.Background(), u.Object("out/new.bin"))
	require.ErrorContains(t, err, "BlobNotFound")
}

// TestAzureFollowGrowingFile: blocks are staged while the file is still written; the blob
// changes only at Finish(nil), and Finish(err) keeps the old one.
func TestAzureFollowGrowingFile(t *testing.T) {
	s := testazurite.Start(t, "lake")
	s.Put(t, "lake", "out.bin", []byte("old"))
	u, _ := Parse("az://lake/out.bin")
	st, _, err := Open(u, azOptions(s))
	require.NoError(t, err)
	data := pattern(40 << 20) // written in 4 MiB steps
	staging := func() bool { return len(s.Uncommitted(t, "lake", "out.bin")) > 0 }
	for _, writeErr := range []error{nil, fmt.Errorf("writer failed")} {
		p := filepath.Join(t.TempDir(), "grow")
		up := st.Follow(context.Background(), "out.bin", p)
		f, err := os.Create(p)
		require.NoError(t, err)
		for off := 0; off < len(data); off += 4 << 20 {
			_, err = f.Write(data[off : off+4<<20])
			require.NoError(t, err)
			time.Sleep(30 * time.Millisecond)
			if off == 24<<20 {
				require.Eventually(t, staging, 10*time.Second, 10*time.Millisecond, "staging starts before the file is complete")
				require.Equal(t, "old", string(s.Get(t, "lake", "out.bin")))
			}
		}
		require.NoError(t, f.Close())
		if writeErr != nil {
			require.ErrorIs(t, up.Finish(writeErr), writeErr)
			require.Equal(t, "old", string(s.Get(t, "lake", "out.bin")), "a failed writer commits nothing")
			continue
		}
		require.NoError(t, up.Finish(nil))
		require.Equal(t, data, s.Get(t, "lake", "out.bin"))
		require.False(t, staging(), "the commit took every block")
		s.Put(t, "lake", "out.bin", []byte("old"))
	}
}

// TestAzureSAS: a connection string with a read-only container SAS lists and reads; a write is
// denied; the SAS signature appears in no message.
func TestAzureSAS(t *testing.T) {
	s := testazurite.Start(t, "lake")
	s.Put(t, "lake", "a.csv", []byte("id\n1\n"))
	cred, err := container.NewSharedKeyCredential(testazurite.Account, testazurite.Key)
	require.NoError(t, err)
	q, err := sas.BlobSignatureValues{Protocol: sas.ProtocolHTTPSandHTTP, ExpiryTime: time.Now().Add(time.Hour), ContainerName: "lake",
		Permissions: (&sas.ContainerPermissions{Read: true, List: true}).String()}.SignWithSharedKey(cred)
	require.NoError(t, err)
	o := Options{Getenv: env(map[string]string{"AZURE_STORAGE_CONNECTION_STRING": "BlobEndpoint=" + s.Endpoint + ";SharedAccessSignature=" + q.Encode()})}
	u, _ := Parse("az://lake/*.csv")
	st, creds, err := Open(u, o)
	require.NoError(t, err)
	require.Equal(t, "environment (AZURE_STORAGE_CONNECTION_STRING)", creds.Source)
	objs, err := st.List(context.Background(), u)
	require.NoError(t, err)
	require.Equal(t, []Object{{Key: "a.csv", Size: 5}}, objs)
	dst := filepath.Join(t.TempDir(), "a")
	require.NoError(t, st.Download(context.Background(), "a.csv", dst))
	got, err := os.ReadFile(dst)
	require.NoError(t, err)
	require.Equal(t, "id\n1\n", string(got))

	p := filepath.Join(t.TempDir(), "f")
	require.NoError(t, os.WriteFile(p, []byte("x"), 0o600))
	err = st.Upload(context.Background(), "b.csv", p)
	require.ErrorContains(t, err, "write az://lake/b.csv: access denied")
	require.NotContains(t, err.Error(), q.Signature())
	require.NotContains(t, fmt.Sprintf("%v %+v", err, errors.Unwrap(err)), q.Signature(), "not even in the wrapped client error")
}
