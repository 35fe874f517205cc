package rest_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPlanSendsNothing: with `fields` declared, EXPLAIN, PREPARE and DESCRIBE of a query with
// tap('api') learn the columns from the declaration and send no request; running it does.
func TestPlanSendsNothing(t *testing.T) {
	a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
		fmt.Fprint(w, `[{"id": 1, "name": "one"}, {"id": 2, "name": "two"}]`)
	})
	p := pipelineFile(t, a.URL, `
- name: api
  kind: tap
  connection:
    kind: Rest
    client: {base_url: "$URL"}
    request: {endpoint: items}
    fields: [{name: id, type: BIGINT}, {name: name, type: VARCHAR}]
`)
	code, out, errOut := runCLI(t, "sql", "--format", "csv", "--pipeline", p,
		"-c", "EXPLAIN SELECT * FROM tap('api')",
		"-c", "PREPARE q AS SELECT name FROM tap('api') WHERE id = 2",
		"-c", "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM tap('api'))")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "column_name,column_type\nid,BIGINT\nname,VARCHAR\n")
	require.Empty(t, a.seen(), "planning sent requests")

	code, out, errOut = runCLI(t, "sql", "--format", "csv", "--pipeline", p,
		"-c", "SELECT name FROM tap('api') WHERE id = 2")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "name\ntwo\n", out)
	require.Len(t, a.seen(), 1)
}
