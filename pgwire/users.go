package pgwire

import (
	"bufio"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The users file lists one user per line as double-quoted fields, the user name and its
// password verifier (the format of PgBouncer's userlist.txt), and optionally the user's role
// (role.go): "admin" or "user". A line without a role is a "user" (secure by default).
//
//	"alice" "SCRAM-SHA-256$4096:<salt>$<StoredKey>:<ServerKey>" "admin"
//	"bob"   "md5<md5 hex of password+username>"
//
// A double quote inside a field is written twice. Blank lines and lines starting with # or ;
// are ignored. Plain-text passwords are not accepted. AddUser writes SCRAM-SHA-256 verifiers
// in PostgreSQL's format (pg_authid.rolpassword), so a verifier can also be copied from
// PostgreSQL.

const scramIterations = 4096

// scramVerifier is a parsed SCRAM-SHA-256 verifier.
type scramVerifier struct {
	iterations int
	salt       []byte
	storedKey  []byte
	serverKey  []byte
}

// userEntry is one user of the users file: a SCRAM verifier or an MD5 hash.
type userEntry struct {
	name  string
	scram *scramVerifier
	md5   string // "md5" + 32 hex digits
	role  Role   // RoleUser unless the line says "admin"
	// noRole: the line names no role (files written before roles existed); it gets RoleUser
	noRole bool
}

// HashPassword returns a SCRAM-SHA-256 verifier for password in PostgreSQL's format:
// SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey> (base64).
func HashPassword(password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	return scramVerifierFor(password, salt, scramIterations)
}

func scramVerifierFor(password string, salt []byte, iterations int) (string, error) {
	cred, err := storedCredentials(password, salt, iterations)
	if err != nil {
		return "", err
	}
	b64 := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("SCRAM-SHA-256$%d:%s$%s:%s", iterations, b64(salt), b64(cred.StoredKey), b64(cred.ServerKey)), nil
}

func hmacSHA256(key []byte, msg string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msg))
	return h.Sum(nil)
}

func parseScramVerifier(s string) (*scramVerifier, error) {
	rest, ok := strings.CutPrefix(s, "SCRAM-SHA-256$")
	if !ok {
		return nil, errors.New("not a SCRAM-SHA-256 verifier")
	}
	iterSalt, keys, ok := strings.Cut(rest, "$")
	if !ok {
		return nil, errors.New("malformed SCRAM verifier")
	}
	iterStr, saltStr, ok := strings.Cut(iterSalt, ":")
	if !ok {
		return nil, errors.New("malformed SCRAM verifier")
	}
	storedStr, serverStr, ok := strings.Cut(keys, ":")
	if !ok {
		return nil, errors.New("malformed SCRAM verifier")
	}
	iter, err := strconv.Atoi(iterStr)
	if err != nil || iter < 1 {
		return nil, errors.New("malformed SCRAM verifier: iteration count")
	}
	dec := base64.StdEncoding.DecodeString
	salt, err1 := dec(saltStr)
	stored, err2 := dec(storedStr)
	server, err3 := dec(serverStr)
	if err := errors.Join(err1, err2, err3); err != nil || len(stored) != sha256.Size || len(server) != sha256.Size {
		return nil, errors.New("malformed SCRAM verifier: bad base64 or key length")
	}
	return &scramVerifier{iterations: iter, salt: salt, storedKey: stored, serverKey: server}, nil
}

// checkPassword verifies a clear-text password against the entry.
func (u *userEntry) checkPassword(password string) bool {
	if u.scram != nil {
		cred, err := storedCredentials(password, u.scram.salt, u.scram.iterations)
		return err == nil && subtle.ConstantTimeCompare(cred.StoredKey, u.scram.storedKey) == 1
	}
	if u.md5 != "" {
		return subtle.ConstantTimeCompare([]byte(md5Hash(password, u.name)), []byte(u.md5)) == 1
	}
	return false
}

// md5Hash is PostgreSQL's stored MD5 form: "md5" + md5hex(password + user).
func md5Hash(password, user string) string {
	sum := md5.Sum([]byte(password + user))
	return "md5" + hex.EncodeToString(sum[:])
}

// parseUsers reads a users file.
func parseUsers(path string, data []byte) (map[string]*userEntry, error) {
	users := map[string]*userEntry{}
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for lineNo := 1; sc.Scan(); lineNo++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		fields, err := quotedFields(line)
		if err != nil || len(fields) < 2 || len(fields) > 3 {
			return nil, fmt.Errorf("%s:%d: expected \"user\" \"verifier\" [\"role\"]", path, lineNo)
		}
		u := &userEntry{name: fields[0], role: RoleUser, noRole: len(fields) == 2}
		if len(fields) == 3 {
			r, err := ParseRole(fields[2])
			if err != nil {
				return nil, fmt.Errorf("%s:%d: user %q: %v", path, lineNo, u.name, err)
			}
			u.role = r
		}
		switch v := fields[1]; {
		case strings.HasPrefix(v, "SCRAM-SHA-256$"):
			sv, err := parseScramVerifier(v)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: user %q: %v", path, lineNo, u.name, err)
			}
			u.scram = sv
		case len(v) == 35 && strings.HasPrefix(v, "md5"):
			if _, err := hex.DecodeString(v[3:]); err != nil {
				return nil, fmt.Errorf("%s:%d: user %q: malformed md5 hash", path, lineNo, u.name)
			}
			u.md5 = strings.ToLower(v)
		default:
			return nil, fmt.Errorf("%s:%d: user %q: the password must be a SCRAM-SHA-256 verifier or an md5 hash, not plain text (use `ankaflow adduser --users FILE NAME`)", path, lineNo, u.name)
		}
		users[u.name] = u
	}
	return users, sc.Err()
}

