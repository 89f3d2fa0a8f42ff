package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/assay-dev/assay/internal/testenv"
)

// The state of unique, sequence and reference rules lives in the group's
// changelog topic: these tests kill, restart and add replicas of `assay
// run` processes and check that no window or expectation is lost.

const stateContract = `
contract: order-flow
owner: team-checkout
topics: [checkout.orders]
rules:
  - name: paid-in-time
    sequence:
      key: order_id
      start: type == "order_created"
      expect: type == "payment_captured"
    within: 30s
  - name: order-unique
    unique: order_id
    when: type == "order_created"
  - name: event-id-unique-everywhere
    unique: event_id
    scope: topic
`

func stateContracts(t *testing.T) string {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "flow.yaml"), []byte(stateContract), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// kcatProduce writes lines "key|value" to a topic (to one partition when
// partition >= 0).
func kcatProduce(t *testing.T, kcat string, kport, partition int, lines []string) {
	t.Helper()
	args := []string{"-b", fmt.Sprintf("127.0.0.1:%d", kport), "-P", "-t", "checkout.orders", "-K", "|"}
	if partition >= 0 {
		args = append(args, "-p", fmt.Sprint(partition))
	}
	cmd := exec.Command(kcat, args...)
	cmd.Stdin = strings.NewReader(strings.Join(lines, "\n") + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kcat: %v\n%s", err, out)
	}
}

// results reads a rule's result counter from /metrics (-1 when it cannot).
func results(base, rule, result string) float64 {
	m, err := httpGet(base + "/metrics")
	if err != nil {
		return -1
	}
	return sumSeries(m, fmt.Sprintf(`assay_rule_results_total{contract="order-flow",result="%s",rule="%s"`, result, rule))
}

func metric(base, prefix string) float64 {
	m, err := httpGet(base + "/metrics")
	if err != nil {
		return -1
	}
	return sumSeries(m, prefix)
}

// TestKillNineKeepsExpectations: starts are checked and committed, the
// sidecar is killed with SIGKILL, the expects of half of them are produced
// while it is down, and a new process takes over: every start whose expect
// came passes, and every other one fails once its within has passed, on
// the wall clock — though nothing new arrives.
func TestKillNineKeepsExpectations(t *testing.T) {
	kcat := testenv.Need(t, "kcat")
	kport := startBroker(t, 2)
	dir := stateContracts(t)
	a, abase := startRun(t, "assay run", kport, "assay-seq", "-c", dir, "--session-timeout", "6s")
	var starts, expects []string
	for i := range 20 {
		starts = append(starts, fmt.Sprintf(`o-%d|{"type":"order_created","order_id":"o-%d","event_id":"c-%d"}`, i, i, i))
		if i%2 == 0 {
			expects = append(expects, fmt.Sprintf(`o-%d|{"type":"payment_captured","order_id":"o-%d","event_id":"p-%d"}`, i, i, i))
		}
	}
	kcatProduce(t, kcat, kport, -1, starts)
	eventually(t, 20*time.Second, "the starts checked and their state written", func() bool {
		return results(abase, "order-unique", "pass") == 20 && metric(abase, `assay_state_writes_total{result="success"}`) > 0
	})
	if got := metric(abase, `assay_state_keys{contract="order-flow",rule="paid-in-time"}`); got != 20 {
		t.Errorf("assay_state_keys of the sequence: %v, want 20 open expectations", got)
	}
	time.Sleep(6 * time.Second) // past an offset commit (every 5s)
	a.Cmd.Process.Signal(syscall.SIGKILL)
	<-a.Done
	kcatProduce(t, kcat, kport, -1, expects)
	_, bbase := startRun(t, "assay run (restarted)", kport, "assay-seq", "-c", dir, "--session-timeout", "6s")
	eventually(t, 20*time.Second, "the expects that came to pass", func() bool {
		return results(bbase, "paid-in-time", "pass") == 10
	})
	if got := results(bbase, "paid-in-time", "fail"); got != 0 {
		t.Errorf("failures before the deadline: %v", got)
	}
	if got := metric(bbase, `assay_state_restored_entries_total`); got <= 0 {
		t.Errorf("nothing restored: %v", got)
	}
	eventually(t, 60*time.Second, "the other starts to fail once 30s have passed", func() bool {
		return results(bbase, "paid-in-time", "fail") == 10
	})
	// The starts were committed before the kill: none was checked again,
	// none gave a second result.
	time.Sleep(2 * time.Second)
	if p, f := results(bbase, "paid-in-time", "pass"), results(bbase, "paid-in-time", "fail"); p != 10 || f != 10 {
		t.Errorf("results after the deadline: pass %v fail %v, want 10 and 10", p, f)
	}
	if got := results(bbase, "order-unique", "pass") + results(bbase, "order-unique", "fail"); got != 0 {
		t.Errorf("the committed starts were checked again: %v", got)
	}
}

