package pgwire

import (
	"fmt"
	"sort"
	"strings"
)

// Role is what a wire-server user may do (docs/security.md):
//
//   - RoleAdmin: everything DuckDB allows (within `serve --allow-dir` when given).
//   - RoleUser: data work only. Every statement passes the gate in policy.go before it runs:
//     no file access unless `serve --allow-dir` confines files for the whole database, no
//     ATTACH/DETACH/INSTALL/LOAD/EXPORT/IMPORT, no CREATE SECRET, SET only of session-local
//     settings.
//
// A users-file line without a role is a RoleUser (secure by default); trust authentication
// (loopback only: the local developer) is RoleAdmin.
type Role string

// The roles.
const (
	RoleAdmin Role = "admin"
	RoleUser  Role = "user"
)

// ParseRole reads a role name as written in the users file or given to `adduser --role`.
func ParseRole(s string) (Role, error) {
	switch r := Role(strings.ToLower(strings.TrimSpace(s))); r {
	case RoleAdmin, RoleUser:
		return r, nil
	}
	return "", fmt.Errorf("unknown role %q (admin or user)", s)
}

// warnNoRole says loudly that users-file lines without a role (files written before roles
// existed) are treated as role user, so an operator who relied on their full access notices.
func (us *userStore) warnNoRole(users map[string]*userEntry) {
	if us.log == nil {
		return
	}
	var names []string
	for name, u := range users {
		if u.noRole {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return
	}
	sort.Strings(names)
	if len(names) > 20 {
		names = append(names[:20], "…")
	}
	us.log.Warn("pgwire: users without a role in the users file get role user: no file access outside --allow-dir, no ATTACH/INSTALL/LOAD, no SET of global settings. Give administrators a third field \"admin\" (`ankaflow adduser --users FILE --role admin NAME`).",
		"users_file", us.path, "users", strings.Join(names, ","))
}
