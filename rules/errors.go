package rules

import (
	"fmt"
	"sort"
	"strings"

	"github.com/assay-dev/assay/internal/safetext"
)

// Error is one problem in a contract file, with its position and the
// contract and rule it belongs to (either may be empty).
type Error struct {
	Pos
	Contract string
	Rule     string
	Msg      string
}

// maxName bounds a contract or rule name quoted in an error.
const maxName = 64

// Error formats as file:line:col: contract "x", rule "y": message.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ":%d", e.Column)
		}
	}
	b.WriteString(": ")
	if e.Contract != "" {
		fmt.Fprintf(&b, "contract %q", safetext.Truncate(e.Contract, maxName))
		if e.Rule != "" {
			fmt.Fprintf(&b, ", rule %q", safetext.Truncate(e.Rule, maxName))
		}
		b.WriteString(": ")
	} else if e.Rule != "" {
		fmt.Fprintf(&b, "rule %q: ", safetext.Truncate(e.Rule, maxName))
	}
	b.WriteString(e.Msg)
	// Expressions quoted in messages and snippets may hold bidirectional
	// overrides and control characters: they are shown escaped.
	return safetext.Visible(b.String())
}

// Errors is every problem found while loading contracts.
type Errors []*Error

func (es Errors) Error() string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// sortErrors orders errors by file, line and column so output is stable.
func sortErrors(es Errors) {
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i], es[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
}
