// Command demo-api serves the Rest example's API on 127.0.0.1:8765 (or the address given):
//
//	go run ./examples/rest/cmd/demo-api &
//	DEMO_API_TOKEN=demo-token ankaflow run examples/rest/pipeline.yaml -c api_url=http://127.0.0.1:8765
package main

import (
	"fmt"
	"net/http"
	"os"

	"github.com/ankaflow/ankaflow/examples/rest/demoapi"
)

func main() {
	addr := "127.0.0.1:8765"
	if len(os.Args) > 1 {
		addr = os.Args[1]
	}
	fmt.Fprintf(os.Stderr, "demo API on http://%s (token %q)\n", addr, demoapi.Token)
	if err := http.ListenAndServe(addr, demoapi.Handler()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
