// Package mariadbtest runs a throwaway MariaDB (or MySQL) server for tests: a fresh data
// directory in a temporary directory, a server on a free TCP port of 127.0.0.1 and a Unix
// socket beside the data, a database and a user with a password. Nothing outside the temporary
// directory is touched, and Stop removes it.
//
// It needs the server binaries of Debian's mariadb-server package (mariadb-install-db and
// mariadbd; the older names mysql_install_db and mysqld work too):
//
//	apt-get install -y mariadb-server
//
// Start skips the test when they are missing, except under CI=true, where it fails: CI must
// install them.
package mariadbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/ankaflow/ankaflow/internal/testenv"
)

// Options tune a server.
type Options struct {
	// Database and User are created at start (defaults "ankaflow_test" and "ankaflow"); the
	// user gets a random password and every privilege on every database.
	Database string
	User     string
	// Args are extra server options, e.g. "--max-allowed-packet=64K".
	Args []string
	// StartTimeout bounds the wait for the server to accept connections (default 60s).
	StartTimeout time.Duration
}

// Server is a running throwaway server.
type Server struct {
	Host     string // 127.0.0.1
	Port     int
	Socket   string
	Database string
	User     string
	Password string
	Version  string

	dir     string
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
	admin   *sql.DB
}

// Binaries are the server programs found on this machine.
type Binaries struct {
	InstallDB string // mariadb-install-db or mysql_install_db
	Server    string // mariadbd or mysqld
}

// ErrNoBinaries reports that the MariaDB server programs are not installed.
var ErrNoBinaries = errors.New("MariaDB server binaries not found (install Debian's mariadb-server: apt-get install -y mariadb-server)")

// Find locates the server programs on PATH and in /usr/sbin, /usr/bin, /usr/local/(s)bin.
func Find() (Binaries, error) {
	find := func(names ...string) string {
		for _, n := range names {
			if p, err := exec.LookPath(n); err == nil {
				return p
			}
			for _, d := range []string{"/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin", "/usr/libexec"} {
				p := filepath.Join(d, n)
				if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
					return p
				}
			}
		}
		return ""
	}
	b := Binaries{InstallDB: find("mariadb-install-db", "mysql_install_db"), Server: find("mariadbd", "mysqld")}
	if b.InstallDB == "" || b.Server == "" {
		return b, ErrNoBinaries
	}
	return b, nil
}

// Require skips tb when the binaries are missing, or fails it under CI=true.
func Require(tb testing.TB) Binaries {
	tb.Helper()
	b, err := Find()
	if err != nil {
		testenv.Missing(tb, err.Error())
	}
	return b
}

// Start starts a server for tb and stops it when tb ends. See Require for missing binaries.
func Start(tb testing.TB, opts Options) *Server {
	tb.Helper()
	Require(tb)
	s, err := New(opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := s.Stop(); err != nil {
			tb.Errorf("stop MariaDB: %v", err)
		}
	})
	return s
}

// New starts a server; the caller must Stop it.
func New(opts Options) (*Server, error) {
	bins, err := Find()
	if err != nil {
		return nil, err
	}
	if opts.Database == "" {
		opts.Database = "ankaflow_test"
	}
	if opts.User == "" {
		opts.User = "ankaflow"
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 60 * time.Second
	}
	// Unix socket paths are limited to ~107 bytes: keep the directory short.
	dir, err := os.MkdirTemp("", "mdb")
	if err != nil {
		return nil, err
	}
	s := &Server{Host: "127.0.0.1", Database: opts.Database, User: opts.User, Password: "pw-" + randomHex(12), dir: dir, Socket: filepath.Join(dir, "mysqld.sock")}
	if err := s.start(bins, opts); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// common options of install and server: small InnoDB files, nothing read from /etc/mysql.
func (s *Server) baseArgs() []string {
	args := []string{"--no-defaults", "--datadir=" + filepath.Join(s.dir, "data"), "--innodb-log-file-size=16M"}
	if os.Geteuid() == 0 {
		args = append(args, "--user=root")
	}
	return args
}

func (s *Server) start(bins Binaries, opts Options) error {
	install := exec.Command(bins.InstallDB, append(s.baseArgs(),
		"--auth-root-authentication-method=normal", "--skip-test-db")...)
	if out, err := install.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %v\n%s", bins.InstallDB, err, tail(string(out), 3000))
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := testenv.FreePort()
		if err != nil {
			return err
		}
		s.Port = port
		lastErr = s.launch(bins, opts)
		if lastErr == nil {
			return s.setup()
		}
		if !strings.Contains(lastErr.Error(), "already in use") {
			break
		}
	}
	return lastErr
}

