package tests3

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/stretchr/testify/require"
)

// TestMultipart: the server's multipart uploads follow S3's rules: the object appears only at
// completion, made of the listed parts in order; parts but the last are at least 5 MiB, listed
// in ascending order with their ETags; an aborted or completed upload is gone.
func TestMultipart(t *testing.T) {
	s := Start(t, Options{Buckets: []string{"bkt"}, Keys: []string{"AK:secret"}})
	c := s.Client(t)
	ctx := context.Background()
	part := func(id string, n int, data []byte) minio.CompletePart {
		t.Helper()
		p, err := c.PutObjectPart(ctx, "bkt", "k", id, n, bytes.NewReader(data), int64(len(data)), minio.PutObjectPartOptions{})
		require.NoError(t, err)
		return minio.CompletePart{PartNumber: n, ETag: p.ETag}
	}
	code := func(err error) string { return minio.ToErrorResponse(err).Code }
	big := func(b byte) []byte { return bytes.Repeat([]byte{b}, 5<<20) }

	s.Put(t, "bkt", "k", []byte("old"))
	id, err := c.NewMultipartUpload(ctx, "bkt", "k", minio.PutObjectOptions{})
	require.NoError(t, err)
	require.Len(t, s.OpenUploads(t, "bkt"), 1)
	p2 := part(id, 2, big('b'))
	p1 := part(id, 1, big('a'))
	p3 := part(id, 3, []byte("tail"))
	require.Equal(t, "old", string(s.Get(t, "bkt", "k")), "not visible before completion")

	_, err = c.CompleteMultipartUpload(ctx, "bkt", "k", id, []minio.CompletePart{p2, p1, p3}, minio.PutObjectOptions{})
	require.Equal(t, "InvalidPartOrder", code(err))
	_, err = c.CompleteMultipartUpload(ctx, "bkt", "k", id, []minio.CompletePart{p1, {PartNumber: 2, ETag: p3.ETag}, p3}, minio.PutObjectOptions{})
	require.Equal(t, "InvalidPart", code(err))
	_, err = c.CompleteMultipartUpload(ctx, "bkt", "k", id, []minio.CompletePart{p1, p2, {PartNumber: 4, ETag: p3.ETag}}, minio.PutObjectOptions{})
	require.Equal(t, "InvalidPart", code(err), "a part never uploaded")

	_, err = c.CompleteMultipartUpload(ctx, "bkt", "k", id, []minio.CompletePart{p1, p2, p3}, minio.PutObjectOptions{})
	require.NoError(t, err)
	want := append(append(big('a'), big('b')...), "tail"...)
	require.Equal(t, want, s.Get(t, "bkt", "k"))
	require.Empty(t, s.OpenUploads(t, "bkt"))

	// A ranged read across the boundary of two parts.
	o, err := c.Client.GetObject(ctx, "bkt", "k", minio.GetObjectOptions{})
	require.NoError(t, err)
	buf := make([]byte, 10)
	_, err = o.ReadAt(buf, 5<<20-5)
	require.NoError(t, err)
	require.Equal(t, "aaaaabbbbb", string(buf))
	info, err := o.Stat()
	require.NoError(t, err)
	require.Equal(t, int64(len(want)), info.Size)
	o.Close()

	_, err = c.PutObjectPart(ctx, "bkt", "k", id, 4, bytes.NewReader([]byte("x")), 1, minio.PutObjectPartOptions{})
	require.Equal(t, "NoSuchUpload", code(err), "a completed upload takes no more parts")

	// Parts but the last must be at least 5 MiB.
	id, err = c.NewMultipartUpload(ctx, "bkt", "small", minio.PutObjectOptions{})
	require.NoError(t, err)
	s1, err := c.PutObjectPart(ctx, "bkt", "small", id, 1, bytes.NewReader([]byte("one")), 3, minio.PutObjectPartOptions{})
	require.NoError(t, err)
	s2, err := c.PutObjectPart(ctx, "bkt", "small", id, 2, bytes.NewReader([]byte("two")), 3, minio.PutObjectPartOptions{})
	require.NoError(t, err)
	_, err = c.CompleteMultipartUpload(ctx, "bkt", "small", id, []minio.CompletePart{{PartNumber: 1, ETag: s1.ETag}, {PartNumber: 2, ETag: s2.ETag}}, minio.PutObjectOptions{})
	require.Equal(t, "EntityTooSmall", code(err))

	// Abort: the upload is gone, nothing appears.
	require.NoError(t, c.AbortMultipartUpload(ctx, "bkt", "small", id))
	require.Empty(t, s.OpenUploads(t, "bkt"))
	_, err = c.Client.StatObject(ctx, "bkt", "small", minio.StatObjectOptions{})
	require.Equal(t, "NoSuchKey", code(err))
	require.Equal(t, "NoSuchUpload", code(c.AbortMultipartUpload(ctx, "bkt", "small", id)))

	// Listing: by key, after the markers.
	var ids []string
	for _, k := range []string{"x/2", "x/1", "y", "x/1"} {
		id, err := c.NewMultipartUpload(ctx, "bkt", k, minio.PutObjectOptions{})
		require.NoError(t, err)
		ids = append(ids, id)
	}
	res, err := c.ListMultipartUploads(ctx, "bkt", "x/", "", "", "", 1000)
	require.NoError(t, err)
	var got []string
	for _, u := range res.Uploads {
		got = append(got, u.Key+" "+u.UploadID)
	}
	require.Equal(t, []string{"x/1 " + ids[1], "x/1 " + ids[3], "x/2 " + ids[0]}, got)
	res, err = c.ListMultipartUploads(ctx, "bkt", "", "x/1", ids[1], "", 1000)
	require.NoError(t, err)
	got = got[:0]
	for _, u := range res.Uploads {
		got = append(got, u.Key+" "+u.UploadID)
	}
	require.Equal(t, []string{"x/1 " + ids[3], "x/2 " + ids[0], "y " + ids[2]}, got)

	// A missing bucket.
	_, err = c.NewMultipartUpload(ctx, "nope", "k", minio.PutObjectOptions{})
	require.Equal(t, "NoSuchBucket", code(err))
}

