// Package infer writes a first contract for a topic from a sample of its
// events: the engine of `assay infer`.
//
// A Profiler reads decoded events (Add) and keeps, per field path, bounded
// statistics: how often the field is there and non-null, the JSON types
// seen, numeric ranges, string formats (UUID, RFC 3339 date-time, date,
// email, URL, currency and country codes), up to MaxDistinct distinct
// values for enums, whether id-like fields repeat (up to MaxUnique values),
// and how far event-time fields lag behind. Contract then turns the profile
// into the YAML text of one contract whose every rule carries a comment
// saying what was observed: presence of always-present fields, formats,
// non-negative or positive numbers, whole numbers, the magnitude of numbers
// (a change of unit or scale fails), enums, non-empty arrays (and the same
// for the fields of array elements, with all()), unique ids and the
// freshness of the event time. Rules of fields that were sometimes missing
// are guarded by when and say how often; ids whose values repeated get no
// unique rule and are reported (Inferred.Warnings). Holdout scores the
// rules on held-out events.
//
// The contract passes on the events it was inferred from, and is meant to
// be reviewed: a rule says what the sample showed, not what the producer
// promises. Fields that look like personal data (by name, or by values that
// look like emails, phone numbers, IBANs or IP addresses) are listed under
// pii, never get enum rules, and no value of theirs is written to the file.
// No raw string value is written at all except the values of
// low-cardinality enums.
package infer

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/assay-dev/assay/internal/contractyaml"
	"github.com/assay-dev/assay/rules"
)

// Options of the contract written.
type Options struct {
	// Contract is the contract name ([a-z0-9._-]+); by default it is
	// derived from the topic.
	Contract string
	// Owner is the producing team; "TODO-owner" by default.
	Owner string
	// Topic is the topic the events came from (required).
	Topic string
	// Now stamps the header comment; time.Now by default.
	Now func() time.Time
}

// DefaultOwner is the owner written when Options.Owner is empty.
const DefaultOwner = "TODO-owner"

// Thresholds of the inference.
const (
	// MinEnumEvents is the number of values a field needs before its
	// distinct values are taken for an enum.
	MinEnumEvents = 20
	// MaxEnumValues is the most distinct values an enum may have.
	MaxEnumValues = 10
	// MinWholeEvents is the number of numbers a field needs before "always
	// whole" becomes a rule.
	MinWholeEvents = 20
	// UniqueWithin is the window of suggested unique rules.
	UniqueWithin = "24h"
	// MaxIDRepeats is the share of repeated values up to which an id-like
	// field is still reported as an id whose values repeat; above it the
	// field is taken for a reference (customer_id) and nothing is said.
	MaxIDRepeats = 0.1
	// MinScaleEvents is the number of numbers a field needs before a
	// magnitude rule is suggested.
	MinScaleEvents = 20
)

// ErrNoEvents is returned by Contract when nothing was profiled.
var ErrNoEvents = errors.New("infer: no events to infer a contract from")

var (
	contractNameRE = regexp.MustCompile(`^[a-z0-9._-]+$`)
	identRE        = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	ruleNameBadRE  = regexp.MustCompile(`[^A-Za-z0-9_]+`)
)

// keywords of expr that cannot be used as bare names or after a dot.
var keywords = map[string]bool{
	"in": true, "or": true, "and": true, "not": true, "matches": true, "contains": true,
	"startsWith": true, "endsWith": true, "let": true, "nil": true, "true": true, "false": true,
	"if": true, "else": true,
}

// ContractName derives a contract name from a topic: "checkout.orders"
// stays, "Payments_Settled v2" becomes "payments_settled-v2".
func ContractName(topic string) string { return contractyaml.ContractName(topic, "inferred") }

// rule is one rule to write.
type rule struct {
	comment     []string
	name        string
	key         string // expr, unique or fresh
	expr        string
	when        string
	within      string
	severity    rules.Severity // empty: the default (warning)
	description string
}

// cond is a check on one value, before it is wrapped for its context.
type cond struct {
	suffix, expr, desc, comment string
}

