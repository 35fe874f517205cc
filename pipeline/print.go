package pipeline

import (
	"fmt"
	"github.com/ankaflow/ankaflow/connectors"
	"io"
	"strings"
)

// commentName makes a stage name safe inside a SQL line comment.
func commentName(s string) string {
	r := strings.NewReplacer("\n", `\n`, "\r", `\r`)
	return "'" + r.Replace(s) + "'"
}

// printer writes blocks as a SQL script. Lines inside a loop body are commented out: they run
// once per row, so the script cannot run them as written.
type printer struct {
	w       io.Writer
	comment int // > 0 while printing a loop body
}

func (p *printer) line(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	prefix := strings.Repeat("-- | ", p.comment)
	for _, l := range strings.Split(s, "\n") {
		fmt.Fprintln(p.w, prefix+l)
	}
}

func (p *printer) header(st *Stage, extra string) {
	p.line("-- stage %s (%s, %s:%d)%s", commentName(st.Name), st.Kind, st.Pos.File, st.Pos.Line, extra)
}

func (p *printer) block(b *Block) {
	p.header(b.Stage, "")
	for _, n := range b.Notes {
		p.line("-- ankaflow: %s", n)
	}
	for _, s := range b.Steps {
		switch s.Kind {
		case StepSQL:
			p.line("%s;", s.SQL)
		case StepAppend:
			p.line("-- ankaflow: mode: append — when %s does not exist yet:", commentName(s.Target))
			p.line("CREATE TABLE %s AS %s;", q(s.Target), s.SQL)
			p.line("-- ankaflow: otherwise, after checking that the columns match:")
			p.line("-- INSERT INTO %s BY NAME %s;", q(s.Target), strings.ReplaceAll(s.SQL, "\n", " "))
		case StepSinkCreate:
			p.line("%s;", s.SQL)
			p.line("-- ankaflow: check that the statement above created %s (else roll it back and fail)", commentName(s.Target))
		case StepRegister:
			p.line("-- ankaflow: register connection %s (%s) in this session", commentName(s.Target), s.Path)
		case StepMkdir:
			p.line("-- ankaflow: create directory %s if missing", commentName(s.Path))
		case StepSinkStart:
			p.line("%s;", s.SQL)
		case StepSinkEnd:
			p.line("-- ankaflow: if the COPY failed: remove %s (the target stays as it was); else:", commentName(connectors.SinkTempPath(s.Path)))
			p.line("%s;", s.SQL)
		case StepRejects:
			p.line("-- ankaflow: count the malformed rows DuckDB skipped (ignore_errors) and warn")
		case StepShow:
			if s.Rows < 0 {
				p.line("-- ankaflow: show all rows of %s", commentName(s.Target))
			} else {
				p.line("-- ankaflow: show %d rows of %s", s.Rows, commentName(s.Target))
			}
		case StepShowSchema:
			p.line("-- ankaflow: show the schema of %s", commentName(s.Target))
		case StepExplain:
			p.line("-- ankaflow: explain %s", strings.ReplaceAll(s.SQL, "\n", " "))
		case StepNested:
			p.line("-- ankaflow: nested stages run once (no previous stage to loop over)")
		case StepLoop:
			p.line("-- ankaflow: for each row of %s, with the row as variables.loop_control:", commentName(s.Target))
		}
	}
	p.line("")
}

func (p *printer) skipped(st *Stage, why string) {
	p.header(st, " skipped: "+why)
	p.line("")
}
