package pgwire

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/apache/arrow-go/v18/arrow/array"
	bindings "github.com/duckdb/duckdb-go-bindings"
	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/ankaflow/ankaflow/engine"
)

// The gate of RoleUser sessions. DuckDB 1.5's security switches (enable_external_access,
// allowed_directories, allowed_paths, lock_configuration, disabled_filesystems) are all
// GLOBAL, so they cannot differ per connection: a `user` session's statements are checked
// here, before they run, with DuckDB itself rather than with patterns:
//
//  1. before DuckDB prepares it, the statement's leading keyword must start a kind of
//     statement a user may run (preparing IMPORT DATABASE already reads files, preparing
//     CREATE SECRET already installs extensions);
//  2. once prepared, DuckDB's statement type must be allowed; SET/RESET must name a setting
//     that duckdb_settings() calls LOCAL and that writes no file;
//  3. the bound physical plan (EXPLAIN (FORMAT JSON), which runs nothing) is walked: every
//     table function in it must be on the allow-list, and file functions, COPY to files and
//     run_pipeline()/load_pipeline() pass only when `serve --allow-dir` has DuckDB confine
//     files for the whole database. Views and macros are expanded in the plan, so a view
//     over a file is refused like the file function itself.
//
// Admin sessions skip the gate.

const codeInsufficientPrivilege = "42501"

// userPolicy is the gate's per-session state.
type userPolicy struct {
	// filesConfined: DuckDB itself restricts files to --allow-dir (enable_external_access is
	// false and cannot be switched back on), so file functions only reach allowed files.
	filesConfined bool
	scopes        map[string]string // setting name (lower case) → scope, "" when unknown
}

// restricted reports whether statements of this session pass the gate.
func (c *conn) restricted() bool { return c.role != RoleAdmin }

// initPolicy prepares the gate for a restricted session.
func (c *conn) initPolicy() error {
	if !c.restricted() {
		return nil
	}
	var external bool
	if err := c.sess.QueryRowContext(c.ctx, "SELECT current_setting('enable_external_access')").Scan(&external); err != nil {
		return err
	}
	c.policy = &userPolicy{filesConfined: !external, scopes: map[string]string{}}
	return nil
}

func (c *conn) deny(what, why string) *pgError {
	pe := newError(codeInsufficientPrivilege, "permission denied for role user: %s %s", what, why)
	pe.Hint = "an administrator can run it (role admin in the users file), or allow directories with `serve --allow-dir` for file access"
	return pe
}

// scrubBindError drops DuckDB's suggestions from an error of a restricted session's statement
// that failed before the gate could check its plan: binding a file function reads the file's
// header, and "Candidate bindings: …" / "Did you mean …" would quote it (the column names of
// SELECT nonexistent FROM read_csv('/etc/passwd') are its first line).
func scrubBindError(err error) error {
	var de *duckdb.Error
	if !errors.As(err, &de) {
		return err
	}
	var kept []string
	for _, l := range strings.Split(de.Msg, "\n") {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "Candidate bindings") || strings.HasPrefix(t, "Did you mean") || strings.HasPrefix(t, "Candidates:") {
			continue
		}
		if i := strings.Index(l, "Did you mean"); i > 0 {
			l = strings.TrimRight(l[:i], " ")
		}
		kept = append(kept, l)
	}
	return &duckdb.Error{Type: de.Type, Msg: strings.Join(kept, "\n")}
}

// userStatementStarts are the leading keywords of statements a user may send to DuckDB.
// Everything else (ATTACH, DETACH, INSTALL, LOAD, EXPORT, IMPORT, CALL, PRAGMA, CHECKPOINT,
// VACUUM, USE, UPDATE EXTENSIONS…) is refused before DuckDB prepares it.
var userStatementStarts = map[string]bool{
	"SELECT": true, "WITH": true, "FROM": true, "VALUES": true, "TABLE": true,
	"INSERT": true, "UPDATE": true, "DELETE": true, "MERGE": true,
	"CREATE": true, "DROP": true, "ALTER": true,
	"BEGIN": true, "START": true, "COMMIT": true, "END": true, "ROLLBACK": true, "ABORT": true,
	"PREPARE": true, "EXECUTE": true, "DEALLOCATE": true, "EXPLAIN": true,
	"SET": true, "RESET": true, "SHOW": true, "DESCRIBE": true, "SUMMARIZE": true, "COPY": true,
}

