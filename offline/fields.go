package offline

import (
	"sort"
	"strings"

	"github.com/assay-dev/assay/internal/suggest"
	"github.com/assay-dev/assay/report"
	"github.com/assay-dev/assay/rules"
)

// FieldWatch notes which of the fields the rules read the events have, so
// that a rule on a field no event had (a typo: ammount) is reported with
// the closest field the events do have. Once every field was seen it costs
// nothing per event.
type FieldWatch struct {
	paths []string // distinct, outside kafka
	seen  []bool
	left  int
	names map[string]bool // field paths of the first events, whole
	named int             // events whose names were collected
}

// Bounds of the names collected for suggestions.
const (
	namedEvents  = 100
	maxNames     = 2000
	maxNameBytes = 256 // longer field paths are no suggestion anyone typed
)

// NewFieldWatch watches the fields the contracts' rules read.
func NewFieldWatch(contracts []*rules.Contract) *FieldWatch {
	f := &FieldWatch{names: map[string]bool{}}
	known := map[string]bool{}
	for _, c := range contracts {
		for _, r := range c.Rules {
			for _, p := range rulePaths(r) {
				if !known[p] {
					known[p] = true
					f.paths = append(f.paths, p)
				}
			}
		}
	}
	f.seen = make([]bool, len(f.paths))
	f.left = len(f.paths)
	return f
}

// rulePaths are the event fields a rule reads (not under kafka).
func rulePaths(r *rules.Rule) []string {
	var out []string
	for _, p := range r.Programs() {
		if p == nil {
			continue
		}
		for _, path := range p.Paths {
			if root, _, _ := strings.Cut(path, "."); root != rules.MetaVar {
				out = append(out, path)
			}
		}
	}
	return out
}

// Observe notes the fields of one decoded event (it may hold only the
// fields the rules read).
func (f *FieldWatch) Observe(fields map[string]any) {
	if f.left == 0 {
		return
	}
	for i, p := range f.paths {
		if !f.seen[i] && has(fields, strings.Split(p, ".")) {
			f.seen[i] = true
			f.left--
		}
	}
}

// Name collects the field paths of a whole event, for suggestions: those of
// the first events only.
func (f *FieldWatch) Name(fields map[string]any) {
	if f.left == 0 || f.named >= namedEvents {
		return
	}
	f.named++
	f.collect("", fields, 0)
}

func (f *FieldWatch) collect(prefix string, v any, depth int) {
	if depth > 8 || len(f.names) >= maxNames {
		return
	}
	switch v := v.(type) {
	case map[string]any:
		// In key order, so that the names kept (and the suggestions) are
		// the same on every run.
		keys := make([]string, 0, len(v))
		for k := range v {
			if k != rules.MetaVar && len(prefix)+len(k) <= maxNameBytes {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			if len(f.names) >= maxNames {
				return
			}
			p := prefix + k
			f.names[p] = true
			f.collect(p+".", v[k], depth+1)
		}
	case []any:
		for _, e := range v {
			if len(f.names) >= maxNames {
				return
			}
			f.collect(prefix, e, depth+1)
		}
	}
}

// Merge adds what another watch of the same contracts saw.
func (f *FieldWatch) Merge(o *FieldWatch) {
	for i := range f.paths {
		if o.seen[i] && !f.seen[i] {
			f.seen[i] = true
			f.left--
		}
	}
	for n := range o.names {
		if len(f.names) < maxNames {
			f.names[n] = true
		}
	}
}

// Missing returns the fields rule r reads that no event had, each with the
// closest field the events had when one is near enough.
func (f *FieldWatch) Missing(r *rules.Rule) []report.MissingField {
	var names []string
	for n := range f.names {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []report.MissingField
	for _, p := range rulePaths(r) {
		for i, q := range f.paths {
			if q == p && !f.seen[i] && !contains(out, p) {
				m := report.MissingField{Field: p}
				m.DidYouMean, _ = suggest.Closest(p, names)
				out = append(out, m)
			}
		}
	}
	return out
}

func contains(ms []report.MissingField, field string) bool {
	for _, m := range ms {
		if m.Field == field {
			return true
		}
	}
	return false
}

// has reports whether the path leads to a value (null included) in v,
// crossing lists: items.sku is there when one item has a sku.
func has(v any, path []string) bool {
	if len(path) == 0 {
		return true
	}
	switch v := v.(type) {
	case map[string]any:
		e, ok := v[path[0]]
		return ok && has(e, path[1:])
	case []any:
		for _, e := range v {
			if has(e, path) {
				return true
			}
		}
	}
	return false
}
