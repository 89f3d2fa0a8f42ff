// Package suggest finds the word a typo was meant to be: "did you mean
// amount?" for ammount.
package suggest

import "strings"

// Closest returns the candidate nearest to word by edit distance
// (insertions, deletions, substitutions and swaps of neighbours, case
// ignored), when it is near enough to be a typo of it: at most one edit
// for words of up to 4 letters, two up to 8, three beyond. Ties go to the
// earlier candidate.
func Closest(word string, candidates []string) (string, bool) {
	w := strings.ToLower(word)
	best, bestD := "", -1
	limit := 3
	switch n := len([]rune(w)); {
	case n <= 4:
		limit = 1
	case n <= 8:
		limit = 2
	}
	for _, c := range candidates {
		if c == word {
			continue
		}
		d := distance(w, strings.ToLower(c), limit)
		if d <= limit && (bestD < 0 || d < bestD) {
			best, bestD = c, d
		}
	}
	return best, bestD >= 0
}

// distance is the optimal string alignment distance of a and b, or more
// than limit once it is sure to be.
func distance(a, b string, limit int) int {
	ra, rb := []rune(a), []rune(b)
	if d := len(ra) - len(rb); d > limit || -d > limit {
		return limit + 1
	}
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
			rowMin = min(rowMin, cur[j])
		}
		if rowMin > limit {
			return limit + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
