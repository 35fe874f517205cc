// Command benchreport reads `go test -bench` output and prints every benchmark that has an
// `ours` and a `reference` sub-benchmark as a ratio ours/reference (time per op), plus the
// custom metrics (rows/s, qps, peak-MB) each reported. `make bench` pipes into it.
//
// Given the output of several `go test -bench` runs one after the other (`make bench
// BENCH_RUNS=3`), the n-th ours is paired with the n-th reference: within one run a
// benchmark's ours and reference sub-benchmarks run back to back, so a pair sees the same
// load. The ratio printed is the median of the pairs' ratios, with their range: on a shared
// machine the load changes between runs, which moves a single ratio more than a code change.
// (`-count N` is read the same way, but runs each sub-benchmark N times in a row, so its pairs
// are not back to back.)
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
	results := map[string][]result{}
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
		results[m[1]] = append(results[m[1]], r)
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
		fmt.Println(report(n, results[n+"/ours"], results[n+"/reference"]))
	}
}

// report is the line of one ours/reference pair of benchmarks, each measured one or more times.
func report(name string, ours, refs []result) string {
	pairs := min(len(ours), len(refs))
	ratios := make([]float64, pairs)
	for i := range pairs {
		ratios[i] = ours[i].nsPerOp / refs[i].nsPerOp
	}
	sort.Float64s(ratios)
	o, r := median(ours[:pairs]), median(refs[:pairs])
	ratio := fmt.Sprintf("%8.2f", ratios[pairs/2])
	if pairs%2 == 0 {
		ratio = fmt.Sprintf("%8.2f", (ratios[pairs/2-1]+ratios[pairs/2])/2)
	}
	extra := metricsText(o, r)
	if q, ok := o.metrics["qps"]; ok && r.metrics["qps"] > 0 {
		// Throughput benchmarks compare rates: higher is better.
		extra = fmt.Sprintf("qps ratio %.2f; ", q/r.metrics["qps"]) + extra
	}
	if pairs > 1 {
		extra = fmt.Sprintf("ratio %.2f–%.2f over %d pairs; ", ratios[0], ratios[pairs-1], pairs) + extra
	}
	return fmt.Sprintf("%-52s %12s %12s %s  %s", strings.TrimPrefix(name, "Benchmark"), dur(o.nsPerOp), dur(r.nsPerOp), ratio, extra)
}

// median is the run with the median time (its metrics are printed with it).
func median(runs []result) result {
	sorted := append([]result(nil), runs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].nsPerOp < sorted[j].nsPerOp })
	return sorted[(len(sorted)-1)/2]
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