// Inferred is an inferred contract.
type Inferred struct {
	// YAML is the contract file.
	YAML []byte
	// Warnings are findings to tell the user at once (they are in the
	// contract's comments too): ids whose values repeated.
	Warnings []string

	doc *contractyaml.Contract
}

// Contract returns the YAML text of one contract that the profiled events
// pass, with a comment on every rule saying what was observed.
func (p *Profiler) Contract(opts Options) ([]byte, error) {
	inf, err := p.Infer(opts)
	if err != nil {
		return nil, err
	}
	return inf.YAML, nil
}

// Infer is Contract with the warnings.
func (p *Profiler) Infer(opts Options) (*Inferred, error) {
	if opts.Topic == "" {
		return nil, errors.New("infer: a topic is needed")
	}
	if p.events == 0 {
		return nil, ErrNoEvents
	}
	if opts.Contract == "" {
		opts.Contract = ContractName(opts.Topic)
	}
	if !contractNameRE.MatchString(opts.Contract) {
		return nil, fmt.Errorf("infer: contract name %q must match [a-z0-9._-]+", opts.Contract)
	}
	if opts.Owner == "" {
		opts.Owner = DefaultOwner
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	g := &gen{p: p, names: map[string]bool{}}
	g.prepare()
	g.build()
	if g.over > 0 {
		g.notes = append(g.notes, fmt.Sprintf("%d more %s left out: a contract holds at most %d (split the topic's fields over several contracts)",
			g.over, plural(g.over, "rule was", "rules were"), rules.DefaultLimits.MaxRules))
	}
	if len(g.rules) == 0 {
		return nil, fmt.Errorf("infer: no rule could be inferred from %s (no field was always there or had a stable shape)", count(p.events, "event", "events"))
	}
	inf := &Inferred{doc: g.document(opts), Warnings: g.warnings}
	if err := inf.render(); err != nil {
		return nil, err
	}
	return inf, nil
}

func (inf *Inferred) render() error {
	out := contractyaml.Write(inf.doc)
	if _, err := rules.Parse(inf.doc.Name+".yaml", out); err != nil {
		return fmt.Errorf("infer: the inferred contract does not load (a bug): %w", err)
	}
	inf.YAML = out
	return nil
}

// gen turns a profile into rules.
type gen struct {
	p        *Profiler
	sorted   []*field
	pii      map[*field]bool
	piiList  []string
	piiBad   []string // pii fields whose path cannot be written as a pii path
	rules    []rule
	uniques  []rule
	fresh    *rule
	notes    []string // fields without rules, and why
	warnings []string // what the user should hear about at once (ids that repeat)
	over     int      // rules left out beyond the rules a contract may hold
	names    map[string]bool
	ruled    map[*field]bool
}

func (g *gen) field(path []string) *field { return g.p.fields[strings.Join(path, "\x00")] }

func (g *gen) prepare() {
	for _, f := range g.p.fields {
		g.sorted = append(g.sorted, f)
	}
	sort.Slice(g.sorted, func(i, j int) bool { return g.sorted[i].key < g.sorted[j].key })
	g.pii = map[*field]bool{}
	g.ruled = map[*field]bool{}
	seen := map[string]bool{}
	for _, f := range g.sorted {
		if !g.isPII(f) {
			continue
		}
		g.pii[f] = true
		// Only the outermost path: a pii path masks what is below it.
		covered := false
		for i := 1; i < len(f.path); i++ {
			if a := g.field(f.path[:i]); a != nil && g.pii[a] {
				covered = true
			}
		}
		if covered {
			continue
		}
		dp := displayPath(f.path)
		if seen[dp] {
			continue
		}
		seen[dp] = true
		if strings.ContainsAny(dp, " \t") || hasDotInSegment(f.path) {
			g.piiBad = append(g.piiBad, dp)
			continue
		}
		g.piiList = append(g.piiList, dp)
	}
}

func (g *gen) isPII(f *field) bool {
	for i, s := range f.path {
		if s != "[]" && piiName(s) {
			return true
		}
		if a := g.field(f.path[:i+1]); a != nil && a.piiValues > 0 {
			return true
		}
	}
	return false
}

func hasDotInSegment(path []string) bool {
	for _, s := range path {
		if strings.Contains(s, ".") {
			return true
		}
	}
	return false
}

// displayPath is the dotted path of a field as pii paths and rule names
// write it: array elements are crossed ("items.qty").
func displayPath(path []string) string {
	var parts []string
	for _, s := range path {
		if s != "[]" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, ".")
}

// ref writes a path (without array elements) as an expr expression.
func ref(path []string) (string, bool) {
	if len(path) == 0 || path[0] == rules.MetaVar {
		return "", false // kafka.* is record metadata: it shadows the field
	}
	var b strings.Builder
	for i, s := range path {
		if s == "[]" || !literalOK(s) {
			return "", false
		}
		switch {
		case identRE.MatchString(s) && !keywords[s]:
			if i > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s)
		case i == 0:
			b.WriteString(`$env[` + strconv.Quote(s) + `]`)
		default:
			b.WriteString(`[` + strconv.Quote(s) + `]`)
		}
	}
	return b.String(), true
}

