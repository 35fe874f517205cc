package pgwire

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/internal/testpg"
)

// moreCatalogSchema is created on both servers for the index, size and routine listings:
// composite primary, unique and plain indexes in a second schema, expression indexes, a view
// PostgreSQL cannot update either, and a function (a macro on ankaflow).
const moreCatalogSchema = `CREATE SCHEMA inv;
CREATE TABLE inv.items (id integer PRIMARY KEY, sku text NOT NULL, name text, qty integer, UNIQUE (sku, name));
CREATE INDEX items_qty_name ON inv.items (qty, name);
CREATE TABLE inv.moves (item integer, day date, amount numeric(12,2), PRIMARY KEY (item, day));
CREATE TABLE notes (body text, n integer);
CREATE INDEX notes_lower ON notes (lower(body));
CREATE INDEX notes_sum ON notes ((n + 1));
CREATE VIEW totals AS SELECT count(*) AS n FROM inv.items;
`

// The same function on both servers: PostgreSQL's polymorphic SQL function is what a macro is.
const (
	pgPickFunction    = `CREATE FUNCTION pick(a anyelement, b anyelement) RETURNS anyelement LANGUAGE sql AS 'SELECT coalesce(a, b)'`
	duckPickFunction  = `CREATE MACRO pick(a, b) AS coalesce(a, b)`
	moreCatalogPasswd = "pw 1"
)

// moreCatalogServers starts PostgreSQL (bootstrap user boot; tester is a plain superuser,
// alice a login role without attributes) and ankaflow with a users file holding tester
// (role admin) and alice (role user), both with moreCatalogSchema. Returns the ports; psql connects as tester.
func moreCatalogServers(t *testing.T) (pgPort, ourPort int) {
	t.Helper()
	pg := testpg.Start(t, testpg.Options{User: "boot"})
	r := runPsqlEnv(t, pg.Port, "postgres", []string{"PGUSER=boot"}, "-v", "ON_ERROR_STOP=1", "-c", "CREATE ROLE tester SUPERUSER LOGIN; CREATE ROLE alice LOGIN")
	require.Equal(t, 0, r.code, r.stderr)
	users := filepath.Join(t.TempDir(), "users")
	for u, role := range map[string]Role{"tester": RoleAdmin, "alice": RoleUser} {
		_, err := AddUserRole(users, u, moreCatalogPasswd, role)
		require.NoError(t, err)
	}
	ts := startServer(t, Config{UsersFile: users})
	for port, fn := range map[int]string{pg.Port: pgPickFunction, ts.port(): duckPickFunction} {
		r := runMorePsql(t, port, "-v", "ON_ERROR_STOP=1", "-c", moreCatalogSchema, "-c", fn)
		require.Equal(t, 0, r.code, r.stderr)
	}
	return pg.Port, ts.port()
}

func runMorePsql(t *testing.T, port int, args ...string) psqlResult {
	t.Helper()
	return runPsqlEnv(t, port, "postgres", []string{"PGPASSWORD=" + moreCatalogPasswd}, args...)
}

