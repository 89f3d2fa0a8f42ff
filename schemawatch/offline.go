package schemawatch

import (
	"fmt"
	"sort"

	"github.com/assay-dev/assay/rules"
)

// MissingEvents is how many events at the end of an offline input a
// declared required path must be absent from to be reported missing (or
// from every event, when there are fewer).
const MissingEvents = 10

// Offline finds the drift of offline events (`assay test`) from the
// fields: the contracts declare; contracts without fields: are not
// watched. Every event is profiled, in any order: Merge adds what another
// Offline of the same contracts saw, so events may be observed on several
// goroutines.
type Offline struct {
	contracts []*rules.Contract
	state     []*offlineState
	first     Pos   // the first event observed (smallest Seq)
	last      int64 // the largest Seq observed
	events    int64
}

// Pos is where an offline event is: its position among all the inputs,
// its input (when several) and line.
type Pos struct {
	Seq    int64
	Source string
	Line   int
}

func (p Pos) before(q Pos) bool { return p.Line != 0 && (q.Line == 0 || p.Seq < q.Seq) }

type offlineState struct {
	added map[string]Pos         // undeclared paths: where first seen
	typed map[string]typedChange // declared paths of an unfit type: path + type
	seen  map[string]Pos         // required paths: where last seen
}

type typedChange struct {
	pos    Pos
	detail string
	path   string
}

// NewOffline watches the contracts that declare fields.
func NewOffline(contracts []*rules.Contract) *Offline {
	o := &Offline{}
	for _, c := range contracts {
		if len(c.Fields) > 0 {
			o.contracts = append(o.contracts, c)
			o.state = append(o.state, &offlineState{added: map[string]Pos{}, typed: map[string]typedChange{}, seen: map[string]Pos{}})
		}
	}
	return o
}

// Active reports whether any contract is watched.
func (o *Offline) Active() bool { return len(o.contracts) > 0 }

// Observe profiles one event decoded whole.
func (o *Offline) Observe(at Pos, fields map[string]any) {
	if !o.Active() {
		return
	}
	o.events++
	if at.before(o.first) || o.first.Line == 0 {
		o.first = at
	}
	o.last = max(o.last, at.Seq)
	Walk(fields, func(path string, t Type, v any, long bool) {
		if long {
			return
		}
		for i, c := range o.contracts {
			st := o.state[i]
			f, exact := Declared(c, path)
			switch {
			case f == nil:
				if len(st.added) < DefaultMaxPaths && !Implied(c, path) {
					if p, ok := st.added[path]; !ok || at.before(p) {
						st.added[path] = at
					}
				}
			case exact:
				if f.Required {
					// Keyed by the declared path: items[].sku is items.sku.
					if p, ok := st.seen[f.Path]; !ok || p.Seq < at.Seq {
						st.seen[f.Path] = at
					}
				}
				if !Accepts(f.Type, t, v) {
					k := path + "\x00" + t.String()
					if p, ok := st.typed[k]; !ok || at.before(p.pos) {
						st.typed[k] = typedChange{pos: at, path: path, detail: fmt.Sprintf("%s is %s, declared %s", path, t, f.Type)}
					}
				}
			}
		}
	})
}

// Merge adds what x, an Offline of the same contracts, observed.
func (o *Offline) Merge(x *Offline) {
	if x.events == 0 {
		return
	}
	o.events += x.events
	if x.first.before(o.first) || o.first.Line == 0 {
		o.first = x.first
	}
	o.last = max(o.last, x.last)
	for i, st := range o.state {
		xs := x.state[i]
		for path, p := range xs.added {
			if q, ok := st.added[path]; !ok || p.before(q) {
				st.added[path] = p
			}
		}
		for k, tc := range xs.typed {
			if q, ok := st.typed[k]; !ok || tc.pos.before(q.pos) {
				st.typed[k] = tc
			}
		}
		for path, p := range xs.seen {
			if q, ok := st.seen[path]; !ok || q.Seq < p.Seq {
				st.seen[path] = p
			}
		}
	}
}

// OfflineChange is one drift found offline, at the event it shows in.
type OfflineChange struct {
	Change string
	Path   string
	Detail string
	Pos
}

// Changes returns the drift of a contract, in input order: nil when the
// contract declares no fields (or is not watched), empty when nothing
// drifted or no event was observed.
func (o *Offline) Changes(contract string) []OfflineChange {
	for i, c := range o.contracts {
		if c.Name != contract {
			continue
		}
		out := []OfflineChange{}
		if o.events == 0 {
			return out
		}
		st := o.state[i]
		for path, p := range st.added {
			out = append(out, OfflineChange{Change: FieldAdded, Path: path, Detail: fmt.Sprintf("path %s is not declared in fields:", path), Pos: p})
		}
		for _, tc := range st.typed {
			out = append(out, OfflineChange{Change: TypeChanged, Path: tc.path, Detail: tc.detail, Pos: tc.pos})
		}
		for _, f := range c.Fields {
			if !f.Required {
				continue
			}
			p, ok := st.seen[f.Path]
			switch {
			case !ok:
				out = append(out, OfflineChange{Change: FieldMissing, Path: f.Path,
					Detail: fmt.Sprintf("%s, declared required, is in none of the %d events", f.Path, o.events), Pos: o.first})
			case o.last-p.Seq >= MissingEvents:
				out = append(out, OfflineChange{Change: FieldMissing, Path: f.Path,
					Detail: fmt.Sprintf("%s, declared required, stops after %s: absent from the last %d events", f.Path, where(p), o.last-p.Seq), Pos: p})
			}
		}
		sort.SliceStable(out, func(i, j int) bool {
			if out[i].Seq != out[j].Seq {
				return out[i].Seq < out[j].Seq
			}
			if out[i].Change != out[j].Change {
				return out[i].Change < out[j].Change
			}
			return out[i].Path < out[j].Path
		})
		return out
	}
	return nil
}

func where(p Pos) string {
	if p.Source != "" {
		return fmt.Sprintf("%s:%d", p.Source, p.Line)
	}
	return fmt.Sprintf("line %d", p.Line)
}