// precheck is step 1: the statement's kind by its leading keywords, before DuckDB prepares it.
func (c *conn) precheck(sql string) *pgError {
	toks := tokenize(sql)
	for len(toks) > 0 && toks[len(toks)-1].text == ";" {
		toks = toks[:len(toks)-1]
	}
	if len(toks) == 0 {
		return nil // no statement
	}
	if toks[0].kind == tokPunct && toks[0].text == "(" {
		return nil // a parenthesised query
	}
	w := firstWord(sql)
	if !userStatementStarts[w] {
		if w == "" {
			w = "this statement"
		}
		return c.deny(w, "is not allowed")
	}
	if (w == "CREATE" || w == "DROP") && objectKind(sql, 1) == " SECRET" {
		return c.deny(w+" SECRET", "is not allowed")
	}
	return nil
}

// precheckScript runs step 1 on every statement of a Query string before DuckDB parses it
// (parsing IMPORT DATABASE already reads the files it names).
func (c *conn) precheckScript(q string) *pgError {
	for _, pc := range splitStatements(q) {
		if pe := c.precheck(pc.text); pe != nil {
			return pe
		}
	}
	return nil
}

// gateSQL runs the whole gate on a statement the server prepares itself (COPY … TO STDOUT's
// query, the inner statement of EXPLAIN).
func (c *conn) gateSQL(ctx context.Context, sql string, args []any) *pgError {
	if pe := c.precheck(sql); pe != nil {
		return pe
	}
	p, err := c.sess.Prepare(ctx, sql)
	if err != nil {
		return c.toPGError(scrubBindError(err), "", sqlPiece{})
	}
	stype, n, unresolved := p.StatementType(), p.NumParams(), isUnresolved(p)
	p.Close()
	if args == nil && n > 0 {
		args = make([]any, n)
	}
	return c.checkStmt(ctx, sql, stype, args, unresolved)
}

func isUnresolved(p *engine.Prepared) bool {
	cols := p.Columns()
	return p.NumParams() > 0 && len(cols) == 1 && cols[0].Name == "unknown" && cols[0].Type.ID == bindings.TypeInvalid
}

// checkStmt is steps 2 and 3 for a prepared statement. args are the bound parameters (NULLs
// when checked at Parse, before Bind); unresolved says DuckDB could not describe the result
// before Bind (so a check that needs the real arguments can wait for them).
func (c *conn) checkStmt(ctx context.Context, sql string, stype engine.StatementType, args []any, unresolved bool) *pgError {
	switch stype {
	case bindings.StatementTypeTransaction:
		return nil
	case bindings.StatementTypeSet, bindings.StatementTypeVariableSet:
		words := leadingWords(sql, 2)
		if len(words) == 2 && words[0] == "SET" && words[1] == "VARIABLE" {
			return c.checkPlan(ctx, sql, args, unresolved, false) // its value may be a query
		}
		cmd := parseGUCStatement(sql)
		if cmd == nil || cmd.name == "" || (cmd.kind != gucSet && cmd.kind != gucReset) {
			return c.deny(strings.Join(words, " "), "is not allowed in this form (SET [SESSION] name = value)")
		}
		return c.checkSetting(cmd.name)
	case bindings.StatementTypeExplain:
		inner, ok := explainTarget(sql)
		if !ok {
			return c.deny("EXPLAIN", "cannot be checked in this form")
		}
		return c.gateSQL(ctx, inner, args)
	case bindings.StatementTypeSelect:
		switch firstWord(sql) {
		case "DESCRIBE", "SHOW":
			// DuckDB describes the query at bind time, and the plan shows only the result.
			return c.checkDescribe(ctx, sql, args)
		}
	case bindings.StatementTypeCreate:
		if objectKind(sql, 1) == " VIEW" {
			// Creating a view binds its query (its columns go into the catalog) but the plan
			// shows only CREATE_VIEW: check the query itself.
			q, ok := viewQuery(sql)
			if !ok {
				return c.deny("CREATE VIEW", "cannot be checked in this form")
			}
			return c.gateSQL(ctx, q, args)
		}
	case bindings.StatementTypePrepare:
		// PREPARE name AS statement: the plan shows only PREPARE; the statement is checked
		// here, and its plan again at each EXECUTE.
		q, ok := prepareTarget(sql)
		if !ok {
			return c.deny("PREPARE", "cannot be checked in this form")
		}
		return c.gateSQL(ctx, q, nil)
	case bindings.StatementTypeInsert, bindings.StatementTypeUpdate, bindings.StatementTypeDelete,
		bindings.StatementTypeMergeInto, bindings.StatementTypeDrop, bindings.StatementTypeAlter,
		bindings.StatementTypeExecute, bindings.StatementTypeCopy:
	default:
		return c.deny(statementKindName(stype, sql), "is not allowed")
	}
	return c.checkPlan(ctx, sql, args, unresolved, false)
}

