package checker_test

import (
	"testing"

	"github.com/assay-dev/assay/checker"
)

// The synthetic fields rules follow the contract's own rules (volume
// stays last), and a reload keeps their counts only while the fields
// section is the same.
func TestFieldRulesReload(t *testing.T) {
	const head = "contract: c\nowner: o\ntopics: [t]\nvolume: {min: 1, per: 1m}\nrules: [{name: r, expr: 'true'}]\n"
	v1 := mustContracts(t, head+"fields:\n  id: {type: string, required: true}\n")
	same := mustContracts(t, head+"fields:\n  id: {type: string, required: true}\n  # a comment\n")
	changed := mustContracts(t, head+"fields:\n  id: {type: int, required: true}\n")

	old := checker.New(v1, checker.Options{})
	w, p := old.NewWorker(), old.NewPartition("t", 0)
	w.Check(p, event(t, `{"id": "a"}`))
	w.Check(p, event(t, `{}`))
	var names []string
	for _, rs := range old.Snapshot().Contracts[0].Rules {
		names = append(names, rs.Rule.Name)
	}
	if want := []string{"r", checker.FieldsRequiredRuleName, checker.FieldsTypesRuleName, checker.VolumeRuleName}; len(names) != len(want) || names[1] != want[1] || names[2] != want[2] || names[3] != want[3] {
		t.Fatalf("rules %v, want %v", names, want)
	}
	for _, tc := range []struct {
		name string
		next *checker.Checker
		want uint64 // fields.required results carried over
	}{{"same", checker.New(same, checker.Options{}), 2}, {"changed", checker.New(changed, checker.Options{}), 0}} {
		tc.next.Inherit(old)
		rs := tc.next.Snapshot().Contracts[0].Rules[1]
		if got := rs.Counts[checker.Pass] + rs.Counts[checker.Fail]; got != tc.want {
			t.Errorf("%s: %d results of %s carried over, want %d", tc.name, got, rs.Rule.Name, tc.want)
		}
		if r := tc.next.Snapshot().Contracts[0].Rules[0]; r.Counts[checker.Pass] != 2 {
			t.Errorf("%s: rule r has %d passes, want 2 (it did not change)", tc.name, r.Counts[checker.Pass])
		}
	}
	if checker.Fingerprint(v1[0], checker.FieldRules(v1[0])[1]) == checker.Fingerprint(changed[0], checker.FieldRules(changed[0])[1]) {
		t.Error("fields.types has the same fingerprint with another fields section")
	}
}
