package sqlast

import (
	"context"
	"fmt"
	"strings"

	"github.com/ankaflow/ankaflow/engine"
)

// Split splits a script into the texts of its statements (trimmed, without the separating
// semicolons), the way DuckDB splits it: DuckDB's parser (extract_statements) decides how
// many statements there are, and the texts Pieces finds are used only when they agree. They
// could only disagree on SQL the lexer misreads; that is an error rather than a silently wrong
// split. A script DuckDB cannot parse is split by Pieces, so that running it reports the
// failing statement with what ran before it, as a SQL console does.
func Split(ctx context.Context, s *engine.Session, script string) ([]string, error) {
	pieces := Pieces(script)
	texts := make([]string, len(pieces))
	for i, p := range pieces {
		texts[i] = strings.TrimSpace(p.Text)
	}
	ext, err := s.ExtractStatements(ctx, script)
	if err != nil {
		return texts, nil
	}
	defer ext.Close()
	if ext.Len() != len(texts) {
		return nil, fmt.Errorf("cannot tell the statements of this SQL apart: DuckDB's parser finds %d, its semicolons separate %d; run the statements one at a time", ext.Len(), len(texts))
	}
	return texts, nil
}