// TestReusedBuffers: the server reuses a replaced object's memory for later uploads (pool.go),
// but only once nothing reads it. A GET that started before the object was replaced, deleted
// and its size uploaded again (into recycled buffers) still reads the old bytes to the end, and
// every object reads back as written.
func TestReusedBuffers(t *testing.T) {
	s := Start(t, Options{Buckets: []string{"bkt"}, Keys: []string{"AK:secret"}})
	c := s.Client(t)
	ctx := context.Background()
	const size = 6 << 20
	fill := func(b byte) []byte { return bytes.Repeat([]byte{b}, size) }
	multipartPut := func(key string, parts ...[]byte) {
		t.Helper()
		id, err := c.NewMultipartUpload(ctx, "bkt", key, minio.PutObjectOptions{})
		require.NoError(t, err)
		var done []minio.CompletePart
		for i, p := range parts {
			up, err := c.PutObjectPart(ctx, "bkt", key, id, i+1, bytes.NewReader(p), int64(len(p)), minio.PutObjectPartOptions{})
			require.NoError(t, err)
			done = append(done, minio.CompletePart{PartNumber: i + 1, ETag: up.ETag})
		}
		_, err = c.CompleteMultipartUpload(ctx, "bkt", key, id, done, minio.PutObjectOptions{})
		require.NoError(t, err)
	}

	multipartPut("k", fill('a'), fill('b'))
	s.Put(t, "bkt", "single", fill('s'))
	o, err := c.Client.GetObject(ctx, "bkt", "k", minio.GetObjectOptions{})
	require.NoError(t, err)
	defer o.Close()
	head := make([]byte, 1<<10)
	_, err = io.ReadFull(o, head) // the GET is under way and holds the old chunks
	require.NoError(t, err)

	for round := byte(0); round < 3; round++ {
		multipartPut("k", fill('c'+round), fill('x'+round))
		s.Put(t, "bkt", "single", fill('S'+round))
		require.NoError(t, c.Client.RemoveObject(ctx, "bkt", "other", minio.RemoveObjectOptions{}))
		multipartPut("other", fill('o'+round), fill('p'+round))
		require.Equal(t, append(fill('c'+round), fill('x'+round)...), s.Get(t, "bkt", "k"))
		require.Equal(t, fill('S'+round), s.Get(t, "bkt", "single"))
		require.Equal(t, append(fill('o'+round), fill('p'+round)...), s.Get(t, "bkt", "other"))
	}
	// An aborted upload's parts go back too and spoil nothing.
	id, err := c.NewMultipartUpload(ctx, "bkt", "aborted", minio.PutObjectOptions{})
	require.NoError(t, err)
	_, err = c.PutObjectPart(ctx, "bkt", "aborted", id, 1, bytes.NewReader(fill('z')), size, minio.PutObjectPartOptions{})
	require.NoError(t, err)
	require.NoError(t, c.AbortMultipartUpload(ctx, "bkt", "aborted", id))
	multipartPut("k", fill('e'), fill('f'))

	rest, err := io.ReadAll(o)
	require.NoError(t, err)
	require.Equal(t, append(fill('a'), fill('b')...), append(head, rest...), "a GET under way reads the object it started on")
	require.Equal(t, append(fill('e'), fill('f')...), s.Get(t, "bkt", "k"))
}
