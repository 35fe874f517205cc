package tests3

import (
	"bytes"
	"context"
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
