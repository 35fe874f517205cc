package testenv

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// StartServer builds the Go main package in dir (the build cache makes this a link step), runs
// it with args until the test ends, and returns the address it prints first as
// "listening on ADDR". The object-storage test servers (internal/tests3, internal/testgcs) use
// it so that each runs as its own process, as a real store would.
func StartServer(tb testing.TB, dir, what string, args ...string) string {
	tb.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		Missing(tb, "the go command (to build the "+what+")")
	}
	bin := filepath.Join(tb.TempDir(), filepath.Base(dir))
	build := exec.Command(goBin, "build", "-o", bin, ".")
	build.Dir = dir
	if out, err := build.CombinedOutput(); err != nil {
		tb.Fatalf("build the %s: %v\n%s", what, err, out)
	}
	cmd := exec.Command(bin, args...)
	dieWithParent(cmd)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		tb.Fatalf("the %s did not start: %v", what, err)
	}
	return strings.TrimSpace(strings.TrimPrefix(line, "listening on "))
}

// CancelWhen returns a context that is cancelled as soon as started reports true (polled every
// 20 ms): a test cancels an upload once the server has seen it begin.
func CancelWhen(started func() bool) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for ctx.Err() == nil && !started() {
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
	}()
	return ctx, cancel
}
