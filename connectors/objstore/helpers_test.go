package objstore

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/internal/testenv"
)

// requireErr runs one operation on the locator raw ("write" uploads one byte to its key,
// anything else lists it) and requires it to fail with a message holding every one of wants
// and none of secrets (Open must succeed).
func requireErr(t *testing.T, raw string, o Options, op string, secrets []string, wants ...string) {
	t.Helper()
	u, err := Parse(raw)
	require.NoError(t, err)
	st, _, err := Open(u, o)
	require.NoError(t, err)
	if op == "write" {
		p := filepath.Join(t.TempDir(), "f")
		require.NoError(t, os.WriteFile(p, []byte("x"), 0o600))
		err = st.Upload(context.Background(), u.Key, p)
	} else {
		_, err = st.List(context.Background(), u)
	}
	require.Error(t, err)
	for _, w := range wants {
		require.Contains(t, err.Error(), w)
	}
	for _, s := range secrets {
		require.NotContains(t, err.Error(), s)
	}
}

// growFile writes 40 MiB to p in 4 MiB steps, slowly, as DuckDB's COPY would; midway (after
// 28 MiB) it calls midway, which checks that the upload has started. It returns the contents.
func growFile(t *testing.T, p string, midway func()) []byte {
	t.Helper()
	f, err := os.Create(p)
	require.NoError(t, err)
	var want []byte
	chunk := make([]byte, 4<<20)
	for i := range 10 {
		for j := range chunk {
			chunk[j] = byte(i + j)
		}
		_, err := f.Write(chunk)
		require.NoError(t, err)
		want = append(want, chunk...)
		time.Sleep(30 * time.Millisecond)
		if i == 6 {
			midway()
		}
	}
	require.NoError(t, f.Close())
	return want
}

// cancelledUpload writes a file of n bytes and uploads it to key, cancelling the upload as soon
// as started reports it under way. It returns the file, its contents and the upload's error.
func cancelledUpload(t *testing.T, st Store, key string, n int, started func() bool) (string, []byte, error) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "big")
	data := make([]byte, n)
	for i := range data {
		data[i] = byte(i)
	}
	require.NoError(t, os.WriteFile(p, data, 0o600))
	ctx, cancel := testenv.CancelWhen(started)
	defer cancel()
	return p, data, st.Upload(ctx, key, p)
}

// putOrders stores 100 objects orders/2024-MM/part-NNN.csv, and three that the glob
// orders/2024-*/part-*.csv must not match. It returns the contents of the 100.
func putOrders(put func(key string, data []byte)) map[string]string {
	want := map[string]string{}
	for i := range 100 {
		key, data := fmt.Sprintf("orders/2024-%02d/part-%03d.csv", i%12+1, i), fmt.Sprintf("id\n%d\n", i)
		put(key, []byte(data))
		want[key] = data
	}
	put("orders/2023-01/part-000.csv", []byte("id\n-1\n"))
	put("orders/2024-01/sub/part-999.csv", []byte("id\n-2\n"))
	put("orders/2024-01/notes.txt", []byte("x"))
	return want
}

// checkOrders lists the glob over putOrders' objects by prefix and downloads the matches with a
// budget of three objects at a time, comparing each with want.
func checkOrders(t *testing.T, st Store, scheme string, want map[string]string) {
	t.Helper()
	u, _ := Parse(scheme + "://lake/orders/2024-*/part-*.csv")
	objs, err := st.List(context.Background(), u)
	require.NoError(t, err)
	require.Len(t, objs, 100)
	require.Equal(t, Object{Key: "orders/2024-01/part-000.csv", Size: 5}, objs[0])
	require.Equal(t, "orders/2024-12/part-095.csv", objs[99].Key)

	f, err := NewFetcher(context.Background(), st, objs, t.TempDir(), 3*objs[0].Size, 4)
	require.NoError(t, err)
	for i := range objs {
		require.NoError(t, f.Wait(context.Background(), i))
		data, err := os.ReadFile(f.Path(i))
		require.NoError(t, err)
		require.Equal(t, want[objs[i].Key], string(data))
		f.mu.Lock()
		require.LessOrEqual(t, f.used, 3*objs[0].Size+objs[0].Size)
		f.mu.Unlock()
		f.Release(i)
		_, err = os.Stat(f.Path(i))
		require.True(t, os.IsNotExist(err), "released files are deleted")
	}
	require.NoError(t, f.Close())
}
