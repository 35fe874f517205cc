package pipeline

import (
	"context"
	"fmt"
	"strings"

	"github.com/ankaflow/ankaflow/connectors"
	"github.com/ankaflow/ankaflow/engine"
)

// A tap stage's `mode` says what happens to its DuckDB table. The default, replace, makes every
// tap replace its table (one rule for every connection kind). append is for pipelines that
// collect rows across loop iterations, as AnkaFlow's Variable and REST taps did: the first tap
// creates the table, later ones insert into it, by column name.
const (
	ModeReplace = "replace"
	ModeAppend  = "append"
)

// checkTapMode validates a stage's mode field.
func checkTapMode(v *validator, s *Stage) {
	if s.Mode == "" {
		return
	}
	switch {
	case s.Kind != KindTap:
		v.probs.add(s.At("mode"), s.Name, fmt.Sprintf("mode applies to tap stages only (it says whether a tap replaces or appends to its table), not to a %s stage", s.Kind))
	case s.Mode != ModeReplace && s.Mode != ModeAppend:
		v.probs.add(s.At("mode"), s.Name, fmt.Sprintf("mode must be replace (the default) or append, got %q%s", s.Mode, connectors.DidYouMean(s.Mode, []string{ModeReplace, ModeAppend})))
	}
}

// appendRows runs a tap in mode append: CREATE TABLE when the stage table does not exist yet,
// otherwise the rows are staged in a temporary table (so the connection is tapped once) and
// inserted by column name, in one transaction, after checking that the columns match. It
// returns the number of rows the tap gave.
func appendRows(ctx context.Context, s *engine.Session, table, sel string) (int64, error) {
	var exists bool
	if err := s.QueryRowContext(ctx, `SELECT count(*) > 0 FROM duckdb_tables()
		WHERE lower(table_name) = lower(?) AND schema_name = 'main' AND database_name = current_database()`, table).Scan(&exists); err != nil {
		return 0, err
	}
	count := func() (int64, error) {
		var n int64
		err := s.QueryRowContext(ctx, "SELECT count(*) FROM "+q(table)).Scan(&n)
		return n, err
	}
	if !exists {
		if _, err := s.Exec(ctx, "CREATE TABLE "+q(table)+" AS "+sel); err != nil {
			return 0, err
		}
		return count()
	}
	if _, err := s.Exec(ctx, "BEGIN TRANSACTION"); err != nil {
		return 0, err
	}
	done := false
	defer func() {
		if !done {
			s.Exec(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()
	staged := q("ankaflow_append:" + table)
	if _, err := s.Exec(ctx, "CREATE OR REPLACE TEMP TABLE "+staged+" AS "+sel); err != nil {
		return 0, err
	}
	var staged0 int64
	if err := s.QueryRowContext(ctx, "SELECT count(*) FROM "+staged).Scan(&staged0); err != nil {
		return 0, err
	}
	if staged0 == 0 {
		// Nothing to append (an empty page or variable): whatever columns an empty result
		// was given, e.g. a single json column for an empty Variable, the table is unchanged.
		return 0, nil // the deferred ROLLBACK drops the staging table
	}
	have, err := connectors.Describe(ctx, s, "SELECT * FROM "+q(table))
	if err != nil {
		return 0, err
	}
	got, err := connectors.Describe(ctx, s, "SELECT * FROM "+staged)
	if err != nil {
		return 0, err
	}
	mismatch := func(detail string) error {
		return fmt.Errorf("mode: append: the tapped rows do not fit table %s (%s): the table has %s; this tap gives %s",
			q(table), detail, schemaText(have), schemaText(got))
	}
	if !sameColumnNames(have, got) {
		return 0, mismatch("different columns")
	}
	n, err := s.Exec(ctx, "INSERT INTO "+q(table)+" BY NAME SELECT * FROM "+staged)
	if err != nil {
		return 0, mismatch(err.Error())
	}
	if _, err := s.Exec(ctx, "DROP TABLE "+staged); err != nil {
		return 0, err
	}
	if _, err := s.Exec(ctx, "COMMIT"); err != nil {
		return 0, err
	}
	done = true
	return n, nil
}

// sameColumnNames compares column names as DuckDB does (case-insensitively), in any order.
func sameColumnNames(a, b []connectors.Field) bool {
	if len(a) != len(b) {
		return false
	}
	names := map[string]bool{}
	for _, f := range a {
		names[strings.ToLower(f.Name)] = true
	}
	for _, f := range b {
		if !names[strings.ToLower(f.Name)] {
			return false
		}
	}
	return true
}

// schemaText renders columns as (id BIGINT, name VARCHAR).
func schemaText(fields []connectors.Field) string {
	parts := make([]string, len(fields))
	for i, f := range fields {
		parts[i] = engine.QuoteIdent(f.Name) + " " + f.Type
	}
	return "(" + strings.Join(parts, ", ") + ")"
}
