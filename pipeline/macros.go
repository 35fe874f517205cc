package pipeline

import (
	"context"
	"fmt"

	"github.com/ankaflow/ankaflow/sqlfuncs/fnmacros"
)

// validateMacro checks a user macro declared in a header stage (name, body shape, and that it
// does not shadow a built-in Fn macro).
func validateMacro(m Macro) error {
	if m.Name == "" || m.Body == "" {
		return nil // reported separately
	}
	return fnmacros.Validate(fnmacros.Macro{Name: m.Name, Body: m.Body})
}

// createMacros installs user macros into the run's database (Fn.<name>).
func (r *Runner) createMacros(ctx context.Context, macros []Macro) error {
	user := make([]fnmacros.Macro, len(macros))
	for i, m := range macros {
		user[i] = fnmacros.Macro{Name: m.Name, Body: m.Body}
	}
	if r.planOnly {
		for _, m := range macros {
			r.print.line("-- ankaflow: create user macro Fn.%s %s (%s)", m.Name, m.Body, m.Pos.Short())
		}
		r.print.line("")
		return nil
	}
	if err := fnmacros.Install(ctx, r.session, user); err != nil {
		return fmt.Errorf("user macros: %w", err)
	}
	return nil
}
