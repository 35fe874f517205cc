package pgwire

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/internal/testpg"
)

// Outside BEGIN … COMMIT, the statements of one simple Query, and those of one extended-protocol
// batch (up to Sync), form an implicit transaction: an error rolls back the statements before
// it. Each scenario runs against this server and a real PostgreSQL, which must agree.
func TestImplicitTransactionBlocks(t *testing.T) {
	ctx := context.Background()
	ts := startServer(t, Config{})
	pg := testpg.Start(t, testpg.Options{})
	servers := map[string]string{"ankaflow": ts.url("tester", ""), "postgres": pg.URL("")}

	type outcome struct {
		Errors   []string // SQLSTATE of each failed step, "" for success
		Rows     []int    // the ids in the table afterwards, as another connection sees them
		Status   byte     // transaction status after the last step
		Warnings []string // SQLSTATE of the notices
	}
	scenarios := []struct {
		name  string
		steps func(c *pgx.Conn) []error
	}{
		{"simple query: a failure rolls back the statements before it", func(c *pgx.Conn) []error {
			return []error{simple(c, "INSERT INTO imp VALUES (1); INSERT INTO imp VALUES (2); INSERT INTO imp VALUES (1)")}
		}},
		{"simple query: all succeed", func(c *pgx.Conn) []error {
			return []error{simple(c, "INSERT INTO imp VALUES (1); INSERT INTO imp VALUES (2); SELECT count(*) FROM imp")}
		}},
		{"simple query: COMMIT ends the implicit block", func(c *pgx.Conn) []error {
			return []error{simple(c, "INSERT INTO imp VALUES (1); COMMIT; INSERT INTO imp VALUES (2); INSERT INTO imp VALUES (1)")}
		}},
		{"simple query: ROLLBACK ends the implicit block", func(c *pgx.Conn) []error {
			return []error{simple(c, "INSERT INTO imp VALUES (1); ROLLBACK; INSERT INTO imp VALUES (2)")}
		}},
		{"simple query: BEGIN makes the block explicit", func(c *pgx.Conn) []error {
			errs := []error{simple(c, "INSERT INTO imp VALUES (1); BEGIN; INSERT INTO imp VALUES (2)")}
			return append(errs, simple(c, "INSERT INTO imp VALUES (1)"), simple(c, "ROLLBACK"))
		}},
		{"simple query: an error after BEGIN fails the block", func(c *pgx.Conn) []error {
			errs := []error{simple(c, "BEGIN; INSERT INTO imp VALUES (3); INSERT INTO imp VALUES (3)")}
			return append(errs, simple(c, "SELECT 1"), simple(c, "COMMIT"))
		}},
		{"batch: a failure rolls back the batch", func(c *pgx.Conn) []error {
			return []error{batch(c, "INSERT INTO imp VALUES ($1)", 1, 2, 1)}
		}},
		{"batch: all succeed", func(c *pgx.Conn) []error {
			return []error{batch(c, "INSERT INTO imp VALUES ($1)", 1, 2, 3)}
		}},
		{"batch: then a single statement commits on its own", func(c *pgx.Conn) []error {
			errs := []error{batch(c, "INSERT INTO imp VALUES ($1)", 1, 1)}
			_, err := c.Exec(context.Background(), "INSERT INTO imp VALUES ($1)", 5)
			return append(errs, err)
		}},
		{"batch inside an explicit transaction", func(c *pgx.Conn) []error {
			errs := []error{simple(c, "BEGIN"), batch(c, "INSERT INTO imp VALUES ($1)", 7, 8)}
			return append(errs, batch(c, "INSERT INTO imp VALUES ($1)", 9, 7), simple(c, "COMMIT"))
		}},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			got := map[string]outcome{}
			for name, url := range servers {
				var warnings []string
				cfg, err := pgx.ParseConfig(url)
				require.NoError(t, err)
				cfg.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) { warnings = append(warnings, n.Code) }
				c, err := pgx.ConnectConfig(ctx, cfg)
				require.NoError(t, err)
				_, err = c.Exec(ctx, "DROP TABLE IF EXISTS imp")
				require.NoError(t, err)
				_, err = c.Exec(ctx, "CREATE TABLE imp (id integer PRIMARY KEY)")
				require.NoError(t, err)
				warnings = nil // PostgreSQL's notice that imp did not exist
				var o outcome
				for _, err := range sc.steps(c) {
					o.Errors = append(o.Errors, sqlstate(err))
				}
				o.Status = c.PgConn().TxStatus()
				o.Warnings = warnings
				other, err := pgx.Connect(ctx, url)
				require.NoError(t, err)
				rows, err := other.Query(ctx, "SELECT id FROM imp ORDER BY id")
				require.NoError(t, err)
				o.Rows, err = pgx.CollectRows(rows, pgx.RowTo[int])
				require.NoError(t, err)
				other.Close(ctx)
				c.Close(ctx)
				got[name] = o
			}
			require.Equal(t, got["postgres"], got["ankaflow"])
		})
	}
}

// simple sends q as one Query message and reads every result.
func simple(c *pgx.Conn, q string) error {
	_, err := c.PgConn().Exec(context.Background(), q).ReadAll()
	return err
}

// batch runs q once per value in one pipeline closed by a single Sync (pgx's SendBatch).
func batch(c *pgx.Conn, q string, values ...int) error {
	b := &pgx.Batch{}
	for _, v := range values {
		b.Queue(q, v)
	}
	return c.SendBatch(context.Background(), b).Close()
}

func sqlstate(err error) string {
	if err == nil {
		return ""
	}
	if pe, ok := err.(*pgconn.PgError); ok {
		return pe.Code
	}
	return fmt.Sprintf("%T: %v", err, err)
}