// literalOK: the name can go into an expr string literal as it is.
func literalOK(s string) bool {
	return s != "" && enumValueOK(s)
}

// elemRef writes the field of an array element inside all(): ".qty".
func elemRef(name string) (string, bool) {
	if !literalOK(name) {
		return "", false
	}
	if identRE.MatchString(name) && !keywords[name] {
		return "." + name, true
	}
	return `#[` + strconv.Quote(name) + `]`, true
}

func (g *gen) ruleName(f *field, suffix string) string {
	var parts []string
	for _, s := range f.path {
		if s != "[]" {
			parts = append(parts, strings.Trim(ruleNameBadRE.ReplaceAllString(s, "-"), "-"))
		}
	}
	base := strings.Join(parts, ".")
	if strings.Trim(base, ".") == "" {
		base = "field"
	}
	name := base + "-" + suffix
	for i := 2; g.names[name]; i++ {
		name = fmt.Sprintf("%s-%s-%d", base, suffix, i)
	}
	g.names[name] = true
	return name
}

func (g *gen) add(r rule) {
	// A last guard: a rule whose expressions do not compile is dropped
	// rather than breaking the file.
	for _, src := range []string{r.expr, r.when} {
		if src == "" {
			continue
		}
		if r.key != "expr" && src == r.expr {
			src += " != nil"
		}
		if _, err := rules.Compile(src); err != nil {
			g.notes = append(g.notes, fmt.Sprintf("%s: rule left out, its expression did not compile", r.name))
			return
		}
	}
	if len(g.rules)+len(g.uniques) >= rules.DefaultLimits.MaxRules {
		g.over++ // the contract would not load
		return
	}
	switch r.key {
	case "unique":
		g.uniques = append(g.uniques, r)
	default:
		g.rules = append(g.rules, r)
	}
}

// context says where a field is: at the top (or in nested objects), or in
// the elements of an array.
func (g *gen) context(f *field) (arr *field, elem *field, ok bool) {
	n := len(f.path)
	idx := slices.Index(f.path, "[]")
	switch {
	case idx < 0:
		return nil, nil, true
	case idx == n-1 || idx == n-2:
		if slices.Index(f.path[idx+1:], "[]") >= 0 {
			return nil, nil, false
		}
		arr, elem = g.field(f.path[:idx]), g.field(f.path[:idx+1])
		return arr, elem, arr != nil && elem != nil
	}
	return nil, nil, false
}

// ancestorsOK: every enclosing field was an object whenever it was there,
// so reading through it cannot fail but on null.
func (g *gen) ancestorsOK(path []string) bool {
	for i := 1; i < len(path); i++ {
		a := g.field(path[:i])
		if a == nil || !a.only(kObject) {
			return false
		}
	}
	return true
}

