package testpg

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestStartAndConnect(t *testing.T) {
	for _, pw := range []string{"", "s3cret"} {
		s := Start(t, Options{Password: pw})
		c, err := pgx.Connect(context.Background(), s.URL(""))
		if err != nil {
			t.Fatal(err)
		}
		var v string
		if err := c.QueryRow(context.Background(), "SHOW server_version").Scan(&v); err != nil {
			t.Fatal(err)
		}
		t.Logf("PostgreSQL %s at %s", v, s.Addr())
		c.Close(context.Background())
	}
}

func TestNeedBinary(t *testing.T) {
	if p := NeedBinary(t, "psql"); p == "" {
		t.Fatal("empty path")
	}
}
