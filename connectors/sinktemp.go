package connectors

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/ankaflow/ankaflow/engine"
)

// A file sink writes a hidden temporary file beside its target and renames it over the target
// once the COPY succeeded, so a failed or killed sink leaves the target as it was. DuckDB's
// own USE_TMP_FILE names it tmp_<target>, which a user's glob (out/*.csv) matches: after a
// kill -9 a later tap read the half-written rows too. Ours is named .<target>.ankaflow-tmp:
// hidden, never ending in the data's extension, recognisable as ours, removed by the next
// run of the same sink (its COPY overwrites it, and a failure removes it), and skipped by
// taps whose glob would match it.
const sinkTempSuffix = ".ankaflow-tmp"

// SinkTempPath is the temporary file a sink to the local file target writes first.
func SinkTempPath(target string) string {
	dir, base := filepath.Split(target)
	return filepath.Join(dir, "."+base+sinkTempSuffix)
}

// IsSinkTemp reports whether a file name is a sink's temporary file.
func IsSinkTemp(name string) bool {
	base := filepath.Base(name)
	return strings.HasPrefix(base, ".") && strings.HasSuffix(base, sinkTempSuffix) && len(base) > 1+len(sinkTempSuffix)
}

// TempSinker is implemented by connections whose SinkSQL writes a temporary file that the
// runner renames over the target after the COPY succeeded.
type TempSinker interface {
	// SinkTemp returns the temporary file and the target ("" when the sink writes its
	// target directly, e.g. to object storage).
	SinkTemp() (tmp, target string, err error)
}

var _ TempSinker = (*FileConnection)(nil)

// SinkTemp implements TempSinker.
func (c *FileConnection) SinkTemp() (tmp, target string, err error) {
	target, err = c.SinkTarget()
	if err != nil || !isLocalPath(target) || IsRemote(target) {
		return "", "", err
	}
	target = strings.TrimPrefix(target, "file://")
	return SinkTempPath(target), target, nil
}

// FinishSinkTemp renames a successful sink's temporary file over its target, or removes it
// after a failure.
func FinishSinkTemp(tmp, target string, failed bool) error {
	if failed {
		os.Remove(tmp)
		return nil
	}
	if err := os.Rename(tmp, target); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// readerPaths is what a tap hands DuckDB's reader: the path or pattern itself, or, when a
// local glob also matches sinks' temporary files, the list of the other matches.
func readerPaths(path string) string {
	if !isLocalPath(path) || IsRemote(path) || !hasGlobMeta(path) || strings.Contains(path, "**") {
		return engine.QuoteLiteral(path)
	}
	matches, err := filepath.Glob(path)
	if err != nil {
		return engine.QuoteLiteral(path)
	}
	var keep []string
	skipped := false
	for _, m := range matches {
		if IsSinkTemp(m) {
			skipped = true
			continue
		}
		keep = append(keep, engine.QuoteLiteral(m))
	}
	if !skipped {
		return engine.QuoteLiteral(path)
	}
	if len(keep) == 0 {
		// Only temporary files match: DuckDB reports that no file was found.
		return "[]::VARCHAR[]"
	}
	return "[" + strings.Join(keep, ", ") + "]"
}
