package pgwire

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/ankaflow/ankaflow/engine"
	"github.com/ankaflow/ankaflow/pgwire/catalog"
	"github.com/ankaflow/ankaflow/pgwire/rewrite"
)

// The PostgreSQL catalog: pgwire/catalog answers pg_catalog questions from DuckDB's live
// catalog, pgwire/rewrite points client SQL at it (and gives it PostgreSQL's meaning where
// DuckDB's differs). This file wires both into the session.

var (
	rewriteCatOnce sync.Once
	rewriteCat     *rewrite.Catalog // the live catalog's names
	snapRewriteCat *rewrite.Catalog // the snapshot's (catsnapshot.go)
)

// pgRewriteCatalog returns the names the rewrite points PostgreSQL's catalog at: the live
// views, or the snapshot's.
func pgRewriteCatalog(snapshot bool) *rewrite.Catalog {
	rewriteCatOnce.Do(func() {
		rewriteCat = newRewriteCatalog(func(q string) string { return q })
		snapRewriteCat = newRewriteCatalog(catalog.SnapshotQualified)
	})
	if snapshot {
		return snapRewriteCat
	}
	return rewriteCat
}

func newRewriteCatalog(qual func(string) string) *rewrite.Catalog {
	rels := map[string]string{}
	for _, r := range catalog.Relations() {
		rels[r] = qual(catalog.Qualified(r))
	}
	funcs := catalog.Functions()
	for k, v := range funcs {
		funcs[k] = qual(v)
	}
	is := catalog.InformationSchema()
	for k, v := range is {
		is[k] = qual(v)
	}
	helper := func(name string) string { return qual(catalog.Helper(name)) }
	return &rewrite.Catalog{
		Relations:         rels,
		Functions:         funcs,
		RegclassOID:       helper("regclass_oid"),
		RegclassName:      helper("regclass_name"),
		RegtypeOID:        helper("regtype_oid"),
		RegtypeName:       helper("regtype_name"),
		RegprocName:       helper("regproc_name"),
		RegprocOID:        helper("regproc_oid"),
		RegnamespaceOID:   helper("regnamespace_oid"),
		RegnamespaceName:  helper("regnamespace_name"),
		NonZero:           helper("nonzero"),
		ExpandArray:       catalog.ExpandArray,
		InformationSchema: is,
	}
}

// initCatalog installs the catalog (once per database) and tells it who this session is.
// Wire sessions also divide integers as PostgreSQL does (7 / 2 = 3).
func (c *conn) initCatalog() {
	if err := catalog.Install(c.ctx, c.sess); err != nil {
		c.srv.log.Warn("pgwire: cannot install the pg_catalog emulation", "err", err)
		return
	}
	var roles, admins []string
	if c.srv.users != nil {
		if users, err := c.srv.users.get(); err == nil {
			for name, u := range users {
				roles = append(roles, engine.QuoteLiteral(name))
				if u.role == RoleAdmin && name != c.user {
					admins = append(admins, engine.QuoteLiteral(name))
				}
			}
		}
	}
	if c.role == RoleAdmin { // also the trust mode's user, who is in no users file
		admins = append(admins, engine.QuoteLiteral(c.user))
	}
	sort.Strings(roles)
	sort.Strings(admins)
	stmts := []string{
		"SET VARIABLE " + catalog.VarUser + " = " + engine.QuoteLiteral(c.user),
		"SET VARIABLE " + catalog.VarDatabase + " = " + engine.QuoteLiteral(c.database),
		"SET VARIABLE " + catalog.VarPID + " = " + strconv.Itoa(int(c.pid)),
		"SET VARIABLE " + catalog.VarRoles + " = CAST([" + strings.Join(roles, ", ") + "] AS VARCHAR[])",
		"SET VARIABLE " + catalog.VarAdmins + " = CAST([" + strings.Join(admins, ", ") + "] AS VARCHAR[])",
		"SET integer_division = true",
		"INSERT OR REPLACE INTO " + catalog.Qualified("ankaflow_sessions") + " VALUES (" + strconv.Itoa(int(c.pid)) + ", " +
			engine.QuoteLiteral(c.user) + ", " + engine.QuoteLiteral(c.database) + ", " + engine.QuoteLiteral(c.gucs["application_name"]) + ", " +
			remoteHostPort(c.remote) + ", now())",
	}
	for _, s := range stmts {
		if _, err := c.sess.Exec(c.ctx, s); err != nil {
			c.srv.log.Warn("pgwire: cannot set up the session's catalog", "err", err)
			return
		}
	}
}

