package testenv

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the kernel kill a test server when the test binary dies without running
// its cleanups (a test timeout panics): an orphaned server would keep the binary's output pipe
// open, and `go test` would wait for it forever.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
