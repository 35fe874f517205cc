package pgwire

import (
	"context"
	"github.com/ankaflow/ankaflow/internal/testenv"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// memSampler records the peak Go heap and RSS while a workload runs.
type memSampler struct {
	stop     chan struct{}
	wg       sync.WaitGroup
	peakHeap uint64
	peakRSS  uint64
	baseRSS  uint64
}

func startSampler() *memSampler {
	runtime.GC()
	m := &memSampler{stop: make(chan struct{}), baseRSS: testenv.RSS(0)}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			m.peakHeap = max(m.peakHeap, ms.HeapInuse)
			m.peakRSS = max(m.peakRSS, testenv.RSS(0))
			select {
			case <-m.stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return m
}

func (m *memSampler) done() {
	close(m.stop)
	m.wg.Wait()
}

const streamQuery = `SELECT range AS id, (range * 0.5)::DOUBLE AS x, 'row ' || range AS s,
	TIMESTAMP '2024-01-01' + to_seconds(range) AS ts FROM range(%d)`

// Ten million rows go out batch by batch: the server's memory stays bounded whatever the result
// size (the client here reads and discards each row).
func TestStreamTenMillionRows(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 10M rows")
	}
	ts := startServer(t, Config{})
	ctx := context.Background()
	for _, run := range []struct {
		mode pgx.QueryExecMode
		rows int64
	}{{pgx.QueryExecModeCacheStatement, 10_000_000}, {pgx.QueryExecModeSimpleProtocol, 2_000_000}} {
		mode := run.mode
		c := ts.connect(t, mode)
		m := startSampler()
		rows, err := c.Query(ctx, strings.Replace(streamQuery, "%d", strconv.FormatInt(run.rows, 10), 1))
		require.NoError(t, err)
		var n, sum int64
		for rows.Next() {
			raw := rows.RawValues()
			n++
			sum += int64(len(raw[2]))
		}
		require.NoError(t, rows.Err())
		require.Equal(t, "SELECT "+strconv.FormatInt(run.rows, 10), rows.CommandTag().String())
		m.done()
		require.Equal(t, run.rows, n)
		require.Greater(t, sum, int64(0))
		// About 500 MB of rows went through; a server that buffered the result would hold that.
		t.Logf("%s: peak Go heap %d MB, peak RSS %d MB (start %d MB)", modeName(mode), m.peakHeap>>20, m.peakRSS>>20, m.baseRSS>>20)
		require.Less(t, m.peakHeap, uint64(32<<20), "Go heap")
		if m.baseRSS > 0 && m.peakRSS > m.baseRSS { // memory the previous run freed can make it shrink
			require.Less(t, m.peakRSS-m.baseRSS, uint64(128<<20), "RSS growth")
		}
	}
}

func modeName(m pgx.QueryExecMode) string {
	for name, mode := range execModes {
		if mode == m {
			return name
		}
	}
	return m.String()
}