// remoteHostPort is the SQL for pg_stat_activity's client_addr and client_port.
func remoteHostPort(remote string) string {
	i := strings.LastIndexByte(remote, ':')
	if i < 0 {
		return "NULL, NULL"
	}
	port, err := strconv.Atoi(remote[i+1:])
	if err != nil {
		return engine.QuoteLiteral(strings.Trim(remote[:i], "[]")) + ", NULL"
	}
	return engine.QuoteLiteral(strings.Trim(remote[:i], "[]")) + ", " + strconv.Itoa(port)
}

// endCatalogSession removes the session from pg_stat_activity.
func (c *conn) endCatalogSession() {
	if c.sess == nil || c.pid == 0 {
		return
	}
	_, _ = c.sess.Exec(context.Background(), "DELETE FROM "+catalog.Qualified("ankaflow_sessions")+" WHERE pid = "+strconv.Itoa(int(c.pid)))
}

// rewriteCache keeps the rewritten text of recent statements (and the table their columns
// come from): clients repeat the same catalog queries, and a rewrite costs two parser round
// trips.
var rewriteCache struct {
	sync.Mutex
	m map[string]rewritten
}

type rewritten struct {
	sql     string
	snapSQL string // sql reading the catalog's snapshot (catsnapshot.go)
	src     *rewrite.Source
}

const rewriteCacheSize = 4096

// pgRewrite returns a statement with PostgreSQL's meaning (package pgwire/rewrite), or the
// statement itself when nothing needs to change or it cannot be rewritten (DuckDB serialises
// only queries), and the table its result columns come from, if one.
func (c *conn) pgRewrite(ctx context.Context, text string) (string, *rewrite.Source) {
	switch firstWord(text) {
	case "SELECT", "WITH", "VALUES", "TABLE", "FROM":
	default:
		if !strings.HasPrefix(strings.TrimSpace(text), "(") {
			return text, nil
		}
	}
	rewriteCache.Lock()
	out, ok := rewriteCache.m[text]
	rewriteCache.Unlock()
	if !ok {
		out = c.rewriteText(ctx, text)
		rewriteCache.Lock()
		if rewriteCache.m == nil || len(rewriteCache.m) >= rewriteCacheSize {
			rewriteCache.m = map[string]rewritten{}
		}
		rewriteCache.m[text] = out
		rewriteCache.Unlock()
	}
	if out.snapSQL != out.sql && c.useSnapshot(ctx) {
		return out.snapSQL, out.src
	}
	return out.sql, out.src
}

// rewriteText rewrites a statement for the live catalog and for its snapshot.
func (c *conn) rewriteText(ctx context.Context, text string) rewritten {
	out := rewritten{sql: text, snapSQL: text}
	var ser string
	if err := c.sess.QueryRowContext(ctx, "SELECT CAST(json_serialize_sql(CAST(? AS VARCHAR)) AS VARCHAR)", text).Scan(&ser); err != nil {
		c.srv.log.Debug("pgwire: statement cannot be serialised", "err", err)
	} else {
		if src, ok := rewrite.SourceOf([]byte(ser)); ok {
			out.src = &src
		}
		out.sql = c.rewriteFor(ctx, text, ser, pgRewriteCatalog(false))
		out.snapSQL = out.sql
		if out.sql != text {
			out.snapSQL = c.rewriteFor(ctx, text, ser, pgRewriteCatalog(true))
		}
	}
	return out
}

// rewriteFor rewrites a serialised statement with cat's names; text when nothing changes or it
// cannot be rewritten.
func (c *conn) rewriteFor(ctx context.Context, text, ser string, cat *rewrite.Catalog) string {
	tree, changed, err := rewrite.Statement(text, []byte(ser), cat)
	if err != nil {
		c.srv.log.Debug("pgwire: statement not rewritten", "err", err)
	}
	if err == nil && changed {
		var sql string
		if err := c.sess.QueryRowContext(ctx, "SELECT json_deserialize_sql(CAST(? AS JSON))", string(tree)).Scan(&sql); err == nil {
			return sql
		}
		c.srv.log.Debug("pgwire: rewritten statement cannot be deserialised", "err", err)
	}
	return text
}

