package cli_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/internal/testazurite"
	"github.com/ankaflow/ankaflow/internal/testgcs"
)

// TestObjectStoreSinkKilledGCS: `ankaflow run` killed with SIGKILL in the middle of a
// resumable upload leaves the old object as it was and nothing else visible: the session
// creates no object until it is finalised, and there is nothing to abort (GCS expires the
// session). The next run replaces the object, and nothing was journalled.
func TestObjectStoreSinkKilledGCS(t *testing.T) {
	s := testgcs.Start(t, testgcs.Options{Buckets: []string{"lake"}, Accounts: []string{gcsAccount}, ChunkDelay: 400 * time.Millisecond})
	s.Put(t, "lake", bigSinkKey, []byte("old contents"))
	b := newBigSink(t, gcsConfig(t, s, ""))
	b.kill(t, func() bool { return s.Chunks(t) > 0 })
	time.Sleep(time.Second) // a chunk still in flight must not finalise the upload either
	require.Equal(t, "old contents", string(s.Get(t, "lake", bigSinkKey)), "the old object is unchanged")
	require.Equal(t, []string{bigSinkKey}, s.Keys(t, "lake"), "nothing else is visible")

	b.run(t)
	require.Equal(t, []string{bigSinkKey}, s.Keys(t, "lake"))
	b.requireWritten(t)
	entries, _ := os.ReadDir(filepath.Join(b.spill, "ankaflow-uploads"))
	require.Empty(t, entries, "no upload journal: there is nothing to clean up")
}

// TestObjectStoreSinkKilledAzure: `ankaflow run` killed with SIGKILL while its blocks are being
// staged leaves the old blob as it was and nothing else visible (staged blocks belong to no
// blob until a commit). There is nothing to abort: the next sink's commit of the same blob
// discards the killed run's blocks (as Azure discards uncommitted blocks after a week
// otherwise).
func TestObjectStoreSinkKilledAzure(t *testing.T) {
	s := testazurite.Start(t, "lake").Proxy(t, 400*time.Millisecond)
	s.Put(t, "lake", bigSinkKey, []byte("old contents"))
	b := newBigSink(t, azConfig(t, s, ""))
	staged := func() bool { return len(s.Uncommitted(t, "lake", bigSinkKey)) > 0 }
	b.kill(t, staged)
	require.Equal(t, "old contents", string(s.Get(t, "lake", bigSinkKey)), "the old blob is unchanged")
	require.Equal(t, []string{bigSinkKey}, s.Keys(t, "lake"), "nothing else is visible")
	require.True(t, staged(), "the killed run's blocks are staged, uncommitted")

	b.run(t)
	require.Equal(t, []string{bigSinkKey}, s.Keys(t, "lake"))
	require.Empty(t, s.Uncommitted(t, "lake", bigSinkKey), "the commit discarded the killed run's blocks")
	b.requireWritten(t)
}
