package sqlfuncs

import (
	"context"

	"github.com/ankaflow/ankaflow/engine"
	"github.com/ankaflow/ankaflow/sqlfuncs/fnmacros"
)

// The Fn macros exist in every session of every database: pipeline runs, `ankaflow sql` and
// wire-protocol clients alike.
func init() {
	engine.RegisterExtension(engine.Extension{
		Name: "fnmacros",
		OnSession: func(ctx context.Context, s *engine.Session) error {
			return fnmacros.Install(ctx, s, nil)
		},
	})
}
