package mysql_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/connectors"
	"github.com/ankaflow/ankaflow/engine"
	"github.com/ankaflow/ankaflow/examples/mysql"
)

const benchRows = 200_000

// benchFixture is a database with an `orders` table of benchRows rows.
func benchFixture(b *testing.B) (*benchDB, *mysql.MySQL, *engine.DB) {
	b.Helper()
	srv := server(b)
	name := "bench_" + strings.ToLower(strings.NewReplacer("/", "_", "-", "_").Replace(b.Name()))
	require.NoError(b, srv.CreateDatabase(name))
	my, err := srv.Open(name)
	require.NoError(b, err)
	b.Cleanup(func() { my.Close() })
	ctx := context.Background()
	for _, q := range []string{
		"CREATE TABLE orders (id INT PRIMARY KEY, customer VARCHAR(20) NOT NULL, amount DECIMAL(10,2) NOT NULL, placed DATETIME NOT NULL, note TEXT)",
		fmt.Sprintf("INSERT INTO orders SELECT seq, CONCAT('customer-', seq %% 1000), seq * 0.01, '2024-01-01' + INTERVAL seq SECOND, IF(seq %% 3 = 0, NULL, 'some note') FROM seq_1_to_%d", benchRows),
	} {
		_, err := my.ExecContext(ctx, q)
		require.NoError(b, err)
	}
	duck, err := engine.Open(ctx, engine.Options{})
	require.NoError(b, err)
	b.Cleanup(func() { duck.Close() })
	p := srv.Params()
	p["database"] = name
	p["table"] = "orders"
	c, err := connectors.New(ctx, connectors.Definition{Kind: "CustomConnection", Module: mysql.Module, Classname: mysql.Class, Params: p, Stage: "Orders"}, &connectors.Env{DB: duck, Logger: quiet})
	require.NoError(b, err)
	b.Cleanup(func() { connectors.Close(c) })
	return &benchDB{my: my}, c.(*mysql.MySQL), duck
}

type benchDB struct{ my *sql.DB }

func reportRows(b *testing.B, rows int) {
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkMySQLTap: ours streams the table into Arrow batches; the reference is the bare
// driver reading the same rows into Go values (the floor: no Arrow at all).
func BenchmarkMySQLTap(b *testing.B) {
	fx, c, _ := benchFixture(b)
	ctx := context.Background()
	b.Run("ours", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			r, err := c.Tap(ctx, "")
			require.NoError(b, err)
			n := 0
			for r.Next() {
				n += int(r.RecordBatch().NumRows())
			}
			require.NoError(b, r.Err())
			r.Release()
			require.Equal(b, benchRows, n)
		}
		reportRows(b, benchRows)
	})
	b.Run("reference", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			rows, err := fx.my.QueryContext(ctx, "SELECT * FROM orders")
			require.NoError(b, err)
			var (
				id       int32
				customer string
				amount   sql.RawBytes
				placed   sql.RawBytes
				note     sql.NullString
			)
			n := 0
			for rows.Next() {
				require.NoError(b, rows.Scan(&id, &customer, &amount, &placed, &note))
				n++
			}
			require.NoError(b, rows.Err())
			rows.Close()
			require.Equal(b, benchRows, n)
		}
		reportRows(b, benchRows)
	})
}

// BenchmarkMySQLSink: ours sinks a DuckDB query's Arrow stream into a new table (transaction,
// staging table, rename); the reference is a hand-written loader inserting the same rows, already
// in Go memory, with the same multi-row INSERTs in one transaction.
func BenchmarkMySQLSink(b *testing.B) {
	fx, c, duck := benchFixture(b)
	ctx := context.Background()
	query := fmt.Sprintf(`SELECT i::INT AS id, 'customer-' || (i %% 1000) AS customer, (i * 0.01)::DECIMAL(10,2) AS amount,
		TIMESTAMP '2024-01-01' + to_seconds(i) AS placed, CASE WHEN i %% 3 = 0 THEN NULL ELSE 'some note' END AS note
		FROM range(%d) t(i)`, benchRows)
	b.Run("ours", func(b *testing.B) {
		s, err := duck.NewSession(ctx)
		require.NoError(b, err)
		defer s.Close()
		for i := 0; i < b.N; i++ {
			_, err := fx.my.ExecContext(ctx, "DROP TABLE IF EXISTS orders")
			require.NoError(b, err)
			r, err := s.QueryArrow(ctx, query)
			require.NoError(b, err)
			n, err := c.Sink(ctx, r)
			r.Release()
			require.NoError(b, err)
			require.Equal(b, int64(benchRows), n)
		}
		reportRows(b, benchRows)
	})
	b.Run("reference", func(b *testing.B) {
		type row struct {
			id       int64
			customer string
			amount   string
			placed   string
			note     any
		}
		data := make([]row, benchRows)
		base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		for i := range data {
			var note any = "some note"
			if i%3 == 0 {
				note = nil
			}
			data[i] = row{int64(i), fmt.Sprintf("customer-%d", i%1000), fmt.Sprintf("%d.%02d", i/100, i%100),
				base.Add(time.Duration(i) * time.Second).Format("2006-01-02 15:04:05"), note}
		}
		const batch = 2048
		insert := "INSERT INTO orders2 (id, customer, amount, placed, note) VALUES " + strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?), ", batch), ", ")
		for i := 0; i < b.N; i++ {
			for _, q := range []string{"DROP TABLE IF EXISTS orders2",
				"CREATE TABLE orders2 (id INT, customer LONGTEXT, amount DECIMAL(10,2), placed DATETIME(6), note LONGTEXT)"} {
				_, err := fx.my.ExecContext(ctx, q)
				require.NoError(b, err)
			}
			tx, err := fx.my.BeginTx(ctx, nil)
			require.NoError(b, err)
			stmt, err := tx.PrepareContext(ctx, insert)
			require.NoError(b, err)
			args := make([]any, 0, batch*5)
			for j, r := range data {
				args = append(args, r.id, r.customer, r.amount, r.placed, r.note)
				if (j+1)%batch == 0 {
					_, err := stmt.ExecContext(ctx, args...)
					require.NoError(b, err)
					args = args[:0]
				}
			}
			if len(args) > 0 {
				n := len(args) / 5
				_, err := tx.ExecContext(ctx, "INSERT INTO orders2 (id, customer, amount, placed, note) VALUES "+strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?), ", n), ", "), args...)
				require.NoError(b, err)
			}
			stmt.Close()
			require.NoError(b, tx.Commit())
		}
		reportRows(b, benchRows)
	})
}
