package pipeline

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/mattn/go-runewidth"

	"github.com/ankaflow/ankaflow/connectors"
	"github.com/ankaflow/ankaflow/engine"
	"github.com/ankaflow/ankaflow/engine/value"
)

// showRows prints up to n rows (n < 0: all) of a table as an aligned text table, each value
// in DuckDB's text form (value.Format).
func showRows(ctx context.Context, w io.Writer, s *engine.Session, table string, n int) error {
	query := "SELECT * FROM " + q(table)
	if n >= 0 {
		query += fmt.Sprintf(" LIMIT %d", n)
	}
	rows, err := s.QueryArrow(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Release()
	cols, cells, numeric, err := textCells(rows)
	if err != nil {
		return err
	}
	var total int64
	if err := s.QueryRowContext(ctx, "SELECT count(*) FROM "+q(table)).Scan(&total); err != nil {
		return err
	}
	fmt.Fprintf(w, "%s: %s\n", table, rowsLabel(int64(len(cells)), total))
	FormatTable(w, cols, cells, numeric)
	return nil
}

// textCells reads a result as text cells (value.Format, NULL as "NULL", line breaks and tabs
// escaped so a row stays one line) and tells which columns are numeric (right-aligned).
func textCells(rows array.RecordReader) (cols []string, cells [][]string, numeric []bool, err error) {
	schema := rows.Schema()
	for _, f := range schema.Fields() {
		cols = append(cols, f.Name)
		numeric = append(numeric, arrow.IsInteger(f.Type.ID()) || arrow.IsFloating(f.Type.ID()) || arrow.IsDecimal(f.Type.ID()))
	}
	esc := strings.NewReplacer("\n", `\n`, "\t", `\t`, "\r", `\r`)
	for rows.Next() {
		rec := rows.RecordBatch()
		for i := 0; i < int(rec.NumRows()); i++ {
			row := make([]string, len(cols))
			for c := range cols {
				row[c] = esc.Replace(value.Format(value.FromArrow(rec.Column(c), i)))
			}
			cells = append(cells, row)
		}
	}
	return cols, cells, numeric, rows.Err()
}

func rowsLabel(shown, total int64) string {
	if shown == total {
		return fmt.Sprintf("%s row%s", groupDigits(total), plural(total))
	}
	return fmt.Sprintf("first %s of %s rows", groupDigits(shown), groupDigits(total))
}

func plural(n int64) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// FormatTable prints a psql-style aligned table (rightAlign marks numeric columns). Widths
// are display columns, so wide (CJK) characters line up.
func FormatTable(w io.Writer, header []string, rows [][]string, rightAlign []bool) {
	width := make([]int, len(header))
	for i, h := range header {
		width[i] = runewidth.StringWidth(h)
	}
	for _, r := range rows {
		for i, c := range r {
			if n := runewidth.StringWidth(c); n > width[i] {
				width[i] = n
			}
		}
	}
	pad := func(s string, n int, right bool) string {
		gap := strings.Repeat(" ", max(0, n-runewidth.StringWidth(s)))
		if right {
			return gap + s
		}
		return s + gap
	}
	var b strings.Builder
	for i, h := range header {
		if i > 0 {
			b.WriteString(" | ")
		}
		b.WriteString(pad(h, width[i], false))
	}
	fmt.Fprintln(w, " "+strings.TrimRight(b.String(), " "))
	b.Reset()
	for i := range header {
		if i > 0 {
			b.WriteString("-+-")
		}
		b.WriteString(strings.Repeat("-", width[i]))
	}
	fmt.Fprintln(w, "-"+b.String()+"-")
	for _, r := range rows {
		b.Reset()
		for i, c := range r {
			if i > 0 {
				b.WriteString(" | ")
			}
			b.WriteString(pad(c, width[i], rightAlign != nil && rightAlign[i]))
		}
		fmt.Fprintln(w, " "+strings.TrimRight(b.String(), " "))
	}
}

// showSchema prints columns: the connection's own description when it has one, otherwise
// DuckDB's DESCRIBE of the stage table or view.
func showSchema(ctx context.Context, w io.Writer, s *engine.Session, c connectors.Connection, table string) error {
	var fields []connectors.Field
	var err error
	if c != nil && connectors.KindOf(c).Ops.Has(connectors.OpShowSchema) {
		fields, err = c.ShowSchema(ctx)
	} else {
		fields, err = connectors.Describe(ctx, s, "SELECT * FROM "+q(table))
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "schema of %s:\n", table)
	rows := make([][]string, len(fields))
	for i, f := range fields {
		null := ""
		if f.Nullable != nil {
			null = "no"
			if *f.Nullable {
				null = "yes"
			}
		}
		rows[i] = []string{f.Name, f.Type, null}
	}
	FormatTable(w, []string{"column", "type", "nullable"}, rows, nil)
	return nil
}

// explain prints DuckDB's physical plan of a query.
func explain(ctx context.Context, w io.Writer, s *engine.Session, stage, query string) error {
	rows, err := s.QueryContext(ctx, "EXPLAIN "+query)
	if err != nil {
		return err
	}
	defer rows.Close()
	fmt.Fprintf(w, "plan of %s: %s\n", stage, query)
	for rows.Next() {
		var key, val string
		if err := rows.Scan(&key, &val); err != nil {
			return err
		}
		fmt.Fprintln(w, val)
	}
	return rows.Err()
}
