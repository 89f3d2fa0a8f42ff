// Package report renders the result of an offline check (`assay test`) as
// text for people, JSON for tools (a stable shape, documented in the README) and
// JUnit XML for CI systems.
package report

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/assay-dev/assay/checker"
	"github.com/assay-dev/assay/rules"
)

// Report is the JSON report of `assay test --output json`.
type Report struct {
	Events       int        `json:"events"`
	DecodeErrors int        `json:"decode_errors"`
	Contracts    []Contract `json:"contracts"`

	// Not in the JSON: the first decode errors, for the text output.
	DecodeExamples []Example `json:"-"`
	// Not in the JSON: the severity at which a violation fails the run.
	FailOn rules.Severity `json:"-"`
}

// Contract is one contract's part of the report.
type Contract struct {
	Contract string `json:"contract"`
	Events   uint64 `json:"events"`
	Rules    []Rule `json:"rules"`
}

// Rule is one rule's counts and first examples of violations.
type Rule struct {
	Rule     string         `json:"rule"`
	Severity rules.Severity `json:"severity"`
	Pass     uint64         `json:"pass"`
	Fail     uint64         `json:"fail"`
	Error    uint64         `json:"error"`
	Skip     uint64         `json:"skip"`
	Examples []Example      `json:"examples"`
	// Shadow rules are reported but never fail the run.
	Shadow bool `json:"-"`
}

// Example is one violation: where it is and why. File is set only when the
// run read more than one input.
type Example struct {
	File   string `json:"file,omitempty"`
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

// MaxExamples is how many examples a rule lists.
const MaxExamples = 5

// Build turns a checker snapshot into a report. Synthetic rules (volume),
// which only run online, are left out.
func Build(snap checker.Snapshot, events, decodeErrors int, failOn rules.Severity) *Report {
	r := &Report{Events: events, DecodeErrors: decodeErrors, FailOn: failOn, Contracts: []Contract{}}
	for _, cs := range snap.Contracts {
		c := Contract{Contract: cs.Contract.Name, Events: cs.Events, Rules: []Rule{}}
		for _, rs := range cs.Rules {
			if rs.Synthetic {
				continue
			}
			rr := Rule{Rule: rs.Rule.Name, Severity: rs.Rule.Severity,
				Pass: rs.Counts[checker.Pass], Fail: rs.Counts[checker.Fail],
				Error: rs.Counts[checker.Error], Skip: rs.Counts[checker.Skip], Examples: []Example{}, Shadow: rs.Rule.Shadow}
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
	return r
}

// Violations returns fail + error.
func (r Rule) Violations() uint64 { return r.Fail + r.Error }

// breaks reports whether the rule's violations fail the run.
func (r *Report) breaks(rule Rule) bool {
	return rule.Violations() > 0 && !rule.Shadow && rule.Severity.Level() >= r.FailOn.Level()
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
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// Text writes the report for a person.
func (r *Report) Text(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%d events, %d decode errors\n", r.Events, r.DecodeErrors)
	broken := map[rules.Severity]int{}
	for _, c := range r.Contracts {
		fmt.Fprintf(&b, "\n%s: %d events checked\n", c.Contract, c.Events)
		width := 0
		for _, rule := range c.Rules {
			width = max(width, len(rule.Rule))
		}
		for _, rule := range c.Rules {
			mark := "ok  "
			switch {
			case r.breaks(rule):
				mark = "FAIL"
				broken[rule.Severity]++
			case rule.Violations() > 0:
				mark = "warn"
			}
			shadow := ""
			if rule.Shadow {
				shadow = "  (shadow)"
			}
			fmt.Fprintf(&b, "  %s  %-*s  %-8s  pass %d  fail %d  error %d  skip %d%s\n",
				mark, width, rule.Rule, rule.Severity, rule.Pass, rule.Fail, rule.Error, rule.Skip, shadow)
			for _, ex := range rule.Examples {
				fmt.Fprintf(&b, "          %s: %s\n", where(ex), ex.Reason)
			}
		}
	}
	if r.DecodeErrors > 0 {
		b.WriteString("\ndecode errors:\n")
		for _, ex := range r.DecodeExamples {
			fmt.Fprintf(&b, "  %s: %s\n", where(ex), ex.Reason)
		}
	}
	b.WriteString("\n")
	if !r.Failed() {
		fmt.Fprintf(&b, "PASS: no violation at or above %s\n", r.FailOn)
	} else {
		var parts []string
		for _, sev := range []rules.Severity{rules.Critical, rules.Warning, rules.Info} {
			if broken[sev] > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", broken[sev], sev))
			}
		}
		n := broken[rules.Critical] + broken[rules.Warning] + broken[rules.Info]
		fmt.Fprintf(&b, "FAIL: %d %s violated", n, plural(n, "rule", "rules"))
		if len(parts) > 0 {
			fmt.Fprintf(&b, " (%s)", strings.Join(parts, ", "))
		}
		if r.DecodeErrors > 0 {
			fmt.Fprintf(&b, ", %d decode %s", r.DecodeErrors, plural(r.DecodeErrors, "error", "errors"))
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func where(ex Example) string {
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
// case per rule; a rule fails when it has violations at or above FailOn.
// Undecodable events form a suite of their own.
func (r *Report) JUnit(w io.Writer) error {
	out := junitSuites{Name: "assay"}
	for _, c := range r.Contracts {
		s := junitSuite{Name: c.Contract}
		for _, rule := range c.Rules {
			tc := junitCase{Name: rule.Rule, Classname: c.Contract}
			summary := fmt.Sprintf("%s: pass %d, fail %d, error %d, skip %d of %d events",
				rule.Severity, rule.Pass, rule.Fail, rule.Error, rule.Skip, c.Events)
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
