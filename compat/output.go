package compat

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteText writes the report for people: per contract, a table of its
// declared fields and rules with their verdicts and reasons, then one line
// with the overall verdict.
func WriteText(w io.Writer, r *Report) error {
	var b strings.Builder
	what := r.Type + " schema"
	if r.Subject != "" {
		what = fmt.Sprintf("%s %s version %d", r.Type, r.Subject, r.Version)
	}
	if r.Message != "" {
		what += " (message " + r.Message + ")"
	}
	fmt.Fprintf(&b, "%s against the contracts of topic %s\n", what, r.Topic)
	for _, c := range r.Contracts {
		fmt.Fprintf(&b, "\ncontract %s: %s\n", c.Contract, c.Verdict)
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  ITEM\tVERDICT\tREASON")
		for _, it := range c.Items {
			reason := strings.Join(it.Reasons, "; ")
			label := it.Kind + " " + it.Name
			if it.Name == it.Kind {
				label = it.Kind // where, event_time
			}
			verdict := string(it.Verdict)
			if it.Shadow {
				verdict += " (shadow)"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", label, verdict, reason)
		}
		tw.Flush()
	}
	counts, items := map[Verdict]int{}, map[Verdict]int{}
	for _, c := range r.Contracts {
		counts[c.Verdict]++
		for _, it := range c.Items {
			if !it.Shadow {
				items[it.Verdict]++
			}
		}
	}
	fmt.Fprintf(&b, "\n%s: %d %s checked, %s, %s\n", r.Verdict, len(r.Contracts), plural(len(r.Contracts), "contract", "contracts"),
		tally(counts[Breaks], items[Breaks], "breaks", "break"), tally(counts[Unknown], items[Unknown], "is unknown", "are unknown"))
	// tabwriter pads the last column too; trim trailing spaces per line.
	lines := strings.Split(b.String(), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	_, err := io.WriteString(w, strings.Join(lines, "\n"))
	return err
}

// tally is "0 contracts break", "1 contract breaks (6 items)".
func tally(contracts, items int, one, many string) string {
	t := fmt.Sprintf("%d %s %s", contracts, plural(contracts, "contract", "contracts"), plural(contracts, one, many))
	if contracts > 0 {
		t += fmt.Sprintf(" (%d %s)", items, plural(items, "item", "items"))
	}
	return t
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// WriteJSON writes the report as one indented JSON object.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // rules read a && b, not a \u0026\u0026 b
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
