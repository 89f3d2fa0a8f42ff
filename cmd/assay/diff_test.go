package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestDiffExitCodes: assay diff exits 1 when a change of a --fail-on class
// is present (stricter by default), 0 otherwise, 2 on bad input.
func TestDiffExitCodes(t *testing.T) {
	const old, new = "../../diff/testdata/old", "../../diff/testdata/new"
	for _, tc := range []struct {
		args []string
		want int
		out  string // in stdout or stderr
	}{
		{[]string{old, new}, exitViolations, "6 stricter"},
		{[]string{old, old}, exitOK, "no changes"},
		{[]string{new, old}, exitViolations, "stricter"}, // the reverse: removed fields, the contract back
		{[]string{"--fail-on", "changed", old, new}, exitOK, "12 changes"},
		{[]string{"--fail-on", "neutral", old, new}, exitViolations, ""},
		{[]string{"--fail-on", "", old, new}, exitOK, ""},
		{[]string{old, new, "--fail-on", "looser,changed"}, exitViolations, ""},
		{[]string{"--output", "json", old, old}, exitOK, "[]"},
		{[]string{"--fail-on", "worse", old, new}, exitBadInput, `--fail-on "worse"`},
		{[]string{"--output", "yaml", old, new}, exitBadInput, "--output"},
		{[]string{old}, exitBadInput, "needs OLD and NEW"},
		{[]string{old, "testdata/diff/broken.yaml"}, exitBadInput, "broken.yaml:6:"},
		{[]string{"testdata/diff/missing", new}, exitBadInput, "OLD"},
		{[]string{"-h"}, exitOK, "Usage: assay diff"},
	} {
		code, out, errOut := runCLI(t, "", append([]string{"diff"}, tc.args...)...)
		if code != tc.want || !strings.Contains(out+errOut, tc.out) {
			t.Errorf("assay diff %v: exit %d (want %d), stdout:\n%s\nstderr:\n%s", tc.args, code, tc.want, out, errOut)
		}
	}
}

func TestDiffJSON(t *testing.T) {
	code, out, _ := runCLI(t, "", "diff", "--output", "json", "../../diff/testdata/old", "../../diff/testdata/new")
	var changes []map[string]any
	if err := json.Unmarshal([]byte(out), &changes); err != nil || code != exitViolations || len(changes) != 12 {
		t.Fatalf("exit %d, %d changes, %v:\n%s", code, len(changes), err, out)
	}
	for _, k := range []string{"contract", "key", "change", "class", "detail"} {
		if _, ok := changes[0][k]; !ok {
			t.Errorf("no %q in %v", k, changes[0])
		}
	}
}
