package connectors

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/engine"

	"github.com/ankaflow/ankaflow/engine/value"
)

func TestLocate(t *testing.T) {
	wd, _ := os.Getwd()
	cases := []struct {
		name     string
		cfg      Config
		locator  string
		wildcard bool
		want     string
		err      string
	}{
		{name: "no bucket: relative to cwd", locator: "data/x.parquet", want: filepath.Join(wd, "data/x.parquet")},
		{name: "no bucket: absolute stays", locator: "/tmp/x.csv", want: "/tmp/x.csv"},
		{name: "no bucket: .. cannot climb out of cwd", locator: "../x.csv", err: "escapes its bucket"},
		{name: "bucket and prefix", cfg: Config{Local: BucketConfig{Bucket: "/data/bucket", DataPrefix: "p"}}, locator: "2024/r.parquet", want: "/data/bucket/p/2024/r.parquet"},
		{name: "absolute under bucket", cfg: Config{Local: BucketConfig{Bucket: "/data/bucket", DataPrefix: "p"}}, locator: "/absolute/path.csv", want: "/data/bucket/absolute/path.csv"},
		{name: "dotdot inside ok", cfg: Config{Local: BucketConfig{Bucket: "/data"}}, locator: "a/../b.csv", want: "/data/b.csv"},
		{name: "dotdot escape", cfg: Config{Local: BucketConfig{Bucket: "/data"}}, locator: "a/../../etc/passwd", err: "escapes its bucket"},
		{name: "absolute dotdot escape", cfg: Config{Local: BucketConfig{Bucket: "/data"}}, locator: "/../etc/passwd", err: "escapes its bucket"},
		{name: "prefix with dotdot", cfg: Config{Local: BucketConfig{Bucket: "/data", DataPrefix: "../x"}}, locator: "a.csv", err: "cannot contain '..'"},
		{name: "relative bucket", cfg: Config{Local: BucketConfig{Bucket: "data"}}, locator: "a.csv", err: "must be an absolute"},
		{name: "remote bucket", cfg: Config{S3: BucketConfig{Bucket: "s3://my-bucket", DataPrefix: "sales"}}, locator: "2024/r.parquet", want: "s3://my-bucket/sales/2024/r.parquet"},
		{name: "remote escape", cfg: Config{S3: BucketConfig{Bucket: "s3://b"}}, locator: "../x", err: "escapes"},
		{name: "url unchanged", cfg: Config{S3: BucketConfig{Bucket: "s3://my-bucket"}}, locator: "s3://other/x", want: "s3://other/x"},
		{name: "file url", cfg: Config{Local: BucketConfig{Bucket: "/data"}}, locator: "file://x/y.csv", want: "/data/x/y.csv"},
		{name: "wildcard on tap", cfg: Config{Local: BucketConfig{Bucket: "/d", LocatorWildcard: []string{`\$`, "2024_"}}}, locator: "sales$.parquet", wildcard: true, want: "/d/sales2024_.parquet"},
		{name: "wildcard not on sink", cfg: Config{Local: BucketConfig{Bucket: "/d", LocatorWildcard: []string{`\$`, "2024_"}}}, locator: "sales$.parquet", want: "/d/sales$.parquet"},
		{name: "stores are not mixed", cfg: Config{Local: BucketConfig{DataPrefix: "lp"}, S3: BucketConfig{Bucket: "s3://b"}}, locator: "x", want: "s3://b/x"},
		{name: "empty", locator: "", err: "locator is empty"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.cfg.Locate(c.locator, c.wildcard)
			if c.err != "" {
				require.ErrorContains(t, err, c.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, c.want, got)
		})
	}
}

func TestConfigMergeFieldByField(t *testing.T) {
	run := Config{Local: BucketConfig{Bucket: "/data", DataPrefix: "run"}}
	conn := Config{Local: BucketConfig{DataPrefix: "mine"}}
	m := run.Merge(conn)
	require.Equal(t, "/data", m.Local.Bucket)
	require.Equal(t, "mine", m.Local.DataPrefix)
}

type testParams struct {
	Host     string         `param:"host,required"`
	Port     int            `param:"port" default:"3306"`
	Password string         `param:"password,secret"`
	Ratio    float64        `param:"ratio"`
	Debug    bool           `param:"debug"`
	Tables   []string       `param:"tables"`
	Timeout  time.Duration  `param:"timeout" default:"5s"`
	Extra    map[string]any `param:"extra"`
}

func TestParamsDecode(t *testing.T) {
	ps, err := paramsSpecOf(reflectTypeOf[testParams]())
	require.NoError(t, err)
	v, errs := ps.Decode(map[string]any{"host": "db", "port": "5555", "password": 1234, "debug": "yes", "tables": []any{"a", "b"}, "extra": NewMap()}, nil)
	require.Empty(t, errs)
	p := v.(testParams)
	require.Equal(t, "db", p.Host)
	require.Equal(t, 5555, p.Port)
	require.Equal(t, "1234", p.Password)
	require.True(t, p.Debug)
	require.Equal(t, []string{"a", "b"}, p.Tables)
	require.Equal(t, 5*time.Second, p.Timeout)

	_, errs = ps.Decode(map[string]any{"port": "x", "pasword": "s", "password": []any{1}}, nil)
	msgs := []string{}
	for _, e := range errs {
		msgs = append(msgs, e.Error())
	}
	all := strings.Join(msgs, "\n")
	require.Contains(t, all, `params.host: required param "host" is missing`)
	require.Contains(t, all, `params.port: expected int, got string "x"`)
	require.Contains(t, all, `unknown param "pasword" (did you mean 'password'?)`)
	require.Contains(t, all, "(value hidden: secret)", "secret values never appear in errors")

	// Deferred (templated) values are not type-checked at validation time.
	_, errs = ps.Decode(map[string]any{"host": "h", "port": "<< context.port >>"}, func(v any) bool { s, ok := v.(string); return ok && strings.Contains(s, "<<") })
	require.Empty(t, errs)

	// Listings: JSON in the written order, secrets hidden at any depth.
	// A whole block under a secret-looking name (Rest's `auth`) is hidden as one.
	nested := value.MapOf("zeta", int64(1), "login", value.MapOf("user", "u", "password", "pw2", "list", []any{value.MapOf("api_token", "t")}), "auth", value.MapOf("user", "u2"), "alpha", value.Decimal("123456789012345678.12"))
	red := ps.Redacted(map[string]any{"host": "h", "password": "pw", "extra": nested}, []string{"password", "host", "extra"})
	require.Equal(t, `{"password":"***","host":"h","extra":{"zeta":1,"login":{"user":"u","password":"***","list":[{"api_token":"***"}]},"auth":"***","alpha":123456789012345678.12}}`, red)
}