// guards are the `x != nil` conditions that make reading path safe: each
// enclosing field (and the field itself, with self) that was sometimes
// missing or null.
func (g *gen) guards(path []string, self bool) []string {
	var out []string
	end := len(path) - 1
	if self {
		end = len(path)
	}
	for i := 1; i <= end; i++ {
		a := g.field(path[:i])
		if a != nil && a.nonNull() < g.p.events {
			r, _ := ref(path[:i])
			out = append(out, r+" != nil")
		}
	}
	return out
}

func (g *gen) build() {
	hasAlwaysChild := map[string]bool{}
	for _, f := range g.sorted {
		if len(f.path) > 1 && f.nonNull() == g.p.events {
			hasAlwaysChild[strings.Join(f.path[:len(f.path)-1], "\x00")] = true
		}
	}
	var freshCands []*field
	for _, f := range g.sorted {
		arr, elem, ok := g.context(f)
		if !ok {
			continue
		}
		if arr != nil {
			g.elementRules(f, arr, elem)
			continue
		}
		before := len(g.rules) + len(g.uniques)
		g.topRules(f, hasAlwaysChild[f.key])
		if f.timeHint && !f.timeBad && f.times > 0 && f.times == f.nonNull() {
			if _, ok := ref(f.path); ok && g.ancestorsOK(f.path) {
				freshCands = append(freshCands, f)
			}
		}
		if len(g.rules)+len(g.uniques) == before && !(f.only(kObject) && hasAlwaysChild[f.key]) {
			g.note(f)
		}
	}
	g.freshRule(freshCands)
}

func (g *gen) note(f *field) {
	if slices.Contains(f.path, "[]") {
		return
	}
	why := "no stable shape"
	switch {
	case f.path[0] == rules.MetaVar:
		why = "shadowed by the record metadata kafka.*"
	case !g.ancestorsOK(f.path):
		why = "inside a field that is not always an object"
	case func() bool { _, ok := ref(f.path); return !ok }():
		why = "its name cannot be written in an expression"
	case f.nonNull() == 0:
		why = "always null"
	case f.nonNull() < g.p.events && f.only(kString) && f.formats == 0:
		why = "optional, strings of no known format"
	case f.nonNull() < g.p.events:
		why = "optional"
	case f.only(kString):
		why = "strings of no known format, too many distinct values for an enum"
	case f.only(kObject):
		why = "an object"
	}
	g.notes = append(g.notes, fmt.Sprintf("%s: %s; %s", displayPath(f.path), g.seenIn(f), why))
}

func (g *gen) seenIn(f *field) string {
	return fmt.Sprintf("seen in %d/%d %s", f.nonNull(), g.p.events, plural(g.p.events, "event", "events"))
}

