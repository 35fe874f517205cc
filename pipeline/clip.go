package pipeline

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Messages quote what users wrote; a 15 MB identifier must not make a 15 MB error. These caps
// keep every message readable on a terminal and bounded in size.
const (
	maxQuotedText  = 200  // one quoted name or value inside a message
	maxMessageText = 4096 // a whole message
	maxListedItems = 10   // items of a list such as "stages before this one"
)

// clipText shortens s to about n bytes (at a character boundary) and marks the cut with an
// ellipsis and the original size.
func clipText(s string) string { return clipTo(s, maxQuotedText) }

func clipTo(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s… (%d bytes in all)", s[:cut], len(s))
}

// listSome joins the first items of a list and says how many were left out.
func listSome(items []string) string {
	if len(items) <= maxListedItems {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s, … (%d more)", strings.Join(items[:maxListedItems], ", "), len(items)-maxListedItems)
}
