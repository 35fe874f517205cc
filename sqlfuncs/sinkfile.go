package sqlfuncs

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/ankaflow/ankaflow/connectors"
	"github.com/ankaflow/ankaflow/engine"
)

// A local file sink writes its rows to a hidden temporary file beside the target and renames
// it onto the target when complete (see connectors/sinktemp.go). Plans spell the two file
// steps around the COPY as calls of these functions, so a plan run by `ankaflow run` and the
// same plan piped into `ankaflow sql` do the same thing:
//
//	CALL ankaflow_sink_begin('/out/big.csv');   -- remove what a killed earlier run left
//	COPY (…) TO '/out/.big.csv.ankaflow-tmp' (FORMAT CSV, USE_TMP_FILE FALSE);
//	CALL ankaflow_sink_commit('/out/big.csv');  -- rename the complete file onto the target
//
// Both have a Schema, so planning them (EXPLAIN, PREPARE) touches no file. They only ever
// remove or rename ankaflow's own temporary file of the target, and when the database's file
// access is restricted (serve --allow-dir) the target must be inside an allowed directory.

var sinkFileSchema = arrow.NewSchema([]arrow.Field{{Name: "file", Type: arrow.BinaryTypes.String}}, nil)

func sinkFileFunctions(db *engine.DB) []engine.TableFunction {
	step := func(name string, do func(target string) error) engine.TableFunction {
		return engine.TableFunction{
			Name: name,
			Args: []engine.ArgType{engine.ArgVarchar},
			Schema: func(context.Context, *engine.Session, []any, map[string]any) (*arrow.Schema, error) {
				return sinkFileSchema, nil
			},
			Bind: func(ctx context.Context, caller *engine.Session, args []any, _ map[string]any) (array.RecordReader, error) {
				target, _ := args[0].(string)
				if target == "" || !filepath.IsAbs(target) {
					return nil, fmt.Errorf("%s: give the sink's target as an absolute file path, got %q", name, target)
				}
				if err := fileAccessAllowed(ctx, db, target); err != nil {
					return nil, fmt.Errorf("%s: %w", name, err)
				}
				if err := do(target); err != nil {
					return nil, fmt.Errorf("%s: %w", name, err)
				}
				b := array.NewStringBuilder(memory.DefaultAllocator)
				defer b.Release()
				b.Append(target)
				col := b.NewArray()
				defer col.Release()
				rec := array.NewRecordBatch(sinkFileSchema, []arrow.Array{col}, 1)
				defer rec.Release()
				return array.NewRecordReader(sinkFileSchema, []arrow.RecordBatch{rec})
			},
		}
	}
	return []engine.TableFunction{
		step("ankaflow_sink_begin", connectors.StartSink),
		step("ankaflow_sink_commit", connectors.CommitSink),
	}
}

// fileAccessAllowed applies DuckDB's own file restriction (enable_external_access = false with
// allowed_directories) to a path these Go functions are about to touch.
func fileAccessAllowed(ctx context.Context, db *engine.DB, path string) error {
	var external bool
	var dirs []any
	row := db.SQL().QueryRowContext(ctx, "SELECT current_setting('enable_external_access'), current_setting('allowed_directories')")
	if err := row.Scan(&external, &dirs); err != nil {
		return fmt.Errorf("cannot read the database's file access settings: %w", err)
	}
	if external {
		return nil
	}
	clean := filepath.Clean(path)
	for _, d := range dirs {
		dir, _ := d.(string)
		if dir == "" {
			continue
		}
		dir = strings.TrimSuffix(filepath.Clean(dir), string(filepath.Separator))
		if strings.HasPrefix(clean, dir+string(filepath.Separator)) {
			return nil
		}
	}
	return fmt.Errorf("%s is outside the directories this server may write (serve --allow-dir)", path)
}
