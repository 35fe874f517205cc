package pipeline

import (
	"fmt"
	"strings"
	"sync"
	"time"
)

// progressLine prints one line per finished stage to stderr: status, kind, name, rows, time.
func (r *Runner) progressLine(res StageResult, st *Stage) {
	status := map[string]string{"ok": "ok  ", "skipped": "skip", "failed": "FAIL", "continued": "warn"}[res.Status]
	rows := ""
	switch {
	case res.Status == "skipped":
		rows = "skipped (skip_if)"
	case res.Status != "ok":
		rows = "failed"
		if res.Status == "continued" {
			rows = "failed, continuing (on_error: continue)"
		}
	case st.Kind == KindTransform:
		rows = "view"
	case st.Kind == KindPipeline && res.HasRows:
		rows = fmt.Sprintf("%s iteration%s", groupDigits(res.Rows), plural(res.Rows))
	case st.Kind == KindPipeline:
		rows = "ran once"
	case res.HasRows && st.Kind == KindSink:
		rows = fmt.Sprintf("%s row%s written", groupDigits(res.Rows), plural(res.Rows))
	case res.HasRows:
		rows = fmt.Sprintf("%s row%s", groupDigits(res.Rows), plural(res.Rows))
	default:
		rows = "done"
	}
	indent := strings.Repeat("  ", res.Depth)
	fmt.Fprintf(r.opts.Stderr, "%s %s%-9s %-24s %-28s %s\n", status, indent, st.Kind, commentName(st.Name), rows, formatElapsed(res.Elapsed))
}

func formatElapsed(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000)
	case d < time.Minute:
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
	return d.Round(time.Second).String()
}

func groupDigits(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// live shows a running indicator on a terminal once a stage has taken more than a second;
// the returned stop clears it.
func (r *Runner) live(st *Stage) (stop func()) {
	if !r.opts.Live || st.Kind == KindPipeline {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		start := time.Now()
		select {
		case <-done:
			return
		case <-time.After(time.Second):
		}
		frames := []string{"|", "/", "-", "\\"}
		tick := time.NewTicker(150 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			fmt.Fprintf(r.opts.Stderr, "\r%s %s %s running %s ", frames[i%len(frames)], st.Kind, commentName(st.Name), time.Since(start).Round(100*time.Millisecond))
			select {
			case <-done:
				fmt.Fprint(r.opts.Stderr, "\r\033[K")
				return
			case <-tick.C:
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
	}
}