// describeSource fills in the table OID and column numbers of result columns that are plain
// columns of one table, as PostgreSQL's RowDescription carries them (pgjdbc's getTableName and
// isNullable read them), in both protocols. The table is looked up once per connection and
// catalog generation (rowsource.go), so a repeated query pays a map lookup.
func (c *conn) describeSource(ctx context.Context, cols []resultCol, src *rewrite.Source) {
	if src == nil || len(cols) == 0 || (!src.Star && len(src.Columns) != len(cols)) {
		return
	}
	e := c.sourceOf(ctx, src)
	if !e.found {
		return
	}
	names := src.Columns
	if src.Star {
		if len(e.order) != len(cols) {
			return
		}
		names = e.order
	}
	for i, n := range names {
		if a, ok := e.attnum[strings.ToLower(n)]; ok && n != "" {
			cols[i].tableOID, cols[i].attnum = e.oid, a
		}
	}
}

// lookupSource finds the table a query reads (along the search path when unqualified) and
// its columns' numbers in DuckDB's catalog.
func (c *conn) lookupSource(ctx context.Context, src *rewrite.Source) sourceEntry {
	schema := src.Schema
	if strings.EqualFold(schema, "public") {
		schema = "main"
	}
	// duckdb_tables() lists only tables (duckdb_columns() would list every view's columns too,
	// the catalog's included): find the table, then its columns with pragma_table_info.
	var table int64
	var db, sch, name string
	err := c.sess.QueryRowContext(ctx, `SELECT table_oid, database_name, schema_name, table_name FROM duckdb_tables() t
WHERE t.database_name IN (current_database(), 'temp') AND lower(t.table_name) = lower(?) AND (? = '' OR lower(t.schema_name) = lower(?))
  AND (? <> '' OR t.database_name = 'temp' OR list_contains(current_schemas(false), t.schema_name) OR (t.schema_name = 'main' AND current_setting('search_path') = ''))
ORDER BY t.database_name = 'temp' DESC LIMIT 1`, src.Table, schema, schema, schema).Scan(&table, &db, &sch, &name)
	if err != nil {
		return sourceEntry{}
	}
	rows, err := c.sess.QueryContext(ctx, "SELECT name, cid + 1 FROM pragma_table_info(?) ORDER BY cid",
		engine.QuoteIdent(db)+"."+engine.QuoteIdent(sch)+"."+engine.QuoteIdent(name))
	if err != nil {
		return sourceEntry{}
	}
	defer rows.Close()
	e := sourceEntry{found: true, oid: uint32(table), attnum: map[string]int16{}}
	for rows.Next() {
		var col string
		var idx int16
		if rows.Scan(&col, &idx) != nil {
			return sourceEntry{}
		}
		e.attnum[strings.ToLower(col)] = idx
		e.order = append(e.order, col)
	}
	if rows.Err() != nil {
		return sourceEntry{}
	}
	return e
}

// rewritePGNames removes what DuckDB's parser cannot read at all, before the statement is
// parsed: OPERATOR(pg_catalog.~) becomes ~, and pg_catalog-qualified type names in casts
// (::pg_catalog.text, CAST(x AS pg_catalog.int4)) lose the qualifier. It works on tokens, so
// strings, quoted identifiers and comments are never touched.
func rewritePGNames(q string) string {
	lower := strings.ToLower(q)
	if !strings.Contains(lower, "pg_catalog") {
		return q
	}
	toks := tokenize(q)
	var edits []textEdit
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch {
		case t.kind == tokWord && t.upper == "OPERATOR" && i+4 < len(toks) && toks[i+1].text == "(" &&
			toks[i+2].kind == tokWord && toks[i+2].upper == "PG_CATALOG" && toks[i+3].text == ".":
			j := i + 4
			var op strings.Builder
			for j < len(toks) && toks[j].kind == tokPunct && toks[j].text != ")" {
				op.WriteString(toks[j].text)
				j++
			}
			if j < len(toks) && toks[j].text == ")" && op.Len() > 0 {
				edits = append(edits, textEdit{t.start, toks[j].end, " " + op.String() + " "})
				i = j
			}
		case t.kind == tokWord && t.upper == "PG_CATALOG" && i+2 < len(toks) && toks[i+1].text == "." &&
			(toks[i+2].kind == tokWord || toks[i+2].kind == tokQIdent) && i >= 1 &&
			(toks[i-1].upper == "AS" || (i >= 2 && toks[i-1].text == ":" && toks[i-2].text == ":")):
			edits = append(edits, textEdit{t.start, toks[i+1].end, ""})
		}
	}
	return applyEdits(q, edits)
}

