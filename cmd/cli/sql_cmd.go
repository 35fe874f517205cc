package cli

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/ankaflow/ankaflow/engine"
	"github.com/ankaflow/ankaflow/engine/sqlast"
	"github.com/ankaflow/ankaflow/engine/value"
	"github.com/ankaflow/ankaflow/pipeline"
)

var sqlFlags = []flagSpec{
	{names: []string{"--pipeline", "-p"}, arity: 1, repeat: true, meta: "FILE.yaml", help: "register this pipeline's connections (repeatable)"},
	{names: []string{"--db"}, arity: 1, meta: "PATH", help: "DuckDB database file (default: in memory)"},
	{names: []string{"-c", "--command"}, arity: 1, repeat: true, meta: "STATEMENT", help: "SQL to run (repeatable)"},
	{names: []string{"-f", "--file"}, arity: 1, meta: "FILE.sql", help: "SQL script to run; - reads standard input"},
	{names: []string{"--format"}, arity: 1, meta: "table|csv|json", help: "result format (default table)"},
	{names: []string{"-v", "--var"}, arity: 1, repeat: true, meta: "key=value", help: "pipeline variable for rendering connections"},
	{names: []string{"--context"}, arity: 1, repeat: true, meta: "key=value", help: "template context value for rendering connections"},
	{names: []string{"--config"}, arity: 1, meta: "FILE", help: "run-wide connection configuration"},
}

func cmdSQL(ctx context.Context, args []string, io *stdio) error {
	p, err := parseArgs(args, sqlFlags)
	if err != nil {
		return err
	}
	if len(p.args) > 0 {
		return usagef("unexpected arguments: %s (give SQL with -c or -f)", strings.Join(p.args, " "))
	}
	format := p.str("--format")
	if format == "" {
		format = "table"
	}
	if format != "table" && format != "csv" && format != "json" {
		return usagef("--format must be table, csv or json, got %q", format)
	}
	var script string
	switch {
	case p.has("-c") && p.has("-f"):
		return usagef("give either -c or -f, not both")
	case p.has("-c"):
		script = strings.Join(p.all("-c"), ";\n")
	case p.str("-f") == "-":
		b, err := readAll(io.in)
		if err != nil {
			return err
		}
		script = b
	case p.has("-f"):
		b, err := os.ReadFile(p.str("-f"))
		if err != nil {
			return usagef("-f: %s", err)
		}
		script = string(b)
	default:
		return usagef("sql needs -c STATEMENT or -f FILE (-f - reads standard input)")
	}

	vars, err := keyValues("-v", p.all("-v"))
	if err != nil {
		return err
	}
	user, err := keyValues("--context", p.all("--context"))
	if err != nil {
		return err
	}
	db, s, err := openSession(ctx, p.str("--db"), nil)
	if err != nil {
		return err
	}
	defer db.Close()

	cfg, err := runConfig(p.str("--config"))
	if err != nil {
		return err
	}
	pipeline.SetSessionConfig(s, cfg) // for run_pipeline()/load_pipeline() in this session
	quiet := slog.New(slog.NewTextHandler(io.err, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if err := registerPipelines(ctx, p.all("--pipeline"), db, s, pipeline.Options{
		Variables: vars, Context: buildContext(user), Config: cfg, Stderr: io.err,
	}, io, quiet); err != nil {
		return err
	}

	stmts, err := sqlast.Split(ctx, s, script)
	if err != nil {
		return err
	}
	for i, stmt := range stmts {
		if err := runStatement(ctx, s, stmt, format, io.out); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			fmt.Fprintf(io.err, "error: statement %d: %s\n  %s\n", i+1, err, firstLine(stmt))
			return errReported
		}
	}
	return nil
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}

func readAll(r io.Reader) (string, error) {
	var b strings.Builder
	_, err := io.Copy(&b, r)
	return b.String(), err
}

// runStatement runs one statement and prints its rows (statements that only change data print
// nothing; their counts are not results).
func runStatement(ctx context.Context, s *engine.Session, stmt, format string, w io.Writer) error {
	rows, err := s.QueryArrow(ctx, stmt)
	if err != nil {
		return err
	}
	defer rows.Close()
	switch rows.StatementType() {
	case engine.StatementSelect, engine.StatementExplain, engine.StatementPragma, bindingsCall:
	default:
		for rows.Next() {
		}
		return rows.Err()
	}
	cols := rows.Columns()
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name
	}
	switch format {
	case "csv":
		cw := csv.NewWriter(w)
		if err := cw.Write(names); err != nil {
			return err
		}
		for rows.Next() {
			for _, rec := range textRows(rows.RecordBatch()) {
				if err := cw.Write(rec); err != nil {
					return err
				}
			}
			cw.Flush()
			if err := cw.Error(); err != nil {
				return err
			}
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
		return rows.Err()
	case "json":
		// One JSON object per line: streams, and every line is a complete record, its keys in
		// column order and its numbers exact.
		for rows.Next() {
			rec := rows.RecordBatch()
			for i := 0; i < int(rec.NumRows()); i++ {
				if _, err := fmt.Fprintf(w, "%s\n", value.JSON(value.Record(rec, i))); err != nil {
					return err
				}
			}
		}
		return rows.Err()
	}
	var all [][]string
	numeric := make([]bool, len(cols))
	for i, c := range cols {
		numeric[i] = isNumericType(c.Type)
	}
	for rows.Next() {
		all = append(all, textRows(rows.RecordBatch())...)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	writeTable(w, names, all, numeric)
	fmt.Fprintf(w, "(%d row%s)\n", len(all), map[bool]string{true: "", false: "s"}[len(all) == 1])
	return nil
}
