package cli_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ankaflow/ankaflow/cmd/cli"
)

func runCLI(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := cli.Run(context.Background(), args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestCommandHelp: every command answers --help, -h and `help CMD` with its usage and flags,
// exit 0, and the three spellings print the same page.
func TestCommandHelp(t *testing.T) {
	flags := map[string][]string{
		"run":         {"-v, --var key=value", "-c, --context key=value", "--db PATH", "--config FILE", "-o, --output FORMAT PATH"},
		"plan":        {"-v, --var key=value", "--config FILE"},
		"validate":    {"--json", "--db PATH"},
		"sql":         {"--pipeline, -p FILE.yaml", "-c, --command STATEMENT", "-f, --file FILE.sql", "--format table|csv|json"},
		"serve":       {"--listen HOST:PORT", "--users FILE", "--tls-cert FILE", "--max-conns N"},
		"adduser":     {"--users FILE"},
		"connections": {},
		"demo":        {"--db PATH"},
		"version":     {},
		"help":        {},
	}
	for cmd, want := range flags {
		t.Run(cmd, func(t *testing.T) {
			code, page, errOut := runCLI(cmd, "--help")
			require.Equal(t, 0, code, errOut)
			require.Empty(t, errOut)
			require.True(t, strings.HasPrefix(page, "Usage: ankaflow "+cmd), page)
			require.Contains(t, page, "\nFlags:\n")
			require.Contains(t, page, "-h, --help")
			for _, f := range want {
				require.Contains(t, page, "  "+f+" ")
			}
			for _, alt := range [][]string{{cmd, "-h"}, {"help", cmd}} {
				code, again, errOut := runCLI(alt...)
				require.Equal(t, 0, code, errOut)
				require.Equal(t, page, again, "%v", alt)
			}
		})
	}
	code, page, _ := runCLI("--version", "--help")
	require.Equal(t, 0, code)
	require.True(t, strings.HasPrefix(page, "Usage: ankaflow version\n"), page)
	// --help after a positional, and after other flags, still asks for help (nothing runs).
	code, page, _ = runCLI("run", "missing.yaml", "-v", "a=1", "--help")
	require.Equal(t, 0, code)
	require.True(t, strings.HasPrefix(page, "Usage: ankaflow run FILE.yaml"), page)
	// A flag's value is a value, not a request for help: -c takes "--help" as the SQL text
	// (a comment), so nothing is printed.
	code, page, errOut := runCLI("sql", "-c", "--help")
	require.Equal(t, 0, code, errOut)
	require.Empty(t, page)
}

// TestUnknownFlagListsFlags: an unknown flag names the flags the command has.
func TestUnknownFlagListsFlags(t *testing.T) {
	code, out, errOut := runCLI("validate", "p.yaml", "--jsno")
	require.Equal(t, 2, code)
	require.Empty(t, out)
	require.Equal(t, "ankaflow: unknown flag --jsno; flags: --json, --db, -h, --help\n(run `ankaflow help` for usage)\n", errOut)

	code, _, errOut = runCLI("connections", "--all")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "unknown flag --all; flags: -h, --help")

	code, _, errOut = runCLI("help", "nope")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, `help: unknown command "nope"; commands: run, plan, validate, sql, serve, adduser, connections, demo, version, help`)
}
