package pipeline

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/ankaflow/ankaflow/connectors"
)

// The temporary tables a CSV tap records its skipped rows in (connectors/csvrejects.go). One
// pair serves every tap: each tap's step counts and drops them before the next one runs.
const (
	rejectsTable     = "ankaflow_csv_rejects"
	rejectsScanTable = "ankaflow_csv_reject_scans"
)

// countRejects reads and drops the tables of skipped rows after a tap; the warning text, or ""
// when no row was skipped.
func (r *Runner) countRejects(ctx context.Context, st *Stage) (string, error) {
	var n, files, line int64
	var file string
	row := r.session.QueryRowContext(ctx, connectors.RejectsQuery(rejectsTable, rejectsScanTable))
	if err := row.Scan(&n, &files, &file, &line); err != nil {
		return "", fmt.Errorf("count malformed CSV rows: %w", err)
	}
	if _, err := r.session.Exec(ctx, "DROP TABLE IF EXISTS temp."+rejectsTable+"; DROP TABLE IF EXISTS temp."+rejectsScanTable); err != nil {
		return "", err
	}
	if n == 0 {
		return "", nil
	}
	where := filepath.Base(file)
	if files > 1 {
		where = fmt.Sprintf("%d files", files)
	}
	return fmt.Sprintf("warning: stage '%s': %s malformed row%s skipped in %s (first at line %s of %s); set ignore_errors: false to fail",
		clipText(st.Name), groupDigits(n), plural(n), where, groupDigits(line), filepath.Base(file)), nil
}