func statementKindName(stype engine.StatementType, sql string) string {
	if w := leadingWords(sql, 2); len(w) > 0 {
		return strings.Join(w, " ")
	}
	return "this statement"
}

// checkDescribe checks DESCRIBE/SHOW x as the query SELECT * FROM x (or x itself when it is a
// query), whose plan shows what is read.
func (c *conn) checkDescribe(ctx context.Context, sql string, args []any) *pgError {
	toks := tokenize(sql)
	if len(toks) >= 2 {
		rest := sql[toks[1].start:]
		switch {
		case toks[1].kind == tokPunct && toks[1].text == "(":
			return c.gateSQL(ctx, rest, args)
		case toks[1].kind == tokWord && userQueryStarts[toks[1].upper]:
			return c.gateSQL(ctx, rest, args)
		}
		if p, err := c.sess.Prepare(ctx, "SELECT * FROM "+rest); err == nil {
			p.Close()
			return c.gateSQL(ctx, "SELECT * FROM "+rest, args)
		}
	}
	// SHOW TABLES and the like: catalog functions, and no result materialised at bind.
	return c.checkPlan(ctx, sql, args, false, true)
}

var userQueryStarts = map[string]bool{"SELECT": true, "WITH": true, "FROM": true, "VALUES": true, "TABLE": true}

// checkSetting allows SET/RESET of a setting duckdb_settings() calls LOCAL, except those
// that make the server write files or its own console.
func (c *conn) checkSetting(name string) *pgError {
	key := strings.ToLower(name)
	if g := lookupGUC(name); g != nil {
		return nil // emulated by the server (guc.go), per session
	}
	scope, ok := c.policy.scopes[key]
	if !ok {
		err := c.sess.QueryRowContext(c.ctx, `SELECT scope FROM duckdb_settings()
			WHERE lower(name) = $1 OR list_contains(list_transform(aliases, a -> lower(a)), $1)
			ORDER BY scope DESC LIMIT 1`, key).Scan(&scope)
		if err != nil {
			scope = "" // unknown: an extension's setting could autoload the extension
		}
		c.policy.scopes[key] = scope
	}
	switch {
	case scope == "":
		return c.deny("SET "+name, "is not allowed: not a known session setting")
	case scope != "LOCAL":
		return c.deny("SET "+name, "is not allowed: it is a "+scope+" setting, shared by every session")
	case fileSettings[key]:
		return c.deny("SET "+name, "is not allowed: it makes the server write files or its console")
	}
	return nil
}

// fileSettings are LOCAL settings that write files or the server's console.
var fileSettings = map[string]bool{
	"profiling_output": true, "profile_output": true, "enable_profiling": true,
	"http_logging_output": true, "enable_http_logging": true, "enable_progress_bar_print": true,
}

// planNode is one operator of EXPLAIN (FORMAT JSON).
type planNode struct {
	Name      string          `json:"name"`
	Children  []planNode      `json:"children"`
	ExtraInfo json.RawMessage `json:"extra_info"`
}

// checkPlan is step 3: it binds the statement under EXPLAIN (FORMAT JSON), which runs
// nothing, and walks the plan. noMaterialized refuses results computed at bind time
// (COLUMN_DATA_SCAN), for statements whose plan would hide what they read.
func (c *conn) checkPlan(ctx context.Context, sql string, args []any, unresolved, noMaterialized bool) *pgError {
	p, err := c.sess.Prepare(ctx, "EXPLAIN (FORMAT JSON) "+sql)
	if err != nil {
		return c.deny(statementKindName(0, sql), "cannot be checked: DuckDB cannot plan it without running it")
	}
	defer p.Close()
	if n := p.NumParams(); n > 0 {
		if len(args) != n {
			args = make([]any, n)
		}
		if err := bindArgs(p, args); err != nil {
			return c.deny(statementKindName(0, sql), "cannot be checked with these parameters")
		}
	}
	rows, err := p.Query(ctx)
	if err != nil {
		if unresolved {
			return nil // checked again at Execute, with the real parameters
		}
		return c.toPGError(scrubBindError(err), "", sqlPiece{})
	}
	defer rows.Close()
	var plans []string
	for rows.Next() {
		b := rows.RecordBatch()
		if b.NumCols() < 2 {
			continue
		}
		col, ok := b.Column(1).(*array.String)
		if !ok {
			return c.deny(statementKindName(0, sql), "cannot be checked: unexpected plan")
		}
		for i := 0; i < col.Len(); i++ {
			plans = append(plans, strings.Clone(col.Value(i))) // the batch's memory goes with the next one
		}
	}
	if err := rows.Err(); err != nil {
		return c.toPGError(err, "", sqlPiece{})
	}
	if len(plans) == 0 {
		return c.deny(statementKindName(0, sql), "cannot be checked: no plan")
	}
	for _, js := range plans {
		var nodes []planNode
		if err := json.Unmarshal([]byte(js), &nodes); err != nil {
			return c.deny(statementKindName(0, sql), "cannot be checked: unreadable plan")
		}
		for i := range nodes {
			if pe := c.checkNode(&nodes[i], sql, noMaterialized); pe != nil {
				return pe
			}
		}
	}
	return nil
}

