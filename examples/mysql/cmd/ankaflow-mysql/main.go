// Command ankaflow-mysql is ankaflow with the MySQL connection compiled in: the binary a user
// builds for their own connectors.
//
//	go build -o ankaflow-mysql ./examples/mysql/cmd/ankaflow-mysql
//	./ankaflow-mysql connections
//	./ankaflow-mysql run examples/mysql/pipeline.yaml -c mysql_host=127.0.0.1 …
package main

import (
	"os"

	"github.com/ankaflow/ankaflow/cmd/cli"
	_ "github.com/ankaflow/ankaflow/examples/mysql" // registers myapp.connectors.database / MySQL
)

func main() { os.Exit(cli.Main()) }
