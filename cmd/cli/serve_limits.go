package cli

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ankaflow/ankaflow/engine"
)

// defaultServeMemoryShare is the part of physical memory DuckDB may use under `serve` unless
// --memory-limit says otherwise. DuckDB's own default (80%) suits one analyst's process;
// a shared server leaves room for the Go side (result buffers, COPY, connections) and for
// the rest of the machine, so one query cannot take the machine.
const defaultServeMemoryShare = 50

// memoryLimitSetting turns --memory-limit into DuckDB's memory_limit value: DuckDB's own
// syntax (4GB, 512MiB) passes through, N% is that share of physical memory. "" is the
// default share, or DuckDB's default where physical memory cannot be read.
func memoryLimitSetting(v string) (string, error) {
	pct := defaultServeMemoryShare
	if v != "" {
		s, ok := strings.CutSuffix(strings.TrimSpace(v), "%")
		if !ok {
			if !isSize(s) {
				return "", usagef("--memory-limit must be a size such as 4GB or 512MiB, or a share such as 50%%, got %q", v)
			}
			return s, nil
		}
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 || n > 100 {
			return "", usagef("--memory-limit must be a size such as 4GB or a share such as 50%%, got %q", v)
		}
		pct = n
	}
	total := physicalMemory()
	if total == 0 {
		if v != "" {
			return "", usagef("--memory-limit %s: cannot read the physical memory size here; give a size such as 4GB", v)
		}
		return "", nil
	}
	return fmt.Sprintf("%dMiB", total/100*uint64(pct)>>20), nil
}

// isSize tells whether v is a size DuckDB takes: a number and a unit (B, KB… TB, KiB… TiB).
func isSize(v string) bool {
	num := strings.TrimRight(strings.ToLower(v), "bkmgtie ")
	unit := strings.TrimSpace(strings.ToLower(v[len(num):]))
	if _, err := strconv.ParseFloat(strings.TrimSpace(num), 64); err != nil || strings.ContainsAny(num, "eE+-") {
		return false
	}
	switch unit {
	case "b", "kb", "mb", "gb", "tb", "kib", "mib", "gib", "tib":
		return true
	}
	return false
}

// authTimeoutSetting parses --auth-timeout (default: the server's own).
func authTimeoutSetting(v string) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, usagef("--auth-timeout must be a positive duration such as 10s, got %q", v)
	}
	return d, nil
}

// restrictFiles applies --allow-dir: every client (and every pipeline run through the server)
// may only read and write files under these directories. DuckDB enforces it
// (enable_external_access = false with allowed_directories), and neither setting can be
// changed back while the database runs, so no client can undo it. DuckDB's own temporary
// directory and the database file stay usable.
func restrictFiles(ctx context.Context, db *engine.DB, dirs []string, dbPath string) error {
	s, err := db.NewSession(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	var tempDir string
	if err := s.QueryRowContext(ctx, "SELECT current_setting('temp_directory')").Scan(&tempDir); err != nil {
		return err
	}
	var allowed []string
	for _, d := range append(dirs, tempDir) {
		if d == "" {
			continue
		}
		abs, err := filepath.Abs(d)
		if err != nil {
			return usagef("--allow-dir %s: %v", d, err)
		}
		// A trailing separator: /data/x must not also allow /data/xyz.
		allowed = append(allowed, engine.QuoteLiteral(strings.TrimRight(abs, string(filepath.Separator))+string(filepath.Separator)))
	}
	stmts := []string{"SET allowed_directories = [" + strings.Join(allowed, ", ") + "]"}
	if dbPath != "" && dbPath != ":memory:" {
		abs, err := filepath.Abs(dbPath)
		if err != nil {
			return err
		}
		stmts = append(stmts, "SET allowed_paths = ["+engine.QuoteLiteral(abs)+", "+engine.QuoteLiteral(abs+".wal")+"]")
	}
	stmts = append(stmts, "SET enable_external_access = false")
	for _, q := range stmts {
		if _, err := s.Exec(ctx, q); err != nil {
			return fmt.Errorf("--allow-dir: %s: %w", q, err)
		}
	}
	return nil
}