func (c *conn) checkNode(n *planNode, sql string, noMaterialized bool) *pgError {
	var info map[string]any
	if len(n.ExtraInfo) > 0 {
		json.Unmarshal(n.ExtraInfo, &info) // extra_info is an object, or absent
	}
	if fn, ok := info["Function"].(string); ok {
		fn = strings.ToUpper(fn)
		shown := strings.TrimPrefix(strings.ToLower(fn), "__ankaflow_") + "()"
		switch {
		case userTableFunctions[fn]:
		case fileTableFunctions[fn]:
			if !c.policy.filesConfined {
				return c.deny("the file function "+shown, "is not allowed: the server gives files to role user only under `serve --allow-dir`")
			}
		default:
			return c.deny("the table function "+shown, "is not allowed")
		}
	}
	switch n.Name {
	case "COPY_TO_FILE", "BATCH_COPY_TO_FILE":
		if !c.policy.filesConfined && !copiesToConnection(sql) {
			return c.deny("COPY to a file", "is not allowed: the server gives files to role user only under `serve --allow-dir`; COPY … TO STDOUT and COPY … TO 'connection' (FORMAT ankaflow) are allowed")
		}
	case "LOAD", "UPDATE_EXTENSIONS", "EXPORT", "ATTACH", "DETACH", "CREATE_SECRET", "VACUUM", "PRAGMA":
		return c.deny(strings.ReplaceAll(n.Name, "_", " "), "is not allowed")
	case "COLUMN_DATA_SCAN":
		if noMaterialized {
			return c.deny(statementKindName(0, sql), "cannot be checked in this form")
		}
	}
	for i := range n.Children {
		if pe := c.checkNode(&n.Children[i], sql, noMaterialized); pe != nil {
			return pe
		}
	}
	return nil
}

// userTableFunctions are the table functions a user may call: generators, the catalog, and
// ankaflow's connection functions (the operator configured those connections).
var userTableFunctions = setOf(
	"SEQ_SCAN", "INDEX_SCAN", "TABLE_SCAN", "RANGE", "GENERATE_SERIES", "UNNEST", "REPEAT", "REPEAT_ROW",
	"JSON_EACH", "JSON_TREE",
	"DUCKDB_TABLES", "DUCKDB_VIEWS", "DUCKDB_COLUMNS", "DUCKDB_SCHEMAS", "DUCKDB_DATABASES",
	"DUCKDB_FUNCTIONS", "DUCKDB_TYPES", "DUCKDB_INDEXES", "DUCKDB_CONSTRAINTS", "DUCKDB_SEQUENCES",
	"DUCKDB_SETTINGS", "DUCKDB_KEYWORDS", "DUCKDB_DEPENDENCIES", "DUCKDB_EXTENSIONS", "DUCKDB_OPTIMIZERS",
	"DUCKDB_MEMORY", "DUCKDB_APPROX_DATABASE_COUNT",
	"PRAGMA_TABLE_INFO", "PRAGMA_SHOW", "PRAGMA_VERSION", "PRAGMA_DATABASE_SIZE", "PRAGMA_STORAGE_INFO",
	"PRAGMA_PLATFORM", "PRAGMA_COLLATIONS", "PRAGMA_USER_AGENT", "PRAGMA_METADATA_INFO",
	"TEST_ALL_TYPES", "SUMMARY",
	// ankaflow's Go table functions (engine.RegisterTableFunction) behind the tap() …
	// macros, and the session's own Arrow hand-off (engine.ScanArrow)
	// (a function without optional arguments is registered under its own name)
	"TAP", "SHOW_SCHEMA", "CONNECTIONS", "CONNECTION_SQL",
	"__ANKAFLOW_TAP", "__ANKAFLOW_SHOW_SCHEMA", "__ANKAFLOW_CONNECTIONS", "__ANKAFLOW_CONNECTION_SQL",
	"__ANKAFLOW_SCAN",
)

