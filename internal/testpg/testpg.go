// Package testpg gives tests and benchmarks the real external programs they compare against
// or drive: a throwaway PostgreSQL server (initdb + pg_ctl in a temporary directory, on a free
// loopback port), and NeedBinary for tools such as psql.
//
// Missing programs skip the test locally but fail it when CI=true, so CI never silently runs
// less than it should. On Debian the programs come from the packages postgresql (server) and
// postgresql-client (psql).
package testpg

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ankaflow/ankaflow/internal/testenv"
)

// NeedBinary returns the path of an external program a test needs. It looks in PATH and in
// PostgreSQL's versioned bin directories (/usr/lib/postgresql/*/bin on Debian). When the
// program is missing the test is skipped, or fails if the environment variable CI is "true".
func NeedBinary(t testing.TB, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if p := findPGBin(name); p != "" {
		return p
	}
	Missing(t, fmt.Sprintf("%s not found in PATH or /usr/lib/postgresql/*/bin (Debian: apt-get install postgresql postgresql-client)", name))
	return ""
}

// Missing skips the test with reason, or fails it under CI=true.
var Missing = testenv.Missing

func findPGBin(name string) string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgVersion(dirs[i]) > pgVersion(dirs[j]) })
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	return ""
}

func pgVersion(binDir string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(binDir)), 64)
	return v
}

// Options configure Start.
type Options struct {
	// User is the superuser created by initdb (default "tester").
	User string
	// Password, if set, is required for TCP connections (SCRAM-SHA-256); otherwise TCP
	// connections are trusted.
	Password string
	// Settings are extra server settings (postgres -c name=value).
	Settings map[string]string
}

// Server is a running throwaway PostgreSQL cluster.
type Server struct {
	Host     string // 127.0.0.1
	Port     int
	User     string
	Password string
	Database string // "postgres"
	Dir      string // cluster directory (data, socket, log)

	pgCtl string
	cred  *syscall.Credential
}

// Start initialises and starts a PostgreSQL cluster for the test; it is stopped and removed
// when the test ends. It skips (or fails under CI=true) when the server programs are missing.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	initdb := NeedBinary(t, "initdb")
	pgCtl := filepath.Join(filepath.Dir(initdb), "pg_ctl")
	if _, err := os.Stat(pgCtl); err != nil {
		pgCtl = NeedBinary(t, "pg_ctl")
	}
	if opts.User == "" {
		opts.User = "tester"
	}
	dir, err := os.MkdirTemp("", "testpg-")
	if err != nil {
		t.Fatal(err)
	}
	// PostgreSQL refuses to run as root: run it as the postgres user when we are root.
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			os.RemoveAll(dir)
			Missing(t, "running as root and there is no postgres user to run PostgreSQL as")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		os.Chmod(dir, 0o755)
		os.Chown(dir, uid, gid)
	}
	s := &Server{Host: "127.0.0.1", User: opts.User, Password: opts.Password, Database: "postgres", Dir: dir, pgCtl: pgCtl, cred: cred}
	t.Cleanup(func() {
		s.Stop()
		os.RemoveAll(dir)
	})
	data := filepath.Join(dir, "data")
	args := []string{"-D", data, "-U", opts.User, "-E", "UTF8", "--no-locale", "-N", "--auth-local=trust"}
	if opts.Password != "" {
		pwfile := filepath.Join(dir, "pwfile")
		if err := os.WriteFile(pwfile, []byte(opts.Password+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if cred != nil {
			os.Chown(pwfile, int(cred.Uid), int(cred.Gid))
		}
		args = append(args, "--auth-host=scram-sha-256", "--pwfile="+pwfile)
	} else {
		args = append(args, "--auth-host=trust")
	}
	if out, err := s.run(initdb, args...); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		port, err := testenv.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		o := []string{"-p", strconv.Itoa(port), "-k", dir, "-c", "listen_addresses=127.0.0.1",
			"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"}
		keys := make([]string, 0, len(opts.Settings))
		for k := range opts.Settings {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			o = append(o, "-c", k+"="+opts.Settings[k])
		}
		out, err := s.run(pgCtl, "-D", data, "-l", filepath.Join(dir, "log"), "-w", "-t", "60", "-o", strings.Join(o, " "), "start")
		if err == nil {
			s.Port = port
			return s
		}
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		lastErr = fmt.Errorf("%v\n%s\n%s", err, out, log)
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("pg_ctl start: %v", lastErr)
	return nil
}

func (s *Server) run(prog string, args ...string) ([]byte, error) {
	cmd := exec.Command(prog, args...)
	cmd.Dir = s.Dir
	if s.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	}
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	return out.Bytes(), err
}

// Stop stops the server (also done automatically when the test ends).
func (s *Server) Stop() {
	if s.Port == 0 {
		return
	}
	s.run(s.pgCtl, "-D", filepath.Join(s.Dir, "data"), "-m", "immediate", "-w", "stop")
	s.Port = 0
}

// URL is a connection URL for database db ("" = the default database).
func (s *Server) URL(db string) string {
	if db == "" {
		db = s.Database
	}
	auth := s.User
	if s.Password != "" {
		auth += ":" + s.Password
	}
	return fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", auth, s.Host, s.Port, db)
}

// Addr is host:port.
func (s *Server) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }
