// Package diff compares two versions of a set of contracts and classifies
// each change by what it does to the two sides of a topic, the way Buf's
// breaking-change detection classifies changes of Protobuf files:
//
//   - Stricter: an event that passed the old contract may fail the new
//     one. The producer may break.
//   - Looser: an event that failed may now pass. A consumer loses a
//     guarantee it relied on.
//   - Neutral: no event changes verdict (a description, an owner, the
//     sample rate, a rule that is shadow on both sides).
//   - Changed: it cannot tell (a new key expression, another topic).
//
// Contracts are matched by name and rules by name within a contract, so
// a renamed rule is one removed and one added. Expressions are compared by
// their shapes: a conjunction (&&) of numeric bounds on a path (x > 0,
// 0 < x && x <= 10), of allowed values (x in ["a", "b"], x == "a" ||
// x == "b") and of other conditions compared by their text. One accepting
// a subset of what the other accepts is narrower; anything else is
// changed.
//
//	changes := diff.Contracts(oldContracts, newContracts)
//	diff.WriteText(os.Stdout, changes)
package diff

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/assay-dev/assay/rules"
)

// Class says which side of a topic a change may hurt.
type Class string

// The classes.
const (
	Stricter Class = "stricter"
	Looser   Class = "looser"
	Neutral  Class = "neutral"
	Changed  Class = "changed"
)

// Classes lists the classes, for flags and messages.
var Classes = []Class{Stricter, Looser, Neutral, Changed}

// ParseClass accepts the name of a class.
func ParseClass(s string) (Class, bool) {
	c := Class(s)
	return c, slices.Contains(Classes, c)
}

// Change is one difference between the old and the new contracts.
type Change struct {
	Contract string `json:"contract"`
	Rule     string `json:"rule,omitempty"` // empty: the contract itself
	// Key is what changed: "contract", "rule", "expr", "when", "within",
	// "fields.PATH.required", ... (see docs/cli.md).
	Key string `json:"key"`
	// Change names the kind of change: "added", "removed", "narrowed",
	// "widened", "enum_grown", "bound_narrowed", "longer", ...
	Change string `json:"change"`
	Class  Class  `json:"class"`
	Old    string `json:"old,omitempty"`
	New    string `json:"new,omitempty"`
	// Detail says what the change does; for a stricter change, why a
	// producer may break.
	Detail string `json:"detail"`
	// File and Line are where the change is: in the new contracts, or in
	// the old ones for what was removed.
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
}

// Has reports whether any change is of one of the classes.
func Has(changes []Change, classes ...Class) bool {
	for _, c := range changes {
		if slices.Contains(classes, c.Class) {
			return true
		}
	}
	return false
}

// Contracts compares two sets of contracts, matched by name. Changes come
// in the order of the new contracts, then the removed ones.
func Contracts(old, new []*rules.Contract) []Change {
	byName := map[string]*rules.Contract{}
	for _, c := range old {
		byName[c.Name] = c
	}
	seen := map[string]bool{}
	var out []Change
	for _, n := range new {
		seen[n.Name] = true
		o := byName[n.Name]
		if o == nil {
			class, detail := Stricter, "a new contract: events that break its rules now fail"
			if enforced(n) == 0 {
				class, detail = Neutral, "a new contract without an enforced rule"
			}
			out = append(out, at(Change{Contract: n.Name, Key: "contract", Change: "added", Class: class, New: n.Name, Detail: detail}, n.Pos))
			continue
		}
		out = append(out, Compare(o, n)...)
	}
	for _, o := range old {
		if !seen[o.Name] {
			class, detail := Looser, "the contract was removed: consumers lose every guarantee it gave"
			if enforced(o) == 0 {
				class, detail = Neutral, "the contract was removed; it had no enforced rule"
			}
			out = append(out, at(Change{Contract: o.Name, Key: "contract", Change: "removed", Class: class, Old: o.Name, Detail: detail}, o.Pos))
		}
	}
	return out
}

func enforced(c *rules.Contract) int {
	n := 0
	for _, r := range c.Rules {
		if !r.Shadow {
			n++
		}
	}
	if c.Volume != nil {
		n++
	}
	return n + len(c.Fields)
}

func at(c Change, p rules.Pos) Change {
	c.File, c.Line = p.File, p.Line
	return c
}

