package pgwire

import (
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgproto3"
)

// checkMessageUTF8 refuses a message whose SQL text or statement/portal names are not valid
// UTF-8 (the only client encoding), with PostgreSQL's 22021, before anything acts on them.
// Parameter values are checked as they are decoded (checkUTF8 in decode.go).
func checkMessageUTF8(msg pgproto3.FrontendMessage) error {
	var texts []string
	switch m := msg.(type) {
	case *pgproto3.Query:
		texts = []string{m.String}
	case *pgproto3.Parse:
		texts = []string{m.Name, m.Query}
	case *pgproto3.Bind:
		texts = []string{m.DestinationPortal, m.PreparedStatement}
	case *pgproto3.Describe:
		texts = []string{m.Name}
	case *pgproto3.Close:
		texts = []string{m.Name}
	case *pgproto3.Execute:
		texts = []string{m.Portal}
	}
	for _, s := range texts {
		if !utf8.ValidString(s) {
			return checkUTF8([]byte(s))
		}
	}
	return nil
}
