package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ankaflow/ankaflow/connectors"
	"github.com/ankaflow/ankaflow/engine"
)

// outputSQL lowers `-o FORMAT PATH`: the last stage's data written to the hidden temporary file
// of path, renamed onto path when complete (connectors.CommitSink), as file sinks do.
func outputSQL(o *Output, last string) (string, error) {
	if last == "" {
		return "", fmt.Errorf("-o: the pipeline has no data to write (no tap, transform, sql or internal stage ran)")
	}
	path, err := filepath.Abs(o.Path)
	if err != nil {
		return "", err
	}
	compression := ""
	if cc := connectors.CompressionOf(path); cc != "" {
		compression = ", COMPRESSION " + cc
	}
	var opts string
	switch strings.ToLower(o.Format) {
	case "csv":
		opts = "FORMAT CSV, HEADER TRUE" + compression
	case "parquet":
		opts = "FORMAT PARQUET"
	case "json":
		opts = "FORMAT JSON, ARRAY TRUE" + compression
	default:
		return "", fmt.Errorf("-o: unsupported output format %q: use csv, parquet or json", o.Format)
	}
	return "COPY (SELECT * FROM " + q(last) + ") TO " + engine.QuoteLiteral(connectors.SinkTempPath(path)) + " (" + opts + ", USE_TMP_FILE FALSE)", nil
}

func (r *Runner) output(ctx context.Context, last string) error {
	stmt, err := outputSQL(r.opts.Output, last)
	if err != nil {
		return err
	}
	target, err := filepath.Abs(r.opts.Output.Path)
	if err != nil {
		return err
	}
	dir := filepath.Dir(target)
	if r.planOnly {
		r.print.line("-- output (-o %s)", r.opts.Output.Format)
		r.print.line("-- ankaflow: create directory %s if missing", commentName(dir))
		r.print.line("%s;", SinkBeginSQL(target))
		r.print.line("%s;", stmt)
		r.print.line("-- ankaflow: if the COPY failed: remove %s (the target stays as it was); else:", commentName(connectors.SinkTempPath(target)))
		r.print.line("%s;", SinkCommitSQL(target))
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("-o: %w", err)
	}
	if _, err := r.session.Exec(ctx, SinkBeginSQL(target)); err != nil {
		return fmt.Errorf("-o: %w", err)
	}
	if _, err := r.session.Exec(ctx, stmt); err != nil {
		connectors.AbortSink(target)
		return fmt.Errorf("-o: writing %s: %w", r.opts.Output.Path, err)
	}
	if _, err := r.session.Exec(ctx, SinkCommitSQL(target)); err != nil {
		return fmt.Errorf("-o: %w", err)
	}
	return nil
}

// installMacros creates the header stages' user macros before the first stage runs.
func (r *Runner) installMacros(ctx context.Context, p *Pipeline) error {
	var macros []Macro
	for _, st := range p.Stages {
		if st.Kind == KindHeader {
			macros = append(macros, st.Macros...)
		}
	}
	if len(macros) == 0 {
		return nil
	}
	return r.createMacros(ctx, macros)
}
