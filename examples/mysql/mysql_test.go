package mysql_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/connectors"
	"github.com/ankaflow/ankaflow/examples/mysql"
)

func TestRegistered(t *testing.T) {
	k, err := connectors.LookupCustom("myapp.connectors.database", "MySQL")
	require.NoError(t, err)
	require.Equal(t, "myapp.connectors.database.MySQL", k.Label())
	require.True(t, k.Ops.Has(connectors.OpTap|connectors.OpSink|connectors.OpSQL|connectors.OpShowSchema))
	require.False(t, k.LocatorRequired, "a custom connection does not need a locator")
	require.Equal(t, []string{"host", "port", "user", "password", "database", "table"}, k.Params.Names())

	_, err = connectors.LookupCustom("myapp.connectors.database", "MySql")
	require.ErrorContains(t, err, `module "myapp.connectors.database" has no connection class "MySql" (did you mean 'MySQL'?)`)
}

func TestSQLWithAndWithoutRows(t *testing.T) {
	f := newFixture(t)
	c := f.conn("Admin", f.params(nil))

	r, err := c.SQL(f.ctx, "CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(10))")
	require.NoError(t, err)
	require.True(t, r == nil, "DDL has no rows: a nil interface (callers compare with nil)")
	r, err = c.SQL(f.ctx, "INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, NULL)")
	require.NoError(t, err)
	require.True(t, r == nil)
	r, err = c.SQL(f.ctx, "UPDATE t SET name = 'z' WHERE id = 3")
	require.NoError(t, err)
	require.True(t, r == nil)

	r, err = c.SQL(f.ctx, "SELECT id, name FROM t ORDER BY id")
	require.NoError(t, err)
	require.NotNil(t, r)
	rows, _ := readAll(t, r)
	require.Equal(t, [][]string{{"1", "a"}, {"2", "b"}, {"3", "z"}}, rows)

	r, err = c.SQL(f.ctx, "SHOW TABLES")
	require.NoError(t, err)
	rows, _ = readAll(t, r)
	require.Equal(t, [][]string{{"t"}}, rows)

	// A SELECT with no rows still returns a (empty) reader with its schema.
	r, err = c.SQL(f.ctx, "SELECT id FROM t WHERE id > 100")
	require.NoError(t, err)
	require.NotNil(t, r)
	require.Equal(t, "id", r.Schema().Field(0).Name)
	rows, _ = readAll(t, r)
	require.Empty(t, rows)

	_, err = c.SQL(f.ctx, "INSERT INTO t VALUES (1, 'dup')")
	require.ErrorContains(t, err, "Duplicate entry '1' for key 'PRIMARY'")
	_, err = c.SQL(f.ctx, "  ")
	require.ErrorContains(t, err, "empty statement")
}

func TestShowSchema(t *testing.T) {
	f := newFixture(t)
	f.exec("CREATE TABLE orders (id INT UNSIGNED NOT NULL PRIMARY KEY, customer VARCHAR(40) NOT NULL, amount DECIMAL(10,2), placed DATETIME(3), note JSON)")
	c := f.conn("Orders", f.params(map[string]any{"table": "orders"}))
	fields, err := c.ShowSchema(f.ctx)
	require.NoError(t, err)
	var got []string
	for _, fl := range fields {
		null := "NOT NULL"
		if *fl.Nullable {
			null = "NULL"
		}
		got = append(got, fl.Name+" "+fl.Type+" "+null)
	}
	require.Equal(t, []string{
		"id int(10) unsigned NOT NULL",
		"customer varchar(40) NOT NULL",
		"amount decimal(10,2) NULL",
		"placed datetime(3) NULL",
		"note longtext NULL",
	}, got)

	c = f.conn("Missing", f.params(map[string]any{"table": "nope"}))
	_, err = c.ShowSchema(f.ctx)
	require.ErrorContains(t, err, "table `nope` does not exist in database `"+f.dbName+"`")

	c = f.conn("Nothing", f.params(nil))
	_, err = c.ShowSchema(f.ctx)
	require.ErrorContains(t, err, "show_schema needs a table")
}

func TestShowSchemaOfAQuery(t *testing.T) {
	f := newFixture(t)
	f.exec("CREATE TABLE orders (id INT NOT NULL, amount DECIMAL(10,2))")
	c, err := connectors.New(f.ctx, connectors.Definition{
		Kind: "CustomConnection", Module: mysql.Module, Classname: mysql.Class, Stage: "Q",
		Params: f.params(nil), Query: "SELECT id, amount * 2 AS doubled, NOW() AS at FROM orders",
	}, nil)
	require.NoError(t, err)
	defer connectors.Close(c)
	fields, err := c.ShowSchema(f.ctx)
	require.NoError(t, err)
	var got []string
	for _, fl := range fields {
		got = append(got, fl.Name+" "+fl.Type)
	}
	require.Equal(t, []string{"id int32", "doubled decimal(11, 2)", "at timestamp[us]"}, got)
}

func TestParamsValidation(t *testing.T) {
	f := newFixture(t)
	newConn := func(params map[string]any) error {
		c, err := connectors.New(f.ctx, connectors.Definition{
			Kind: "CustomConnection", Module: mysql.Module, Classname: mysql.Class, Stage: "S", Params: params,
		}, nil)
		if err == nil {
			connectors.Close(c)
		}
		return err
	}
	const secret = "s3cr3t-Pa55"

	err := newConn(map[string]any{"port": 5555, "password": secret})
	require.ErrorContains(t, err, `params.host: required param "host" is missing`)
	require.NotContains(t, err.Error(), secret)

	err = newConn(map[string]any{"host": "db", "port": "fifty", "password": secret})
	require.ErrorContains(t, err, `params.port: expected int, got string "fifty"`)

	err = newConn(map[string]any{"host": "db", "password": []any{secret}})
	require.ErrorContains(t, err, "params.password: expected string, got list (value hidden: secret)")
	require.NotContains(t, err.Error(), secret)

	err = newConn(map[string]any{"host": "db", "tabel": "orders"})
	require.ErrorContains(t, err, `unknown param "tabel" (did you mean 'table'?)`)

	err = newConn(map[string]any{"host": "db", "port": 70000})
	require.ErrorContains(t, err, "params.port: 70000 is not a TCP port")

	// A wrong password: MySQL's refusal, with the user and server, never the password.
	p := f.params(map[string]any{"password": secret, "table": "t"})
	c := f.conn("S", p)
	_, err = c.Tap(f.ctx, "")
	require.ErrorContains(t, err, "Access denied for user '"+f.srv.User+"'")
	require.ErrorContains(t, err, "mysql "+f.srv.User+"@127.0.0.1:")
	require.NotContains(t, err.Error(), secret)

	// Defaults: port 3306; a connection that was never used never connects.
	c = f.conn("Lazy", map[string]any{"host": "db.invalid"})
	require.NotNil(t, c.DB())
	_, err = c.SQL(f.ctx, "SELECT 1")
	require.Error(t, err)
	require.True(t, strings.Contains(err.Error(), "db.invalid:3306"), err.Error())
}
