package postgres

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/jackc/pgx/v5/pgconn"
)

// sinkMode is how a sink treats the rows already in its table.
type sinkMode string

const (
	modeAppend   sinkMode = "append"
	modeReplace  sinkMode = "replace"
	modeTruncate sinkMode = "truncate"
	modeUpsert   sinkMode = "upsert"
	modeError    sinkMode = "error" // data_mode: error: append, but only to an empty table
)

func parseMode(p Params) (sinkMode, error) {
	if p.Mode != "" && p.DataMode != "" {
		return "", errors.New("params: set mode or data_mode, not both")
	}
	var m sinkMode
	switch strings.ToLower(p.Mode) {
	case "", "append":
		m = modeAppend
	case "replace":
		m = modeReplace
	case "truncate":
		m = modeTruncate
	case "upsert":
		m = modeUpsert
	default:
		return "", fmt.Errorf("params.mode: unknown sink mode %q: use append, replace, truncate or upsert", p.Mode)
	}
	if p.DataMode != "" {
		switch strings.ToLower(p.DataMode) {
		case "append":
			m = modeAppend
		case "overwrite", "replace":
			m = modeReplace
		case "error":
			m = modeError
		case "truncate":
			m = modeTruncate
		case "upsert":
			m = modeUpsert
		default:
			return "", fmt.Errorf("params.data_mode: unknown data mode %q: use append, overwrite or error", p.DataMode)
		}
	}
	if m == modeUpsert && len(p.Key) == 0 {
		return "", errors.New("params.key: mode upsert needs the key columns, e.g. key: [id]")
	}
	if m != modeUpsert && len(p.Key) > 0 {
		return "", fmt.Errorf("params.key: only mode upsert uses a key (mode is %s)", m)
	}
	return m, nil
}

// targetColumn is a column of an existing table.
type targetColumn struct {
	name    string
	oid     uint32
	sqlType string // format_type(atttypid, atttypmod)
}

// Sink writes the rows into the table, all or nothing, in the configured mode. Everything runs
// in one transaction: a failure (bad value, constraint, lost connection, cancelled run, failed
// upstream stage) rolls it back and the table is as it was.
func (c *Postgres) Sink(ctx context.Context, rows array.RecordReader) (int64, error) {
	table, err := c.needTable("sink")
	if err != nil {
		return 0, err
	}
	pc, err := c.acquire(ctx)
	if err != nil {
		return 0, err
	}
	n, err := c.sink(ctx, pc, table, rows)
	if err != nil {
		if pc.TxStatus() != 'I' && !pc.IsClosed() && !pc.IsBusy() {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			exec(rctx, pc, "ROLLBACK")
			cancel()
		}
		c.release(ctx, pc, false)
		return 0, c.wrap(fmt.Errorf("sink into %s: %w", table, err))
	}
	c.release(ctx, pc, true)
	c.Logger().Debug("postgres sink", "table", table, "mode", string(c.mode), "rows", n)
	return n, nil
}