// TestUniqueRepeatAcrossAMoveToASecondReplica: keys checked by one
// replica, then a second replica joins (every partition is revoked and
// assigned again, half of them to the newcomer) and the keys are repeated:
// every repeat fails, on whichever replica now owns its partition.
func TestUniqueRepeatAcrossAMoveToASecondReplica(t *testing.T) {
	kcat := testenv.Need(t, "kcat")
	kport := startBroker(t, 2)
	dir := stateContracts(t)
	_, abase := startRun(t, "assay run a", kport, "assay-move", "-c", dir, "--session-timeout", "6s")
	var orders []string
	for i := range 20 {
		orders = append(orders, fmt.Sprintf(`o-%d|{"type":"order_created","order_id":"o-%d","event_id":"e-%d"}`, i, i, i))
	}
	kcatProduce(t, kcat, kport, -1, orders)
	eventually(t, 20*time.Second, "a to check the orders", func() bool { return results(abase, "order-unique", "pass") == 20 })
	_, bbase := startRun(t, "assay run b", kport, "assay-move", "-c", dir, "--session-timeout", "6s")
	eventually(t, 30*time.Second, "b to be assigned a partition", func() bool {
		return metric(bbase, `assay_contract_partitions{contract="order-flow"}`) == 1 && metric(abase, `assay_contract_partitions{contract="order-flow"}`) == 1
	})
	var repeats []string
	for i := range 20 {
		repeats = append(repeats, fmt.Sprintf(`o-%d|{"type":"order_created","order_id":"o-%d","event_id":"r-%d"}`, i, i, i))
	}
	kcatProduce(t, kcat, kport, -1, repeats)
	eventually(t, 30*time.Second, "every repeat to fail", func() bool {
		return results(abase, "order-unique", "fail")+results(bbase, "order-unique", "fail") == 20
	})
	if results(bbase, "order-unique", "fail") == 0 {
		t.Error("b judged no repeat: the partitions did not move")
	}
}

// TestScopeTopicCatchesARepeatOnAnotherPartition: an event id repeated on
// the other partition, with two replicas sharing them, fails once.
func TestScopeTopicCatchesARepeatOnAnotherPartition(t *testing.T) {
	kcat := testenv.Need(t, "kcat")
	kport := startBroker(t, 2)
	dir := stateContracts(t)
	_, abase := startRun(t, "assay run a", kport, "assay-scope", "-c", dir, "--session-timeout", "6s")
	_, bbase := startRun(t, "assay run b", kport, "assay-scope", "-c", dir, "--session-timeout", "6s")
	eventually(t, 30*time.Second, "both replicas to hold a partition", func() bool {
		return metric(bbase, `assay_contract_partitions{contract="order-flow"}`) == 1 && metric(abase, `assay_contract_partitions{contract="order-flow"}`) == 1
	})
	kcatProduce(t, kcat, kport, 0, []string{`o-1|{"type":"order_created","order_id":"o-1","event_id":"e-1"}`, `o-2|{"type":"order_created","order_id":"o-2","event_id":"e-2"}`})
	kcatProduce(t, kcat, kport, 1, []string{`o-3|{"type":"order_created","order_id":"o-3","event_id":"e-1"}`})
	rule := "event-id-unique-everywhere"
	eventually(t, 30*time.Second, "the repeat on the other partition to fail", func() bool {
		return results(abase, rule, "fail")+results(bbase, rule, "fail") == 1
	})
	eventually(t, 10*time.Second, "the other two to pass", func() bool {
		return results(abase, rule, "pass")+results(bbase, rule, "pass") == 2
	})
}