func TestSuggest(t *testing.T) {
	require.Equal(t, "Parquet", Suggest("parquett", []string{"CSV", "JSON", "Parquet"}))
	require.Equal(t, "params", Suggest("pramas", []string{"params", "query", "locator"}))
	require.Equal(t, "", Suggest("zzzzzz", []string{"params", "query"}))
}

func TestSQLLiteral(t *testing.T) {
	m := NewMap()
	m.Set("b", "INTEGER")
	m.Set("a", "VARCHAR")
	got, err := SQLLiteral(m)
	require.NoError(t, err)
	require.Equal(t, `{'b': 'INTEGER', 'a': 'VARCHAR'}`, got, "struct literal keeps YAML order")
	got, _ = SQLLiteral([]any{1, "it's", true, 1.5})
	require.Equal(t, `[1, 'it''s', TRUE, 1.5]`, got)
	_, err = renderArgs(map[string]any{"x); DROP TABLE t; --": 1})
	require.ErrorContains(t, err, "not a valid option name")
}

func TestNarrowQuery(t *testing.T) {
	ctx := context.Background()
	db, err := engine.Open(ctx, engine.Options{})
	require.NoError(t, err)
	defer db.Close()
	s, err := db.NewSession(ctx)
	require.NoError(t, err)
	defer s.Close()

	q, err := NarrowQuery(ctx, s, "SELECT id, name FROM placeholder_tbl p WHERE id > 10;", "range(20) r(id, name)")
	require.NoError(t, err)
	require.Equal(t, `WITH "placeholder_tbl" AS (SELECT * FROM range(20) r(id, name)) SELECT id, name FROM placeholder_tbl p WHERE id > 10`, q)

	for query, msg := range map[string]string{
		"WITH c AS (SELECT 1) SELECT * FROM c": "CTEs (WITH) are not allowed",
		"SELECT 1":                             "must read FROM a placeholder",
		"SELECT * FROM a JOIN b USING (x)":     "joins and subqueries are not allowed",
		"SELECT * FROM (SELECT 1)":             "joins and subqueries are not allowed",
		"SELECT * FROM t UNION SELECT 1":       "single SELECT",
		"SELECT 1; SELECT 2":                   "got 2 statements",
		"DELETE FROM t":                        "single SELECT",
		"SELEC * FROM t":                       "syntax error",
		"SELECT * FROM s.t":                    "must be a plain name",
	} {
		_, err := NarrowQuery(ctx, s, query, "x")
		require.ErrorContains(t, err, msg, query)
	}
}

func TestFileConnectionSQL(t *testing.T) {
	ctx := context.Background()
	env := &Env{Config: Config{Local: BucketConfig{Bucket: "/data"}}}
	c, err := New(ctx, Definition{Stage: "s", Kind: "CSV", Locator: "in/x.csv", Params: map[string]any{"delim": ";", "header": true}}, env)
	require.NoError(t, err)
	call, err := c.(*FileConnection).ReaderCall()
	require.NoError(t, err)
	require.Equal(t, `read_csv('/data/in/x.csv', delim = ';', header = TRUE, ignore_errors = TRUE)`, call, "defaults merge with user params")
	copySQL, err := c.(*FileConnection).SinkSQL(`SELECT * FROM "prev"`)
	require.NoError(t, err)
	require.Equal(t, `COPY (SELECT * FROM "prev") TO '/data/in/.x.csv.ankaflow-tmp' (FORMAT CSV, USE_TMP_FILE FALSE, delim ';', header TRUE)`, copySQL)

	_, err = New(ctx, Definition{Stage: "s", Kind: "Parquett"}, env)
	require.ErrorContains(t, err, "did you mean 'Parquet'")
}

func TestLookupCustomSuggestions(t *testing.T) {
	RegisterCustom("ankaflow.lookuptest", "Warehouse", Spec{Ops: OpTap}, func(p map[string]any) Connection { return &FileConnection{} })
	_, err := LookupCustom("ankaflow.lookuptest", "Warehose")
	require.ErrorContains(t, err, `module "ankaflow.lookuptest" has no connection class "Warehose" (did you mean 'Warehouse'?); its classes: 'Warehouse'`)
	_, err = LookupCustom("ankaflow.lookuptst", "Warehouse")
	require.ErrorContains(t, err, `no custom connection module "ankaflow.lookuptst" is compiled into this binary (did you mean 'ankaflow.lookuptest'?)`)
	k, err := LookupCustom("ankaflow.lookuptest", "Warehouse")
	require.NoError(t, err)
	require.Equal(t, "ankaflow.lookuptest.Warehouse", k.Label())
}