func (c *Postgres) sink(ctx context.Context, pc *pgconn.PgConn, table string, rows array.RecordReader) (int64, error) {
	tn, err := parseTable(ctx, pc, table)
	if err != nil {
		return 0, err
	}
	cols, err := sinkColumns(rows.Schema())
	if err != nil {
		return 0, err
	}
	target, err := targetColumns(ctx, pc, tn)
	if err != nil {
		return 0, err
	}
	mode := c.mode
	if target == nil {
		if !c.p.Create {
			return 0, fmt.Errorf("table %s does not exist (create: false)", tn)
		}
		return c.createAndLoad(ctx, pc, tn, cols, rows)
	}
	// Match source columns to the table's by name (exactly, else ignoring case).
	match := make([]targetColumn, len(cols))
	var unknown []string
	for i, col := range cols {
		tc, ok := findColumn(target, col.name)
		if !ok {
			unknown = append(unknown, col.name)
			continue
		}
		match[i] = tc
	}
	if len(unknown) > 0 {
		var have []string
		for _, t := range target {
			have = append(have, t.name)
		}
		return 0, fmt.Errorf("columns %s are not in table %s (its columns: %s)", strings.Join(unknown, ", "), tn, strings.Join(have, ", "))
	}
	var key []string
	if mode == modeUpsert {
		if key, err = c.checkKey(ctx, pc, tn, target, match); err != nil {
			return 0, err
		}
	}
	if err := exec(ctx, pc, "BEGIN"); err != nil {
		return 0, err
	}
	switch mode {
	case modeError:
		r, err := query(ctx, pc, "SELECT EXISTS (SELECT 1 FROM "+tn.sql()+")")
		if err != nil {
			return 0, err
		}
		if r[0][0] == "t" {
			return 0, fmt.Errorf("table %s has rows and data_mode is error: nothing was written", tn)
		}
	case modeTruncate:
		if err := exec(ctx, pc, "TRUNCATE "+tn.sql()); err != nil {
			return 0, err
		}
	}
	names := make([]string, len(cols))
	direct := mode != modeReplace && mode != modeUpsert
	for i, col := range cols {
		names[i] = quoteIdent(match[i].name)
		direct = direct && compatible(col, match[i])
	}
	var n int64
	if direct {
		n, err = copyFrom(ctx, pc, tn.sql()+" ("+strings.Join(names, ", ")+")", cols, rows, false)
		if err != nil {
			return 0, err
		}
	} else {
		n, err = c.loadStaged(ctx, pc, tn, cols, match, names, key, rows)
		if err != nil {
			return 0, err
		}
	}
	if err := exec(ctx, pc, "COMMIT"); err != nil {
		return 0, fmt.Errorf("commit: %w", err)
	}
	return n, nil
}

// loadStaged copies the rows into a temporary staging table (dropped at commit), then moves
// them into the table with casts to its column types, within the caller's transaction.
func (c *Postgres) loadStaged(ctx context.Context, pc *pgconn.PgConn, tn tableName, cols []sinkColumn, match []targetColumn, names, key []string, rows array.RecordReader) (int64, error) {
	const stage = `"_ankaflow_stage"`
	var defs, sel []string
	for i, col := range cols {
		sc := quoteIdent("c" + strconv.Itoa(i+1))
		defs = append(defs, sc+" "+col.pgType)
		// Same type, or text into varchar/char: plain assignment (which, unlike an explicit
		// cast, refuses to truncate a too-long string). Anything else is cast explicitly, which
		// also converts text into any type that has a text form (enums, inet, json, …).
		if col.oid == match[i].oid || (col.oid == oidText && (match[i].oid == oidVarchar || match[i].oid == oidBPChar)) {
			sel = append(sel, sc)
		} else {
			sel = append(sel, sc+"::"+match[i].sqlType)
		}
	}
	if err := exec(ctx, pc, "CREATE TEMP TABLE "+stage+" ("+strings.Join(defs, ", ")+") ON COMMIT DROP"); err != nil {
		return 0, err
	}
	n, err := copyFrom(ctx, pc, stage, cols, rows, true)
	if err != nil {
		return 0, err
	}
	insert := "INSERT INTO " + tn.sql() + " (" + strings.Join(names, ", ") + ") SELECT " + strings.Join(sel, ", ") + " FROM " + stage
	switch c.mode {
	case modeReplace:
		// The swap: the table is emptied and refilled in this transaction, so readers see the
		// old rows until the commit and the new ones after (they wait for the lock meanwhile).
		return n, exec(ctx, pc, "TRUNCATE "+tn.sql()+"; "+insert)
	case modeUpsert:
		var quotedKey, set []string
		isKey := map[string]bool{}
		for _, k := range key {
			quotedKey = append(quotedKey, quoteIdent(k))
			isKey[k] = true
		}
		for _, nm := range match {
			if !isKey[nm.name] {
				set = append(set, quoteIdent(nm.name)+" = EXCLUDED."+quoteIdent(nm.name))
			}
		}
		action := " ON CONFLICT (" + strings.Join(quotedKey, ", ") + ") DO NOTHING"
		if len(set) > 0 {
			action = " ON CONFLICT (" + strings.Join(quotedKey, ", ") + ") DO UPDATE SET " + strings.Join(set, ", ")
		}
		// Usually keys are unique in one load: insert straight away. A key repeated in the
		// rows makes PostgreSQL refuse ("cannot affect row a second time"): then keep the last
		// row of each key, in the order the rows came (one COPY into a new table stores them
		// in that order: ctid ascends with it).
		if err := exec(ctx, pc, "SAVEPOINT ankaflow_upsert"); err != nil {
			return 0, err
		}
		err := exec(ctx, pc, insert+action)
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "21000" {
			var stageKey []string
			for i, m := range match {
				if isKey[m.name] {
					stageKey = append(stageKey, sel[i])
				}
			}
			dedup := "INSERT INTO " + tn.sql() + " (" + strings.Join(names, ", ") + ") SELECT DISTINCT ON (" + strings.Join(stageKey, ", ") + ") " +
				strings.Join(sel, ", ") + " FROM " + stage + " ORDER BY " + strings.Join(stageKey, ", ") + ", ctid DESC" + action
			err = exec(ctx, pc, "ROLLBACK TO SAVEPOINT ankaflow_upsert; "+dedup)
		}
		return n, err
	}
	return n, exec(ctx, pc, insert)
}

