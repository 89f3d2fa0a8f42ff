package infer

import (
	"fmt"

	"github.com/assay-dev/assay/internal/contractyaml"
)

// document is the contract as contractyaml writes it.
func (g *gen) document(opts Options) *contractyaml.Contract {
	p := g.p
	c := &contractyaml.Contract{
		Head: []string{
			fmt.Sprintf("Inferred by `assay infer` on %s from %s of topic %s.",
				opts.Now().UTC().Format("2006-01-02T15:04:05Z"), count(p.events, "event", "events"), opts.Topic),
			"Each rule says what those events showed, not what the producer promises:\nreview every rule, drop the incidental ones, and set the owner.",
		},
		Name:        opts.Contract,
		Owner:       opts.Owner,
		Description: fmt.Sprintf("Inferred from %s of %s; review before relying on it.", count(p.events, "event", "events"), opts.Topic),
		Topics:      []string{opts.Topic},
		PII:         g.piiList,
	}
	if p.decodeErrors > 0 {
		msg := fmt.Sprintf("%d more events could not be decoded and were not profiled (assay counts them as violations).", p.decodeErrors)
		if p.decodeErrors == 1 {
			msg = "1 more event could not be decoded and was not profiled (assay counts it as a violation)."
		}
		c.Head = append(c.Head, msg)
	}
	if p.droppedPaths > 0 {
		c.Head = append(c.Head, fmt.Sprintf("Only the first %d field paths were profiled; %s of later paths %s left out.",
			MaxFields, count(p.droppedPaths, "occurrence", "occurrences"), plural(p.droppedPaths, "was", "were")))
	}
	if p.droppedKeys > 0 {
		c.Head = append(c.Head, fmt.Sprintf("%s not profiled: empty, longer than 64 bytes, or with characters like @, quotes or control characters (keys that may be values).",
			count(p.droppedKeys, "key was", "keys were")))
	}
	if len(g.piiList) > 0 || len(g.piiBad) > 0 {
		c.PIINote = append(c.PIINote, "Fields that look like personal data (by name or value): masked in samples, alerts and the DLQ.")
		for _, s := range g.piiBad {
			c.PIINote = append(c.PIINote, fmt.Sprintf("%q also looks like personal data, but its name cannot be written as a pii path.", s))
		}
	}
	if c.Fields = g.declared(); len(c.Fields) > 0 {
		c.FieldsNote = []string{"The fields the events had: types as seen, required when always present, nullable when seen null."}
	}
	all := append(append([]rule(nil), g.rules...), g.uniques...)
	if g.fresh != nil {
		all = append(all, *g.fresh)
	}
	for _, r := range all {
		c.Rules = append(c.Rules, contractyaml.Rule{
			Comment: r.comment, Name: r.name, Kind: r.key, Expr: r.expr, When: r.when, Within: r.within,
			Severity: string(r.severity), Description: r.description,
		})
	}
	if len(g.notes) > 0 {
		c.Tail = append(c.Tail, "Not checked:")
		for _, n := range g.notes {
			c.Tail = append(c.Tail, "  "+n)
		}
	}
	return c
}

// count writes "1 event", "2 events".
func count(n int, one, many string) string {
	return fmt.Sprintf("%d %s", n, plural(n, one, many))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// every writes "all 3 values", or "the one value".
func every(n int, one, many string) string {
	if n == 1 {
		return "the one " + one
	}
	return fmt.Sprintf("all %d %s", n, many)
}