// fileTableFunctions read files (or run pipeline files): allowed to a user only when DuckDB
// confines files to --allow-dir for the whole database.
var fileTableFunctions = setOf(
	"READ_CSV", "READ_CSV_AUTO", "SNIFF_CSV", "READ_PARQUET", "PARQUET_SCAN", "PARQUET_METADATA",
	"PARQUET_SCHEMA", "PARQUET_FILE_METADATA", "PARQUET_KV_METADATA", "PARQUET_BLOOM_PROBE",
	"READ_JSON", "READ_JSON_AUTO", "READ_NDJSON", "READ_NDJSON_AUTO", "READ_JSON_OBJECTS",
	"READ_NDJSON_OBJECTS", "READ_JSON_OBJECTS_AUTO", "READ_TEXT", "READ_BLOB", "GLOB",
	"RUN_PIPELINE", "LOAD_PIPELINE", "__ANKAFLOW_RUN_PIPELINE", "__ANKAFLOW_LOAD_PIPELINE",
	// a file sink's steps remove and rename files (sqlfuncs/sinkfile.go)
	"ANKAFLOW_SINK_BEGIN", "ANKAFLOW_SINK_COMMIT",
)

func setOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// explainTarget is the statement EXPLAIN [ANALYZE] [(options)] explains.
func explainTarget(sql string) (string, bool) {
	toks := tokenize(sql)
	i := 1
	if i < len(toks) && toks[i].kind == tokWord && (toks[i].upper == "ANALYZE" || toks[i].upper == "ANALYSE") {
		i++
	}
	if i < len(toks) && toks[i].kind == tokPunct && toks[i].text == "(" {
		depth := 0
		for ; i < len(toks); i++ {
			if toks[i].kind == tokPunct && toks[i].text == "(" {
				depth++
			} else if toks[i].kind == tokPunct && toks[i].text == ")" {
				depth--
				if depth == 0 {
					i++
					break
				}
			}
		}
	}
	if i >= len(toks) {
		return "", false
	}
	return sql[toks[i].start:], true
}

// prepareTarget is the statement of PREPARE name [(types)] AS statement.
func prepareTarget(sql string) (string, bool) { return afterAS(sql, "PREPARE") }

// viewQuery is the query of CREATE … VIEW name [(columns)] AS query.
func viewQuery(sql string) (string, bool) { return afterAS(sql, "VIEW") }

// afterAS is what follows the first AS outside parentheses after keyword and the name that
// follows it.
func afterAS(sql, keyword string) (string, bool) {
	toks := tokenize(sql)
	seen, depth := -1, 0
	for i, t := range toks {
		switch {
		case t.kind == tokPunct && t.text == "(":
			depth++
		case t.kind == tokPunct && t.text == ")":
			depth--
		case seen < 0 && depth == 0 && t.kind == tokWord && t.upper == keyword:
			seen = i
		case seen >= 0 && i > seen+1 && depth == 0 && t.kind == tokWord && t.upper == "AS" && i+1 < len(toks):
			return sql[toks[i+1].start:], true
		}
	}
	return "", false
}

// copiesToConnection reports whether a COPY writes to an ankaflow connection: its options
// after TO 'target' say FORMAT ankaflow (the connection, not a file, receives the rows).
func copiesToConnection(sql string) bool {
	toks := tokenize(sql)
	for len(toks) > 0 && toks[len(toks)-1].text == ";" {
		toks = toks[:len(toks)-1]
	}
	depth := 0
	for i, t := range toks {
		switch {
		case t.kind == tokPunct && t.text == "(":
			depth++
		case t.kind == tokPunct && t.text == ")":
			depth--
		case depth == 0 && t.kind == tokWord && t.upper == "TO" && i+1 < len(toks) && toks[i+1].kind == tokString:
			opts := toks[i+2:]
			if len(opts) > 0 && opts[0].kind == tokWord && opts[0].upper == "WITH" {
				opts = opts[1:]
			}
			// ( … FORMAT ankaflow … ) and nothing after it
			if len(opts) < 4 || opts[0].text != "(" || opts[len(opts)-1].text != ")" {
				return false
			}
			formats, ankaflow := 0, false
			for j := 1; j+1 < len(opts)-1; j++ {
				if opts[j].kind == tokWord && opts[j].upper == "FORMAT" {
					formats++
					ankaflow = (opts[j+1].kind == tokWord || opts[j+1].kind == tokString) && strings.EqualFold(opts[j+1].text, "ankaflow")
				}
			}
			return formats == 1 && ankaflow
		}
	}
	return false
}