func (g *gen) topRules(f *field, alwaysChild bool) {
	r, ok := ref(f.path)
	if !ok || !g.ancestorsOK(f.path) {
		return
	}
	always := f.nonNull() == g.p.events
	dp := displayPath(f.path)
	seen := g.seenIn(f) + kindsNote(f)
	idCand := (idLike(f.name()) || f.formats&fUUID != 0 && f.only(kString)) && f.nonNull() >= 2 &&
		!f.uniqOff && (f.only(kString) || f.only(kInt))
	repeated := ""
	if idCand && f.uniqRepeat > 0 && !f.uniqRef && float64(f.uniqRepeat) <= MaxIDRepeats*float64(f.uniqSeen) {
		repeated = fmt.Sprintf("looks like an id, but %d of %d values repeated an earlier one", f.uniqRepeat, f.uniqSeen)
		g.notes = append(g.notes, fmt.Sprintf("%s: %s: no unique rule, the sample itself breaks it (find out why ids repeat before adding `unique: %s`)",
			dp, repeated, r))
		g.warnings = append(g.warnings, fmt.Sprintf("%s %s: no unique rule suggested", dp, repeated))
	}
	if always && !(f.only(kObject) && alwaysChild) {
		e, desc := r+" != nil", fmt.Sprintf("Every profiled event had %s.", dp)
		if f.only(kString) && f.empty == 0 {
			e += ` && ` + r + ` != ""`
			desc = fmt.Sprintf("Every profiled event had a non-empty %s.", dp)
			seen += ", never empty"
		}
		sev := rules.Severity("")
		if idLike(f.name()) {
			sev = rules.Critical
			desc += " Consumers key on it."
		}
		comment := []string{seen}
		if repeated != "" {
			comment = append(comment, repeated+": no unique rule (see Not checked)")
		}
		g.add(rule{comment: comment, name: g.ruleName(f, "present"), key: "expr", expr: e, severity: sev, description: desc})
	}
	when := strings.Join(g.guards(f.path, true), " && ")
	absent := g.absent(f)
	if absent != "" && 10*f.nonNull() >= 9*g.p.events {
		g.notes = append(g.notes, fmt.Sprintf("%s: %s, so there is no presence rule; its rules are checked where it is there (add `%s != nil` if every event must have it)",
			dp, absent, r))
	}
	comment := func(c string) []string {
		if absent == "" {
			return []string{c}
		}
		return []string{c, absent + ": checked where present"}
	}
	for _, c := range g.valueConds(f, r, dp) {
		g.add(rule{comment: comment(c.comment), name: g.ruleName(f, c.suffix), key: "expr", expr: c.expr, when: when, description: c.desc})
	}
	if idCand && f.uniqRepeat == 0 && !f.uniqRef {
		c := fmt.Sprintf("%s distinct", every(f.nonNull(), "value", "values"))
		if f.uniqCapped {
			c = fmt.Sprintf("the first %d values were distinct; uniqueness was not tracked beyond them (of %d)", MaxUnique, f.nonNull())
		}
		g.add(rule{comment: comment(c), name: g.ruleName(f, "unique"), key: "unique", expr: r, when: when, within: UniqueWithin,
			description: fmt.Sprintf("%s identifies an event: a repeat is a duplicate.", dp)})
	}
}

// absent says how often a field (or what encloses it) was missing or
// null: "missing in 1 of 50 events (2%)"; "" when it was always there.
func (g *gen) absent(f *field) string {
	n := g.p.events
	missing, null := n-f.present, f.kinds[kNull]
	if missing+null == 0 {
		return ""
	}
	var what string
	switch {
	case null == 0:
		what = fmt.Sprintf("missing in %d", missing)
	case missing == 0:
		what = fmt.Sprintf("null in %d", null)
	default:
		what = fmt.Sprintf("missing in %d and null in %d", missing, null)
	}
	return fmt.Sprintf("%s of %s (%s)", what, count(n, "event", "events"), percent(missing+null, n))
}

// percent writes n/d as a percentage with two significant digits.
func percent(n, d int) string {
	p := 100 * float64(n) / float64(d)
	if p >= 10 {
		return strconv.FormatFloat(math.Floor(p+0.5), 'f', 0, 64) + "%"
	}
	return strconv.FormatFloat(p, 'g', 2, 64) + "%"
}

