package pgwire

import (
	"context"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	bindings "github.com/duckdb/duckdb-go-bindings"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/ankaflow/ankaflow/engine"
)

// versionString is what SELECT version() returns on wire sessions: PostgreSQL-shaped, because
// tools parse it, and naming the real engine.
func versionString() string {
	return "PostgreSQL " + serverVersion + " on " + runtime.GOARCH + "-" + runtime.GOOS +
		", ankaflow wire server, DuckDB " + bindings.LibraryVersion()
}

var (
	defaultTZOnce sync.Once
	defaultTZ     string
)

// serverTimeZone is the TimeZone sessions start with unless the client sets one: DuckDB's
// default (the machine's zone), if Go knows it, else UTC.
func serverTimeZone(ctx context.Context, s *engine.Session) string {
	defaultTZOnce.Do(func() {
		defaultTZ = "UTC"
		var tz string
		if err := s.QueryRowContext(ctx, "SELECT current_setting('TimeZone')").Scan(&tz); err == nil {
			if v, pe := checkTimeZone(tz); pe == nil {
				defaultTZ = v
			}
		}
	})
	return defaultTZ
}

// openSession creates the client's engine session and applies the startup parameters.
func (c *conn) openSession(params map[string]string) *pgError {
	sess, err := c.srv.cfg.DB.NewSession(c.ctx)
	if err != nil {
		return fatalError(codeInternalError, "cannot open a database session: %v", err)
	}
	c.sess = sess
	if err := c.initPolicy(); err != nil {
		return fatalError(codeInternalError, "cannot open a database session: %v", err)
	}
	if _, err := sess.Exec(c.ctx, "CREATE OR REPLACE TEMP MACRO version() AS "+engine.QuoteLiteral(versionString())); err != nil {
		c.srv.log.Debug("pgwire: cannot install version()", "err", err)
	}
	c.initCatalog()
	for _, g := range gucDefs {
		c.gucs[strings.ToLower(g.name)] = g.def
	}
	c.gucs["session_authorization"] = c.user
	if c.role == RoleAdmin {
		c.gucs["is_superuser"] = "on" // as \du shows it (pg_roles.rolsuper)
	}
	c.gucs["timezone"] = serverTimeZone(c.ctx, sess)

	// Startup parameters, then -c options (which win, as in PostgreSQL). Invalid values do not
	// refuse the connection: the client is told with a WARNING and the default stays.
	var settings [][2]string
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch k {
		case "user", "database", "options", "replication":
			continue
		}
		settings = append(settings, [2]string{k, params[k]})
	}
	if opts := params["options"]; opts != "" {
		parsed, err := parseOptions(opts)
		if err != nil {
			return fatalError(codeInvalidParameterValue, "%v", err)
		}
		settings = append(settings, parsed...)
	}
	for _, kv := range settings {
		if pe := c.applySetting(kv[0], kv[1], false); pe != nil {
			pe.Severity = "WARNING"
			pe.Message = "ignoring startup parameter " + kv[0] + ": " + pe.Message
			c.sendNotice(pe)
		}
	}
	if err := c.syncTimeZone(); err != nil {
		return fatalError(codeInternalError, "cannot set the session time zone: %v", err)
	}
	return nil
}

func (c *conn) gucValue(name string) string {
	return c.gucs[strings.ToLower(name)]
}

// syncTimeZone makes DuckDB's TimeZone and the encoder's location follow the TimeZone GUC.
func (c *conn) syncTimeZone() error {
	name := c.gucs["timezone"]
	loc, err := time.LoadLocation(name)
	if err != nil {
		loc = time.UTC
	}
	c.tz = loc
	if name == "UTC" {
		c.tz = time.UTC
	}
	_, err = c.sess.Exec(c.ctx, "SET TimeZone = "+engine.QuoteLiteral(name))
	return err
}

// applySetting sets a parameter: an emulated PostgreSQL GUC, or else a DuckDB setting.
// report sends ParameterStatus when a reported parameter changes.
func (c *conn) applySetting(name, value string, report bool) *pgError {
	if g := lookupGUC(name); g != nil {
		return c.setGUC(g, value, false, report)
	}
	if err := c.quiesce(nil); err != nil {
		return c.toPGError(err, "", sqlPiece{})
	}
	if c.restricted() {
		if pe := c.checkSetting(name); pe != nil {
			return pe
		}
	}
	if _, err := c.sess.Exec(c.ctx, "SET "+engine.QuoteIdent(name)+" = "+engine.QuoteLiteral(value)); err != nil {
		return c.toPGError(err, "", sqlPiece{})
	}
	return nil
}

// setGUC sets (or with toDefault resets) an emulated parameter.
func (c *conn) setGUC(g *gucDef, value string, toDefault, report bool) *pgError {
	if g.readOnly {
		return newError("55P02", "parameter %q cannot be changed", g.name)
	}
	key := strings.ToLower(g.name)
	if toDefault {
		value = g.def
		if key == "timezone" {
			value = defaultTZ
		}
	} else if g.check != nil {
		v, pe := g.check(value)
		if pe != nil {
			return pe
		}
		value = v
	}
	old := c.gucs[key]
	c.gucs[key] = value
	switch key {
	case "timezone":
		if err := c.quiesce(nil); err != nil {
			c.gucs[key] = old
			return c.toPGError(err, "", sqlPiece{})
		}
		if err := c.syncTimeZone(); err != nil {
			c.gucs[key] = old
			c.syncTimeZone()
			return c.toPGError(err, "", sqlPiece{})
		}
	case "statement_timeout":
		d, _ := parseDurationMS(value)
		c.stmtTimeout = d
	case "search_path":
		if pe := c.syncSearchPath(); pe != nil {
			c.gucs[key] = old
			return pe
		}
	}
	if report && g.report && old != value {
		c.send(&pgproto3.ParameterStatus{Name: g.name, Value: value})
	}
	return nil
}

// runGUC executes an intercepted SET/RESET/SHOW. For SHOW it returns the one value.
func (c *conn) runGUC(cmd *gucCmd) (tag string, show *string, pe *pgError) {
	switch cmd.kind {
	case gucNoop:
		return "SET", nil, nil
	case gucShow:
		v := c.gucValue(cmd.name)
		return "SHOW", &v, nil
	case gucReset:
		if cmd.name == "" {
			for _, g := range gucDefs {
				if !g.readOnly {
					if pe := c.setGUC(g, "", true, true); pe != nil {
						return "", nil, pe
					}
				}
			}
			return "RESET", nil, nil
		}
		return "RESET", nil, c.setGUC(lookupGUC(cmd.name), "", true, true)
	case gucSet:
		return "SET", nil, c.setGUC(lookupGUC(cmd.name), cmd.value, cmd.isDef, true)
	}
	return "", nil, newError(codeInternalError, "unknown parameter command")
}

// interceptsGUC reports whether the server answers this SET/RESET/SHOW itself.
func interceptsGUC(cmd *gucCmd) bool {
	if cmd == nil {
		return false
	}
	switch cmd.kind {
	case gucNoop:
		return true
	case gucReset:
		return cmd.name == "" || lookupGUC(cmd.name) != nil
	}
	return lookupGUC(cmd.name) != nil
}
