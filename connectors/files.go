package connectors

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/ankaflow/ankaflow/engine"
	"github.com/ankaflow/ankaflow/engine/sqlast"
	"github.com/ankaflow/ankaflow/engine/value"
)

// fileFormat describes one of the file connections that DuckDB reads and writes natively.
type fileFormat struct {
	kind       string
	reader     string
	copyFormat string
	// defaults are AnkaFlow's reader defaults; user params override them key by key.
	defaults map[string]any
	// sinkOptions are the params that also mean something to COPY … TO; the others are reader
	// options and are ignored when the connection is used as a sink.
	sinkOptions map[string]bool
}

var (
	parquetFormat = &fileFormat{kind: "Parquet", reader: "read_parquet", copyFormat: "PARQUET",
		defaults:    map[string]any{"union_by_name": true},
		sinkOptions: set("compression", "row_group_size", "row_group_size_bytes", "compression_level")}
	csvFormat = &fileFormat{kind: "CSV", reader: "read_csv", copyFormat: "CSV",
		defaults: map[string]any{"ignore_errors": true},
		sinkOptions: set("delim", "delimiter", "sep", "header", "quote", "escape", "nullstr", "dateformat",
			"timestampformat", "compression", "force_quote", "new_line")}
	jsonFormat = &fileFormat{kind: "JSON", reader: "read_json_auto", copyFormat: "JSON",
		sinkOptions: set("compression", "dateformat", "timestampformat", "array")}
)

func set(keys ...string) map[string]bool {
	m := map[string]bool{}
	for _, k := range keys {
		m[k] = true
	}
	return m
}

func init() {
	for _, f := range []*fileFormat{parquetFormat, csvFormat, jsonFormat} {
		f := f
		Register(f.kind, Spec{
			Summary:         fmt.Sprintf("%s files read with DuckDB's %s and written with COPY … (FORMAT %s)", f.kind, f.reader, f.copyFormat),
			Ops:             OpTap | OpSink | OpShowSchema,
			LocatorRequired: true,
		}, func(p map[string]any) Connection { return &FileConnection{format: f, params: p} })
	}
}

// FileConnection is a Parquet, CSV or JSON file (or glob of files). Its tap and sink are plain
// DuckDB SQL, which the planner writes into the plan (see SQLLowerer).
type FileConnection struct {
	Base
	format  *fileFormat
	params  map[string]any
	rejects [2]string // temporary tables recording skipped CSV rows (see csvrejects.go)
}

// SQLLowerer is implemented by connections whose tap and sink are plain DuckDB SQL. The planner
// writes these statements into the plan; nothing calls back into Go while they run.
type SQLLowerer interface {
	// TapSQL returns a SELECT producing the tapped data, narrowed by the stage's query.
	TapSQL(ctx context.Context, s *engine.Session, query string) (string, error)
	// SinkSQL returns the COPY statement writing the rows of the SELECT `from`.
	SinkSQL(from string) (string, error)
	// SinkTarget is the path SinkSQL writes (the runner creates its parent directories).
	SinkTarget() (string, error)
}

var _ SQLLowerer = (*FileConnection)(nil)

// ReaderCall renders the DuckDB reader call, e.g. read_parquet('/data/x.parquet', union_by_name = true).
func (c *FileConnection) ReaderCall() (string, error) {
	path, err := c.Locate(true)
	if err != nil {
		return "", err
	}
	// Local globs are expanded here so that leftovers of interrupted sinks are never read.
	return c.readerCall(readerPaths(path))
}

// readerCall renders the reader call on a path literal (a string or a list of strings).
func (c *FileConnection) readerCall(pathLiteral string) (string, error) {
	args := map[string]any{}
	for k, v := range c.format.defaults {
		args[k] = v
	}
	for k, v := range c.params {
		args[k] = v
	}
	c.rejectArgs(args)
	rendered, err := renderArgs(args)
	if err != nil {
		return "", err
	}
	call := c.format.reader + "(" + pathLiteral
	if rendered != "" {
		call += ", " + rendered
	}
	return call + ")", nil
}

// TapSQL implements SQLLowerer.
func (c *FileConnection) TapSQL(ctx context.Context, s *engine.Session, query string) (string, error) {
	if _, remote, err := c.objectURL(true); remote {
		return c.objectTapSQL(query), err
	}
	call, err := c.ReaderCall()
	if err != nil {
		return "", err
	}
	if strings.TrimSpace(query) == "" {
		return "SELECT * FROM " + call, nil
	}
	return NarrowQuery(ctx, s, query, call)
}

