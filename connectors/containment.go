package connectors

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// checkResolvedInside refuses a local path that is inside the bucket as written but leaves it
// through a symbolic link: the link itself, a linked directory on the way, or (for a glob)
// any file it matches. A path that does not exist yet (a sink's new file) is judged by its
// nearest existing parent, which is where the file would be created.
func checkResolvedInside(root, full, name string) error {
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return nil // no bucket directory yet: nothing in it can link out
	}
	check := func(p string) error {
		resolved, err := resolveExisting(p)
		if err != nil {
			return fmt.Errorf("locator %q: %w", name, err)
		}
		rel, err := filepath.Rel(realRoot, resolved)
		if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return fmt.Errorf("locator %q leads outside its bucket %q through a symbolic link (to %s); refusing to follow it", name, root, resolved)
		}
		return nil
	}
	if !hasGlobMeta(full) {
		return check(full)
	}
	matches, err := filepath.Glob(full)
	if err != nil {
		return nil // DuckDB reports a malformed pattern itself
	}
	for _, m := range matches {
		if err := check(m); err != nil {
			return err
		}
	}
	return check(globBase(full))
}

// resolveExisting resolves the symbolic links of p's longest existing prefix and appends the
// rest unchanged.
func resolveExisting(p string) (string, error) {
	rest := ""
	for {
		if _, err := os.Lstat(p); err == nil {
			r, err := filepath.EvalSymlinks(p)
			if err != nil {
				return "", err // a dangling link
			}
			return filepath.Join(r, rest), nil
		}
		parent := filepath.Dir(p)
		if parent == p {
			return filepath.Join(p, rest), nil
		}
		rest = filepath.Join(filepath.Base(p), rest)
		p = parent
	}
}

func hasGlobMeta(p string) bool { return strings.ContainsAny(p, "*?[") }

// globBase is the directory part of a pattern before its first wildcard.
func globBase(p string) string {
	i := strings.IndexAny(p, "*?[")
	return filepath.Dir(p[:i+1])
}
