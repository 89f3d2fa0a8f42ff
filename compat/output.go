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
	fmt.Fprintf(&b, "%s against the contracts of topic %s\n", what, r.Topic)
	for _, c := range r.Contracts {
		fmt.Fprintf(&b, "\ncontract %s: %s\n", c.Contract, c.Verdict)
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  ITEM\tVERDICT\tREASON")
		for _, it := range c.Items {
			reason := strings.Join(it.Reasons, "; ")
			fmt.Fprintf(tw, "  %s %s\t%s\t%s\n", it.Kind, it.Name, it.Verdict, reason)
		}
		tw.Flush()
	}
	counts := map[Verdict]int{}
	for _, c := range r.Contracts {
		counts[c.Verdict]++
	}
	fmt.Fprintf(&b, "\n%s: %d %s checked, %d break, %d unknown\n", r.Verdict, len(r.Contracts), plural(len(r.Contracts), "contract", "contracts"), counts[Breaks], counts[Unknown])
	// tabwriter pads the last column too; trim trailing spaces per line.
	lines := strings.Split(b.String(), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	_, err := io.WriteString(w, strings.Join(lines, "\n"))
	return err
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// WriteJSON writes the report as one indented JSON object.
func WriteJSON(w io.Writer, r *Report) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