// createAndLoad creates the missing table and loads it in one transaction: it appears complete
// or not at all.
func (c *Postgres) createAndLoad(ctx context.Context, pc *pgconn.PgConn, tn tableName, cols []sinkColumn, rows array.RecordReader) (int64, error) {
	var defs, names []string
	for _, col := range cols {
		defs = append(defs, quoteIdent(col.name)+" "+col.pgType)
		names = append(names, quoteIdent(col.name))
	}
	if c.mode == modeUpsert {
		for _, k := range c.p.Key {
			if !containsName(cols, k) {
				return 0, fmt.Errorf("key column %q is not among the rows' columns", k)
			}
		}
		var pk []string
		for _, k := range c.p.Key {
			pk = append(pk, quoteIdent(k))
		}
		defs = append(defs, "PRIMARY KEY ("+strings.Join(pk, ", ")+")")
	}
	if err := exec(ctx, pc, "BEGIN; CREATE TABLE "+tn.sql()+" ("+strings.Join(defs, ", ")+")"); err != nil {
		return 0, fmt.Errorf("create table: %w", err)
	}
	var n int64
	var err error
	if c.mode == modeUpsert {
		match := make([]targetColumn, len(cols))
		for i, col := range cols {
			match[i] = targetColumn{name: col.name, oid: col.oid, sqlType: col.pgType}
		}
		n, err = c.loadStaged(ctx, pc, tn, cols, match, names, c.p.Key, rows)
	} else {
		n, err = copyFrom(ctx, pc, tn.sql()+" ("+strings.Join(names, ", ")+")", cols, rows, true)
	}
	if err != nil {
		return 0, err
	}
	if err := exec(ctx, pc, "COMMIT"); err != nil {
		return 0, fmt.Errorf("commit: %w", err)
	}
	return n, nil
}

func containsName(cols []sinkColumn, name string) bool {
	for _, c := range cols {
		if c.name == name {
			return true
		}
	}
	return false
}

