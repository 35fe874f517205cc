package objstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"

	"github.com/minio/minio-go/v7"
)

// RangeReader is implemented by stores that read part of an object (optional: without it,
// Sample falls back to downloading the whole object).
type RangeReader interface {
	// ReadRange returns n bytes of key from offset off (fewer only at the object's end).
	ReadRange(ctx context.Context, key string, off, n int64) ([]byte, error)
}

func (s *s3Store) ReadRange(ctx context.Context, key string, off, n int64) ([]byte, error) {
	u := s.u.Object(key)
	var opts minio.GetObjectOptions
	if err := opts.SetRange(off, off+n-1); err != nil {
		return nil, err
	}
	body, _, _, err := s.core.GetObject(ctx, u.Bucket, u.Key, opts)
	if err != nil {
		return nil, s.wrap("read", u, err)
	}
	defer body.Close()
	data, err := io.ReadAll(io.LimitReader(body, n))
	if err != nil {
		return nil, s.wrap("read", u, err)
	}
	return data, nil
}

var _ RangeReader = (*s3Store)(nil)

// Sample kinds: what part of an object describes its columns.
const (
	// SampleParquet keeps the footer (Parquet's schema and row-group metadata): a sparse local
	// file of the object's size holds the leading magic and the footer at their offsets, so
	// DuckDB's Parquet reader binds to it exactly as to the object and never reads the rest.
	SampleParquet = "parquet"
	// SampleText keeps the first complete lines of the first bound bytes (CSV, JSON lines).
	SampleText = "text"
)

// parquetTail is read first from a Parquet object's end: most footers fit, so one request
// usually fetches the footer length and the footer together.
const parquetTail = 64 << 10

// Sample writes to dst a local stand-in of obj that a DuckDB reader describes like the object
// itself, reading only part of it: the footer of a Parquet object, the first bound bytes (cut
// at the last line end) of a text object. Stores without RangeReader, compressed text (a cut
// stream does not decompress) and objects that do not look as expected are downloaded whole.
func Sample(ctx context.Context, st Store, obj Object, dst, kind string, compressed bool, bound int64) error {
	rr, ok := st.(RangeReader)
	switch {
	case !ok, kind == SampleText && (compressed || obj.Size <= bound), kind == SampleParquet && obj.Size < 12:
		return st.Download(ctx, obj.Key, dst)
	case kind == SampleText:
		data, err := rr.ReadRange(ctx, obj.Key, 0, bound)
		if err != nil {
			return err
		}
		if i := bytes.LastIndexByte(data, '\n'); i >= 0 {
			data = data[:i+1]
		}
		return os.WriteFile(dst, data, 0o600)
	}
	tailLen := min(obj.Size, parquetTail)
	tail, err := rr.ReadRange(ctx, obj.Key, obj.Size-tailLen, tailLen)
	if err != nil {
		return err
	}
	if int64(len(tail)) != tailLen || string(tail[len(tail)-4:]) != "PAR1" {
		return st.Download(ctx, obj.Key, dst) // not Parquet: DuckDB says so on the real bytes
	}
	footer := int64(binary.LittleEndian.Uint32(tail[len(tail)-8:])) + 8
	if footer+4 > obj.Size {
		return st.Download(ctx, obj.Key, dst)
	}
	if footer > tailLen {
		if tail, err = rr.ReadRange(ctx, obj.Key, obj.Size-footer, footer); err != nil {
			return err
		}
		if int64(len(tail)) != footer {
			return fmt.Errorf("read %s: the object changed while its footer was read", obj.Key)
		}
	} else {
		tail = tail[tailLen-footer:]
	}
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	err = f.Truncate(obj.Size) // sparse: the row groups take no disk
	if err == nil {
		_, err = f.WriteAt([]byte("PAR1"), 0)
	}
	if err == nil {
		_, err = f.WriteAt(tail, obj.Size-footer)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