func quotedFields(line string) ([]string, error) {
	var out []string
	for i := 0; i < len(line); {
		if line[i] == ' ' || line[i] == '\t' {
			i++
			continue
		}
		if line[i] != '"' {
			return nil, errors.New("unquoted field")
		}
		var b strings.Builder
		i++
		closed := false
		for i < len(line) {
			if line[i] == '"' {
				if i+1 < len(line) && line[i+1] == '"' {
					b.WriteByte('"')
					i += 2
					continue
				}
				i++
				closed = true
				break
			}
			b.WriteByte(line[i])
			i++
		}
		if !closed {
			return nil, errors.New("unterminated quote")
		}
		out = append(out, b.String())
	}
	return out, nil
}

func quoteField(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// AddUser adds a user to the users file, or replaces the user's password, storing a
// SCRAM-SHA-256 verifier. The file is created (mode 0600) if missing and rewritten atomically.
// A new user gets RoleUser; an existing one keeps the role its line names (see AddUserRole).
func AddUser(usersFile, user, password string) error {
	_, err := AddUserRole(usersFile, user, password, "")
	return err
}

// AddUserRole is AddUser with a role: "" keeps an existing user's role (RoleUser for a new
// user or a line without one), otherwise the line gets this role. It returns the role saved.
func AddUserRole(usersFile, user, password string, role Role) (Role, error) {
	if role != "" {
		if _, err := ParseRole(string(role)); err != nil {
			return "", err
		}
	}
	if user == "" {
		return "", errors.New("user name must not be empty")
	}
	if password == "" {
		return "", errors.New("password must not be empty")
	}
	verifier, err := HashPassword(password)
	if err != nil {
		return "", err
	}
	data, err := os.ReadFile(usersFile)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	old, err := parseUsers(usersFile, data)
	if err != nil {
		return "", err
	}
	if role == "" {
		role = RoleUser
		if u := old[user]; u != nil {
			role = u.role
		}
	}
	newLine := quoteField(user) + " " + quoteField(verifier) + " " + quoteField(string(role))
	var lines []string
	replaced := false
	for _, line := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		t := strings.TrimSpace(line)
		if t != "" && t[0] == '"' {
			if f, err := quotedFields(t); err == nil && (len(f) == 2 || len(f) == 3) && f[0] == user {
				if !replaced {
					lines = append(lines, newLine)
					replaced = true
				}
				continue
			}
		}
		if line != "" || len(lines) > 0 {
			lines = append(lines, line)
		}
	}
	if !replaced {
		lines = append(lines, newLine)
	}
	out := strings.Join(lines, "\n") + "\n"
	tmp, err := os.CreateTemp(filepath.Dir(usersFile), ".users-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return "", err
	}
	if _, err := tmp.WriteString(out); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	return role, os.Rename(tmp.Name(), usersFile)
}

// userStore serves the users file, re-reading it when it changes (so `ankaflow adduser` takes effect
// without a restart).
type userStore struct {
	path string

	mu      sync.Mutex
	modTime time.Time
	size    int64
	users   map[string]*userEntry

	log        *slog.Logger // reports a reload that failed (nil: not reported)
	badModTime time.Time    // the failed version already reported
	badSize    int64
}

func newUserStore(path string) (*userStore, error) {
	us := &userStore{path: path}
	if _, err := us.get(); err != nil {
		return nil, err
	}
	return us, nil
}

func (us *userStore) get() (map[string]*userEntry, error) {
	us.mu.Lock()
	defer us.mu.Unlock()
	st, err := os.Stat(us.path)
	if err != nil {
		if us.users != nil {
			return us.users, nil // keep the last good list if the file vanished mid-rewrite
		}
		return nil, err
	}
	if us.users != nil && st.ModTime().Equal(us.modTime) && st.Size() == us.size {
		return us.users, nil
	}
	data, err := os.ReadFile(us.path)
	var users map[string]*userEntry
	if err == nil {
		users, err = parseUsers(us.path, data)
	}
	if err != nil {
		if us.users != nil {
			us.reportBadReload(st, err)
			return us.users, nil
		}
		return nil, err
	}
	us.users, us.modTime, us.size = users, st.ModTime(), st.Size()
	us.warnNoRole(users)
	return users, nil
}

func (us *userStore) lookup(name string) *userEntry {
	users, err := us.get()
	if err != nil {
		return nil
	}
	return users[name]
}
