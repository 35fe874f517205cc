package engine

import (
	"io"
	"log/slog"
	"sort"
	"sync"
)

// Entry is a connection known to SQL under a name (the stage name), for example the tap stage
// "Orders" makes tap('Orders') work. The engine does not look inside Conn: the connectors and
// sqlfuncs packages give it meaning.
type Entry struct {
	Name      string
	Kind      string
	Module    string
	Classname string
	Locator   string
	// Params as shown in listings and logs: a JSON object, keys in the order they were
	// written, secrets already redacted at any depth.
	Params string
	// Origin tells where the connection was defined, e.g. "pipeline.yaml:12".
	Origin string
	Conn   any
}

// Catalog holds connections: database-wide ones (for example from `serve --pipeline`) and
// session-scoped ones (a pipeline run registers its stages in its own session, so two clients
// running pipelines with the same stage names do not see each other's connections).
type Catalog struct {
	mu       sync.Mutex
	global   map[string]*Entry
	sessions map[uint64]map[string]*Entry
}

func newCatalog() *Catalog {
	return &Catalog{global: map[string]*Entry{}, sessions: map[uint64]map[string]*Entry{}}
}

// PutGlobal registers a database-wide connection, replacing one of the same name.
func (c *Catalog) PutGlobal(e *Entry) {
	c.mu.Lock()
	old := c.global[e.Name]
	c.global[e.Name] = e
	c.mu.Unlock()
	closeEntry(old, e)
}

// Put registers a connection for one session, replacing one of the same name.
func (c *Catalog) Put(sessionID uint64, e *Entry) {
	c.mu.Lock()
	m := c.sessions[sessionID]
	if m == nil {
		m = map[string]*Entry{}
		c.sessions[sessionID] = m
	}
	old := m[e.Name]
	m[e.Name] = e
	c.mu.Unlock()
	closeEntry(old, e)
}

// Lookup finds a connection by name: the session's own first, then the database-wide ones.
func (c *Catalog) Lookup(sessionID uint64, name string) (*Entry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.sessions[sessionID][name]; ok {
		return e, true
	}
	e, ok := c.global[name]
	return e, ok
}

// List returns the connections visible to a session, sorted by name.
func (c *Catalog) List(sessionID uint64) []*Entry {
	c.mu.Lock()
	seen := map[string]*Entry{}
	for n, e := range c.global {
		seen[n] = e
	}
	for n, e := range c.sessions[sessionID] {
		seen[n] = e
	}
	c.mu.Unlock()
	out := make([]*Entry, 0, len(seen))
	for _, e := range seen {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Names lists the names visible to a session (for "did you mean" suggestions).
func (c *Catalog) Names(sessionID uint64) []string {
	var names []string
	for _, e := range c.List(sessionID) {
		names = append(names, e.Name)
	}
	return names
}

func (c *Catalog) dropSession(sessionID uint64) {
	c.mu.Lock()
	m := c.sessions[sessionID]
	delete(c.sessions, sessionID)
	c.mu.Unlock()
	for _, e := range m {
		closeEntry(e, nil)
	}
}

// closeEntry closes a replaced connection if it holds resources, unless it is being re-put.
func closeEntry(old, replacement *Entry) {
	if old == nil || (replacement != nil && old.Conn == replacement.Conn) {
		return
	}
	if cl, ok := old.Conn.(io.Closer); ok {
		// Nobody waits for this close (the session ended or the name was reused): a failure
		// is logged rather than lost.
		if err := cl.Close(); err != nil {
			slog.Warn("ankaflow: closing a connection failed", "connection", old.Name, "kind", old.Kind, "error", err.Error())
		}
	}
}

// Move hands a session's connections to another session (replacing same-named ones there)
// without closing them: run_pipeline runs on a helper session, then gives its connections to
// the session that called it.
func (c *Catalog) Move(from, to uint64) {
	c.mu.Lock()
	src := c.sessions[from]
	delete(c.sessions, from)
	dst := c.sessions[to]
	if dst == nil {
		dst = map[string]*Entry{}
		c.sessions[to] = dst
	}
	var replaced []*Entry
	for n, e := range src {
		if old, ok := dst[n]; ok && old.Conn != e.Conn {
			replaced = append(replaced, old)
		}
		dst[n] = e
	}
	c.mu.Unlock()
	for _, e := range replaced {
		closeEntry(e, nil)
	}
}
