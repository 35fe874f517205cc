// Command ankaflow runs SQL-first data pipelines on DuckDB. See `ankaflow help`.
package main

import (
	"os"

	"github.com/ankaflow/ankaflow/cmd/cli"
)

func main() { os.Exit(cli.Main()) }
