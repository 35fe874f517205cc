package cli

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/ankaflow/ankaflow/engine"
	"github.com/ankaflow/ankaflow/pgwire"
	"github.com/ankaflow/ankaflow/pipeline"
)

var serveFlags = []flagSpec{
	{names: []string{"--listen"}, arity: 1, meta: "HOST:PORT", help: "address to listen on (default 127.0.0.1:5433)"},
	{names: []string{"--db"}, arity: 1, meta: "PATH", help: "DuckDB database file shared by all clients (default: in memory)"},
	{names: []string{"--pipeline", "-p"}, arity: 1, repeat: true, meta: "FILE.yaml", help: "register this pipeline's connections for every client (repeatable)"},
	{names: []string{"--users"}, arity: 1, meta: "FILE", help: "users file with SCRAM-SHA-256 verifiers (see `ankaflow adduser`)"},
	{names: []string{"--auth"}, arity: 1, meta: "METHOD", help: "scram-sha-256 (default with --users), md5, password, or trust (loopback only)"},
	{names: []string{"--tls-cert"}, arity: 1, meta: "FILE", help: "PEM certificate: enables TLS"},
	{names: []string{"--tls-key"}, arity: 1, meta: "FILE", help: "PEM private key"},
	{names: []string{"--max-conns"}, arity: 1, meta: "N", help: "maximum concurrent clients (default 100)"},
	{names: []string{"-v", "--var"}, arity: 1, repeat: true, meta: "key=value", help: "variable for rendering the pipelines' connections"},
	{names: []string{"-c", "--context"}, arity: 1, repeat: true, meta: "key=value", help: "template context for rendering the pipelines' connections"},
	{names: []string{"--config"}, arity: 1, meta: "FILE", help: "run-wide connection configuration"},
	{names: []string{"--memory-limit"}, arity: 1, meta: "SIZE", help: "DuckDB memory limit: a size (4GB) or a share of physical memory (default 50%)"},
	{names: []string{"--auth-timeout"}, arity: 1, meta: "DURATION", help: "time a client has to authenticate (default 10s)"},
	{names: []string{"--allow-dir"}, arity: 1, repeat: true, meta: "DIR", help: "clients may only read and write files under DIR (repeatable); without it they have the server account's file access"},
}

func cmdServe(ctx context.Context, args []string, io *stdio) error {
	p, err := parseArgs(args, serveFlags)
	if err != nil {
		return err
	}
	if len(p.args) > 0 {
		return usagef("unexpected arguments: %s", strings.Join(p.args, " "))
	}
	if p.has("--tls-cert") != p.has("--tls-key") {
		return usagef("give both --tls-cert and --tls-key")
	}
	maxConns := 0
	if v := p.str("--max-conns"); v != "" {
		if maxConns, err = strconv.Atoi(v); err != nil || maxConns <= 0 {
			return usagef("--max-conns must be a positive number, got %q", v)
		}
	}
	vars, err := keyValues("-v", p.all("-v"))
	if err != nil {
		return err
	}
	user, err := keyValues("-c", p.all("-c"))
	if err != nil {
		return err
	}
	cfg, err := runConfig(p.str("--config"))
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(io.err, nil))
	memLimit, err := memoryLimitSetting(p.str("--memory-limit"))
	if err != nil {
		return err
	}
	authTimeout, err := authTimeoutSetting(p.str("--auth-timeout"))
	if err != nil {
		return err
	}
	var settings map[string]string
	if memLimit != "" {
		settings = map[string]string{"memory_limit": memLimit}
	}

	db, err := engine.Open(ctx, engine.Options{Path: p.str("--db"), Settings: settings})
	if err != nil {
		return err
	}
	defer db.Close()
	pipeline.SetDefaultConfig(db, cfg) // for run_pipeline()/load_pipeline() from clients
	if err := registerPipelines(ctx, p.all("--pipeline"), db, nil, pipeline.Options{
		Variables: vars, Context: buildContext(user), Config: cfg, Stderr: io.err,
	}, io, log); err != nil {
		return err
	}
	if dirs := p.all("--allow-dir"); len(dirs) > 0 {
		if err := restrictFiles(ctx, db, dirs, p.str("--db")); err != nil {
			return err
		}
	}
	srv, err := pgwire.New(pgwire.Config{
		Listen:      p.str("--listen"),
		DB:          db,
		UsersFile:   p.str("--users"),
		AuthMethod:  p.str("--auth"),
		TLSCertFile: p.str("--tls-cert"),
		TLSKeyFile:  p.str("--tls-key"),
		MaxConns:    maxConns,
		AuthTimeout: authTimeout,
		Logger:      log,
	})
	if err != nil {
		return usagef("serve: %s", err)
	}
	return srv.Serve(ctx)
}

// cmdAddUser adds (or updates) a user of `serve --users FILE`; the password is read from the
// first line of standard input, so it never appears in the process list or shell history.
func cmdAddUser(args []string, io *stdio) error {
	p, err := parseArgs(args, addUserFlags)
	if err != nil {
		return err
	}
	name, err := oneArg(p, "user name")
	if err != nil {
		return err
	}
	if !p.has("--users") {
		return usagef("adduser needs --users FILE")
	}
	line, err := bufio.NewReader(io.in).ReadString('\n')
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return usagef("adduser reads the password from the first line of standard input; it was empty (%v)", err)
	}
	var role pgwire.Role
	if p.has("--role") {
		if role, err = pgwire.ParseRole(p.str("--role")); err != nil {
			return usagef("--role: %v", err)
		}
	}
	saved, err := pgwire.AddUserRole(p.str("--users"), name, pw, role)
	if err != nil {
		return err
	}
	fmt.Fprintf(io.err, "user %s saved in %s (SCRAM-SHA-256 verifier, role %s)\n", name, p.str("--users"), saved)
	return nil
}