func (g *gen) elementRules(f, arr, elem *field) {
	ar, ok := ref(arr.path)
	if !ok || !g.ancestorsOK(arr.path) || !arr.only(kArray) {
		return
	}
	var dp, e string
	var optional bool
	var seen string
	if f == elem {
		// Scalar elements: # is the element.
		if f.only(kObject) || f.only(kArray) {
			return
		}
		e, optional = "#", f.kinds[kNull] > 0
		seen = fmt.Sprintf("%s in %s%s", count(f.present, "element", "elements"), count(arr.arrays, "array", "arrays"), kindsNote(f))
	} else {
		if !elem.only(kObject) || elem.kinds[kNull] > 0 {
			return
		}
		if e, ok = elemRef(f.name()); !ok {
			return
		}
		optional = f.nonNull() < elem.kinds[kObject]
		seen = fmt.Sprintf("in %d/%d %s of %s%s", f.nonNull(), elem.kinds[kObject], plural(elem.kinds[kObject], "element", "elements"),
			displayPath(arr.path), kindsNote(f))
		if !optional {
			g.add(rule{comment: []string{seen}, name: g.ruleName(f, "present"), key: "expr",
				expr:        fmt.Sprintf("all(%s, %s != nil)", ar, e),
				when:        strings.Join(g.guards(arr.path, true), " && "),
				description: fmt.Sprintf("Every element of %s had %s.", displayPath(arr.path), f.name())})
		}
	}
	if f == elem {
		dp = displayPath(arr.path) + "[]"
	} else {
		dp = displayPath(arr.path) + "[]." + f.name()
	}
	for _, c := range g.valueConds(f, e, dp) {
		inner := c.expr
		if optional {
			inner = e + " == nil || (" + inner + ")"
		}
		g.add(rule{comment: []string{c.comment + " (" + seen + ")"}, name: g.ruleName(f, c.suffix), key: "expr",
			expr:        fmt.Sprintf("all(%s, %s)", ar, inner),
			when:        strings.Join(g.guards(arr.path, true), " && "),
			description: c.desc})
	}
}

func kindsNote(f *field) string {
	var ks []string
	for k := kNull + 1; k < nKinds; k++ {
		if f.kinds[k] > 0 {
			ks = append(ks, kindNames[k])
		}
	}
	if len(ks) == 0 {
		return ""
	}
	s := ", " + strings.Join(ks, "/")
	if f.kinds[kNull] > 0 {
		s += ", null " + count(f.kinds[kNull], "time", "times")
	}
	return s
}

// valueConds are the checks a field's values passed: format, enum, range,
// whole numbers, booleans, non-empty arrays.
func (g *gen) valueConds(f *field, r, dp string) []cond {
	n := f.nonNull()
	if n == 0 {
		return nil
	}
	pii := g.pii[f]
	var out []cond
	switch {
	case f.only(kString):
		if vals := g.enum(f); vals != nil {
			quoted := make([]string, len(vals))
			counts := make([]string, len(vals))
			for i, v := range vals {
				quoted[i] = strconv.Quote(v)
				counts[i] = fmt.Sprintf("%s %d", strconv.Quote(v), f.distinct[v])
			}
			out = append(out, cond{"known", fmt.Sprintf("%s in [%s]", r, strings.Join(quoted, ", ")),
				enumDesc(dp, len(vals)),
				fmt.Sprintf("%s in %s: %s", count(len(vals), "distinct value", "distinct values"), count(n, "string", "strings"), strings.Join(counts, ", "))})
			break
		}
		for _, fm := range formatOrder {
			if f.formats&fm.bit != 0 {
				out = append(out, cond{"format", fmt.Sprintf("%s matches %s", r, strconv.Quote(fm.re)),
					fmt.Sprintf("%s was always %s.", dp, fm.name),
					fmt.Sprintf("%s looked like %s", every(n, "value", "values"), fm.name)})
				break
			}
		}
	case f.only(kInt, kFloat):
		rng := ""
		if !pii {
			rng = fmt.Sprintf(": min %s, max %s", num(f.min, f.allWhole), num(f.max, f.allWhole))
		}
		switch {
		case f.min > 0:
			out = append(out, cond{"positive", r + " > 0", fmt.Sprintf("%s was always above zero.", dp),
				count(n, "number", "numbers") + rng})
		case f.min >= 0:
			out = append(out, cond{"non-negative", r + " >= 0", fmt.Sprintf("%s was never negative.", dp),
				count(n, "number", "numbers") + rng})
		}
		if f.allWhole && n >= MinWholeEvents {
			out = append(out, cond{"whole", fmt.Sprintf("%s == int(%s)", r, r), fmt.Sprintf("%s was always a whole number.", dp),
				fmt.Sprintf("%s whole%s", every(n, "number was", "numbers were"), rng)})
		}
		if c, ok := magnitude(f, r, dp, pii); ok {
			out = append(out, c)
		}
	case f.only(kBool):
		out = append(out, cond{"bool", fmt.Sprintf("%s == true || %s == false", r, r), fmt.Sprintf("%s was always true or false.", dp),
			count(n, "boolean", "booleans")})
	case f.only(kArray):
		if f.minLen > 0 {
			out = append(out, cond{"not-empty", fmt.Sprintf("len(%s) > 0", r), fmt.Sprintf("%s was never empty.", dp),
				fmt.Sprintf("%s of %d to %s", count(n, "array", "arrays"), f.minLen, count(f.maxLen, "element", "elements"))})
		}
	}
	return out
}

