package pipeline

import (
	"context"

	"github.com/ankaflow/ankaflow/engine"
)

// loadForSQL loads the pipeline file named in run_pipeline()/load_pipeline(). When the
// database restricts file access (`serve --allow-dir`: enable_external_access = false), the
// file is read through DuckDB, so the same allowed directories apply to pipeline files as to
// everything else a client reads.
func loadForSQL(ctx context.Context, caller *engine.Session, fn, file string) (*Pipeline, Problems) {
	s, err := helperSession(ctx, caller, fn)
	if err != nil {
		return &Pipeline{File: file}, Problems{{Pos: Pos{File: file}, Msg: "cannot read pipeline: " + err.Error()}}
	}
	defer s.Close()
	var external bool
	if err := s.QueryRowContext(ctx, "SELECT current_setting('enable_external_access')").Scan(&external); err != nil || external {
		return LoadFile(file)
	}
	var data string
	if err := s.QueryRowContext(ctx, "SELECT content FROM read_text(?)", file).Scan(&data); err != nil {
		return &Pipeline{File: file}, Problems{{Pos: Pos{File: file}, Msg: "cannot read pipeline: " + err.Error()}}
	}
	return Parse(file, []byte(data))
}
