package objstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"time"

	"github.com/minio/minio-go/v7"
)

// A sink process killed outright (kill -9, OOM killer, power loss) cannot abort its multipart
// upload: the parts stay in the bucket, invisible but billed, until a lifecycle rule removes
// them. The next sink of the same key cleans them up, but only those that are certainly
// abandoned ankaflow uploads — never a live upload of another writer (another ankaflow run,
// another tool, another machine), which aborting would make fail:
//
//   - every multipart upload ankaflow starts is recorded in an upload journal on local disk
//     (<spill dir>/ankaflow-uploads/, one small file per upload: host, process id, endpoint,
//     bucket, key, upload id), removed again once the upload is completed or aborted;
//   - at the start of a sink, the store's incomplete uploads of exactly the target key are
//     listed, and one is aborted only when the journal holds it, recorded on this host, by a
//     process that no longer runs.
//
// Uploads started elsewhere (other machines, other tools, a journal in another spill
// directory) are left to the bucket's AbortIncompleteMultipartUpload lifecycle rule.

// StaleAborter is implemented by stores with multipart uploads that a killed process leaves
// behind (optional: a Store without it has nothing to clean).
type StaleAborter interface {
	// AbortStale aborts the abandoned uploads of key (see above) and returns their ids.
	AbortStale(ctx context.Context, key string) ([]string, error)
}

// journalEntry is one multipart upload in progress.
type journalEntry struct {
	Host     string    `json:"host"`
	PID      int       `json:"pid"`
	Endpoint string    `json:"endpoint"`
	Bucket   string    `json:"bucket"`
	Key      string    `json:"key"`
	UploadID string    `json:"upload_id"`
	Started  time.Time `json:"started"`
}

func journalDir() string { return filepath.Join(SpillDir(), "ankaflow-uploads") }

func journalPath(endpoint, bucket, key, id string) string {
	h := sha256.Sum256([]byte(endpoint + "\x00" + bucket + "\x00" + key + "\x00" + id))
	return filepath.Join(journalDir(), hex.EncodeToString(h[:12])+".json")
}

// journalUpload records an upload this process started; the returned func forgets it.
func journalUpload(endpoint, bucket, key, id string) (forget func()) {
	host, _ := os.Hostname()
	p := journalPath(endpoint, bucket, key, id)
	data, _ := json.Marshal(journalEntry{Host: host, PID: os.Getpid(), Endpoint: endpoint, Bucket: bucket, Key: key, UploadID: id, Started: time.Now().UTC()})
	// Best effort: without a journal entry the upload is merely never cleaned by a later run.
	if os.MkdirAll(journalDir(), 0o700) == nil {
		if tmp, err := os.CreateTemp(journalDir(), ".entry-"); err == nil {
			_, werr := tmp.Write(data)
			if cerr := tmp.Close(); werr == nil && cerr == nil {
				os.Rename(tmp.Name(), p)
			} else {
				os.Remove(tmp.Name())
			}
		}
	}
	return func() { os.Remove(p) }
}

// abandoned reports whether the journal holds upload id of key, recorded on this host by a
// process that is gone.
func abandoned(endpoint, bucket, key, id string) bool {
	data, err := os.ReadFile(journalPath(endpoint, bucket, key, id))
	if err != nil {
		return false
	}
	var e journalEntry
	if json.Unmarshal(data, &e) != nil || e.Endpoint != endpoint || e.Bucket != bucket || e.Key != key || e.UploadID != id {
		return false
	}
	host, _ := os.Hostname()
	return e.Host == host && e.PID > 0 && !processAlive(e.PID)
}

func (s *s3Store) AbortStale(ctx context.Context, key string) ([]string, error) {
	var aborted []string
	keyMarker, idMarker := "", ""
	for {
		res, err := s.core.ListMultipartUploads(ctx, s.u.Bucket, key, keyMarker, idMarker, "", 1000)
		if err != nil {
			if minio.ToErrorResponse(err).Code == "NoSuchUpload" {
				return aborted, nil // gofakes3's answer for a bucket without uploads
			}
			return aborted, s.wrap("list multipart uploads of", s.u.Object(key), err)
		}
		for _, up := range res.Uploads {
			if up.Key != key || !abandoned(s.endpoint, s.u.Bucket, key, up.UploadID) {
				continue
			}
			err := s.core.AbortMultipartUpload(ctx, s.u.Bucket, key, up.UploadID)
			if err != nil && minio.ToErrorResponse(err).Code != "NoSuchUpload" {
				return aborted, s.wrap("abort an abandoned multipart upload of", s.u.Object(key), err)
			}
			os.Remove(journalPath(s.endpoint, s.u.Bucket, key, up.UploadID))
			aborted = append(aborted, up.UploadID)
		}
		if !res.IsTruncated || (res.NextKeyMarker == keyMarker && res.NextUploadIDMarker == idMarker) {
			return aborted, nil
		}
		keyMarker, idMarker = res.NextKeyMarker, res.NextUploadIDMarker
	}
}

var _ StaleAborter = (*s3Store)(nil)
