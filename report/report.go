// Package report renders the result of an offline check (`assay test`) as
// text for people, JSON for tools (a stable shape, documented in docs/report.md),
// JUnit XML for CI systems, a self-contained HTML page for a CI artifact and
// GitHub Actions workflow commands (annotations).
package report

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/assay-dev/assay/anomaly"
	"github.com/assay-dev/assay/checker"
	"github.com/assay-dev/assay/internal/safetext"
	"github.com/assay-dev/assay/rules"
)

// Report is the JSON report of `assay test --output json`. Fields are only
// ever added.
type Report struct {
	// OK is the run's verdict: true when `assay test` exits 0.
	OK           bool `json:"ok"`
	Events       int  `json:"events"`
	DecodeErrors int  `json:"decode_errors"`
	// DecodeExamples are the first decode errors (MaxExamples at most).
	DecodeExamples []Example  `json:"decode_error_examples"`
	Contracts      []Contract `json:"contracts"`

	// Not in the JSON: the severity at which a violation fails the run.
	FailOn rules.Severity `json:"-"`
	// Not in the JSON: the input files as named on the command line
	// (neither stdin nor a backtest's partitions), which the github
	// output's annotations point into.
	Files []string `json:"-"`
}

// Contract is one contract's part of the report.
type Contract struct {
	Contract string `json:"contract"`
	Events   uint64 `json:"events"`
	Rules    []Rule `json:"rules"`
	// SchemaChanges are the drifts of the events from the contract's
	// fields: (docs/schema.md), in input order: absent when the contract
	// declares no fields, [] when nothing drifted.
	SchemaChanges []SchemaChange `json:"schema_changes,omitzero"`
	// Anomalies are the buckets of anomaly rules outside their learned
	// band, in time order per rule (docs/contracts.md "anomaly"): absent
	// when the contract has no anomaly rule, [] when none was. At most
	// 1,000 are listed; AnomaliesTotal counts them all.
	Anomalies      []Anomaly `json:"anomalies,omitzero"`
	AnomaliesTotal uint64    `json:"anomalies_total,omitempty"`
	// AnomalyLate counts the events no anomaly bucket measured: of a
	// bucket closed already (input far out of time order), or without an
	// event time.
	AnomalyLate uint64 `json:"anomaly_late_events,omitempty"`
}

// Anomaly is one bucket of an anomaly rule outside its learned band.
type Anomaly struct {
	Rule string `json:"rule"`
	// Segment is the bucket's segment (contracts with a segment).
	Segment  string  `json:"segment,omitempty"`
	Start    string  `json:"start"` // RFC 3339, UTC
	End      string  `json:"end"`
	Observed float64 `json:"observed"`
	Low      float64 `json:"low"`
	High     float64 `json:"high"`
}

// SchemaChange is one drift of the events from a contract's fields:.
type SchemaChange struct {
	// Change is field_added, field_missing or type_changed.
	Change string `json:"change"`
	Path   string `json:"path"`
	Detail string `json:"detail"`
	// File and Line are where the event that shows it is (File when
	// there are several inputs).
	File string `json:"file,omitempty"`
	Line int    `json:"line"`
}

// Rule is one rule's counts and first examples of violations.
type Rule struct {
	Rule     string         `json:"rule"`
	Severity rules.Severity `json:"severity"`
	Pass     uint64         `json:"pass"`
	Fail     uint64         `json:"fail"`
	Error    uint64         `json:"error"`
	Skip     uint64         `json:"skip"`
	// Pending, for sequence and reference rules, counts the events whose
	// expectation was still open, not yet due, at the end of the input:
	// neither passed nor failed.
	Pending *uint64 `json:"pending,omitempty"`
	// ViolationRatio is Ratio(): (fail + error) / (pass + fail + error), 0
	// when the rule evaluated no event.
	ViolationRatio float64 `json:"violation_ratio"`
	// OK is true when the rule does not fail the run: no violation, or a
	// severity below FailOn, or a violation ratio within its tolerance, or
	// a shadow rule.
	OK       bool      `json:"ok"`
	Examples []Example `json:"examples"`
	// MissingFields are the fields the rule reads that no event had (a
	// typo, most likely), each with the closest field the events had.
	MissingFields []MissingField `json:"missing_fields,omitempty"`
	// Shadow rules are reported but never fail the run.
	Shadow bool `json:"-"`
	// Tolerance is the violation ratio up to which the rule does not fail
	// the run (the contract's tolerance; 0: any violation fails).
	Tolerance float64 `json:"-"`
}

