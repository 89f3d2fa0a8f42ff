package main

import (
	"bytes"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// With a fields section, lint reports every path a rule reads that the
// section does not declare: the file's "# want: line:col text" comments
// list exactly the problems.
func TestLintUndeclaredFields(t *testing.T) {
	const file = "../../testdata/lint/undeclared.yaml"
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, m := range regexp.MustCompile(`(?m)^# want: (\d+:\d+) (.*)$`).FindAllStringSubmatch(string(data), -1) {
		want = append(want, file+":"+m[1]+": "+m[2])
	}
	var out, errOut bytes.Buffer
	if code := cmdLint([]string{"-c", file}, &out, &errOut); code != exitBadInput {
		t.Errorf("exit %d, want %d: %s", code, exitBadInput, errOut.String())
	}
	got := strings.Split(strings.TrimSpace(out.String()), "\n")
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
