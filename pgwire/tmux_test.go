package pgwire

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// terminal runs an interactive program (pgcli, psql) in a detached tmux session of its own
// (private socket) so a test can type keys and read the screen, as a user at a terminal would.
type terminal struct {
	t      *testing.T
	tmux   string
	socket string
}

// startTerminal starts command (run by sh) in a 200x60 terminal with the given environment.
func startTerminal(t *testing.T, env []string, command string) *terminal {
	t.Helper()
	tm := &terminal{t: t, tmux: needProgram(t, "tmux (Debian: apt-get install tmux)", "tmux"), socket: filepath.Join(t.TempDir(), "tmux.sock")}
	cmd := exec.Command(tm.tmux, "-S", tm.socket, "-f", os.DevNull, "new-session", "-d", "-x", "200", "-y", "60", command)
	cmd.Env = append(env, "TERM=xterm-256color")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "tmux: %s", out)
	t.Cleanup(func() { _ = exec.Command(tm.tmux, "-S", tm.socket, "kill-server").Run() })
	return tm
}

// keys types keys (tmux send-keys names: "Enter", "Tab", "C-u"; anything else is literal text).
func (tm *terminal) keys(keys ...string) {
	tm.t.Helper()
	out, err := exec.Command(tm.tmux, append([]string{"-S", tm.socket, "send-keys"}, keys...)...).CombinedOutput()
	require.NoError(tm.t, err, "tmux send-keys: %s", out)
}

// text sends literal text (no key-name interpretation).
func (tm *terminal) text(s string) {
	tm.t.Helper()
	out, err := exec.Command(tm.tmux, "-S", tm.socket, "send-keys", "-l", "--", s).CombinedOutput()
	require.NoError(tm.t, err, "tmux send-keys: %s", out)
}

// screen is what the terminal shows, with its scrollback.
func (tm *terminal) screen() string {
	out, err := exec.Command(tm.tmux, "-S", tm.socket, "capture-pane", "-p", "-S", "-2000").Output()
	if err != nil {
		return ""
	}
	return string(out)
}

// waitFor polls the screen until ok accepts it, and returns it; it fails the test after timeout.
func (tm *terminal) waitFor(what string, timeout time.Duration, ok func(screen string) bool) string {
	tm.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		s := tm.screen()
		if ok(s) {
			return s
		}
		select {
		case <-ctx.Done():
			tm.t.Fatalf("terminal: timed out waiting for %s; screen:\n%s", what, s)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// lastLine is the last non-blank line of a screen.
func lastLine(screen string) string {
	lines := strings.Split(strings.TrimRight(screen, "\n "), "\n")
	return lines[len(lines)-1]
}
