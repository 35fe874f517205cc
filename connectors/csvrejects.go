package connectors

import (
	"fmt"
	"strings"
)

// CSV taps keep the original's default ignore_errors = true, which drops malformed rows
// without a word. When nothing in the connection's params says otherwise, the planner asks
// DuckDB to keep the rejected rows (store_rejects) in two temporary tables, counts them after
// the tap and warns on the stage line.

// RejectCounter is implemented by connections whose reader can record the rows it skipped.
type RejectCounter interface {
	// CountRejects makes the reader record skipped rows in the temporary tables errTable and
	// scanTable; false when this connection does not skip rows silently.
	CountRejects(errTable, scanTable string) bool
}

var _ RejectCounter = (*FileConnection)(nil)

// CountRejects implements RejectCounter for CSV files read with ignore_errors.
func (c *FileConnection) CountRejects(errTable, scanTable string) bool {
	if c.format != csvFormat {
		return false
	}
	if _, remote, _ := c.objectURL(true); remote {
		// Objects are read by the connection's own session (tap('Name')), not by the plan's
		// read_csv, so the plan's session has no rejects tables to count.
		return false
	}
	for k, v := range c.params {
		switch strings.ToLower(k) {
		case "store_rejects", "rejects_table", "rejects_scan", "rejects_limit":
			return false // the user manages rejects
		case "ignore_errors":
			if b, ok := v.(bool); !ok || !b {
				return false // strict: DuckDB fails on the first bad row
			}
		}
	}
	c.rejects = [2]string{errTable, scanTable}
	return true
}

// rejectArgs are the reader arguments recording skipped rows (none unless CountRejects ran).
func (c *FileConnection) rejectArgs(args map[string]any) {
	if c.rejects[0] == "" {
		return
	}
	args["store_rejects"] = true
	args["rejects_table"] = c.rejects[0]
	args["rejects_scan"] = c.rejects[1]
}

// RejectsQuery counts the rows recorded in errTable: how many, in how many files, and the
// first one's file and line.
func RejectsQuery(errTable, scanTable string) string {
	return fmt.Sprintf(`SELECT count(*), count(DISTINCT s.file_path), coalesce(min_by(s.file_path, (e.scan_id, e.file_id, e.line)), ''), coalesce(min_by(e.line, (e.scan_id, e.file_id, e.line)), 0) FROM temp.%s e JOIN temp.%s s USING (scan_id, file_id)`, errTable, scanTable)
}