// copyFrom streams the rows with binary COPY … FROM STDIN.
// With freeze (only for a plain table created in this transaction, which no other transaction
// can see yet), the rows are written frozen: nothing is left for VACUUM to do.
func copyFrom(ctx context.Context, pc *pgconn.PgConn, into string, cols []sinkColumn, rows array.RecordReader, freeze bool) (int64, error) {
	in := &copyIn{ctx: ctx, rows: rows, cols: cols}
	opts := "FORMAT binary"
	if freeze {
		opts += ", FREEZE"
	}
	_, err := pc.CopyFrom(ctx, in, "COPY "+into+" FROM STDIN ("+opts+")")
	if in.err != nil {
		// Our own error (upstream stage, value that cannot be encoded) caused the CopyFail.
		return 0, in.err
	}
	if err != nil {
		return 0, err
	}
	return in.n, nil
}

// compatible reports whether the binary form the sink writes for col is what the target
// column's type reads, so rows can be copied into it directly.
func compatible(col sinkColumn, t targetColumn) bool {
	if col.oid == t.oid {
		return true
	}
	switch col.oid {
	case oidText:
		return t.oid == oidVarchar || t.oid == oidBPChar || t.oid == oidJSON
	}
	return false
}

func findColumn(cols []targetColumn, name string) (targetColumn, bool) {
	for _, c := range cols {
		if c.name == name {
			return c, true
		}
	}
	var found []targetColumn
	for _, c := range cols {
		if strings.EqualFold(c.name, name) {
			found = append(found, c)
		}
	}
	if len(found) == 1 {
		return found[0], true
	}
	return targetColumn{}, false
}

// targetColumns lists the columns of an existing table, or nil when it does not exist.
func targetColumns(ctx context.Context, pc *pgconn.PgConn, tn tableName) ([]targetColumn, error) {
	rows, err := query(ctx, pc, `SELECT a.attname, a.atttypid, format_type(a.atttypid, a.atttypmod)
		FROM pg_catalog.pg_attribute a
		WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped
		ORDER BY a.attnum`, tn.sql())
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, nil
	}
	out := make([]targetColumn, len(rows))
	for i, r := range rows {
		oid, _ := strconv.ParseUint(r[1], 10, 32)
		out[i] = targetColumn{name: r[0], oid: uint32(oid), sqlType: r[2]}
	}
	return out, nil
}

// checkKey verifies, before any row moves, that the key columns exist and that a primary key
// or unique index covers exactly them (what INSERT … ON CONFLICT needs).
func (c *Postgres) checkKey(ctx context.Context, pc *pgconn.PgConn, tn tableName, target []targetColumn, match []targetColumn) ([]string, error) {
	var key []string
	for _, k := range c.p.Key {
		tc, ok := findColumn(target, k)
		if !ok {
			return nil, fmt.Errorf("key column %q is not in table %s", k, tn)
		}
		inRows := false
		for _, m := range match {
			inRows = inRows || m.name == tc.name
		}
		if !inRows {
			return nil, fmt.Errorf("key column %q is not among the rows' columns", k)
		}
		key = append(key, tc.name)
	}
	sorted := append([]string(nil), key...)
	sort.Strings(sorted)
	var quoted []string
	for _, k := range sorted {
		quoted = append(quoted, `"`+strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(k)+`"`)
	}
	rows, err := query(ctx, pc, `SELECT count(*) FROM pg_catalog.pg_index i
		WHERE i.indrelid = to_regclass($1) AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
		AND (SELECT array_agg(a.attname::text ORDER BY a.attname::text COLLATE "C")
		     FROM pg_catalog.pg_attribute a WHERE a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)) = $2::text[]`,
		tn.sql(), "{"+strings.Join(quoted, ",")+"}")
	if err != nil {
		return nil, err
	}
	if rows[0][0] == "0" {
		return nil, fmt.Errorf("upsert needs a primary key or unique index on exactly (%s) of table %s: add one (ALTER TABLE %s ADD PRIMARY KEY (%s)) or change params.key; nothing was written",
			strings.Join(key, ", "), tn, tn, strings.Join(key, ", "))
	}
	return key, nil
}
