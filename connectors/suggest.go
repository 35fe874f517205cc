package connectors

import (
	"sort"
	"strings"
)

// Suggest returns the candidate closest to word (case-insensitive edit distance), or "" when
// nothing is close enough to be a plausible typo. Used for every "did you mean" in validation.
func Suggest(word string, candidates []string) string {
	best, bestD := "", -1
	if len(word) > maxSuggestLen {
		return ""
	}
	lw := strings.ToLower(word)
	// A clear abbreviation ("conn" for "connection") is a suggestion too.
	if len(lw) >= 3 {
		var prefixed []string
		for _, c := range candidates {
			if strings.HasPrefix(strings.ToLower(c), lw) && len(c) > len(word) {
				prefixed = append(prefixed, c)
			}
		}
		if len(prefixed) == 1 {
			return prefixed[0]
		}
	}
	for _, c := range candidates {
		if len(c) > maxSuggestLen {
			continue
		}
		d := editDistance(lw, strings.ToLower(c))
		if bestD < 0 || d < bestD || (d == bestD && c < best) {
			best, bestD = c, d
		}
	}
	limit := 2
	if len(word) > 8 {
		limit = 3
	}
	if bestD < 0 || bestD > limit || bestD >= len(word) {
		return ""
	}
	return best
}

// DidYouMean formats a suggestion as " (did you mean 'x'?)", or "" when there is none.
func DidYouMean(word string, candidates []string) string {
	if s := Suggest(word, candidates); s != "" {
		return " (did you mean '" + s + "'?)"
	}
	return ""
}

// OneOf formats a sorted list of allowed values: 'a', 'b', 'c'.
func OneOf(values []string) string {
	v := append([]string(nil), values...)
	sort.Strings(v)
	for i := range v {
		v[i] = "'" + v[i] + "'"
	}
	return strings.Join(v, ", ")
}

// maxSuggestLen bounds the words Suggest compares: names are short, and the distance costs
// len(a)*len(b), reachable from any wire client through tap('…').
const maxSuggestLen = 128

// editDistance is the optimal-string-alignment distance: insertions, deletions, substitutions
// and adjacent transpositions ("pramas" for "params") each cost one. Three rows of the
// dynamic-programming table suffice: O(len(a)·len(b)) time, O(len(b)) space.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1) // row i-2
	prev := make([]int, len(rb)+1)  // row i-1
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
