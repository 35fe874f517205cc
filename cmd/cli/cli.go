// Package cli is the ankaflow command line. It is a package (not only a main) so that users can
// build their own binary with their custom connections compiled in:
//
//	package main
//
//	import (
//		"os"
//
//		"github.com/ankaflow/ankaflow/cmd/cli"
//		_ "example.com/myapp/connectors" // registers myapp.connectors.database / MySQL
//	)
//
//	func main() { os.Exit(cli.Main()) }
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/ankaflow/ankaflow/pipeline"
	_ "github.com/ankaflow/ankaflow/sqlfuncs" // the SQL functions (tap, COPY … (FORMAT ankaflow), …)
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1 // the run (or a statement) failed
	exitInvalid = 2 // invalid pipeline or usage
)

// Main runs the command line with os.Args and returns the exit code.
func Main() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
}

// Run runs one command; tests call it directly.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitInvalid
	}
	cmd, rest := args[0], args[1:]
	io := &stdio{in: stdin, out: stdout, err: stderr}
	var err error
	switch cmd {
	case "run":
		err = cmdRun(ctx, rest, io)
	case "plan":
		err = cmdPlan(ctx, rest, io)
	case "validate":
		err = cmdValidate(ctx, rest, io)
	case "sql":
		err = cmdSQL(ctx, rest, io)
	case "serve":
		err = cmdServe(ctx, rest, io)
	case "adduser":
		err = cmdAddUser(rest, io)
	case "connections":
		err = cmdConnections(rest, io)
	case "demo":
		err = cmdRun(ctx, append([]string{demoName}, rest...), io)
	case "version", "--version":
		if _, err = parseArgs(rest, nil); err == nil {
			fmt.Fprintln(stdout, "ankaflow", Version)
		}
	case "help":
		err = cmdHelp(rest, io)
	case "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "ankaflow: unknown command %q\n\n%s", cmd, usage)
		return exitInvalid
	}
	if errors.Is(err, errHelp) {
		c, _ := findCommand(strings.TrimPrefix(cmd, "--")) // --version is version
		printCommandHelp(stdout, c)
		return exitOK
	}
	return exitCode(err, stderr)
}

// Version is set at build time with -ldflags "-X github.com/ankaflow/ankaflow/cmd/cli.Version=…".
var Version = "dev"

type stdio struct {
	in       io.Reader
	out, err io.Writer
}

// invalid marks errors already printed as validation problems (exit 2).
type invalid struct{ n int }

func (e *invalid) Error() string { return fmt.Sprintf("%d problem(s) in the pipeline", e.n) }

// failed marks run failures already printed.
var errReported = errors.New("reported")

func exitCode(err error, stderr io.Writer) int {
	var ue *usageError
	var inv *invalid
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "ankaflow: %s\n(run `ankaflow help` for usage)\n", ue.msg)
		return exitInvalid
	case errors.As(err, &inv):
		return exitInvalid
	case pipeline.IsInvalid(err):
		fmt.Fprintln(stderr, err)
		return exitInvalid
	case errors.Is(err, errReported):
		return exitFailure
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(stderr, "ankaflow: interrupted")
		return exitFailure
	default:
		fmt.Fprintf(stderr, "error: %s\n", err)
		return exitFailure
	}
}

const usage = `ankaflow: SQL-first data pipelines on DuckDB

Usage:
  ankaflow run FILE.yaml [-v key=value]... [-c key=value]... [--db PATH] [--config FILE] [-o csv|parquet|json PATH]
  ankaflow plan FILE.yaml [-v key=value]... [-c key=value]... [--config FILE] [-o FORMAT PATH]
  ankaflow validate FILE.yaml [--json]
  ankaflow sql [--pipeline FILE.yaml]... [--db PATH] [-c STATEMENT | -f FILE.sql | -f -] [--format table|csv|json]
  ankaflow serve [--listen 127.0.0.1:5433] [--db PATH] [--pipeline FILE.yaml]... [--users FILE] [--tls-cert F --tls-key F]
  ankaflow adduser --users FILE NAME   add a wire-server user; the password is read from standard input
  ankaflow demo                 run the embedded demo pipeline (same as: ankaflow run DEMO)
  ankaflow connections          list the connection kinds compiled into this binary
  ankaflow version
  ankaflow help COMMAND         usage and flags of a command (also: ankaflow COMMAND --help)

Exit codes: 0 success, 1 run failure, 2 invalid pipeline or usage.
Run-wide configuration: --config FILE (local: {bucket, data_prefix, locator_wildcard}) or the
environment variables ANKAFLOW_BUCKET, ANKAFLOW_DATA_PREFIX, ANKAFLOW_LOCATOR_WILDCARD.
`

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func oneArg(p *parsed, what string) (string, error) {
	switch len(p.args) {
	case 0:
		return "", usagef("missing %s", what)
	case 1:
		return p.args[0], nil
	}
	return "", usagef("unexpected arguments: %s", strings.Join(p.args[1:], " "))
}
