package rules_test

import (
	"strings"
	"testing"

	"github.com/assay-dev/assay/rules"
)

// Problems that teach: each says what was most likely meant, and a broken
// rule adds no second problem to the examples that name it.
func TestProblemsSuggest(t *testing.T) {
	src := `contract: t3
owner: o
topics: [t]
rules:
  - {name: a, expr: 'lenght(items) > 0'}
  - {name: b, expr: 'amount = 0'}
  - {name: c, unique: id, window: 1h}
  - {name: d, expr: amount > 0, severty: critical}
  - {name: e, fresh: ts, within: 5 minutes}
  - {name: f, expr: 'size(items) > 0'}
  - {name: good, expr: amount > 0}
  - {name: g, expr: amount > 1, severity: critcal}
examples:
  - {event: {amount: 1}, pass: [d, a, goood]}
  - {event: {amount: 1}, fail: [c]}
alret: {ratio: 0.1}
`
	_, err := rules.Parse("t3.yaml", []byte(src))
	errs, ok := err.(rules.Errors)
	if !ok {
		t.Fatalf("%v", err)
	}
	var got []string
	for _, e := range errs {
		got = append(got, strings.SplitN(e.Error(), "\n", 2)[0])
	}
	want := []string{
		`t3.yaml:5:22: contract "t3", rule "a": expr: unknown function "lenght"; did you mean len? (1:1)`,
		`t3.yaml:6:29: contract "t3", rule "b": expr: unexpected token Operator("="); to compare, write == (1:8)`,
		`t3.yaml:7:27: contract "t3", rule "c": unknown key "window"; did you mean "within"?`,
		`t3.yaml:8:33: contract "t3", rule "d": unknown key "severty"; did you mean "severity"?`,
		`t3.yaml:9:34: contract "t3", rule "e": within: invalid duration "5 minutes"; did you mean 5m?`,
		`t3.yaml:10:22: contract "t3", rule "f": expr: unknown function "size"; did you mean len? (1:1)`,
		`t3.yaml:12:43: contract "t3", rule "g": severity must be critical, warning or info, not "critcal"; did you mean "critical"?`,
		`t3.yaml:14:39: contract "t3": pass: no rule "goood" in this contract; did you mean "good"?`,
		`t3.yaml:16:1: contract "t3": unknown key "alret"; did you mean "alert"?`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
