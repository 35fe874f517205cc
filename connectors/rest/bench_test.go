package rest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/connectors"
	"github.com/ankaflow/ankaflow/engine"
)

const (
	benchPages   = 1000
	benchPerPage = 1000
)

// benchRecord is the reference's struct for the five fields.
type benchRecord struct {
	ID      int64   `json:"id"`
	Name    string  `json:"name"`
	Amount  float64 `json:"amount"`
	Active  bool    `json:"active"`
	Created string  `json:"created"`
}

// benchServer serves page=1…benchPages of benchPerPage records each as {"data": [...]}. The
// page bodies are built once; serving them costs both sides the same.
func benchServer(b *testing.B) *httptest.Server {
	var sb strings.Builder
	sb.WriteString(`{"data": [`)
	for i := 0; i < benchPerPage; i++ {
		if i > 0 {
			sb.WriteString(",")
		}
		fmt.Fprintf(&sb, `{"id": %d, "name": "customer-%d", "amount": %d.%02d, "active": %t, "created": "2024-01-%02dT10:%02d:00Z"}`,
			i, i%977, i, i%100, i%2 == 0, i%28+1, i%60)
	}
	sb.WriteString(`], "total": 1000000}`)
	body := []byte(sb.String())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		w.Write(body)
	}))
	b.Cleanup(srv.Close)
	return srv
}

// peakHeap samples the live heap while f runs and reports the peak in MB.
func peakHeap(b *testing.B, f func()) {
	runtime.GC()
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > peak.Load() {
				peak.Store(ms.HeapAlloc)
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	f()
	close(stop)
	wg.Wait()
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-MB")
}

// plainFetch is the reference: net/http and encoding/json into structs, page by page.
func plainFetch(b *testing.B, url string) {
	const total = benchPages * benchPerPage
	hc := &http.Client{}
	peakHeap(b, func() {
		for i := 0; i < b.N; i++ {
			n := 0
			for page := 1; page <= benchPages; page++ {
				resp, err := hc.Get(fmt.Sprintf("%s/orders?page=%d", url, page))
				require.NoError(b, err)
				var doc struct {
					Data []benchRecord `json:"data"`
				}
				err = json.NewDecoder(resp.Body).Decode(&doc)
				resp.Body.Close()
				require.NoError(b, err)
				n += len(doc.Data)
			}
			require.Equal(b, total, n)
		}
	})
	b.ReportMetric(float64(total)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

func benchConn(b *testing.B, url string, duck *engine.DB) connectors.Connection {
	c, err := connectors.New(context.Background(), connectors.Definition{Kind: "Rest", Stage: "api", Params: map[string]any{
		"client": map[string]any{"base_url": url},
		"request": map[string]any{"endpoint": "orders", "response": map[string]any{
			"locator": "data", "handler": map[string]any{"kind": "Pagination", "page_size": benchPerPage, "max_pages": benchPages}}},
	}}, &connectors.Env{DB: duck, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(b, err)
	b.Cleanup(func() { connectors.Close(c) })
	return c
}

// BenchmarkRestTapSQL: the same pages through SQL, `SELECT count(*) FROM tap('api')`: ours
// includes DuckDB reading the Arrow batches; the reference is the same plain Go fetcher.
func BenchmarkRestTapSQL(b *testing.B) {
	srv := benchServer(b)
	ctx := context.Background()
	b.Run("ours", func(b *testing.B) {
		duck, err := engine.Open(ctx, engine.Options{})
		require.NoError(b, err)
		defer duck.Close()
		s, err := duck.NewSession(ctx)
		require.NoError(b, err)
		defer s.Close()
		duck.Catalog().Put(s.ID(), connectors.CatalogEntry(benchConn(b, srv.URL, duck)))
		b.ResetTimer()
		peakHeap(b, func() {
			for i := 0; i < b.N; i++ {
				var n int64
				require.NoError(b, s.QueryRowContext(ctx, "SELECT count(*) FROM tap('api')").Scan(&n))
				require.Equal(b, int64(benchPages*benchPerPage), n)
			}
		})
		b.ReportMetric(float64(benchPages*benchPerPage)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
	b.Run("reference", func(b *testing.B) { plainFetch(b, srv.URL) })
}

// BenchmarkRestTap: ours taps 1,000 pages of 1,000 JSON records (5 fields) into Arrow batches
// (page-number pagination, schema inferred from the first page); the reference is a plain Go
// loop fetching the same pages with net/http and decoding them with encoding/json into structs.
func BenchmarkRestTap(b *testing.B) {
	srv := benchServer(b)
	ctx := context.Background()
	const total = benchPages * benchPerPage
	b.Run("ours", func(b *testing.B) {
		duck, err := engine.Open(ctx, engine.Options{})
		require.NoError(b, err)
		defer duck.Close()
		c := benchConn(b, srv.URL, duck)
		b.ResetTimer()
		peakHeap(b, func() {
			for i := 0; i < b.N; i++ {
				r, err := c.Tap(ctx, "")
				require.NoError(b, err)
				n := 0
				for r.Next() {
					n += int(r.RecordBatch().NumRows())
				}
				require.NoError(b, r.Err())
				r.Release()
				require.Equal(b, total, n)
			}
		})
		b.ReportMetric(float64(total)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
	b.Run("reference", func(b *testing.B) { plainFetch(b, srv.URL) })
}