func (s *Server) launch(bins Binaries, opts Options) error {
	logPath := filepath.Join(s.dir, "error.log")
	os.Remove(logPath)
	args := append(s.baseArgs(),
		"--port="+strconv.Itoa(s.Port),
		"--bind-address=127.0.0.1",
		"--socket="+s.Socket,
		"--pid-file="+filepath.Join(s.dir, "mysqld.pid"),
		"--log-error="+logPath,
		"--skip-name-resolve",
		"--innodb-buffer-pool-size=64M",
		"--max-connections=100",
		"--character-set-server=utf8mb4",
		"--collation-server=utf8mb4_general_ci",
	)
	args = append(args, opts.Args...)
	cmd := exec.Command(bins.Server, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", bins.Server, err)
	}
	s.cmd = cmd
	s.exited = make(chan struct{})
	go func() {
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()
	cfg := mysql.NewConfig()
	cfg.Net, cfg.Addr, cfg.User = "unix", s.Socket, "root"
	cfg.Timeout = 2 * time.Second
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return err
	}
	admin := sql.OpenDB(connector)
	deadline := time.Now().Add(opts.StartTimeout)
	for {
		select {
		case <-s.exited:
			admin.Close()
			s.cmd = nil
			log, _ := os.ReadFile(logPath)
			return fmt.Errorf("%s exited during start-up (%v):\n%s", bins.Server, s.waitErr, tail(string(log), 3000))
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := admin.PingContext(ctx)
		cancel()
		if err == nil {
			s.admin = admin
			return nil
		}
		if time.Now().After(deadline) {
			admin.Close()
			log, _ := os.ReadFile(logPath)
			return fmt.Errorf("MariaDB did not accept connections within %s: %v\n%s", opts.StartTimeout, err, tail(string(log), 3000))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *Server) setup() error {
	ctx := context.Background()
	if err := s.admin.QueryRowContext(ctx, "SELECT VERSION()").Scan(&s.Version); err != nil {
		return err
	}
	for _, q := range []string{
		"CREATE DATABASE " + quote(s.Database),
		"CREATE USER " + quoteString(s.User) + "@'%' IDENTIFIED BY " + quoteString(s.Password),
		"GRANT ALL PRIVILEGES ON *.* TO " + quoteString(s.User) + "@'%'",
	} {
		if _, err := s.admin.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

func quote(ident string) string { return "`" + strings.ReplaceAll(ident, "`", "``") + "`" }

func quoteString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `''`).Replace(s) + "'"
}

// Admin is a root connection over the Unix socket.
func (s *Server) Admin() *sql.DB { return s.admin }

// Params are the connection params of the test user, as a pipeline's `params` would give them.
func (s *Server) Params() map[string]any {
	return map[string]any{"host": s.Host, "port": s.Port, "user": s.User, "password": s.Password, "database": s.Database}
}

// Config is a go-sql-driver configuration for the test user over TCP; its sessions run in UTC.
func (s *Server) Config(database string) *mysql.Config {
	cfg := mysql.NewConfig()
	cfg.Net, cfg.Addr = "tcp", net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
	cfg.User, cfg.Passwd, cfg.DBName = s.User, s.Password, database
	cfg.Params = map[string]string{"time_zone": "'+00:00'"}
	return cfg
}

// Open connects as the test user to database ("" for none).
func (s *Server) Open(database string) (*sql.DB, error) {
	connector, err := mysql.NewConnector(s.Config(database))
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(connector), nil
}

// CreateDatabase creates a database (dropping an older one of the same name), so tests sharing
// a server do not see each other's tables.
func (s *Server) CreateDatabase(name string) error {
	ctx := context.Background()
	if _, err := s.admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+quote(name)); err != nil {
		return err
	}
	_, err := s.admin.ExecContext(ctx, "CREATE DATABASE "+quote(name))
	return err
}

// Stop shuts the server down (SIGTERM, then SIGKILL after 30s) and removes its directory.
func (s *Server) Stop() error {
	var errs []error
	if s.admin != nil {
		s.admin.Close()
		s.admin = nil
	}
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(30 * time.Second):
			s.cmd.Process.Kill()
			<-s.exited
			errs = append(errs, errors.New("MariaDB did not stop within 30s; killed"))
		}
		s.cmd = nil
	}
	if s.dir != "" {
		errs = append(errs, os.RemoveAll(s.dir))
		s.dir = ""
	}
	return errors.Join(errs...)
}
