// Command benchreport reads `go test -bench` output and prints every benchmark that has an
// `ours` and a `reference` sub-benchmark as a ratio ours/reference (time per op), plus the
// custom metrics (rows/s, qps, peak-MB) each reported. `make bench` pipes into it.
package main

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

type result struct {
	nsPerOp float64
	metrics map[string]float64
}

var line = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+(\d+)\s+([\d.]+) ns/op(.*)$`)
var metric = regexp.MustCompile(`([\d.e+-]+) (\S+)`)

func main() {
	results := map[string]result{}
	var order []string
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		ns, _ := strconv.ParseFloat(m[3], 64)
		r := result{nsPerOp: ns, metrics: map[string]float64{}}
		for _, mm := range metric.FindAllStringSubmatch(m[4], -1) {
			v, err := strconv.ParseFloat(mm[1], 64)
			if err == nil {
				r.metrics[mm[2]] = v
			}
		}
		if _, seen := results[m[1]]; !seen {
			order = append(order, m[1])
		}
		results[m[1]] = r
	}
	groups := map[string]bool{}
	var names []string
	for _, n := range order {
		base, side, ok := cut(n)
		if !ok || side != "ours" || groups[base] {
			continue
		}
		if _, ok := results[base+"/reference"]; !ok {
			continue
		}
		groups[base] = true
		names = append(names, base)
	}
	if len(names) == 0 {
		fmt.Println("benchreport: no ours/reference benchmark pairs found")
		os.Exit(1)
	}
	fmt.Printf("%-52s %12s %12s %8s  %s\n", "benchmark", "ours", "reference", "ratio", "metrics (ours | reference)")
	for _, n := range names {
		o, r := results[n+"/ours"], results[n+"/reference"]
		ratio := o.nsPerOp / r.nsPerOp
		extra := metricsText(o, r)
		if q, ok := o.metrics["qps"]; ok && r.metrics["qps"] > 0 {
			// Throughput benchmarks compare rates: higher is better.
			extra = fmt.Sprintf("qps ratio %.2f; ", q/r.metrics["qps"]) + extra
		}
		fmt.Printf("%-52s %12s %12s %8.2f  %s\n", strings.TrimPrefix(n, "Benchmark"), dur(o.nsPerOp), dur(r.nsPerOp), ratio, extra)
	}
}

func cut(name string) (string, string, bool) {
	i := strings.LastIndex(name, "/")
	if i < 0 {
		return "", "", false
	}
	return name[:i], name[i+1:], true
}

func metricsText(o, r result) string {
	keys := map[string]bool{}
	for k := range o.metrics {
		keys[k] = true
	}
	for k := range r.metrics {
		keys[k] = true
	}
	var ks []string
	for k := range keys {
		if k == "B/op" || k == "allocs/op" {
			continue
		}
		ks = append(ks, k)
	}
	sort.Strings(ks)
	var parts []string
	for _, k := range ks {
		parts = append(parts, fmt.Sprintf("%s %s | %s", k, num(o.metrics[k]), num(r.metrics[k])))
	}
	return strings.Join(parts, "; ")
}

func num(v float64) string {
	switch {
	case v == 0:
		return "-"
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1fk", v/1e3)
	}
	return fmt.Sprintf("%.2f", v)
}

func dur(ns float64) string {
	switch {
	case ns >= 1e9:
		return fmt.Sprintf("%.2fs", ns/1e9)
	case ns >= 1e6:
		return fmt.Sprintf("%.1fms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.1fµs", ns/1e3)
	}
	return fmt.Sprintf("%.0fns", ns)
}
