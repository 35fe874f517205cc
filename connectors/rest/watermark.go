package rest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// watermark is an incremental load's high-water mark: the largest value of a record field seen
// so far. It is read before the first request (from the pipeline variable, else the state
// file, else `initial`), sent as a request parameter, and stored back only after every page
// was read, so a failed run is fetched again from the old mark.
type watermark struct {
	cfg   *incrementalConfig
	value any // sent with the request
	max   any // largest value seen in this run
}

func (r *Rest) watermarkVariable(inc *incrementalConfig) string {
	if inc.Variable != "" {
		return inc.Variable
	}
	return r.Name() + "_watermark"
}

func (r *Rest) loadWatermark(inc *incrementalConfig) (*watermark, error) {
	m := &watermark{cfg: inc}
	if v, ok := r.Variables()[r.watermarkVariable(inc)]; ok && v != nil {
		m.value = v
		return m, nil
	}
	if inc.StateFile != "" {
		b, err := os.ReadFile(inc.StateFile)
		switch {
		case err == nil:
			var st struct {
				Watermark any `json:"watermark"`
			}
			if err := json.Unmarshal(b, &st); err != nil {
				return nil, fmt.Errorf("request.incremental.state_file %s: %w", inc.StateFile, err)
			}
			if st.Watermark != nil {
				m.value = st.Watermark
				return m, nil
			}
		case !os.IsNotExist(err):
			return nil, fmt.Errorf("request.incremental.state_file: %w", err)
		}
	}
	if inc.HasInitial {
		m.value = inc.Initial
	}
	return m, nil
}

// saveWatermark stores the new mark (unchanged when no record was received).
func (r *Rest) saveWatermark(m *watermark) error {
	v := m.max
	if v == nil {
		return nil
	}
	r.Variables()[r.watermarkVariable(m.cfg)] = v
	r.Logger().Info(fmt.Sprintf("watermark %s advanced to %v", m.cfg.Field, v))
	if m.cfg.StateFile == "" {
		return nil
	}
	b, err := json.Marshal(map[string]any{"watermark": v, "field": m.cfg.Field, "updated_at": time.Now().UTC().Format(time.RFC3339)})
	if err != nil {
		return err
	}
	// Write-and-rename: a crash never leaves a half-written state file.
	tmp := filepath.Join(filepath.Dir(m.cfg.StateFile), "."+filepath.Base(m.cfg.StateFile)+".tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("request.incremental.state_file: %w", err)
	}
	if err := os.Rename(tmp, m.cfg.StateFile); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("request.incremental.state_file: %w", err)
	}
	return nil
}

func (m *watermark) observeBatch(rec arrow.RecordBatch) {
	if idx := rec.Schema().FieldIndices(m.cfg.Field); len(idx) > 0 {
		m.observe(rec.Column(idx[0]))
	}
}

// observe keeps the largest value of a column: numbers by value, text by its order (ISO-8601
// timestamps sort as text), timestamps as their ISO-8601 text.
func (m *watermark) observe(col arrow.Array) {
	for i := 0; i < col.Len(); i++ {
		if col.IsNull(i) {
			continue
		}
		var v any
		switch c := col.(type) {
		case *array.Int64:
			v = c.Value(i)
		case *array.Float64:
			v = c.Value(i)
		case *array.String:
			v = c.Value(i)
		case *array.Timestamp:
			unit := c.DataType().(*arrow.TimestampType).Unit
			v = c.Value(i).ToTime(unit).UTC().Format(time.RFC3339Nano)
		default:
			v = col.ValueStr(i)
		}
		if m.max == nil || greater(v, m.max) {
			m.max = v
		}
	}
}

func greater(a, b any) bool {
	switch x := a.(type) {
	case int64:
		if y, ok := b.(int64); ok {
			return x > y
		}
	case float64:
		if y, ok := b.(float64); ok {
			return x > y
		}
	case string:
		if y, ok := b.(string); ok {
			return x > y
		}
	}
	return fmt.Sprint(a) > fmt.Sprint(b)
}
