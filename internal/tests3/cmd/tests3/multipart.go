package main

import (
	"bufio"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"hash/maphash"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/johannesboyne/gofakes3"
)

// multipart serves S3's multipart-upload requests itself (gofakes3's uploader assembles the
// object by copying every part into one buffer and hashing it again, see store.go). Its rules
// are AWS's: parts 1-10,000, every part but the last at least 5 MiB, the completion listing
// parts in ascending order with their ETags, and the object appearing only at completion.
type multipart struct {
	store   *store
	mu      sync.Mutex
	seq     int
	uploads map[string]*upload
}

type upload struct {
	id, bucket, key string
	meta            map[string]string
	initiated       time.Time

	mu    sync.Mutex
	parts map[int]*uploadPart
	done  bool // completed or aborted: later part uploads get NoSuchUpload
}

type uploadPart struct {
	body     *buffer // held once by the upload
	sum      [md5.Size]byte
	modified time.Time
}

// minPartSize is S3's smallest part, except for the last one.
const minPartSize = 5 << 20

func newMultipart(s *store) *multipart { return &multipart{store: s, uploads: map[string]*upload{}} }

// serve handles r when it is a multipart request and tells whether it was one.
func (m *multipart) serve(w http.ResponseWriter, r *http.Request, bucket, key string) bool {
	q := r.URL.Query()
	id := q.Get("uploadId")
	switch {
	case r.Method == http.MethodPost && q.Has("uploads") && key != "":
		m.create(w, r, bucket, key)
	case r.Method == http.MethodPut && id != "" && q.Has("partNumber"):
		m.uploadPart(w, r, bucket, key, id, q.Get("partNumber"))
	case r.Method == http.MethodPost && id != "":
		m.complete(w, r, bucket, key, id)
	case r.Method == http.MethodDelete && id != "":
		m.abort(w, bucket, key, id)
	case r.Method == http.MethodGet && id != "":
		m.listParts(w, bucket, key, id)
	case r.Method == http.MethodGet && q.Has("uploads") && key == "":
		m.list(w, r, bucket)
	default:
		return false
	}
	return true
}

