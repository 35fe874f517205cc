package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// Per-command help: `ankaflow CMD --help`, `ankaflow CMD -h` and `ankaflow help CMD` print the
// command's usage and flags and exit 0. The flags come from the same flagSpec tables the
// commands parse with, so the help cannot drift from what is accepted.

// errHelp is returned by parseArgs when -h/--help is given; Run prints the command's help.
var errHelp = errors.New("help requested")

// helpFlag is what parseArgs accepts on every command besides the command's own flags.
var helpFlag = flagSpec{names: []string{"-h", "--help"}, help: "show this help"}

// command describes one command for its help page.
type command struct {
	name    string
	usage   string // after "ankaflow "
	summary string
	flags   func() []flagSpec // nil: no flags
}

var validateFlags = []flagSpec{
	{names: []string{"--json"}, help: "print problems as JSON"},
	{names: []string{"--db"}, arity: 1, meta: "PATH", help: "the database the pipeline will run on (tables may pre-exist)"},
}

var addUserFlags = []flagSpec{
	{names: []string{"--users"}, arity: 1, meta: "FILE", help: "users file"},
	{names: []string{"--role"}, arity: 1, meta: "ROLE", help: "user (default for a new user: no file access outside --allow-dir, no ATTACH/INSTALL/LOAD/global SET) or admin (everything)"},
}

var commands = []command{
	{name: "run", usage: "run FILE.yaml [flags]", flags: func() []flagSpec { return runFlags },
		summary: "Validate and run a pipeline. FILE.yaml may be DEMO for the embedded demo pipeline."},
	{name: "plan", usage: "plan FILE.yaml [flags]", flags: func() []flagSpec { return runFlags },
		summary: "Print the SQL script `run` would execute, with the steps ankaflow performs as comments.\nNothing is run."},
	{name: "validate", usage: "validate FILE.yaml [flags]", flags: func() []flagSpec { return validateFlags },
		summary: "Check a pipeline without running it and print every problem with its file:line:col.\nExit code 2 when there are errors."},
	{name: "sql", usage: "sql [flags]", flags: func() []flagSpec { return sqlFlags },
		summary: "Run SQL in DuckDB with the connections of the given pipelines available to tap(),\nshow_schema(), COPY … TO 'Name' (FORMAT ankaflow) and connection_sql()."},
	{name: "serve", usage: "serve [flags]", flags: func() []flagSpec { return serveFlags },
		summary: "Serve DuckDB over the PostgreSQL wire protocol (psql, JDBC, psycopg2, node-postgres…)."},
	{name: "adduser", usage: "adduser --users FILE NAME", flags: func() []flagSpec { return addUserFlags },
		summary: "Add or update a wire-server user; the password is read from the first line of standard input."},
	{name: "connections", usage: "connections",
		summary: "List the connection kinds (and custom connections) compiled into this binary."},
	{name: "demo", usage: "demo [flags]", flags: func() []flagSpec { return runFlags },
		summary: "Run the embedded demo pipeline (same as: ankaflow run DEMO)."},
	{name: "version", usage: "version", summary: "Print the version."},
	{name: "help", usage: "help [COMMAND]", summary: "Print the usage of ankaflow, or of one command."},
}

func findCommand(name string) (command, bool) {
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

func commandNames() []string {
	names := make([]string, len(commands))
	for i, c := range commands {
		names[i] = c.name
	}
	return names
}

// printCommandHelp writes a command's help page.
func printCommandHelp(w io.Writer, c command) {
	fmt.Fprintf(w, "Usage: ankaflow %s\n\n%s\n\nFlags:\n", c.usage, c.summary)
	var specs []flagSpec
	if c.flags != nil {
		specs = c.flags()
	}
	fmt.Fprint(w, helpText(append(append([]flagSpec{}, specs...), helpFlag)))
}

// cmdHelp is `ankaflow help [COMMAND]`.
func cmdHelp(args []string, io *stdio) error {
	switch len(args) {
	case 0:
		fmt.Fprint(io.out, usage)
		return nil
	case 1:
		if args[0] == "-h" || args[0] == "--help" {
			return errHelp
		}
		c, ok := findCommand(args[0])
		if !ok {
			return usagef("help: unknown command %q; commands: %s", args[0], strings.Join(commandNames(), ", "))
		}
		printCommandHelp(io.out, c)
		return nil
	}
	return usagef("help takes one command name")
}

// flagNames lists the flags of specs for messages: "-v, --var, --db, …".
func flagNames(specs []flagSpec) string {
	var names []string
	for _, s := range specs {
		names = append(names, s.names...)
	}
	names = append(names, helpFlag.names...)
	return strings.Join(names, ", ")
}
