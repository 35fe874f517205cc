package pipeline

import (
	"context"
	"fmt"

	"github.com/ankaflow/ankaflow/connectors"
)

// Loaded is a connection LoadConnections registered, or a stage it could not load.
type Loaded struct {
	Stage  *Stage
	Conn   connectors.Connection
	Err    error // why the stage's connection was not loaded
	Global bool
}

// LoadConnections registers the connections of a pipeline's tap, sink and sql stages under
// their stage names without running anything, so that SQL can call them: tap('Orders'),
// COPY … TO 'Out' (FORMAT ankaflow), connection_sql('Db', …). Templates render with the given
// variables and context; a connection whose templates need run-time values (loop_control inside
// a loop) is reported in Loaded.Err and skipped. With global, connections are registered for
// every session of the database (serve --pipeline); otherwise only in opts.Session.
func LoadConnections(ctx context.Context, p *Pipeline, opts Options, global bool) ([]Loaded, error) {
	if err := validateFirst(ctx, p, opts); err != nil {
		return nil, err
	}
	if !global && opts.Session == nil {
		return nil, fmt.Errorf("LoadConnections: a session is required to register session connections")
	}
	r, err := newRunner(ctx, opts, false)
	if err != nil {
		return nil, err
	}
	defer r.close()
	var out []Loaded
	Walk(p.Stages, func(st *Stage, depth int) {
		if st.Conn == nil || (st.Kind != KindTap && st.Kind != KindSink && st.Kind != KindSQL) {
			return
		}
		l := Loaded{Stage: st, Global: global}
		rs, err := r.render(st)
		if err == nil && rs.Conn == nil {
			err = fmt.Errorf("skipped by skip_if")
		}
		if err != nil {
			l.Err = err
			out = append(out, l)
			return
		}
		c, err := connectors.New(ctx, *rs.Conn, r.env)
		if err != nil {
			l.Err = err
			out = append(out, l)
			return
		}
		l.Conn = c
		e := connectors.CatalogEntry(c)
		e.Origin = st.Pos.Short()
		if global {
			opts.DB.Catalog().PutGlobal(e)
		} else {
			opts.DB.Catalog().Put(r.session.ID(), e)
		}
		out = append(out, l)
	})
	return out, nil
}
