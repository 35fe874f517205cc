// Package testenv is what tests that need real external programs (PostgreSQL, MariaDB, psql)
// share: one rule for a missing program, and free ports for throwaway servers.
package testenv

import (
	"net"
	"os"
	"testing"
)

// Missing skips the test with reason locally, but fails it when CI=true: CI must never
// silently run without the real servers the tests are about (.ci/run installs them).
func Missing(tb testing.TB, reason string) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatalf("required under CI=true (.ci/run must install it): %s", reason)
	}
	tb.Skipf("skipping: %s", reason)
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
