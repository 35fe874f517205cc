package cli

// The built-in connection kinds that live in packages of their own register themselves in init.
// Importing them here, rather than in cmd/ankaflow, gives every binary built on this package
// (ankaflow itself, and custom binaries such as examples/mysql's ankaflow-mysql) the same kinds.
import (
	_ "github.com/ankaflow/ankaflow/connectors/postgres" // kind: Postgres
	_ "github.com/ankaflow/ankaflow/connectors/rest"     // kind: Rest
)
