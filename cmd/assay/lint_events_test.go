package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLintEvents(t *testing.T) {
	dir := t.TempDir()
	contract := filepath.Join(dir, "typo.yaml")
	events := filepath.Join(dir, "events.ndjson")
	os.WriteFile(contract, []byte("contract: typo\nowner: o\ntopics: [t]\nrules:\n  - {name: amount-positive, expr: ammount > 0}\n  - {name: fine, expr: amount > 0}\n"), 0o644)
	os.WriteFile(events, []byte(`{"amount": 1}`+"\nnot json\n"+`{"amount": 2}`+"\n"), 0o644)
	var out, errOut bytes.Buffer
	code := cmdLint([]string{"-c", contract, "--events", events}, &out, &errOut)
	want := contract + `:5:5: contract "typo", rule "amount-positive": no event had ammount; did you mean amount? (in ` + events + ")\n"
	if code != exitBadInput || out.String() != want || !strings.Contains(errOut.String(), "1 problem") {
		t.Errorf("exit %d\n%s%s\nwant %s", code, out.String(), errOut.String(), want)
	}
	os.WriteFile(contract, []byte("contract: typo\nowner: o\ntopics: [t]\nrules:\n  - {name: fine, expr: amount > 0}\n"), 0o644)
	out.Reset()
	errOut.Reset()
	if code := cmdLint([]string{"-c", contract, "--events", events}, &out, &errOut); code != exitOK || out.Len() > 0 {
		t.Errorf("exit %d: %s%s", code, out.String(), errOut.String())
	}
	os.WriteFile(events, []byte("garbage\n\n"), 0o644)
	errOut.Reset()
	if code := cmdLint([]string{"-c", contract, "--events", events}, &out, &errOut); code != exitBadInput || !strings.Contains(errOut.String(), "is a JSON object (1 line is not)") {
		t.Errorf("no event: exit %d: %s", code, errOut.String())
	}
}
