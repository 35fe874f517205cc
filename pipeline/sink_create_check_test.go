package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// A sink's CREATE statement that creates another object than the stage's is a validation
// error, with the run's wording, at the query's position; the forms that create the stage's
// object validate. The stages it reads (a CSV tap, a transform) exist only in the scratch
// database: the run's database is left empty.
func TestValidateSinkCreateName(t *testing.T) {
	ctx := context.Background()
	csv := filepath.Join(t.TempDir(), "people.csv")
	require.NoError(t, os.WriteFile(csv, []byte("id,name\n1,Ada\n2,Bob\n"), 0o644))
	yaml := fmt.Sprintf(`
- name: People
  kind: tap
  connection: {kind: CSV, locator: %q}
- name: Evens
  kind: transform
  query: SELECT * FROM "People" WHERE id %% 2 = 0
- name: export_evens
  kind: sink
  connection: {kind: CSV, locator: out/a.csv}
  query: CREATE OR REPLACE VIEW export_evens AS SELECT name FROM "Evens"
- name: Export odds
  kind: sink
  connection: {kind: CSV, locator: out/b.csv}
  query: CREATE OR REPLACE TEMP TABLE "Export odds" AS SELECT id FROM "People" WHERE id %% 2 = 1;
- name: Wrong view
  kind: sink
  connection: {kind: CSV, locator: out/c.csv}
  query: CREATE OR REPLACE VIEW other AS SELECT name FROM "Evens"
- name: Wrong table
  kind: sink
  connection: {kind: CSV, locator: out/d.csv}
  query: CREATE TABLE t (a INTEGER)
- name: Reads a sink
  kind: sink
  connection: {kind: CSV, locator: out/e.csv}
  query: CREATE VIEW "Reads a sink" AS SELECT * FROM export_evens JOIN "Export odds" ON true
- name: Insert
  kind: sink
  connection: {kind: CSV, locator: out/f.csv}
  query: INSERT INTO "People" VALUES (3, 'Cy')
- name: Made by sql
  kind: internal
  query: CREATE TABLE made AS SELECT 1 AS x
- name: Unknown before the run
  kind: sink
  connection: {kind: CSV, locator: out/g.csv}
  query: CREATE VIEW elsewhere AS SELECT x FROM made
- name: Reads a file
  kind: sink
  connection: {kind: CSV, locator: out/h.csv}
  query: CREATE VIEW file_view AS SELECT * FROM read_csv(%q)
`, csv, csv)
	p, probs := Parse("sinks.yaml", []byte(yaml))
	require.Empty(t, probs)
	s := testSession(t)
	probs = Validate(ctx, p, ValidateOptions{Session: s})
	var got []string
	for _, pr := range probs {
		got = append(got, fmt.Sprintf("%d:%d %s: %s", pr.Pos.Line, pr.Pos.Col, pr.Stage, pr.Msg))
	}
	hint := func(stage string) string {
		return `a sink's query either returns rows (SELECT …) or creates the object named like the stage: CREATE OR REPLACE VIEW "` + stage + `" AS SELECT …`
	}
	require.Equal(t, []string{
		`19:10 Wrong view: the sink query creates view "other", not the stage's own "Wrong view" (nothing was written); ` + hint("Wrong view"),
		`23:10 Wrong table: the sink query creates table "t", not the stage's own "Wrong table" (nothing was written); ` + hint("Wrong table"),
		`31:10 Insert: the sink query is neither a query returning rows nor a CREATE statement: ` + hint("Insert"),
	}, got)

	// "Reads a file" is left to the run: the scratch database reads no files.
	// The run's database is as it was: no stand-in, no created object.
	objs, err := catalogObjects(ctx, s)
	require.NoError(t, err)
	require.Empty(t, objs)
}
