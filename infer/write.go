package infer

import (
	"fmt"
	"strconv"
	"strings"
)

// write renders the contract. The text is built by hand rather than
// through a YAML encoder so that comments sit where a reader expects them;
// every scalar goes through scalar(), which quotes what needs quoting.
func (g *gen) write(opts Options) []byte {
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	comment := func(indent, s string) {
		for _, l := range strings.Split(s, "\n") {
			line("%s# %s", indent, commentSafe(l))
		}
	}
	p := g.p
	comment("", fmt.Sprintf("Inferred by `assay infer` on %s from %d events of topic %s.",
		opts.Now().UTC().Format("2006-01-02T15:04:05Z"), p.events, opts.Topic))
	comment("", "Each rule says what those events showed, not what the producer promises:\nreview every rule, drop the incidental ones, and set the owner.")
	if p.decodeErrors > 0 {
		comment("", fmt.Sprintf("%d more events could not be decoded and were not profiled (assay counts them as violations).", p.decodeErrors))
	}
	if p.droppedPaths > 0 {
		comment("", fmt.Sprintf("Only the first %d field paths were profiled; %d occurrences of later paths were left out.", MaxFields, p.droppedPaths))
	}
	if p.droppedKeys > 0 {
		comment("", fmt.Sprintf("%d keys were not profiled: empty, longer than 64 bytes, or with characters like @, quotes or control characters (keys that may be values).", p.droppedKeys))
	}
	line("contract: %s", scalar(opts.Contract))
	line("owner: %s", scalar(opts.Owner))
	line("description: %s", scalar(fmt.Sprintf("Inferred from %d events of %s; review before relying on it.", p.events, opts.Topic)))
	line("topics:")
	line("  - %s", scalar(opts.Topic))
	if len(g.piiList) > 0 || len(g.piiBad) > 0 {
		comment("", "Fields that look like personal data (by name or value): masked in samples, alerts and the DLQ.")
		for _, s := range g.piiBad {
			comment("", fmt.Sprintf("%q also looks like personal data, but its name cannot be written as a pii path.", s))
		}
	}
	if len(g.piiList) > 0 {
		line("pii:")
		for _, s := range g.piiList {
			line("  - %s", scalar(s))
		}
	}
	line("rules:")
	all := append(append([]rule(nil), g.rules...), g.uniques...)
	if g.fresh != nil {
		all = append(all, *g.fresh)
	}
	for _, r := range all {
		for _, c := range r.comment {
			comment("  ", c)
		}
		line("  - name: %s", scalar(r.name))
		line("    %s: %s", r.key, scalar(r.expr))
		if r.when != "" {
			line("    when: %s", scalar(r.when))
		}
		if r.within != "" {
			line("    within: %s", r.within)
		}
		if r.severity != "" {
			line("    severity: %s", r.severity)
		}
		if r.description != "" {
			line("    description: %s", scalar(r.description))
		}
	}
	if len(g.notes) > 0 {
		line("")
		comment("", "Not checked:")
		for _, n := range g.notes {
			comment("", "  "+n)
		}
	}
	return []byte(b.String())
}

// commentSafe keeps a comment on one line.
func commentSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// scalar writes a string as a YAML scalar: plain when that reads back as
// the same string, single-quoted otherwise.
func scalar(s string) string {
	if plainOK(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

func plainOK(s string) bool {
	if s == "" || s != strings.TrimSpace(s) {
		return false
	}
	if strings.ContainsAny(s[:1], "-?:,[]{}#&*!|>'\"%@`+.0123456789~") {
		return false
	}
	if strings.Contains(s, ": ") || strings.Contains(s, " #") || strings.HasSuffix(s, ":") {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	switch strings.ToLower(s) {
	case "true", "false", "yes", "no", "on", "off", "y", "n", "null", "nan", ".inf":
		return false
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return false
	}
	return true
}