// Compare compares two versions of one contract.
func Compare(o, n *rules.Contract) []Change {
	d := &differ{contract: n.Name, pos: n.Pos}
	d.contract_(o, n)
	d.fields(o, n)
	oldRules := map[string]*rules.Rule{}
	for _, r := range o.Rules {
		oldRules[r.Name] = r
	}
	newRules := map[string]bool{}
	for _, r := range n.Rules {
		newRules[r.Name] = true
		if or := oldRules[r.Name]; or != nil {
			d.rule(or, r)
			continue
		}
		c := Change{Rule: r.Name, Key: "rule", Change: "added", Class: Stricter, New: ruleSummary(r),
			Detail: "a new " + r.Kind.String() + " rule: a producer may break with events that fail it"}
		if r.Shadow {
			c.Class, c.Detail = Neutral, "a new shadow rule: it never fails"
		}
		d.addAt(c, r.Pos)
	}
	for _, r := range o.Rules {
		if !newRules[r.Name] {
			c := Change{Rule: r.Name, Key: "rule", Change: "removed", Class: Looser, Old: ruleSummary(r),
				Detail: "the rule was removed: consumers lose its guarantee"}
			if r.Shadow {
				c.Class, c.Detail = Neutral, "a shadow rule was removed: it never failed"
			}
			d.addAt(c, r.Pos)
		}
	}
	return d.out
}

func ruleSummary(r *rules.Rule) string {
	if r.Expr == nil {
		return r.Kind.String()
	}
	return r.Kind.String() + ": " + r.Expr.Source
}

type differ struct {
	contract string
	pos      rules.Pos
	out      []Change
}

func (d *differ) add(c Change) { d.addAt(c, d.pos) }

func (d *differ) addAt(c Change, p rules.Pos) {
	c.Contract = d.contract
	d.out = append(d.out, at(c, p))
}

func src(p *rules.Program) string {
	if p == nil {
		return ""
	}
	return p.Source
}

func (d *differ) contract_(o, n *rules.Contract) {
	for _, s := range []struct{ key, old, new string }{
		{"owner", o.Owner, n.Owner},
		{"version", o.Version, n.Version},
		{"description", o.Description, n.Description},
		{"consumers", strings.Join(o.Consumers, ", "), strings.Join(n.Consumers, ", ")},
		{"pii", strings.Join(o.PII, ", "), strings.Join(n.PII, ", ")},
	} {
		if s.old != s.new {
			d.add(Change{Key: s.key, Change: "modified", Class: Neutral, Old: s.old, New: s.new, Detail: "no verdict changes"})
		}
	}
	if o.Sample != n.Sample {
		d.add(Change{Key: "sample", Change: "modified", Class: Neutral, Old: fmtFloat(o.Sample), New: fmtFloat(n.Sample),
			Detail: "another share of the events is checked; each event checked is judged alike"})
	}
	// Topics: which events a contract reads cannot be ordered.
	added, removed := stringsDiff(n.Topics, o.Topics), stringsDiff(o.Topics, n.Topics)
	if len(added) > 0 {
		d.add(Change{Key: "topics", Change: "added", Class: Changed, New: strings.Join(added, ", "),
			Detail: "the contract now reads events of " + strings.Join(added, ", ")})
	}
	if len(removed) > 0 {
		d.add(Change{Key: "topics", Change: "removed", Class: Changed, Old: strings.Join(removed, ", "),
			Detail: "the contract no longer reads events of " + strings.Join(removed, ", ")})
	}
	op, np := "", ""
	if o.TopicPattern != nil {
		op = o.TopicPattern.String()
	}
	if n.TopicPattern != nil {
		np = n.TopicPattern.String()
	}
	if op != np {
		d.add(Change{Key: "topic_pattern", Change: "modified", Class: Changed, Old: op, New: np, Detail: "the contract reads other topics"})
	}
	if o.Format != n.Format {
		d.add(Change{Key: "format", Change: "modified", Class: Changed, Old: o.Format, New: n.Format, Detail: "records are decoded another way"})
	}
	if normalizeSrc(o.EventTime) != normalizeSrc(n.EventTime) {
		d.add(Change{Key: "event_time", Change: "modified", Class: Changed, Old: src(o.EventTime), New: src(n.EventTime),
			Detail: "windows and the offline clock follow another time"})
	}
	d.filter("", "where", o.Where, n.Where, "events the contract checks")
	d.volume(o.Volume, n.Volume)
	if seg := func(c *rules.Contract) string {
		if c.Segment == nil {
			return ""
		}
		return fmt.Sprintf("by %s, max %d", normalizeSrc(c.Segment.By), c.Segment.Max)
	}; seg(o) != seg(n) {
		c := Change{Key: "segment", Change: "modified", Class: Neutral, Old: seg(o), New: seg(n), Detail: "per-segment metrics are split otherwise"}
		if len(n.AnomalyRules()) > 0 {
			c.Class, c.Detail = Changed, "anomaly rules learn and judge per other segments: their baselines start afresh"
		}
		d.add(c)
	}
	if fmt.Sprint(alertOf(o)) != fmt.Sprint(alertOf(n)) {
		d.add(Change{Key: "alert", Change: "modified", Class: Neutral, Old: fmt.Sprint(alertOf(o)), New: fmt.Sprint(alertOf(n)),
			Detail: "when and where alerts go; no verdict changes"})
	}
	if fmt.Sprint(o.Quarantine) != fmt.Sprint(n.Quarantine) {
		d.add(Change{Key: "quarantine", Change: "modified", Class: Neutral, Old: fmtQuarantine(o.Quarantine), New: fmtQuarantine(n.Quarantine),
			Detail: "where violating events are copied; no verdict changes"})
	}
	if len(o.Examples) != len(n.Examples) {
		d.add(Change{Key: "examples", Change: "modified", Class: Neutral, Old: strconv.Itoa(len(o.Examples)), New: strconv.Itoa(len(n.Examples)),
			Detail: "the contract's self-tests; no verdict changes"})
	}
}