// magnitude bounds the size of a field's numbers to an order of
// magnitude around what was seen, so that a change of unit or scale
// (cents sent for units, milliseconds for seconds) fails: |x| at most ten
// times the largest |x| seen and at least a tenth of the smallest non-zero
// one, both rounded outwards to two significant digits. Zero passes when
// zeros were seen; the sign is left to the positive and non-negative
// rules. The lower bound is left out for whole numbers whose smallest
// |x| is below 10 (every non-zero whole number would pass it). None for
// ids, epoch times, personal data (the bounds would tell its values), or
// fewer than MinScaleEvents numbers.
func magnitude(f *field, r, dp string, pii bool) (cond, bool) {
	if pii || f.nums < MinScaleEvents || f.maxAbs == 0 || idLike(f.name()) || f.timeHint && f.timeEpochs {
		return cond{}, false
	}
	hi := roundSig(f.maxAbs*10, true)
	lo := ""
	if !(f.allWhole && f.minAbs < 10) {
		lo = roundSig(f.minAbs/10, false)
	}
	if hi == "" {
		return cond{}, false
	}
	abs := "abs(" + r + ")"
	e := abs + " <= " + hi
	desc := fmt.Sprintf("%s stayed within ten times the largest size seen; a change of unit or scale falls outside.", dp)
	bounds := "bound: ten times the largest"
	seen := fmt.Sprintf("%s: |x| up to %s", count(f.nums, "number", "numbers"), num(f.maxAbs, f.allWhole))
	if lo != "" && lo != "0" {
		e = abs + " >= " + lo + " && " + e
		desc = fmt.Sprintf("%s stayed within an order of magnitude of the sizes seen; a change of unit or scale falls outside.", dp)
		bounds = "bounds: a tenth of the smallest, ten times the largest"
		seen = fmt.Sprintf("%s: |x| from %s to %s", count(f.nums, "number", "numbers"), num(f.minAbs, false), num(f.maxAbs, f.allWhole))
		if f.zeros > 0 {
			e = r + " == 0 || " + e
		}
	}
	if f.zeros > 0 {
		seen += ", and " + count(f.zeros, "zero", "zeros")
	}
	return cond{"magnitude", e, desc, seen + "; " + bounds + ", rounded outwards"}, true
}

// roundSig rounds x > 0 to two significant digits, up or down, and writes
// it as a decimal expr literal ("" when x is out of range).
func roundSig(x float64, up bool) string {
	if !(x > 0) || math.IsInf(x, 0) || x > 1e300 || x < 1e-300 {
		return ""
	}
	e := int(math.Floor(math.Log10(x))) - 1 // x/10^e has two digits before the point
	m := x / math.Pow10(e)
	// Guard against m landing a hair off a whole number.
	if r := math.Round(m); math.Abs(m-r) < 1e-9 {
		m = r
	}
	if up {
		m = math.Ceil(m)
	} else {
		m = math.Floor(m)
	}
	digits := strconv.FormatInt(int64(m), 10)
	switch {
	case e > 15 || e < -15:
		return strconv.FormatFloat(m*math.Pow10(e), 'e', -1, 64)
	case e >= 0:
		return digits + strings.Repeat("0", e)
	}
	// Place the point: 12 with e = -3 is 0.012.
	point := len(digits) + e
	if point <= 0 {
		return "0." + strings.Repeat("0", -point) + strings.TrimRight(digits, "0")
	}
	frac := strings.TrimRight(digits[point:], "0")
	if frac == "" {
		return digits[:point]
	}
	return digits[:point] + "." + frac
}

