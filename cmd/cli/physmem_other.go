//go:build !linux

package cli

// physicalMemory is unknown here: DuckDB's own default applies unless --memory-limit gives
// a size.
func physicalMemory() uint64 { return 0 }
