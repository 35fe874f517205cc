package pipeline

import (
	"encoding/json"
	"errors"
	"sort"
	"strings"
)

// Problem is one finding of loading or validation.
type Problem struct {
	Pos     Pos
	Stage   string
	Msg     string
	Warning bool
}

func (p Problem) String() string {
	sev := ""
	if p.Warning {
		sev = "warning: "
	}
	return p.Pos.String() + ": " + sev + p.Msg
}

// Problems is every finding, sorted by position.
type Problems []Problem

func (ps *Problems) add(pos Pos, stage, format string) {
	*ps = append(*ps, Problem{Pos: pos, Stage: clipText(stage), Msg: clipTo(format, maxMessageText)})
}

func (ps *Problems) warn(pos Pos, stage, msg string) {
	*ps = append(*ps, Problem{Pos: pos, Stage: clipText(stage), Msg: clipTo(msg, maxMessageText), Warning: true})
}

// Sort orders problems by file position.
func (ps Problems) Sort() {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i].Pos, ps[j].Pos
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
}

// HasErrors reports whether any problem is an error (not a warning).
func (ps Problems) HasErrors() bool {
	for _, p := range ps {
		if !p.Warning {
			return true
		}
	}
	return false
}

// Errors keeps the errors only.
func (ps Problems) Errors() Problems {
	var out Problems
	for _, p := range ps {
		if !p.Warning {
			out = append(out, p)
		}
	}
	return out
}

// Err is nil without errors, otherwise an *InvalidError listing them.
func (ps Problems) Err() error {
	if !ps.HasErrors() {
		return nil
	}
	return &InvalidError{Problems: ps.Errors()}
}

func (ps Problems) String() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// JSON renders problems for `validate --json`.
func (ps Problems) JSON() []byte {
	type item struct {
		File     string `json:"file"`
		Line     int    `json:"line"`
		Col      int    `json:"col"`
		Severity string `json:"severity"`
		Stage    string `json:"stage,omitempty"`
		Message  string `json:"message"`
	}
	out := []item{}
	for _, p := range ps {
		sev := "error"
		if p.Warning {
			sev = "warning"
		}
		out = append(out, item{p.Pos.File, p.Pos.Line, p.Pos.Col, sev, p.Stage, p.Msg})
	}
	b, _ := json.MarshalIndent(out, "", "  ")
	return b
}

// InvalidError is returned when a pipeline does not validate; run refuses to start.
type InvalidError struct{ Problems Problems }

func (e *InvalidError) Error() string {
	return "invalid pipeline:\n" + e.Problems.String()
}

// IsInvalid reports whether err is a validation failure (exit code 2 in the CLI).
func IsInvalid(err error) bool {
	var ie *InvalidError
	return errors.As(err, &ie)
}