func (m *multipart) create(w http.ResponseWriter, r *http.Request, bucket, key string) {
	if ok, _ := m.store.BucketExists(bucket); !ok {
		s3err(w, http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist", "")
		return
	}
	meta := map[string]string{}
	for k, v := range r.Header {
		if strings.HasPrefix(k, "X-Amz-Meta-") || k == "Content-Type" || k == "Content-Disposition" || k == "Content-Encoding" {
			meta[k] = v[0]
		}
	}
	var random [8]byte
	rand.Read(random[:])
	m.mu.Lock()
	m.seq++
	// The sequence number first: ids sort in the order the uploads were started, as S3 lists them.
	u := &upload{id: fmt.Sprintf("%08d%s", m.seq, hex.EncodeToString(random[:])), bucket: bucket, key: key, meta: meta,
		initiated: time.Now(), parts: map[int]*uploadPart{}}
	m.uploads[u.id] = u
	m.mu.Unlock()
	writeXML(w, gofakes3.InitiateMultipartUploadResult{Bucket: bucket, Key: key, UploadID: gofakes3.UploadID(u.id)})
}

// find returns the open upload id of bucket/key, or writes NoSuchUpload.
func (m *multipart) find(w http.ResponseWriter, bucket, key, id string) *upload {
	m.mu.Lock()
	u := m.uploads[id]
	m.mu.Unlock()
	if u == nil || u.bucket != bucket || u.key != key {
		s3err(w, http.StatusNotFound, "NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.", "")
		return nil
	}
	return u
}

func (m *multipart) uploadPart(w http.ResponseWriter, r *http.Request, bucket, key, id, number string) {
	n, err := strconv.Atoi(number)
	if err != nil || n < 1 || n > 10000 {
		s3err(w, http.StatusBadRequest, "InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive", "")
		return
	}
	if r.Header.Get("X-Amz-Copy-Source") != "" {
		s3err(w, http.StatusNotImplemented, "NotImplemented", "this test server does not copy parts (UploadPartCopy)", "")
		return
	}
	size, chunked := r.ContentLength, strings.HasPrefix(r.Header.Get("X-Amz-Content-Sha256"), "STREAMING-")
	if chunked {
		// aws-chunked: the body is signed chunks; the part's size is announced separately.
		size, err = strconv.ParseInt(r.Header.Get("X-Amz-Decoded-Content-Length"), 10, 64)
		if err != nil {
			s3err(w, http.StatusLengthRequired, "MissingContentLength", "You must provide the X-Amz-Decoded-Content-Length HTTP header.", "")
			return
		}
	}
	if size < 0 {
		s3err(w, http.StatusLengthRequired, "MissingContentLength", "You must provide the Content-Length HTTP header.", "")
		return
	}
	u := m.find(w, bucket, key, id)
	if u == nil {
		return
	}
	// One buffer of the announced size: no growing copies while reading.
	buf := getBuffer(size)
	body := buf.b
	if chunked {
		err = readChunked(bufio.NewReader(r.Body), body)
	} else {
		_, err = io.ReadFull(r.Body, body)
	}
	if err != nil {
		buf.release()
		s3err(w, http.StatusBadRequest, "IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header.", "")
		return
	}
	p := &uploadPart{body: buf, modified: time.Now()}
	if want := r.Header.Get("Content-Md5"); want != "" {
		if p.sum = md5.Sum(body); want != base64.StdEncoding.EncodeToString(p.sum[:]) {
			buf.release()
			s3err(w, http.StatusBadRequest, "BadDigest", "The Content-MD5 you specified did not match what we received.", "")
			return
		}
	} else {
		p.sum = partTag(body)
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.done {
		buf.release()
		s3err(w, http.StatusNotFound, "NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.", "")
		return
	}
	if old := u.parts[n]; old != nil {
		old.body.release() // S3 keeps the last upload of a part number
	}
	u.parts[n] = p
	w.Header().Set("ETag", etag(p.sum[:]))
	w.WriteHeader(http.StatusOK)
}

// tagSeed keys partTag for the server's lifetime (ETags need only be stable while it runs).
var tagSeed = maphash.MakeSeed()

// partTag is a part's ETag when the client sent no Content-MD5 to check: S3 defines an ETag as
// an opaque tag of the content (it is not an MD5 for every object either), and MD5 at about
// 0.6 GB/s made the server's hashing compete for the 2 CPUs of a CI machine with the client
// under test. maphash runs at memory speed; the length guards against equal 64-bit hashes.
func partTag(body []byte) (t [md5.Size]byte) {
	binary.BigEndian.PutUint64(t[:8], maphash.Bytes(tagSeed, body))
	binary.BigEndian.PutUint64(t[8:], uint64(len(body)))
	return t
}

// readChunked fills body from an aws-chunked stream: "hex-size[;chunk-signature=…]\r\n",
// the bytes, "\r\n", until a chunk of size 0 (trailers after it are not read). Signatures are
// not checked, as gofakes3 does not check them.
func readChunked(r *bufio.Reader, body []byte) error {
	off := 0
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return err
		}
		hexSize, _, _ := strings.Cut(strings.TrimRight(line, "\r\n"), ";")
		n, err := strconv.ParseInt(hexSize, 16, 64)
		if err != nil || n < 0 || int64(off)+n > int64(len(body)) {
			return fmt.Errorf("bad chunk header %q", line)
		}
		if n == 0 {
			if off != len(body) {
				return io.ErrUnexpectedEOF
			}
			return nil
		}
		if _, err := io.ReadFull(r, body[off:off+int(n)]); err != nil {
			return err
		}
		off += int(n)
		if _, err := r.Discard(2); err != nil {
			return err
		}
	}
}

func etag(sum []byte) string { return `"` + hex.EncodeToString(sum) + `"` }