// SinkTarget implements SQLLowerer.
func (c *FileConnection) SinkTarget() (string, error) { return c.Locate(false) }

// SinkSQL implements SQLLowerer. The COPY writes the hidden temporary file SinkTempPath(target);
// the runner renames it onto the target on success (CommitSink) and removes it on failure
// (AbortSink), so a failed sink never leaves a half-written target.
func (c *FileConnection) SinkSQL(from string) (string, error) {
	if _, remote, err := c.objectURL(false); remote {
		return c.objectSinkSQL(from), err
	}
	path, err := c.SinkTarget()
	if err != nil {
		return "", err
	}
	return c.copySQL(from, path, true)
}

// copySQL is the COPY statement writing the rows of from to a local path, or, when tmpFile is
// set, to the path's hidden temporary file (renamed onto path by CommitSink).
func (c *FileConnection) copySQL(from, path string, tmpFile bool) (string, error) {
	opts := map[string]any{}
	compressionSet := false
	for k, v := range c.params {
		if c.format.sinkOptions[strings.ToLower(k)] {
			opts[k] = v
			compressionSet = compressionSet || strings.EqualFold(k, "compression")
		}
	}
	rendered, err := renderOptions(opts)
	if err != nil {
		return "", err
	}
	o := "FORMAT " + c.format.copyFormat + ", USE_TMP_FILE FALSE"
	if rendered != "" {
		o += ", " + rendered
	}
	to := path
	if tmpFile {
		to = SinkTempPath(path)
		// DuckDB picks CSV and JSON compression from the file name's extension; the temporary
		// name hides it, so say what the target's name asks for.
		if cc := CompressionOf(path); cc != "" && !compressionSet && c.format != parquetFormat {
			o += ", COMPRESSION " + cc
		}
	}
	return "COPY (" + from + ") TO " + engine.QuoteLiteral(to) + " (" + o + ")", nil
}

// CompressionOf is the compression DuckDB infers from a file name when writing CSV or JSON.
func CompressionOf(path string) string {
	switch {
	case strings.HasSuffix(strings.ToLower(path), ".gz"):
		return "gzip"
	case strings.HasSuffix(strings.ToLower(path), ".zst"):
		return "zstd"
	}
	return ""
}

// Tap streams the file's rows (used by tap('Name') from SQL; pipeline runs use TapSQL directly).
func (c *FileConnection) Tap(ctx context.Context, query string) (array.RecordReader, error) {
	if u, remote, err := c.objectURL(true); remote {
		if err != nil {
			return nil, err
		}
		return c.objectTap(ctx, u, query)
	}
	s, q, err := c.tapQuery(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.QueryArrow(ctx, q)
}

// tapQuery is the connection's DuckDB session and the SELECT its tap runs there.
func (c *FileConnection) tapQuery(ctx context.Context, query string) (*engine.Session, string, error) {
	s, err := c.DuckDB(ctx)
	if err != nil {
		return nil, "", err
	}
	q, err := c.TapSQL(ctx, s, query)
	return s, q, err
}

// TapSchema implements TapSchemaer: DuckDB prepares the reader query (which reads the files'
// schema, not their rows) and describes its result.
//
// A remote tap is described from local samples of its objects (see objectTapSchema): the
// footer of a Parquet object, the first bytes of a CSV or JSON one.
func (c *FileConnection) TapSchema(ctx context.Context, query string) (*arrow.Schema, error) {
	if u, remote, err := c.objectURL(true); remote {
		if err != nil {
			return nil, err
		}
		return c.objectTapSchema(ctx, u, query)
	}
	s, q, err := c.tapQuery(ctx, query)
	if err != nil {
		return nil, err
	}
	p, err := s.Prepare(ctx, q)
	if err != nil {
		return nil, err
	}
	defer p.Close()
	return p.ArrowSchema()
}

// Sink writes rows to the file(s) (used by COPY … TO 'Name' (FORMAT ankaflow); pipeline runs
// use SinkSQL directly). The rows are exposed to the connection's private DuckDB session as a
// scan and written with the same COPY statement SinkSQL builds, after creating missing parent
// directories of a local target. DuckDB writes a temporary file and renames it at the end, so
// a failed sink leaves any existing target as it was.
func (c *FileConnection) Sink(ctx context.Context, rows array.RecordReader) (int64, error) {
	if u, remote, err := c.objectURL(false); remote {
		if err != nil {
			return 0, err
		}
		return c.objectSink(ctx, u, rows)
	}
	path, err := c.SinkTarget()
	if err != nil {
		return 0, err
	}
	if isLocalPath(path) {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return 0, fmt.Errorf("create the directory of %s: %w", path, err)
		}
	}
	s, src, release, err := c.sinkRows(ctx, rows)
	if err != nil {
		return 0, err
	}
	defer release()
	q, err := c.SinkSQL(src)
	if err != nil {
		return 0, err
	}
	if !isLocalPath(path) {
		return s.Exec(ctx, q)
	}
	if err := StartSink(path); err != nil {
		return 0, err
	}
	n, err := s.Exec(ctx, q)
	if err != nil {
		AbortSink(path)
		return n, err
	}
	return n, CommitSink(path)
}