// searchPathSchemas splits a search_path value into schema names ("$user" included).
func searchPathSchemas(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		p = strings.TrimSpace(p)
		if len(p) >= 2 && (p[0] == '"' && p[len(p)-1] == '"' || p[0] == '\'' && p[len(p)-1] == '\'') {
			p = p[1 : len(p)-1]
		} else {
			p = strings.ToLower(p)
		}
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// checkSearchPath normalises a search_path value as PostgreSQL shows it.
func checkSearchPath(v string) (string, *pgError) {
	parts := searchPathSchemas(v)
	for i, p := range parts {
		if p != strings.ToLower(p) || strings.ContainsAny(p, " $") {
			parts[i] = `"` + strings.ReplaceAll(p, `"`, `""`) + `"`
		}
	}
	return strings.Join(parts, ", "), nil
}

// syncSearchPath applies the search_path GUC to DuckDB: public is DuckDB's main, and schemas
// that do not exist are skipped (PostgreSQL accepts them and skips them when resolving names).
func (c *conn) syncSearchPath() *pgError {
	if err := c.quiesce(nil); err != nil {
		return c.toPGError(err, "", sqlPiece{})
	}
	var schemas []string
	for _, p := range searchPathSchemas(c.gucs["search_path"]) {
		if p == "public" {
			p = "main"
		}
		var n int
		if err := c.sess.QueryRowContext(c.ctx, "SELECT count(*) FROM duckdb_schemas() WHERE database_name = current_database() AND schema_name = ?", p).Scan(&n); err == nil && n > 0 {
			schemas = append(schemas, p)
		}
	}
	if _, err := c.sess.Exec(c.ctx, "SET search_path = "+engine.QuoteLiteral(strings.Join(schemas, ","))); err != nil {
		return c.toPGError(err, "", sqlPiece{})
	}
	return nil
}

// showStatement answers SHOW for what the server does not emulate itself (DuckDB's own SHOW
// describes tables): SHOW ALL lists the settings — the emulated parameters and DuckDB's — with
// PostgreSQL's columns, SHOW of a DuckDB setting gives its value, and SHOW of anything else is
// 42704 as in PostgreSQL. It returns the query to run instead, or "" for statements that are
// not such a SHOW.
func (c *conn) showStatement(ctx context.Context, text string) (string, *pgError) {
	cmd := parseGUCStatement(text)
	if cmd == nil || cmd.kind != gucShow || cmd.name == "" || lookupGUC(cmd.name) != nil {
		return "", nil
	}
	if strings.EqualFold(cmd.name, "all") {
		names := make([]string, 0, len(gucDefs))
		for _, g := range gucDefs {
			names = append(names, g.name)
		}
		sort.Strings(names)
		rows := make([]string, len(names))
		lower := make([]string, len(names))
		for i, n := range names {
			rows[i] = "(" + engine.QuoteLiteral(n) + ", " + engine.QuoteLiteral(c.gucValue(n)) + ", '')"
			lower[i] = engine.QuoteLiteral(strings.ToLower(n))
		}
		return "SELECT name, setting, description FROM (SELECT * FROM (VALUES " + strings.Join(rows, ", ") + ") g(name, setting, description)" +
			" UNION ALL SELECT name, CAST(value AS VARCHAR), description FROM duckdb_settings() WHERE lower(name) NOT IN (" + strings.Join(lower, ", ") + "))" +
			" ORDER BY lower(name)", nil
	}
	if err := c.quiesce(nil); err != nil {
		return "", c.toPGError(err, "", sqlPiece{})
	}
	var n int
	if err := c.sess.QueryRowContext(ctx, "SELECT count(*) FROM duckdb_settings() WHERE lower(name) = lower(?)", cmd.name).Scan(&n); err != nil || n == 0 {
		return "", newError(codeUndefinedObject, "unrecognized configuration parameter %q", cmd.name)
	}
	return "SELECT CAST(current_setting(" + engine.QuoteLiteral(cmd.name) + ") AS VARCHAR) AS " + engine.QuoteIdent(strings.ToLower(cmd.name)), nil
}
