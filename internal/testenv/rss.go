package testenv

import (
	"os"
	"strconv"
	"strings"
)

// RSS is the resident set size of process pid (0: this process), or 0 where /proc is missing.
func RSS(pid int) uint64 {
	p := "self"
	if pid != 0 {
		p = strconv.Itoa(pid)
	}
	data, err := os.ReadFile("/proc/" + p + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
}