// isLocalPath tells a local file path from a URL (s3://, gs://, http://…).
func isLocalPath(p string) bool {
	i := strings.Index(p, "://")
	return i < 0 || strings.HasPrefix(p, "file://")
}

// ShowSchema describes the stage table when it exists, otherwise the file itself (without
// leaving any table behind, unlike AnkaFlow's schema_<stage> tables).
func (c *FileConnection) ShowSchema(ctx context.Context) ([]Field, error) {
	s, err := c.DuckDB(ctx)
	if err != nil {
		return nil, err
	}
	var exists bool
	if err := s.QueryRowContext(ctx, "SELECT count(*) > 0 FROM duckdb_tables() WHERE table_name = ? AND NOT temporary", c.Name()).Scan(&exists); err != nil {
		return nil, err
	}
	q := "SELECT * FROM " + engine.QuoteIdent(c.Name())
	if _, remote, _ := c.objectURL(true); remote && !exists {
		return c.objectShowSchema(ctx)
	}
	if !exists {
		if q, err = c.TapSQL(ctx, s, ""); err != nil {
			return nil, err
		}
	}
	return Describe(ctx, s, q)
}

// Describe runs DESCRIBE on a query and returns its columns.
func Describe(ctx context.Context, s *engine.Session, query string) ([]Field, error) {
	rows, err := s.QueryContext(ctx, "DESCRIBE "+query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Field
	for rows.Next() {
		var name, typ string
		var null, key, def, extra sql.NullString
		if err := rows.Scan(&name, &typ, &null, &key, &def, &extra); err != nil {
			return nil, err
		}
		f := Field{Name: name, Type: typ}
		if null.Valid {
			n := null.String == "YES"
			f.Nullable = &n
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

var identRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// renderArgs renders reader params as DuckDB named arguments `name = value`, sorted by name.
// Names must be plain identifiers and every value is rendered as a literal, so params cannot
// inject SQL.
func renderArgs(args map[string]any) (string, error) {
	return renderNamed(args, " = ")
}

// renderOptions renders COPY options `NAME value`.
func renderOptions(opts map[string]any) (string, error) {
	return renderNamed(opts, " ")
}

func renderNamed(m map[string]any, sep string) (string, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		if !identRe.MatchString(k) {
			return "", fmt.Errorf("param name %q is not a valid option name (letters, digits and _ only)", k)
		}
		lit, err := SQLLiteral(m[k])
		if err != nil {
			return "", fmt.Errorf("param %s: %w", k, err)
		}
		parts = append(parts, k+sep+lit)
	}
	return strings.Join(parts, ", "), nil
}

// SQLLiteral renders a YAML value as a DuckDB literal: booleans, numbers, quoted strings,
// lists as [..] and mappings as struct literals {'key': value} in their YAML order.
func SQLLiteral(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "NULL", nil
	case bool:
		if x {
			return "TRUE", nil
		}
		return "FALSE", nil
	case int:
		return strconv.Itoa(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return "", fmt.Errorf("number %v cannot be written as SQL", x)
		}
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	case value.Decimal:
		// Exact digits: DuckDB reads them as a DECIMAL literal.
		return string(x), nil
	case string:
		return engine.QuoteLiteral(x), nil
	case []any:
		items := make([]string, len(x))
		for i, e := range x {
			s, err := SQLLiteral(e)
			if err != nil {
				return "", err
			}
			items[i] = s
		}
		return "[" + strings.Join(items, ", ") + "]", nil
	case *Map:
		items := make([]string, len(x.Keys))
		for i, k := range x.Keys {
			s, err := SQLLiteral(x.Values[k])
			if err != nil {
				return "", err
			}
			items[i] = engine.QuoteLiteral(k) + ": " + s
		}
		return "{" + strings.Join(items, ", ") + "}", nil
	case map[string]any:
		// A Go map has lost its order; the ordered *Map (YAML, @json) is what params hold.
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		m := &Map{Keys: keys, Values: x}
		return SQLLiteral(m)
	}
	return "", fmt.Errorf("unsupported value %T", v)
}

// NarrowQuery applies a tap's query to a source (AnkaFlow's "placeholder FROM" rule): the query
// must be a single SELECT without WITH, reading FROM one plain table name; that name (any name,
// conventionally the connection kind) stands for the source. The query text is kept as written
// and the placeholder is bound with a CTE, so DuckDB syntax is never rewritten:
//
//	SELECT id FROM Parquet WHERE id > 10
//	→ WITH "Parquet" AS (SELECT * FROM read_parquet('…')) SELECT id FROM Parquet WHERE id > 10
//
// The query is checked with DuckDB's own parser (json_serialize_sql).
func NarrowQuery(ctx context.Context, s *engine.Session, query, source string) (string, error) {
	placeholder, err := Placeholder(ctx, s, query)
	if err != nil {
		return "", err
	}
	q := strings.TrimRight(strings.TrimSpace(query), ";")
	return "WITH " + engine.QuoteIdent(placeholder) + " AS (SELECT * FROM " + source + ") " + q, nil
}

// Placeholder checks a tap query's shape and returns the placeholder table name in its FROM.
func Placeholder(ctx context.Context, s *engine.Session, query string) (string, error) {
	js, err := sqlast.Serialize(ctx, s, query)
	if err != nil {
		return "", err
	}
	var ast struct {
		Error      bool   `json:"error"`
		ErrorType  string `json:"error_type"`
		ErrorMsg   string `json:"error_message"`
		Statements []struct {
			Node struct {
				Type   string `json:"type"`
				CTEMap struct {
					Map []any `json:"map"`
				} `json:"cte_map"`
				From *struct {
					Type    string `json:"type"`
					Table   string `json:"table_name"`
					Schema  string `json:"schema_name"`
					Catalog string `json:"catalog_name"`
				} `json:"from_table"`
			} `json:"node"`
		} `json:"statements"`
	}
	if err := json.Unmarshal([]byte(js), &ast); err != nil {
		return "", fmt.Errorf("cannot inspect tap query: %w", err)
	}
	if ast.Error {
		if ast.ErrorType == "not implemented" {
			return "", fmt.Errorf("a tap query must be a single SELECT statement")
		}
		return "", fmt.Errorf("tap query: %s error: %s", ast.ErrorType, ast.ErrorMsg)
	}
	if len(ast.Statements) != 1 {
		return "", fmt.Errorf("a tap query must be a single SELECT statement, got %d statements", len(ast.Statements))
	}
	n := ast.Statements[0].Node
	switch {
	case n.Type != "SELECT_NODE":
		return "", fmt.Errorf("a tap query must be a single SELECT (UNION, INTERSECT and EXCEPT belong in a transform stage)")
	case len(n.CTEMap.Map) > 0:
		return "", fmt.Errorf("CTEs (WITH) are not allowed in a tap query: tap the data, then use a transform stage")
	case n.From == nil || n.From.Type == "EMPTY" || n.From.Type == "EMPTY_FROM":
		return "", fmt.Errorf("a tap query must read FROM a placeholder table name that stands for the source (e.g. `SELECT * FROM Parquet WHERE …`)")
	case n.From.Type != "BASE_TABLE":
		return "", fmt.Errorf("joins and subqueries are not allowed in a tap query's FROM: tap each source, then join them in a transform stage")
	case n.From.Schema != "" || n.From.Catalog != "":
		return "", fmt.Errorf("the placeholder table in a tap query must be a plain name, not %s.%s", n.From.Schema, n.From.Table)
	}
	return n.From.Table, nil
}

// sinkRows makes rows readable as a SELECT in the connection's DuckDB session, for a sink's
// COPY. DuckDB's JSON COPY binds its query twice, and an Arrow scan can be read only once, so
// JSON rows go through a temporary table (which DuckDB spills to disk when it must).
func (c *FileConnection) sinkRows(ctx context.Context, rows array.RecordReader) (*engine.Session, string, func(), error) {
	s, err := c.DuckDB(ctx)
	if err != nil {
		return nil, "", nil, err
	}
	from, release := s.ScanArrow(rows)
	if c.format != jsonFormat {
		return s, "SELECT * FROM " + from, release, nil
	}
	defer release()
	tmp := engine.QuoteIdent(fmt.Sprintf("__ankaflow_sink_%p", rows))
	if _, err := s.Exec(ctx, "CREATE OR REPLACE TEMP TABLE "+tmp+" AS SELECT * FROM "+from); err != nil {
		return nil, "", nil, err
	}
	return s, "SELECT * FROM " + tmp, func() { s.Exec(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS "+tmp) }, nil
}