// enum returns the sorted values of a low-cardinality string field that
// may be written into the contract, or nil.
func (g *gen) enum(f *field) []string {
	if g.pii[f] || f.distinct == nil || len(f.distinct) > MaxEnumValues || f.strs < MinEnumEvents || f.piiValues > 0 {
		return nil
	}
	if idLike(f.name()) || f.formats&(fUUID|fDateTime|fDate|fEmail|fURL) != 0 {
		return nil
	}
	vals := make([]string, 0, len(f.distinct))
	for v := range f.distinct {
		vals = append(vals, v)
	}
	sort.Strings(vals)
	return vals
}

func enumDesc(dp string, n int) string {
	if n == 1 {
		return fmt.Sprintf("%s always had this one value.", dp)
	}
	return fmt.Sprintf("%s took only these %d values.", dp, n)
}

func num(x float64, whole bool) string {
	if whole && math.Abs(x) < 1<<53 {
		return strconv.FormatInt(int64(x), 10)
	}
	return strconv.FormatFloat(x, 'g', 10, 64)
}

// freshRule picks the event time that lags least among the fields always
// there (or else among the others) and bounds its age at twice the worst
// lag seen, rounded up, at least a minute.
func (g *gen) freshRule(cands []*field) {
	var best *field
	lag := func(f *field) time.Duration { return max(f.maxLag, f.maxRecLag) }
	for _, f := range cands {
		always := f.nonNull() == g.p.events
		switch {
		case best == nil:
			best = f
		case always && best.nonNull() < g.p.events:
			best = f
		case always == (best.nonNull() == g.p.events) && lag(f) < lag(best):
			best = f
		}
	}
	if best == nil {
		return
	}
	r, _ := ref(best.path)
	within := roundUp(2 * lag(best))
	what := count(best.times, "string (RFC 3339)", "strings (RFC 3339)")
	if best.timeEpochs {
		what = count(best.times, "epoch number", "epoch numbers")
	}
	comment := []string{fmt.Sprintf("event time: %s; at most %s behind the newest event time seen before it",
		what, formatDuration(best.maxLag))}
	if best.recLags > 0 {
		comment = append(comment, fmt.Sprintf("and at most %s behind the record timestamp", formatDuration(best.maxRecLag)))
	}
	comment = append(comment, "within is twice the worst lag, rounded up, at least 1m: raise it if consumers lag")
	g.fresh = &rule{comment: comment, name: g.ruleName(best, "fresh"), key: "fresh", expr: r,
		when: strings.Join(g.guards(best.path, true), " && "), within: within,
		description: fmt.Sprintf("%s is the event time; events must not arrive late.", displayPath(best.path))}
}

var durationLadder = []struct {
	d time.Duration
	s string
}{
	{time.Minute, "1m"}, {2 * time.Minute, "2m"}, {5 * time.Minute, "5m"}, {10 * time.Minute, "10m"},
	{15 * time.Minute, "15m"}, {30 * time.Minute, "30m"}, {time.Hour, "1h"}, {2 * time.Hour, "2h"},
	{6 * time.Hour, "6h"}, {12 * time.Hour, "12h"}, {24 * time.Hour, "24h"}, {48 * time.Hour, "2d"},
	{7 * 24 * time.Hour, "7d"}, {30 * 24 * time.Hour, "30d"}, {365 * 24 * time.Hour, "365d"},
}

// roundUp returns the first round duration at or above d (at least 1m).
func roundUp(d time.Duration) string {
	for _, l := range durationLadder {
		if d <= l.d {
			return l.s
		}
	}
	days := int64(math.Ceil(d.Hours() / 24))
	return strconv.FormatInt(days, 10) + "d"
}

func formatDuration(d time.Duration) string {
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Hour:
		return d.Round(time.Second).String()
	}
	return d.Round(time.Minute).String()
}
