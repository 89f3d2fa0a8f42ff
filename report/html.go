package report

import (
	_ "embed"
	"html/template"
	"io"
	"strings"
)

//go:embed report.html
var htmlSource string

// htmlTemplate renders HTML: html/template escapes every value by its
// context, so no reason, rule or file name can add markup.
var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{"plural": plural}).Parse(htmlSource))

type htmlPage struct {
	OK                   bool
	Verdict              string
	Events, DecodeErrors int
	FailOn               string
	Contracts            []htmlContract
	DecodeExamples       []htmlExample
}

type htmlContract struct {
	Name   string
	Events uint64
	Rules  []htmlRule
}

type htmlRule struct {
	Rule
	Status, Class    string // FAIL, tolerated, warn (violations that do not fail the run) or ok
	Ratio, Tol, Note string
	Examples         []htmlExample
}

type htmlExample struct{ Where, Reason string }

// status names how a rule stands: FAIL, tolerated, warn (violations that
// do not fail the run: below FailOn, or shadow) or ok.
func (r *Report) status(rule Rule) string {
	switch {
	case r.breaks(rule):
		return "FAIL"
	case r.tolerated(rule):
		return "tolerated"
	case rule.Violations() > 0:
		return "warn"
	}
	return "ok"
}

// HTML writes the report as one self-contained HTML page (inline CSS, no
// script, nothing loaded from elsewhere) for a CI job to keep as an
// artifact.
func (r *Report) HTML(w io.Writer) error {
	p := htmlPage{OK: !r.Failed(), Verdict: r.Verdict(), Events: r.Events, DecodeErrors: r.DecodeErrors,
		FailOn: string(r.FailOn), DecodeExamples: htmlExamples(r.DecodeExamples)}
	for _, c := range r.Contracts {
		hc := htmlContract{Name: c.Contract, Events: c.Events}
		for _, rule := range c.Rules {
			st := r.status(rule)
			ratio, tol := percents(rule.Ratio(), rule.Tolerance)
			hc.Rules = append(hc.Rules, htmlRule{Rule: rule, Status: st, Class: strings.ToLower(st),
				Ratio: ratio, Tol: tol, Note: r.toleranceNote(rule), Examples: htmlExamples(rule.Examples)})
		}
		p.Contracts = append(p.Contracts, hc)
	}
	return htmlTemplate.Execute(w, p)
}

func htmlExamples(exs []Example) []htmlExample {
	var out []htmlExample
	for _, ex := range exs {
		out = append(out, htmlExample{Where: where(ex), Reason: ex.Reason})
	}
	return out
}
