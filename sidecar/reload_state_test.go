package sidecar_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/assay-dev/assay/checker"
	"github.com/assay-dev/assay/demo"
)

// TestReloadKeepsStateAndSurvivesHostileContracts: a reload that leaves a
// unique rule unchanged keeps its window (a third copy of an id still
// fails); a contract of a million prefix operators is refused on reload
// and the running contracts go on; an edit of the rule starts it afresh.
func TestReloadKeepsStateAndSurvivesHostileContracts(t *testing.T) {
	broker, err := demo.StartBroker(0, 1, "orders")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(broker.Close)
	dir := t.TempDir()
	const base = "contract: c\nowner: o\ntopics: [orders]\nrules:\n  - {name: id-unique, unique: id}\n"
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("c.yaml", base)
	r := start(t, broker.ListenAddrs(), "assay-reload-state", dir)
	eventually(t, 20*time.Second, "ready", r.s.Ready)
	counts := func() [4]uint64 {
		for _, c := range r.s.Checker().Snapshot().Contracts {
			for _, rs := range c.Rules {
				if rs.Rule.Name == "id-unique" {
					return rs.Counts
				}
			}
		}
		return [4]uint64{}
	}
	reload := func() int {
		resp, err := http.Post("http://"+r.s.Addr()+"/-/reload", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	cl := producer(t, broker.ListenAddrs())
	produceLines(t, cl, "orders", [][]byte{[]byte(`{"id": "a"}`), []byte(`{"id": "a"}`)})
	eventually(t, 10*time.Second, "1 pass, 1 fail", func() bool { c := counts(); return c[checker.Pass] == 1 && c[checker.Fail] == 1 })

	// An unrelated edit of the file: the rule is unchanged.
	write("c.yaml", base+"description: now with a description\n")
	if code := reload(); code != 200 {
		t.Fatalf("reload: %d", code)
	}
	produceLines(t, cl, "orders", [][]byte{[]byte(`{"id": "a"}`)})
	eventually(t, 10*time.Second, "the third copy", func() bool { c := counts(); return c[checker.Pass]+c[checker.Fail] == 3 })
	if c := counts(); c[checker.Fail] != 2 {
		t.Fatalf("a reload forgot the unique window: %v", c)
	}

	// A hostile contract: refused, nothing changes, the sidecar goes on.
	write("evil.yaml", "contract: evil\nowner: o\ntopics: [orders]\nrules:\n  - name: r\n    expr: "+strings.Repeat("!", 1_000_000)+"true\n")
	if code := reload(); code != 400 {
		t.Fatalf("a hostile reload answered %d, want 400", code)
	}
	os.Remove(filepath.Join(dir, "evil.yaml"))
	produceLines(t, cl, "orders", [][]byte{[]byte(`{"id": "a"}`), []byte(`{"id": "b"}`)})
	eventually(t, 10*time.Second, "checked after the refused reload", func() bool { c := counts(); return c[checker.Pass]+c[checker.Fail] == 5 })
	if c := counts(); c[checker.Fail] != 3 || c[checker.Pass] != 2 {
		t.Fatalf("after the refused reload: %v", c)
	}

	// The rule changes (a window): it starts afresh, so "a" passes once.
	write("c.yaml", strings.Replace(base, "unique: id}", "unique: id, within: 1h}", 1))
	if code := reload(); code != 200 {
		t.Fatalf("reload: %d", code)
	}
	produceLines(t, cl, "orders", [][]byte{[]byte(`{"id": "a"}`)})
	eventually(t, 10*time.Second, "checked by the changed rule", func() bool { c := counts(); return c[checker.Pass]+c[checker.Fail] == 1 })
	if c := counts(); c[checker.Pass] != 1 {
		t.Fatalf("a changed rule must start afresh: %v", c)
	}
}