func (m *multipart) complete(w http.ResponseWriter, r *http.Request, bucket, key, id string) {
	u := m.find(w, bucket, key, id)
	if u == nil {
		return
	}
	var req gofakes3.CompleteMultipartUploadRequest
	if err := xml.NewDecoder(io.LimitReader(r.Body, 4<<20)).Decode(&req); err != nil || len(req.Parts) == 0 {
		s3err(w, http.StatusBadRequest, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema.", "")
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.done {
		s3err(w, http.StatusNotFound, "NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.", "")
		return
	}
	o := &object{meta: map[string]string{}, modified: time.Now()}
	for k, v := range u.meta {
		o.meta[k] = v
	}
	// gofakes3 answers GET and HEAD with the object's metadata as headers, Last-Modified included.
	o.meta["Last-Modified"] = o.modified.UTC().Format(http.TimeFormat)
	sums := md5.New()
	for i, in := range req.Parts {
		if i > 0 && in.PartNumber <= req.Parts[i-1].PartNumber {
			s3err(w, http.StatusBadRequest, "InvalidPartOrder", "The list of parts was not in ascending order. The parts list must be specified in order by part number.", "")
			return
		}
		p := u.parts[in.PartNumber]
		if p == nil || strings.Trim(in.ETag, `"`) != hex.EncodeToString(p.sum[:]) {
			s3err(w, http.StatusBadRequest, "InvalidPart", "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.", "")
			return
		}
		if i < len(req.Parts)-1 && len(p.body.b) < minPartSize {
			s3err(w, http.StatusBadRequest, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed object size.", "")
			return
		}
		o.chunks = append(o.chunks, p.body)
		o.size += int64(len(p.body.b))
		sums.Write(p.sum[:])
	}
	o.hash = sums.Sum(nil)
	for _, c := range o.chunks {
		c.retain()
	}
	if err := m.store.put(bucket, key, o); err != nil {
		releaseAll(o.chunks)
		s3err(w, http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist", "")
		return
	}
	// The parts the completion left out are discarded, as S3 does; the rest now live in o.
	for _, p := range u.parts {
		p.body.release()
	}
	u.parts = nil
	u.done = true
	m.mu.Lock()
	delete(m.uploads, id)
	m.mu.Unlock()
	writeXML(w, gofakes3.CompleteMultipartUploadResult{Location: "http://" + r.Host + r.URL.Path, Bucket: bucket, Key: key,
		ETag: fmt.Sprintf(`"%s-%d"`, hex.EncodeToString(o.hash), len(req.Parts))})
}

func (m *multipart) abort(w http.ResponseWriter, bucket, key, id string) {
	u := m.find(w, bucket, key, id)
	if u == nil {
		return
	}
	u.mu.Lock()
	if !u.done {
		for _, p := range u.parts {
			p.body.release()
		}
	}
	u.done = true
	u.parts = nil
	u.mu.Unlock()
	m.mu.Lock()
	delete(m.uploads, id)
	m.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (m *multipart) listParts(w http.ResponseWriter, bucket, key, id string) {
	u := m.find(w, bucket, key, id)
	if u == nil {
		return
	}
	res := gofakes3.ListMultipartUploadPartsResult{Bucket: bucket, Key: key, UploadID: gofakes3.UploadID(id), MaxParts: 1000}
	u.mu.Lock()
	for n, p := range u.parts {
		res.Parts = append(res.Parts, gofakes3.ListMultipartUploadPartItem{PartNumber: n, ETag: etag(p.sum[:]),
			Size: int64(len(p.body.b)), LastModified: gofakes3.NewContentTime(p.modified)})
	}
	u.mu.Unlock()
	sort.Slice(res.Parts, func(i, j int) bool { return res.Parts[i].PartNumber < res.Parts[j].PartNumber })
	writeXML(w, res)
}

// list answers ListMultipartUploads: the open uploads whose key has the prefix, by key and then
// by start, after key-marker (and, for that key, after upload-id-marker).
func (m *multipart) list(w http.ResponseWriter, r *http.Request, bucket string) {
	if ok, _ := m.store.BucketExists(bucket); !ok {
		s3err(w, http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist", "")
		return
	}
	q := r.URL.Query()
	prefix, keyMarker, idMarker := q.Get("prefix"), q.Get("key-marker"), q.Get("upload-id-marker")
	max := 1000
	if v, err := strconv.Atoi(q.Get("max-uploads")); err == nil && v > 0 && v < max {
		max = v
	}
	var open []*upload
	m.mu.Lock()
	for _, u := range m.uploads {
		if u.bucket != bucket || !strings.HasPrefix(u.key, prefix) {
			continue
		}
		if keyMarker != "" && (u.key < keyMarker || u.key == keyMarker && (idMarker == "" || u.id <= idMarker)) {
			continue
		}
		open = append(open, u)
	}
	m.mu.Unlock()
	sort.Slice(open, func(i, j int) bool {
		if open[i].key != open[j].key {
			return open[i].key < open[j].key
		}
		return open[i].id < open[j].id
	})
	res := gofakes3.ListMultipartUploadsResult{Bucket: bucket, Prefix: prefix, KeyMarker: keyMarker,
		UploadIDMarker: gofakes3.UploadID(idMarker), MaxUploads: int64(max)}
	if len(open) > max {
		open = open[:max]
		res.IsTruncated = true
		res.NextKeyMarker, res.NextUploadIDMarker = open[max-1].key, gofakes3.UploadID(open[max-1].id)
	}
	for _, u := range open {
		res.Uploads = append(res.Uploads, gofakes3.ListMultipartUploadItem{Key: u.key, UploadID: gofakes3.UploadID(u.id),
			StorageClass: "STANDARD", Initiated: gofakes3.NewContentTime(u.initiated)})
	}
	writeXML(w, res)
}

func writeXML(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/xml")
	io.WriteString(w, xml.Header)
	xml.NewEncoder(w).Encode(v)
}
