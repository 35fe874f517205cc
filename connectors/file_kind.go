package connectors

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/apache/arrow-go/v18/arrow/array"
)

// The File connection (AnkaFlow's kind: File) taps one file whose type is named explicitly or
// comes from its extension. AnkaFlow read it with pandas; here DuckDB's readers do, so the file
// kinds share one code path: FileKind is a FileConnection whose format is chosen at Init.
//
// The file is context.FileName when the caller gives one, otherwise the locator (AnkaFlow
// required context.FileName: a missing key was an error). The type is context.FileType, else
// params.type (params.kind, AnkaFlow's spelling, also works), else the extension. Other params
// go to the DuckDB reader. File is tap-only: a sink or sql stage on it is a validation error.

func init() {
	Register("File", Spec{
		Summary:         "one file whose type comes from its extension or params.type: " + strings.Join(fileTypeNames(), ", ") + " (also .gz/.zst compressed)",
		Ops:             OpTap | OpShowSchema,
		LocatorRequired: true,
	}, func(p map[string]any) Connection { return &FileKind{FileConnection: FileConnection{params: p}} })
}

// FileKind is a File connection.
type FileKind struct {
	FileConnection
}

// fileType is one supported type: the reader and the reader arguments it needs.
type fileType struct {
	name     string
	reader   string
	defaults map[string]any
}

var fileTypes = []fileType{
	{name: "csv", reader: "read_csv"},
	{name: "tsv", reader: "read_csv", defaults: map[string]any{"delim": "\t"}},
	// pandas' read_table, which AnkaFlow used for txt, splits on tabs.
	{name: "txt", reader: "read_csv", defaults: map[string]any{"delim": "\t"}},
	// read_json_auto reads a JSON array as well as newline-delimited JSON.
	{name: "json", reader: "read_json_auto"},
	{name: "ndjson", reader: "read_json", defaults: map[string]any{"format": "newline_delimited"}},
	{name: "jsonl", reader: "read_json", defaults: map[string]any{"format": "newline_delimited"}},
	// Parquet compresses inside the file; a gzipped .parquet.gz cannot be read.
	{name: "parquet", reader: "read_parquet"},
}

// compressions maps a compressed file's suffix to DuckDB's compression name.
var compressions = map[string]string{"gz": "gzip", "gzip": "gzip", "zst": "zstd", "zstd": "zstd"}

func fileTypeNames() []string {
	names := make([]string, len(fileTypes))
	for i, t := range fileTypes {
		names[i] = t.name
	}
	return names
}

// resolveFileType finds the type named by typ (e.g. "csv", "CSV.gz", "jsonl.zst") and its
// compression ("" when none).
func resolveFileType(typ string) (fileType, string, error) {
	t := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(typ), "."))
	compression := ""
	if base, suffix, ok := strings.Cut(t, "."); ok {
		c, known := compressions[suffix]
		if !known {
			return fileType{}, "", unsupportedFileType(typ)
		}
		t, compression = base, c
	}
	for _, ft := range fileTypes {
		if ft.name == t {
			if ft.name == "parquet" && compression != "" {
				return fileType{}, "", fmt.Errorf("file type %q is not supported: Parquet is compressed inside the file (write it with COMPRESSION instead of gzipping it)", typ)
			}
			return ft, compression, nil
		}
	}
	return fileType{}, "", unsupportedFileType(typ)
}

func unsupportedFileType(typ string) error {
	return fmt.Errorf("file type %q is not supported; supported types: %s, each also compressed as .gz or .zst (except parquet); set params.type to name the type when the extension does not", typ, strings.Join(fileTypeNames(), ", "))
}

// typeFromName takes the type from a file name's extension: "x.csv" → csv, "x.jsonl.gz" → jsonl.gz.
func typeFromName(name string) string {
	base := strings.ToLower(path.Base(name))
	ext := path.Ext(base)
	if _, compressed := compressions[strings.TrimPrefix(ext, ".")]; compressed {
		inner := path.Ext(strings.TrimSuffix(base, ext))
		return strings.TrimPrefix(inner+ext, ".")
	}
	return strings.TrimPrefix(ext, ".")
}

// contextText reads a text value of the run's template context ("" when absent).
func contextText(ctx map[string]any, key string) string {
	if s, ok := ctx[key].(string); ok {
		return strings.TrimSpace(s)
	}
	return ""
}

// Init picks the file and its reader.
func (c *FileKind) Init(ctx context.Context) error {
	if name := contextText(c.TemplateContext(), "FileName"); name != "" {
		c.locator = name
	}
	params := map[string]any{}
	explicit := contextText(c.TemplateContext(), "FileType")
	for k, v := range c.params {
		switch strings.ToLower(k) {
		case "type", "kind":
			s, ok := v.(string)
			if !ok {
				return fmt.Errorf("params.%s must be a file type such as csv, got %v", k, v)
			}
			if explicit == "" {
				explicit = s
			}
		default:
			params[k] = v
		}
	}
	typ := explicit
	if typ == "" {
		if typ = typeFromName(c.locator); typ == "" {
			return fmt.Errorf("cannot tell the type of %q from its name: set params.type to one of %s", c.locator, strings.Join(fileTypeNames(), ", "))
		}
	}
	ft, compression, err := resolveFileType(typ)
	if err != nil {
		return err
	}
	defaults := map[string]any{}
	for k, v := range ft.defaults {
		defaults[k] = v
	}
	if compression != "" {
		defaults["compression"] = compression
	}
	c.format = &fileFormat{kind: "File", reader: ft.reader, defaults: defaults}
	c.FileConnection.params = params
	return nil
}

var errFileTapOnly = fmt.Errorf("a File connection only taps (AnkaFlow's File had no sink either): write files with a Parquet, CSV or JSON connection")

// Sink reports that a File connection cannot sink.
func (c *FileKind) Sink(ctx context.Context, rows array.RecordReader) (int64, error) {
	return 0, fmt.Errorf("stage '%s': %w", c.Name(), errFileTapOnly)
}

// SinkSQL reports that a File connection cannot sink.
func (c *FileKind) SinkSQL(from string) (string, error) { return "", errFileTapOnly }

// SinkTarget reports that a File connection cannot sink.
func (c *FileKind) SinkTarget() (string, error) { return "", errFileTapOnly }
