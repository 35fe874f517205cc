package connectors

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/ankaflow/ankaflow/engine"
)

// A local file sink never writes its target in place. Its COPY writes a hidden temporary file
// beside the target, .<target>.ankaflow-tmp, and the runner renames it onto the target when the
// COPY has succeeded (one rename in one directory: readers see the old file or the new one,
// never a half-written one). On failure the temporary file is removed. A sink killed mid-write
// (kill -9) leaves it behind, but:
//   - the leading dot hides it from shell globs and most tools, and the suffix keeps a pattern
//     such as out/*.csv from matching it even in tools that list hidden files (DuckDB does);
//   - taps whose pattern matches it anyway (out/*) skip it;
//   - the next run of the same sink removes it.
//
// The name is the mark: only a hidden file ending in .ankaflow-tmp is treated as ours.
//
// Earlier versions let DuckDB write tmp_<target> (USE_TMP_FILE) with a hidden marker file
// .tmp_<target>.ankaflow-sink beside it; such leftovers are recognised and removed too.
const (
	sinkTempSuffix   = ".ankaflow-tmp"
	legacyMarkSuffix = ".ankaflow-sink"
)

// SinkTempPath is the hidden temporary file a local sink to target writes before the rename.
func SinkTempPath(target string) string {
	dir, base := filepath.Split(target)
	return filepath.Join(dir, "."+base+sinkTempSuffix)
}

// isOurSinkTemp reports whether path is a sink's temporary file left by ankaflow.
func isOurSinkTemp(path string) bool {
	base := filepath.Base(path)
	if strings.HasPrefix(base, ".") && strings.HasSuffix(base, sinkTempSuffix) {
		return true
	}
	if strings.HasSuffix(base, legacyMarkSuffix) {
		return true
	}
	if strings.HasPrefix(base, "tmp_") {
		_, err := os.Stat(legacyMark(path))
		return err == nil
	}
	return false
}

func legacyMark(tmp string) string {
	dir, base := filepath.Split(tmp)
	return filepath.Join(dir, "."+base+legacyMarkSuffix)
}

// StartSink runs before a local file sink's COPY: it removes what an earlier, killed run of
// this sink left behind.
func StartSink(target string) error {
	if err := os.Remove(SinkTempPath(target)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove the leftover temporary file of an earlier run: %w", err)
	}
	dir, base := filepath.Split(target)
	legacy := filepath.Join(dir, "tmp_"+base)
	if isOurSinkTemp(legacy) {
		os.Remove(legacy)
		os.Remove(legacyMark(legacy))
	}
	return nil
}

// CommitSink runs after the COPY succeeded: the complete temporary file replaces the target.
func CommitSink(target string) error {
	if err := os.Rename(SinkTempPath(target), target); err != nil {
		os.Remove(SinkTempPath(target))
		return fmt.Errorf("replace %s with the rows just written: %w", target, err)
	}
	return nil
}

// AbortSink runs when the COPY failed: the target stays as it was, the temporary file goes.
func AbortSink(target string) {
	os.Remove(SinkTempPath(target))
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
		if isOurSinkTemp(m) {
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