// Example is one violation: where it is and why. File is set only when the
// run read more than one input.
type Example struct {
	File   string `json:"file,omitempty"`
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

// MissingField is a field a rule reads that no event had.
type MissingField struct {
	Field      string `json:"field"`
	DidYouMean string `json:"did_you_mean,omitempty"`
}

// String says it the way people read it: "no event had ammount; did you
// mean amount?".
func (m MissingField) String() string {
	s := "no event had " + safetext.Visible(m.Field)
	if m.DidYouMean != "" {
		s += "; did you mean " + safetext.Visible(m.DidYouMean) + "?"
	}
	return s
}

// MaxExamples is how many examples a rule lists.
const MaxExamples = 5

// Build turns a checker snapshot into a report. Synthetic rules (volume),
// which only run online, are left out.
func Build(snap checker.Snapshot, events, decodeErrors int, failOn rules.Severity) *Report {
	r := &Report{Events: events, DecodeErrors: decodeErrors, FailOn: failOn, DecodeExamples: []Example{}, Contracts: []Contract{}}
	for _, cs := range snap.Contracts {
		c := Contract{Contract: cs.Contract.Name, Events: cs.Events, Rules: []Rule{}}
		if a := cs.Anomalies; a != nil && len(cs.Contract.AnomalyRules()) > 0 {
			c.Anomalies, c.AnomaliesTotal, c.AnomalyLate = []Anomaly{}, a.Failed, a.Late
			for _, x := range a.Anomalies {
				c.Anomalies = append(c.Anomalies, Anomaly{Rule: x.Rule, Segment: x.Segment, Start: x.Start.UTC().Format(time.RFC3339),
					End: x.End.UTC().Format(time.RFC3339), Observed: x.Observed, Low: x.Low, High: x.High})
			}
		}
		for _, rs := range cs.Rules {
			if rs.Synthetic {
				continue
			}
			rr := Rule{Rule: rs.Rule.Name, Severity: rs.Rule.Severity,
				Pass: rs.Counts[checker.Pass], Fail: rs.Counts[checker.Fail],
				Error: rs.Counts[checker.Error], Skip: rs.Counts[checker.Skip], Examples: []Example{},
				Shadow: rs.Rule.Shadow, Tolerance: rs.Rule.Tolerance}
			for _, v := range rs.Samples {
				if len(rr.Examples) == MaxExamples {
					break
				}
				rr.Examples = append(rr.Examples, Example{File: v.Source, Line: v.Line, Reason: v.Reason})
			}
			c.Rules = append(c.Rules, rr)
		}
		r.Contracts = append(r.Contracts, c)
	}
	r.judge()
	return r
}

// Violations returns fail + error.
func (r Rule) Violations() uint64 { return r.Fail + r.Error }

// Ratio is the violation ratio: (fail + error) / (pass + fail + error),
// skips aside (they are no evaluation); 0 when there is no evaluation.
func (r Rule) Ratio() float64 {
	n := r.Pass + r.Fail + r.Error
	if n == 0 {
		return 0
	}
	return float64(r.Violations()) / float64(n)
}

// judged reports whether the rule can fail the run at all: it is enforced
// and at or above FailOn.
func (r *Report) judged(rule Rule) bool {
	return !rule.Shadow && rule.Severity.Level() >= r.FailOn.Level()
}

// breaks reports whether the rule's violations fail the run: it is judged
// and its violation ratio exceeds its tolerance (with tolerance 0, any
// violation).
func (r *Report) breaks(rule Rule) bool {
	return r.judged(rule) && rule.Violations() > 0 && rule.Ratio() > rule.Tolerance
}

// tolerated reports whether the rule would fail the run but for its
// tolerance.
func (r *Report) tolerated(rule Rule) bool {
	return r.judged(rule) && rule.Violations() > 0 && !r.breaks(rule)
}

// judge sets the verdicts of the JSON: the report's and each rule's OK
// and ViolationRatio.
func (r *Report) judge() {
	for i := range r.Contracts {
		for j := range r.Contracts[i].Rules {
			rule := &r.Contracts[i].Rules[j]
			rule.ViolationRatio = rule.Ratio()
			rule.OK = !r.breaks(*rule)
		}
	}
	r.OK = !r.Failed()
	if r.DecodeExamples == nil {
		r.DecodeExamples = []Example{}
	}
}

// toleranceNote says how a judged rule with violations and a tolerance
// stands against it: "tolerated: 0.8% ≤ 1%" or "over tolerance: 2.5% >
// 1%"; "" for every other rule.
func (r *Report) toleranceNote(rule Rule) string {
	if rule.Tolerance == 0 || !r.judged(rule) || rule.Violations() == 0 {
		return ""
	}
	ratio, tol := percents(rule.Ratio(), rule.Tolerance)
	if r.breaks(rule) {
		return fmt.Sprintf("over tolerance: %s > %s", ratio, tol)
	}
	return fmt.Sprintf("tolerated: %s ≤ %s", ratio, tol)
}

// percents formats a ratio and a tolerance as percentages of three
// significant digits, more when that would show two different numbers
// as the same.
func percents(ratio, tol float64) (string, string) {
	a, b := percent(ratio, 3), percent(tol, 3)
	for prec := 4; a == b && ratio != tol && prec <= 17; prec++ {
		a, b = percent(ratio, prec), percent(tol, prec)
	}
	return a, b
}

// percent formats a ratio as a percentage of prec significant digits,
// without an exponent: 0.008333 is "0.833%".
func percent(f float64, prec int) string {
	rounded, _ := strconv.ParseFloat(strconv.FormatFloat(f*100, 'g', prec, 64), 64)
	return strconv.FormatFloat(rounded, 'f', -1, 64) + "%"
}

// Failed reports whether the run fails: a violation at or above FailOn, or
// an event that could not be decoded (a producer that writes undecodable
// records breaks every consumer).
func (r *Report) Failed() bool {
	if r.DecodeErrors > 0 {
		return true
	}
	for _, c := range r.Contracts {
		for _, rule := range c.Rules {
			if r.breaks(rule) {
				return true
			}
		}
	}
	return false
}

// JSON writes the report as indented JSON.
func (r *Report) JSON(w io.Writer) error {
	r.judge()
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// Text writes the report for a person.
func (r *Report) Text(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s, %d %s\n", r.Events, plural(r.Events, "event", "events"), r.DecodeErrors, plural(r.DecodeErrors, "decode error", "decode errors"))
	for _, c := range r.Contracts {
		fmt.Fprintf(&b, "\n%s: %d %s checked\n", c.Contract, c.Events, plural(int(c.Events), "event", "events"))
		width := 0
		for _, rule := range c.Rules {
			width = max(width, len(rule.Rule))
		}
		for _, rule := range c.Rules {
			mark := "ok  "
			switch {
			case r.breaks(rule):
				mark = "FAIL"
			case rule.Violations() > 0:
				mark = "warn"
			}
			note := ""
			if rule.Shadow {
				note = "  (shadow)"
			}
			if t := r.toleranceNote(rule); t != "" {
				note += "  " + t
			}
			if rule.Pending != nil {
				note = fmt.Sprintf("  pending %d", *rule.Pending) + note
			}
			fmt.Fprintf(&b, "  %s  %-*s  %-8s  pass %d  fail %d  error %d  skip %d%s\n",
				mark, width, rule.Rule, rule.Severity, rule.Pass, rule.Fail, rule.Error, rule.Skip, note)
			for _, m := range rule.MissingFields {
				fmt.Fprintf(&b, "          note: %s\n", m)
			}
			for _, ex := range rule.Examples {
				fmt.Fprintf(&b, "          %s: %s\n", where(ex), indented(ex.Reason, "            "))
			}
		}
		for _, sc := range c.SchemaChanges {
			fmt.Fprintf(&b, "  schema  %s %s at %s: %s\n", sc.Change, sc.Path, where(Example{File: sc.File, Line: sc.Line}), sc.Detail)
		}
		for _, a := range c.Anomalies {
			seg := ""
			if a.Segment != "" {
				seg = fmt.Sprintf(" segment %q", a.Segment)
			}
			fmt.Fprintf(&b, "  anomaly  %s%s  %s to %s  observed %s, expected %s to %s\n", a.Rule, seg, a.Start, a.End,
				anomaly.Format(a.Observed), anomaly.Format(a.Low), anomaly.Format(a.High))
		}
		if n := uint64(len(c.Anomalies)); c.AnomaliesTotal > n {
			fmt.Fprintf(&b, "  anomaly  ... and %d more\n", c.AnomaliesTotal-n)
		}
		if c.AnomalyLate > 0 {
			fmt.Fprintf(&b, "  note: %d %s measured by no anomaly bucket (of a bucket closed already, or without an event time)\n", c.AnomalyLate, plural(int(c.AnomalyLate), "event", "events"))
		}
	}
	if r.DecodeErrors > 0 {
		b.WriteString("\ndecode errors:\n")
		for _, ex := range r.DecodeExamples {
			fmt.Fprintf(&b, "  %s: %s\n", where(ex), indented(ex.Reason, "    "))
		}
	}
	b.WriteString("\n" + r.Verdict() + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// Verdict is the run's verdict in one line: "PASS: no violation at or
// above warning" or "FAIL: 2 rules violated (1 critical, 1 warning), 1
// decode error".
func (r *Report) Verdict() string {
	broken := map[rules.Severity]int{}
	tolerated := 0
	for _, c := range r.Contracts {
		for _, rule := range c.Rules {
			if r.breaks(rule) {
				broken[rule.Severity]++
			} else if r.tolerated(rule) {
				tolerated++
			}
		}
	}
	if !r.Failed() {
		v := fmt.Sprintf("PASS: no violation at or above %s", r.FailOn)
		if tolerated > 0 {
			v = fmt.Sprintf("PASS: no violation at or above %s beyond tolerance (%d %s tolerated)",
				r.FailOn, tolerated, plural(tolerated, "rule", "rules"))
		}
		return v
	}
	var parts []string
	for _, sev := range []rules.Severity{rules.Critical, rules.Warning, rules.Info} {
		if broken[sev] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", broken[sev], sev))
		}
	}
	n := broken[rules.Critical] + broken[rules.Warning] + broken[rules.Info]
	v := fmt.Sprintf("FAIL: %d %s violated", n, plural(n, "rule", "rules"))
	if len(parts) > 0 {
		v += fmt.Sprintf(" (%s)", strings.Join(parts, ", "))
	}
	if r.DecodeErrors > 0 {
		v += fmt.Sprintf(", %d decode %s", r.DecodeErrors, plural(r.DecodeErrors, "error", "errors"))
	}
	return v
}

// indented indents the lines of a reason after its first (a multi-line
// expression's text) so that they stay under their example.
func indented(reason, indent string) string {
	return strings.ReplaceAll(reason, "\n", "\n"+indent)
}

func where(ex Example) string {
	if ex.Line == 0 && ex.File == "" {
		return "bucket" // of no one event: an anomaly rule's, whose reason names it
	}
	if ex.File != "" {
		return fmt.Sprintf("%s:%d", ex.File, ex.Line)
	}
	return fmt.Sprintf("line %d", ex.Line)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// JUnit writes the report as JUnit XML: a test suite per contract and a test
// case per rule; a rule fails when it fails the run (violations at or above
// FailOn, beyond its tolerance); a tolerated rule passes and says so in its
// system-out. Undecodable events form a suite of their own.
func (r *Report) JUnit(w io.Writer) error {
	out := junitSuites{Name: "assay"}
	for _, c := range r.Contracts {
		s := junitSuite{Name: c.Contract}
		for _, rule := range c.Rules {
			tc := junitCase{Name: rule.Rule, Classname: c.Contract}
			summary := fmt.Sprintf("%s: pass %d, fail %d, error %d, skip %d of %d events",
				rule.Severity, rule.Pass, rule.Fail, rule.Error, rule.Skip, c.Events)
			if t := r.toleranceNote(rule); t != "" {
				summary += "; " + t
			}
			var lines []string
			for _, ex := range rule.Examples {
				lines = append(lines, where(ex)+": "+ex.Reason)
			}
			if r.breaks(rule) {
				tc.Failure = &junitFailure{Message: summary, Type: string(rule.Severity), Text: strings.Join(lines, "\n")}
				s.Failures++
			} else {
				tc.SystemOut = strings.Join(append([]string{summary}, lines...), "\n")
			}
			s.Cases = append(s.Cases, tc)
		}
		s.Tests = len(s.Cases)
		out.Suites = append(out.Suites, s)
		out.Tests += s.Tests
		out.Failures += s.Failures
	}
	dec := junitSuite{Name: "decode", Tests: 1}
	tc := junitCase{Name: "events are JSON objects", Classname: "decode"}
	if r.DecodeErrors > 0 {
		var lines []string
		for _, ex := range r.DecodeExamples {
			lines = append(lines, where(ex)+": "+ex.Reason)
		}
		tc.Failure = &junitFailure{Message: fmt.Sprintf("%d of %d events could not be decoded", r.DecodeErrors, r.Events),
			Type: "decode", Text: strings.Join(lines, "\n")}
		dec.Failures = 1
	}
	dec.Cases = []junitCase{tc}
	out.Suites = append(out.Suites, dec)
	out.Tests++
	out.Failures += dec.Failures
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