func alertOf(c *rules.Contract) any {
	if c.Alert == nil {
		return nil
	}
	return *c.Alert
}

func fmtQuarantine(q *rules.Quarantine) string {
	if q == nil {
		return ""
	}
	return fmt.Sprintf("%s (mask_pii %t)", q.Topic, q.MaskPII)
}

func normalizeSrc(p *rules.Program) string {
	if p == nil {
		return ""
	}
	return normalize(p.Source)
}

// fmtFloat writes a number as it is written in a contract: 2000000, not
// 2e+06 (exponents only beyond 1e21 and below 1e-6).
func fmtFloat(f float64) string {
	if a := math.Abs(f); a != 0 && (a >= 1e21 || a < 1e-6) {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

func stringsDiff(a, b []string) []string {
	var out []string
	for _, s := range a {
		if !slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}

// filter compares a precondition (where, when, a sequence's start, a
// reference's from): the events it admits are judged, the others pass.
// Admitting fewer events is looser.
func (d *differ) filter(rule, key string, o, n *rules.Program, what string) {
	switch {
	case o == nil && n == nil:
		return
	case o == nil:
		d.add(Change{Rule: rule, Key: key, Change: "added", Class: Looser, New: n.Source,
			Detail: fmt.Sprintf("only events with %s are judged: consumers lose the guarantee on the others", n.Source)})
		return
	case n == nil:
		d.add(Change{Rule: rule, Key: key, Change: "removed", Class: Stricter, Old: o.Source,
			Detail: fmt.Sprintf("every event is judged, not only those with %s: a producer may break with events that were not", o.Source)})
		return
	}
	delta, changed := compareExpr(o.Source, n.Source)
	if !changed {
		return
	}
	c := Change{Rule: rule, Key: key, Old: o.Source, New: n.Source}
	detail := strings.Join(delta.details, "; ")
	switch {
	case delta.narrower && delta.wider:
		c.Change, c.Class, c.Detail = "rewritten", Neutral, "the same "+what+": "+detail
	case delta.narrower:
		c.Change, c.Class, c.Detail = "narrowed", Looser, "fewer "+what+" ("+detail+"): consumers lose the guarantee on the others"
	case delta.wider:
		c.Change, c.Class, c.Detail = "widened", Stricter, "more "+what+" ("+detail+"): a producer may break with events that were not judged"
	default:
		c.Change, c.Class, c.Detail = "modified", Changed, "other "+what+": "+detail
	}
	d.add(c)
}

// condition compares a condition every judged event must meet (an expr
// rule, a sequence's expect, a reference's to): accepting fewer events is
// stricter.
func (d *differ) condition(rule, key string, o, n *rules.Program) {
	delta, changed := compareExpr(o.Source, n.Source)
	if !changed {
		return
	}
	c := Change{Rule: rule, Key: key, Old: o.Source, New: n.Source}
	detail := strings.Join(delta.details, "; ")
	switch {
	case delta.narrower && delta.wider:
		c.Change, c.Class, c.Detail = "rewritten", Neutral, "the same events pass: "+detail
	case delta.narrower:
		c.Change, c.Class = narrowName(delta.kind), Stricter
		c.Detail = "fewer events pass (" + detail + "): a producer may break with events that passed"
	case delta.wider:
		c.Change, c.Class = wideName(delta.kind), Looser
		c.Detail = "more events pass (" + detail + "): consumers may now get events that failed"
	default:
		c.Change, c.Class, c.Detail = "modified", Changed, "other events pass: "+detail
	}
	d.add(c)
}

func narrowName(kind string) string {
	switch kind {
	case "bound":
		return "bound_narrowed"
	case "enum":
		return "enum_shrunk"
	case "conjunct":
		return "condition_added"
	}
	return "narrowed"
}

func wideName(kind string) string {
	switch kind {
	case "bound":
		return "bound_widened"
	case "enum":
		return "enum_grown"
	case "conjunct":
		return "condition_removed"
	}
	return "widened"
}

// key compares an expression that is a value (a unique key, a fresh time):
// any other value is a change that cannot be ordered.
func (d *differ) key(rule, key string, o, n *rules.Program) {
	if normalizeSrc(o) == normalizeSrc(n) {
		return
	}
	d.add(Change{Rule: rule, Key: key, Change: "modified", Class: Changed, Old: src(o), New: src(n), Detail: "another value is compared"})
}

func (d *differ) rule(o, n *rules.Rule) {
	start := len(d.out)
	saved := d.pos
	d.pos = n.Pos
	defer func() { d.pos = saved }()
	name := n.Name
	if o.Kind != n.Kind {
		d.add(Change{Rule: name, Key: "kind", Change: "modified", Class: Changed, Old: o.Kind.String(), New: n.Kind.String(),
			Detail: fmt.Sprintf("the rule is now a %s rule (%s), was %s", n.Kind, ruleSummary(n), ruleSummary(o))})
	} else {
		switch n.Kind {
		case rules.KindExpr:
			d.condition(name, "expr", o.Expr, n.Expr)
		case rules.KindSequence:
			d.key(name, "sequence.key", o.Expr, n.Expr)
			d.filter(name, "sequence.start", o.Sequence.Start, n.Sequence.Start, "starts that open an expectation")
			d.condition(name, "sequence.expect", o.Sequence.Expect, n.Sequence.Expect)
		case rules.KindReference:
			d.key(name, "reference.key", o.Expr, n.Expr)
			d.filter(name, "reference.from", o.Reference.From, n.Reference.From, "referring events judged")
			d.condition(name, "reference.to", o.Reference.To, n.Reference.To)
			d.key(name, "reference.to_key", o.Reference.ToKey, n.Reference.ToKey)
		case rules.KindAnomaly:
			d.anomaly(name, o.Anomaly, n.Anomaly)
		default:
			d.key(name, n.Kind.String(), o.Expr, n.Expr)
		}
		d.within(n, o.Within, n.Within)
		if o.Scope != n.Scope {
			d.scope(n, o.Scope, n.Scope)
		}
	}
	d.filter(name, "when", o.When, n.When, "events judged")
	if o.Tolerance != n.Tolerance {
		c := Change{Rule: name, Key: "tolerance", Old: fmtFloat(o.Tolerance), New: fmtFloat(n.Tolerance)}
		if n.Tolerance > o.Tolerance {
			c.Change, c.Class, c.Detail = "raised", Looser, "assay test lets more violations through"
		} else {
			c.Change, c.Class, c.Detail = "lowered", Stricter, "assay test fails with fewer violations: a producer's CI may break"
		}
		d.add(c)
	}
	if o.Severity != n.Severity {
		c := Change{Rule: name, Key: "severity", Old: string(o.Severity), New: string(n.Severity)}
		if n.Severity.Level() > o.Severity.Level() {
			c.Change, c.Class, c.Detail = "raised", Stricter, "violations now fail assay test at --fail-on "+string(n.Severity)+" and page as "+string(n.Severity)
		} else {
			c.Change, c.Class, c.Detail = "lowered", Looser, "violations no longer fail assay test at --fail-on "+string(o.Severity)
		}
		d.add(c)
	}
	if o.Description != n.Description {
		d.add(Change{Rule: name, Key: "description", Change: "modified", Class: Neutral, Old: o.Description, New: n.Description, Detail: "no verdict changes"})
	}
	mode := func(r *rules.Rule) string {
		if r.Shadow {
			return "shadow"
		}
		return "enforce"
	}
	if o.Shadow != n.Shadow {
		c := Change{Rule: name, Key: "mode", Old: mode(o), New: mode(n)}
		if n.Shadow {
			c.Change, c.Class, c.Detail = "shadowed", Looser, "a shadow rule never fails: consumers lose its guarantee"
		} else {
			c.Change, c.Class, c.Detail = "enforced", Stricter, "the rule now fails, alerts and quarantines: a producer may break with events it flagged in shadow"
		}
		d.add(c)
	} else if n.Shadow {
		// A shadow rule never fails, before or after: nothing it does
		// changes a verdict.
		for i := start; i < len(d.out); i++ {
			if d.out[i].Class != Neutral {
				d.out[i].Class = Neutral
				d.out[i].Detail += " (the rule is shadow before and after: it never fails)"
			}
		}
	}
}

func (d *differ) within(r *rules.Rule, o, n time.Duration) {
	if o == n {
		return
	}
	c := Change{Rule: r.Name, Key: "within", Old: fmtDur(r.Kind, o), New: fmtDur(r.Kind, n)}
	longer := n > o
	if r.Kind == rules.KindUnique {
		// 0 is the whole input: the longest window.
		longer = n == 0 || (o != 0 && n > o)
	}
	if longer {
		c.Change = "longer"
	} else {
		c.Change = "shorter"
	}
	w, ok := withinEffects[r.Kind]
	switch {
	case !ok:
		c.Class, c.Detail = Changed, "within changed"
	case longer:
		c.Class, c.Detail = w.longer, w.longerDetail
	default:
		c.Class, c.Detail = w.longer.opposite(), w.shorterDetail
	}
	d.add(c)
}

func fmtDur(k rules.Kind, v time.Duration) string {
	if v == 0 {
		if k == rules.KindUnique {
			return "forever"
		}
		return "0"
	}
	const day = 24 * time.Hour
	if v%day == 0 {
		return strconv.FormatInt(int64(v/day), 10) + "d"
	}
	out := v.String()
	if strings.HasSuffix(out, "m0s") {
		out = strings.TrimSuffix(out, "0s")
	}
	if strings.HasSuffix(out, "h0m") {
		out = strings.TrimSuffix(out, "0m")
	}
	return out
}

func (d *differ) scope(r *rules.Rule, o, n rules.Scope) {
	c := Change{Rule: r.Name, Key: "scope", Change: "modified", Old: o.String(), New: n.String()}
	wider := n == rules.ScopeTopic // state shared by every partition
	switch {
	case r.Kind == rules.KindUnique && wider:
		c.Class, c.Detail = Stricter, "a repeat on another partition now fails: a producer may break with keys spread over partitions"
	case r.Kind == rules.KindUnique:
		c.Class, c.Detail = Looser, "a repeat on another partition now passes"
	case wider:
		c.Class, c.Detail = Looser, "events on other partitions now count"
	default:
		c.Class, c.Detail = Stricter, "events on other partitions no longer count: a producer may break with keys spread over partitions"
	}
	d.add(c)
}

// anomaly compares two anomaly blocks: a narrower band (a lower
// sensitivity), a second side judged or an earlier judgment is stricter;
// another metric, measure, bucket or seasonality cannot be ordered.
func (d *differ) anomaly(rule string, o, n *rules.Anomaly) {
	changed := func(key, old, new, detail string) {
		if old != new {
			d.add(Change{Rule: rule, Key: "anomaly." + key, Change: "modified", Class: Changed, Old: old, New: new, Detail: detail})
		}
	}
	changed("metric", string(o.Metric), string(n.Metric), "another quantity is measured")
	if o.Watch != "" || n.Watch != "" {
		changed("of", o.Watch, n.Watch, "another rule's verdicts are measured")
	} else {
		d.key(rule, "anomaly.of", o.Of, n.Of)
	}
	changed("every", fmtDur(rules.KindExpr, o.Every), fmtDur(rules.KindExpr, n.Every), "buckets of another length: the baseline starts afresh")
	changed("seasonality", string(o.Seasonality), string(n.Seasonality), "buckets are compared with other earlier buckets")
	lowerIsStricter := func(key string, o, n float64, lower, higher string) {
		if o == n {
			return
		}
		c := Change{Rule: rule, Key: "anomaly." + key, Old: fmtFloat(o), New: fmtFloat(n)}
		if n < o {
			c.Change, c.Class, c.Detail = "lowered", Stricter, lower
		} else {
			c.Change, c.Class, c.Detail = "raised", Looser, higher
		}
		d.add(c)
	}
	lowerIsStricter("sensitivity", o.Sensitivity, n.Sensitivity,
		"the learned band is narrower: buckets closer to normal now fail", "the learned band is wider: buckets further from normal now pass")
	if o.Direction != n.Direction {
		c := Change{Rule: rule, Key: "anomaly.direction", Change: "modified", Old: string(o.Direction), New: string(n.Direction)}
		switch {
		case n.Direction == "both":
			c.Class, c.Detail = Stricter, "both sides of the band now fail"
		case o.Direction == "both":
			c.Class, c.Detail = Looser, "only one side of the band fails now"
		default:
			c.Class, c.Detail = Changed, "the other side of the band fails now"
		}
		d.add(c)
	}
	lowerIsStricter("min_history", float64(o.MinHistory), float64(n.MinHistory),
		"the rule judges after fewer buckets", "the rule learns longer before it judges")
	if o.Train != n.Train {
		d.add(Change{Rule: rule, Key: "anomaly.train", Change: "modified", Class: Neutral, Old: fmtDur(rules.KindExpr, o.Train), New: fmtDur(rules.KindExpr, n.Train),
			Detail: "how much history a new rule learns from online; no verdict of a learned rule changes"})
	}
}

func (d *differ) volume(o, n *rules.Volume) {
	f := func(v *rules.Volume) string {
		if v == nil {
			return ""
		}
		return fmt.Sprintf("%d per %s", v.Min, fmtDur(rules.KindExpr, v.Per))
	}
	c := Change{Key: "volume", Old: f(o), New: f(n)}
	switch {
	case o == nil && n == nil, o != nil && n != nil && *o == *n:
		return
	case o == nil:
		c.Change, c.Class, c.Detail = "added", Stricter, "a topic below "+f(n)+" now fails: a producer may break by going quiet"
	case n == nil:
		c.Change, c.Class, c.Detail = "removed", Looser, "consumers are no longer told when the topic goes quiet"
	default:
		// The rate asked for; a longer window at the same rate tolerates
		// bursts, so only a same-window or same-min change is ordered.
		or, nr := float64(o.Min)/float64(o.Per), float64(n.Min)/float64(n.Per)
		switch {
		case (o.Per == n.Per && n.Min > o.Min) || (o.Min == n.Min && n.Per < o.Per):
			c.Change, c.Class, c.Detail = "raised", Stricter, "more events are asked for: a producer may break at its quiet times"
		case (o.Per == n.Per && n.Min < o.Min) || (o.Min == n.Min && n.Per > o.Per):
			c.Change, c.Class, c.Detail = "lowered", Looser, "fewer events are asked for"
		default:
			c.Change, c.Class, c.Detail = "modified", Changed, fmt.Sprintf("the rate asked for goes from %.3g to %.3g per second", or*float64(time.Second), nr*float64(time.Second))
		}
	}
	d.add(c)
}

// typeOrder says whether field type a accepts every value b accepts.
func typeCovers(a, b rules.FieldType) bool {
	return a == b || a == rules.TypeAny || (a == rules.TypeFloat && b == rules.TypeInt)
}

func (d *differ) fields(o, n *rules.Contract) {
	for _, nf := range n.Fields {
		of := o.Field(nf.Path)
		key := "fields." + nf.Path
		if of == nil {
			c := Change{Key: key, Change: "added", New: fieldSummary(nf)}
			switch {
			case nf.Required:
				c.Class, c.Detail = Stricter, "a new required field: a producer may break with events without "+nf.Path
			case nf.Type != rules.TypeAny || !nf.Nullable:
				c.Class, c.Detail = Stricter, "a new optional field, checked when present: a producer may break with events whose "+nf.Path+" "+badValues(nf)
			default:
				c.Class, c.Detail = Neutral, "a new optional field of any type, null allowed: no verdict changes"
			}
			d.addAt(c, nf.Pos)
			continue
		}
		if of.Type != nf.Type {
			c := Change{Key: key + ".type", Old: string(of.Type), New: string(nf.Type)}
			switch {
			case typeCovers(of.Type, nf.Type):
				c.Change, c.Class, c.Detail = "narrowed", Stricter, fmt.Sprintf("a %s that is no %s now fails: a producer may break", of.Type, nf.Type)
			case typeCovers(nf.Type, of.Type):
				c.Change, c.Class, c.Detail = "widened", Looser, fmt.Sprintf("consumers may now get a %s that is no %s", nf.Type, of.Type)
			default:
				c.Change, c.Class, c.Detail = "modified", Changed, fmt.Sprintf("%s values fail, %s values pass", of.Type, nf.Type)
			}
			d.addAt(c, nf.Pos)
		}
		if of.Required != nf.Required {
			c := Change{Key: key + ".required", Old: strconv.FormatBool(of.Required), New: strconv.FormatBool(nf.Required)}
			if nf.Required {
				c.Change, c.Class, c.Detail = "required", Stricter, "events without "+nf.Path+" now fail: a producer may break"
			} else {
				c.Change, c.Class, c.Detail = "optional", Looser, "consumers may now get events without "+nf.Path
			}
			d.addAt(c, nf.Pos)
		}
		if of.Nullable != nf.Nullable {
			c := Change{Key: key + ".nullable", Old: strconv.FormatBool(of.Nullable), New: strconv.FormatBool(nf.Nullable)}
			if nf.Nullable {
				c.Change, c.Class, c.Detail = "nullable", Looser, "consumers may now get a null "+nf.Path
			} else {
				c.Change, c.Class, c.Detail = "not_nullable", Stricter, "a null "+nf.Path+" now fails: a producer may break"
			}
			d.addAt(c, nf.Pos)
		}
	}
	for _, of := range o.Fields {
		if n.Field(of.Path) == nil {
			d.addAt(Change{Key: "fields." + of.Path, Change: "removed", Class: Looser, Old: fieldSummary(of),
				Detail: "consumers lose the guarantee on " + of.Path}, of.Pos)
		}
	}
}

// badValues says which values of a field fail its declaration.
func badValues(f *rules.Field) string {
	switch {
	case f.Type == rules.TypeAny:
		return "is null"
	case f.Nullable:
		return "is no " + string(f.Type)
	}
	return "is no " + string(f.Type) + " or is null"
}

func fieldSummary(f *rules.Field) string {
	s := string(f.Type)
	if f.Required {
		s += ", required"
	}
	if f.Nullable {
		s += ", nullable"
	}
	return s
}

// withinEffects say what a longer within does to each kind of rule, and
// what either way means for the events.
var withinEffects = map[rules.Kind]struct {
	longer                      Class
	longerDetail, shorterDetail string
}{
	rules.KindUnique:    {Stricter, "a repeat further apart now fails: a producer may break with repeats it sent", "repeats further apart now pass"},
	rules.KindFresh:     {Looser, "older events now pass", "events must be more recent: a producer may break with events it sent later"},
	rules.KindSequence:  {Looser, "the expected event may come later", "the expected event must come sooner: a producer may break with the delays it has"},
	rules.KindReference: {Looser, "the referenced event may come later", "the referenced event must come sooner: a producer may break with the delays it has"},
}

// opposite is the class of the reverse change: stricter for looser and
// the other way round.
func (c Class) opposite() Class {
	switch c {
	case Stricter:
		return Looser
	case Looser:
		return Stricter
	}
	return c
}
