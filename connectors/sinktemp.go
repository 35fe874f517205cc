package connectors

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/ankaflow/ankaflow/engine"
)

// A file sink's COPY writes DuckDB's temporary file tmp_<target> beside the target and renames
// it when done (USE_TMP_FILE), so the plan runs as written in plain DuckDB. A sink killed
// mid-write (kill -9) leaves that file, and a glob such as out/*.csv matches it: a later tap
// read the half-written rows too. While the COPY runs, the runner keeps a hidden marker
// .tmp_<target>.ankaflow-sink beside it, so a leftover is recognisably ours: taps whose glob
// matches it skip it, and the next run of the same sink removes it. A user's own file that
// happens to be called tmp_<something> has no marker and is read as usual.
const sinkMarkerSuffix = ".ankaflow-sink"

// DuckDBTempPath is the temporary file DuckDB's COPY … (USE_TMP_FILE) writes for target.
func DuckDBTempPath(target string) string {
	dir, base := filepath.Split(target)
	return filepath.Join(dir, "tmp_"+base)
}

func sinkMarker(tmp string) string {
	dir, base := filepath.Split(tmp)
	return filepath.Join(dir, "."+base+sinkMarkerSuffix)
}

// isOurSinkTemp reports whether path is a sink's temporary file left by ankaflow.
func isOurSinkTemp(path string) bool {
	if !strings.HasPrefix(filepath.Base(path), "tmp_") {
		return false
	}
	_, err := os.Stat(sinkMarker(path))
	return err == nil
}

// StartSink runs before a local file sink's COPY: it removes a leftover temporary file of an
// earlier, killed run of this sink, and marks the one DuckDB is about to write as ours.
func StartSink(target string) error {
	tmp := DuckDBTempPath(target)
	if isOurSinkTemp(tmp) {
		os.Remove(tmp)
	}
	return os.WriteFile(sinkMarker(tmp), nil, 0o644)
}

// EndSink runs after the COPY, whether it succeeded or failed: DuckDB has renamed or removed
// its temporary file (anything left is ours), and the marker goes.
func EndSink(target string) {
	tmp := DuckDBTempPath(target)
	if isOurSinkTemp(tmp) {
		os.Remove(tmp)
	}
	os.Remove(sinkMarker(tmp))
}

// readerPaths is what a tap hands DuckDB's reader: the path or pattern itself, or, when a
// local glob also matches a sink's leftover temporary file, the list of the other matches.
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
		if isOurSinkTemp(m) || strings.HasSuffix(m, sinkMarkerSuffix) {
			skipped = true
			continue
		}
		keep = append(keep, engine.QuoteLiteral(m))
	}
	if !skipped {
		return engine.QuoteLiteral(path)
	}
	if len(keep) == 0 {
		return "[]::VARCHAR[]" // DuckDB reports that no file was found
	}
	return "[" + strings.Join(keep, ", ") + "]"
}
