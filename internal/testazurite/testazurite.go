// Package testazurite starts a throwaway Azure Blob Storage emulator (Azurite, from npm; .ci/run
// installs it) as its own process on 127.0.0.1, for the az:// object-storage tests.
package testazurite

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/ankaflow/ankaflow/internal/testenv"
)

// Account and Key are the account the server knows (Azurite's well-known development account,
// whose key is public).
const (
	Account = "devstoreaccount1"
	Key     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// Server is a running Azurite blob service.
type Server struct {
	Endpoint string // the blob endpoint: http://127.0.0.1:port/devstoreaccount1

	served *atomic.Int64 // see Proxy
}

// ConnectionString is the connection string of the server's account.
func (s *Server) ConnectionString() string {
	return fmt.Sprintf("DefaultEndpointsProtocol=http;AccountName=%s;AccountKey=%s;BlobEndpoint=%s;", Account, Key, s.Endpoint)
}

// Start runs azurite-blob (found on PATH) with its data in a temporary directory until the test
// ends, and creates the containers.
func Start(tb testing.TB, containers ...string) *Server {
	tb.Helper()
	bin, err := exec.LookPath("azurite-blob")
	if err != nil {
		testenv.Missing(tb, "azurite-blob (the Azure Blob Storage emulator) is not installed: npm install -g azurite (.ci/run does)")
	}
	port, err := testenv.FreePort()
	if err != nil {
		tb.Fatal(err)
	}
	var out bytes.Buffer
	cmd := exec.Command(bin, "--blobHost", "127.0.0.1", "--blobPort", fmt.Sprint(port), "--location", tb.TempDir(),
		"--skipApiVersionCheck", "--loose", "--disableProductStyleUrl", "--disableTelemetry", "--silent")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	tb.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			break
		}
		select {
		case <-exited:
			tb.Fatalf("azurite-blob exited: %s", out.String())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			tb.Fatalf("azurite-blob did not listen on %s within 30s: %s", addr, out.String())
		}
	}
	s := &Server{Endpoint: "http://" + addr + "/" + Account}
	for _, c := range containers {
		if _, err := s.Container(tb, c).Create(context.Background(), nil); err != nil {
			tb.Fatalf("create container %s: %v", c, err)
		}
	}
	return s
}

// Container is a client of one container, with the account's key.
func (s *Server) Container(tb testing.TB, name string) *container.Client {
	tb.Helper()
	cred, err := container.NewSharedKeyCredential(Account, Key)
	if err != nil {
		tb.Fatal(err)
	}
	c, err := container.NewClientWithSharedKeyCredential(s.Endpoint+"/"+name, cred, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// Put stores a blob.
func (s *Server) Put(tb testing.TB, cont, key string, data []byte) {
	tb.Helper()
	_, err := s.Container(tb, cont).NewBlockBlobClient(key).Upload(context.Background(), streaming.NopCloser(bytes.NewReader(data)), nil)
	if err != nil {
		tb.Fatalf("put %s/%s: %v", cont, key, err)
	}
}

// Get reads a blob.
func (s *Server) Get(tb testing.TB, cont, key string) []byte {
	tb.Helper()
	r, err := s.Container(tb, cont).NewBlobClient(key).DownloadStream(context.Background(), nil)
	if err != nil {
		tb.Fatalf("get %s/%s: %v", cont, key, err)
	}
	defer r.Body.Close()
	data, err := io.ReadAll(r.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// Uncommitted lists the blob's staged blocks that no commit has taken up.
func (s *Server) Uncommitted(tb testing.TB, cont, key string) []string {
	tb.Helper()
	r, err := s.Container(tb, cont).NewBlockBlobClient(key).GetBlockList(context.Background(), blockblob.BlockListTypeUncommitted, nil)
	if err != nil {
		if strings.Contains(err.Error(), "BlobNotFound") {
			return nil
		}
		tb.Fatalf("block list %s/%s: %v", cont, key, err)
	}
	var ids []string
	for _, b := range r.UncommittedBlocks {
		if b.Name != nil {
			ids = append(ids, *b.Name)
		}
	}
	return ids
}

// Keys lists the container's blobs, as a listing shows them (committed blobs only).
func (s *Server) Keys(tb testing.TB, cont string) []string {
	tb.Helper()
	var keys []string
	pager := s.Container(tb, cont).NewListBlobsFlatPager(nil)
	for pager.More() {
		page, err := pager.NextPage(context.Background())
		if err != nil {
			tb.Fatalf("list %s: %v", cont, err)
		}
		for _, b := range page.Segment.BlobItems {
			keys = append(keys, *b.Name)
		}
	}
	return keys
}