// psql's \d of a schema's relations and of indexes lists each index's columns as PostgreSQL
// does; \du shows admins as superusers and users of role user without attributes; \dt+ has PostgreSQL's layout with sizes
// that grow with the data; pg_size_pretty formats as PostgreSQL's; information_schema.routines
// and .views have PostgreSQL's columns and its values for the same objects.
func TestPsqlIndexesRolesSizesMatchPostgres(t *testing.T) {
	pgPort, ourPort := moreCatalogServers(t)
	same := func(args ...string) {
		t.Helper()
		want := runMorePsql(t, pgPort, args...)
		require.Equal(t, 0, want.code, "%v on PostgreSQL: %s", args, want.stderr)
		got := runMorePsql(t, ourPort, args...)
		if assert.Equal(t, 0, got.code, "%v: %s", args, got.stderr) {
			assert.Equal(t, want.stdout, got.stdout, "%v", args)
		}
	}
	for _, cmd := range []string{`\d inv.*`, `\d inv.items_qty_name`, `\d inv.moves_pkey`, `\d inv.items`, `\d notes`,
		`\du (tester|alice)`, `\du+ (tester|alice)`, `\dg tester`} {
		same("-c", cmd)
	}
	// is_superuser agrees with \du for each user (psql's prompt ends in # or > from it).
	for _, user := range []string{"tester", "alice"} {
		want := runPsqlEnv(t, pgPort, "postgres", []string{"PGPASSWORD=" + moreCatalogPasswd, "PGUSER=" + user}, "-A", "-t", "-c", "SHOW is_superuser")
		got := runPsqlEnv(t, ourPort, "postgres", []string{"PGPASSWORD=" + moreCatalogPasswd, "PGUSER=" + user}, "-A", "-t", "-c", "SHOW is_superuser")
		require.Equal(t, 0, got.code, got.stderr)
		assert.Equal(t, want.stdout, got.stdout, user)
	}
	// Expression indexes: PostgreSQL's column names and definitions (DuckDB does not say an
	// expression's type).
	same("-A", "-c", `SELECT c.relname, a.attnum, a.attname, pg_get_indexdef(a.attrelid, a.attnum, true), pg_get_indexdef(a.attrelid)
	  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid WHERE c.relname IN ('notes_lower', 'notes_sum') ORDER BY 1, 2`)

	// Sizes: the layout of \dt+ and \d+ is PostgreSQL's; the sizes are DuckDB's estimates, so
	// the Size cells are compared as present, not as equal.
	for _, port := range []int{pgPort, ourPort} {
		r := runMorePsql(t, port, "-c", "INSERT INTO inv.items SELECT i, 'sku' || i, 'item ' || i, i % 7 FROM generate_series(1, 2000) g(i)")
		require.Equal(t, 0, r.code, r.stderr)
	}
	sizeCell := regexp.MustCompile(`\|-?\d+ (bytes|kB|MB|GB|TB|PB)\|`)
	for _, cmd := range []string{`\dt+ inv.*`, `\dt+ notes`} {
		want := runMorePsql(t, pgPort, "-A", "-c", cmd)
		got := runMorePsql(t, ourPort, "-A", "-c", cmd)
		require.Equal(t, 0, got.code, got.stderr)
		assert.Equal(t, sizeCell.ReplaceAllString(want.stdout, "|SIZE|"), sizeCell.ReplaceAllString(got.stdout, "|SIZE|"), cmd)
	}
	sizes := func() (table, total, index int64) {
		r := runMorePsql(t, ourPort, "-A", "-t", "-c", "SELECT pg_table_size('inv.items'::regclass), pg_total_relation_size('inv.items'::regclass), pg_relation_size('inv.items_qty_name'::regclass)")
		require.Equal(t, 0, r.code, r.stderr)
		f := strings.Split(strings.TrimSpace(r.stdout), "|")
		require.Len(t, f, 3, r.stdout)
		n := make([]int64, 3)
		for i := range f {
			v, err := strconv.ParseInt(f[i], 10, 64)
			require.NoError(t, err, r.stdout)
			n[i] = v
		}
		return n[0], n[1], n[2]
	}
	table, total, index := sizes()
	assert.Greater(t, table, int64(0))
	assert.Greater(t, index, int64(0))
	assert.Greater(t, total, table+index, "the total counts the table and all its indexes")
	r := runMorePsql(t, ourPort, "-c", "INSERT INTO inv.items SELECT i, 'sku' || i, 'item ' || i, i % 7 FROM range(2001, 4001) g(i)")
	require.Equal(t, 0, r.code, r.stderr)
	table2, _, _ := sizes()
	assert.Greater(t, table2, table, "a table's size grows with its rows")
	// What PostgreSQL answers for relations that have no storage or do not exist.
	same("-A", "-c", "SELECT pg_table_size('totals'::regclass), pg_relation_size('totals'::regclass), pg_total_relation_size(0), pg_table_size(0) IS NULL")

	var values []string
	for _, n := range []string{"0", "1", "-1", "10239", "10240", "-10240", "10751", "10752", "10485247", "10485248", "123456789", "-123456789",
		"5000000000", "10737418239", "10737418240", "21990232555520", "22517998136852480", "9223372036854775807", "-9223372036854775807"} {
		values = append(values, "(CAST("+n+" AS bigint))")
	}
	same("-A", "-c", "SELECT n, pg_size_pretty(n) FROM (VALUES "+strings.Join(values, ", ")+") v(n)")

	// information_schema.routines and .views: PostgreSQL's values for the same objects, except
	// what names an object's OID (specific_name) or prints its SQL (DuckDB's, not PostgreSQL's).
	cols := runMorePsql(t, pgPort, "-A", "-t", "-c", `SELECT string_agg(column_name, ', ' ORDER BY ordinal_position) FROM information_schema.columns
	  WHERE table_schema = 'information_schema' AND table_name = 'routines' AND column_name <> 'routine_definition'`)
	require.Equal(t, 0, cols.code, cols.stderr)
	routineCols := strings.TrimSpace(cols.stdout)
	want := runMorePsql(t, pgPort, "-A", "-c", "SELECT "+routineCols+" FROM information_schema.routines WHERE routine_name = 'pick'")
	got := runMorePsql(t, ourPort, "-A", "-c", "SELECT "+routineCols+" FROM information_schema.routines WHERE routine_name = 'pick'")
	require.Equal(t, 0, got.code, got.stderr)
	oidSuffix := regexp.MustCompile(`\|pick_\d+\|`)
	assert.Equal(t, oidSuffix.ReplaceAllString(want.stdout, "|pick_OID|"), oidSuffix.ReplaceAllString(got.stdout, "|pick_OID|"))
	same("-A", "-c", `SELECT table_catalog, table_schema, table_name, check_option, is_updatable, is_insertable_into, is_trigger_updatable,
	  is_trigger_deletable, is_trigger_insertable_into FROM information_schema.views WHERE table_schema NOT IN ('pg_catalog', 'information_schema')`)
	// DuckDB's built-ins are in pg_catalog, as PostgreSQL's are.
	same("-A", "-c", `SELECT routine_schema, routine_type, data_type FROM information_schema.routines WHERE routine_name = 'replace'`)
}

// information_schema.routines and .views have PostgreSQL's columns, in its order, with the
// wire types of their domains' base types (sql_identifier and the character domains as text).
func TestInformationSchemaRoutinesViewsColumns(t *testing.T) {
	pgPort, ourPort := moreCatalogServers(t)
	ctx := context.Background()
	describe := func(port int) []string {
		c, err := pgx.Connect(ctx, fmt.Sprintf("postgres://tester:%s@127.0.0.1:%d/postgres?sslmode=disable", strings.ReplaceAll(moreCatalogPasswd, " ", "%20"), port))
		require.NoError(t, err)
		defer c.Close(ctx)
		var out []string
		for _, view := range []string{"routines", "views"} {
			rows, err := c.Query(ctx, "SELECT * FROM information_schema."+view+" LIMIT 0")
			require.NoError(t, err)
			rows.Close()
			for _, f := range rows.FieldDescriptions() {
				typ := strconv.Itoa(int(f.DataTypeOID))
				switch f.DataTypeOID {
				case 19, 25, 1043: // name, text, varchar
					typ = "text"
				}
				out = append(out, view+"."+f.Name+" "+typ)
			}
		}
		return out
	}
	assert.Equal(t, describe(pgPort), describe(ourPort))
}
