package cli

import (
	"context"
)

func cmdServe(ctx context.Context, args []string, io *stdio) error {
	return usagef("serve: the wire-protocol server is not wired in yet")
}
