package diff

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// WriteText writes the changes for people: one block per change, then the
// count of each class.
//
//	stricter  checkout-orders, rule amount-positive: expr bound_narrowed
//	          old: amount > 0
//	          new: amount > 10
//	          fewer events pass (amount in (10, +inf), was (0, +inf)): a producer may break with events that passed
//	          at contracts/checkout-orders.yaml:12
func WriteText(w io.Writer, changes []Change) error {
	var b strings.Builder
	for _, c := range changes {
		where := c.Contract
		if c.Rule != "" {
			where += ", rule " + c.Rule
		}
		fmt.Fprintf(&b, "%-9s %s: %s %s\n", c.Class, where, c.Key, c.Change)
		const indent = "          "
		if c.Old != "" {
			fmt.Fprintf(&b, "%sold: %s\n", indent, oneLine(c.Old))
		}
		if c.New != "" {
			fmt.Fprintf(&b, "%snew: %s\n", indent, oneLine(c.New))
		}
		fmt.Fprintf(&b, "%s%s\n", indent, c.Detail)
		if c.File != "" {
			fmt.Fprintf(&b, "%sat %s:%d\n", indent, c.File, c.Line)
		}
	}
	fmt.Fprintln(&b, Summary(changes))
	_, err := io.WriteString(w, b.String())
	return err
}

// Summary is the count of changes per class: "3 changes: 1 stricter, 2
// neutral", or "no changes".
func Summary(changes []Change) string {
	if len(changes) == 0 {
		return "no changes"
	}
	counts := map[Class]int{}
	for _, c := range changes {
		counts[c.Class]++
	}
	var parts []string
	for _, cl := range Classes {
		if counts[cl] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[cl], cl))
		}
	}
	noun := "changes"
	if len(changes) == 1 {
		noun = "change"
	}
	return fmt.Sprintf("%d %s: %s", len(changes), noun, strings.Join(parts, ", "))
}

// WriteJSON writes the changes as a JSON array of Change objects ([] when
// there are none), indented, with a final newline.
func WriteJSON(w io.Writer, changes []Change) error {
	if changes == nil {
		changes = []Change{}
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // expressions read a && b, not a \u0026\u0026 b
	enc.SetIndent("", "  ")
	return enc.Encode(changes)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
