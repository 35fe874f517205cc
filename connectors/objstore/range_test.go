package objstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/internal/testazurite"
	"github.com/ankaflow/ankaflow/internal/testgcs"
)

// TestGCSRangeReads: describing a large object reads only its footer (or first lines) with
// ranged reads pinned to the listed generation; the GCS server counts the bytes it serves.
func TestGCSRangeReads(t *testing.T) {
	s := testgcs.Start(t, testgcs.Options{Buckets: []string{"lake"}, Accounts: []string{testAccount}})
	u, _ := Parse("gs://lake/big/*")
	st, _, err := Open(u, gcsOptions(s, s.KeyFile(t, testAccount)))
	require.NoError(t, err)
	checkRangeReads(t, st, "gs", func(key string, data []byte) { s.Put(t, "lake", key, data) }, func() int64 { return s.Served(t) })
}

// TestAzureRangeReads: the same against Azurite, the bytes counted by a proxy in front of it;
// the reads are pinned to the listed ETag.
func TestAzureRangeReads(t *testing.T) {
	s := testazurite.Start(t, "lake").Proxy(t, 0)
	u, _ := Parse("az://lake/big/*")
	st, _, err := Open(u, azOptions(s))
	require.NoError(t, err)
	checkRangeReads(t, st, "az", func(key string, data []byte) { s.Put(t, "lake", key, data) }, func() int64 { return s.Served(t) })
}

// checkRangeReads stores a 24 MiB Parquet-shaped object whose footer (100 KiB) is larger than
// the first tail read, and a 24 MiB text object, and samples both: the stand-ins hold what a
// reader needs at the right offsets, and far less than the objects is served. An object
// replaced after the listing is not mixed with the listed version.
func checkRangeReads(t *testing.T, st Store, scheme string, put func(key string, data []byte), served func() int64) {
	t.Helper()
	const size = 24 << 20
	footer := bytes.Repeat([]byte("footer-bytes-"), 100<<10/13)
	pq := pattern(size)
	copy(pq, "PAR1")
	copy(pq[size-8-len(footer):], footer)
	binary.LittleEndian.PutUint32(pq[size-8:], uint32(len(footer)))
	copy(pq[size-4:], "PAR1")
	put("big/data.parquet", pq)
	text := bytes.Repeat([]byte("id,name\n1,some longer name to fill the line\n"), size/45)
	put("big/data.csv", text)

	u, _ := Parse(scheme + "://lake/big/*")
	objs, err := st.List(context.Background(), u)
	require.NoError(t, err)
	require.Len(t, objs, 2)
	ctx := context.Background()
	before := served()
	dir := t.TempDir()
	require.NoError(t, Sample(ctx, st, objs[1], filepath.Join(dir, "p"), SampleParquet, false, 4<<20))
	require.NoError(t, Sample(ctx, st, objs[0], filepath.Join(dir, "c"), SampleText, false, 1<<20))
	got := served() - before
	t.Logf("sampling served %d bytes of %d", got, 2*size)
	require.Less(t, got, int64(1<<20+parquetTail+len(footer)+8+4096), "only the footer and the first MiB are read")

	p, err := os.ReadFile(filepath.Join(dir, "p"))
	require.NoError(t, err)
	require.Len(t, p, size, "a stand-in of the object's size")
	require.Equal(t, "PAR1", string(p[:4]))
	require.Equal(t, pq[size-8-len(footer):], p[size-8-len(footer):], "the footer at its offset")
	c, err := os.ReadFile(filepath.Join(dir, "c"))
	require.NoError(t, err)
	require.Less(t, len(c), 1<<20+1)
	require.Greater(t, len(c), 1<<20-50)
	require.Equal(t, text[:len(c)], c, "the first lines, cut at a line end")

	// Replaced after the listing: the reads pinned to the listed version fail, never mixing.
	put("big/data.parquet", []byte("new contents"))
	_, err = st.(RangeReader).ReadRange(ctx, "big/data.parquet", 0, 4)
	require.ErrorContains(t, err, "changed while it was read")
}
