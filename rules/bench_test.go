package rules

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/expr-lang/expr/vm"

	"github.com/assay-dev/assay/formats"
)

// benchEvents are the order events of testdata/orders-200.ndjson (made by
// `go run ./bench -mode gen -events 200`), or of the file named by
// $ASSAY_BENCH_EVENTS, decoded once, with the record metadata and the
// budget the checker adds to every event.
func benchEvents(tb testing.TB, budget *Budget) []map[string]any {
	tb.Helper()
	name := "testdata/orders-200.ndjson"
	if f := os.Getenv("ASSAY_BENCH_EVENTS"); f != "" {
		name = f
	}
	data, err := os.ReadFile(name)
	if err != nil {
		tb.Fatal(err)
	}
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		m, err := formats.DecodeJSON(sc.Bytes())
		if err != nil {
			tb.Fatal(err)
		}
		m[MetaVar] = &KafkaMeta{Topic: "checkout.orders", Offset: int64(len(out))}
		m[BudgetVar] = budget
		out = append(out, m)
	}
	return out
}

// ordersContract is the 20-rule bench contract.
func ordersContract(tb testing.TB) *Contract {
	tb.Helper()
	cs, err := Load("../testdata/bench/orders-20.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	return cs[0]
}

// benchBudget is the checker's budget of one run at the default options,
// with a time bound no pause of a loaded machine reaches (the clock is
// still read as often).
func benchBudget() Budget {
	return Budget{Max: DefaultMaxSteps, MaxWork: WorkFor(DefaultMaxTime), MaxBytes: DefaultMaxBytes, MaxTime: time.Hour}
}

// variant is one way of compiling the combined program.
type variant struct {
	name   string
	how    allOptions
	noFast bool // no simpleRegexp
}

var variants = []variant{
	{"expr, regexp", allOptions{expr: true, untyped: true}, true},
	{"expr, fast regex", allOptions{expr: true, untyped: true}, false},
	{"expr, fast regex, typed", allOptions{expr: true}, false},
	{"native, no sharing", allOptions{noShare: true}, false},
	{"native", allOptions{}, false},
}

func (v variant) compile(tb testing.TB, c *Contract) *vm.Program {
	tb.Helper()
	noSimpleRegexp = v.noFast
	defer func() { noSimpleRegexp = false }()
	p, err := compileAll(c.Rules, v.how)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// BenchmarkOrders20 runs the combined program of the 20-rule contract
// testdata/bench/orders-20.yaml over decoded ~1 KB order events, the way
// the checker's workers do (one VM, a fresh budget per run): evaluation
// only, no decoding. The sub-benchmarks are the ways of compiling it.
func BenchmarkOrders20(b *testing.B) {
	c := ordersContract(b)
	var budget Budget
	events := benchEvents(b, &budget)
	for _, v := range variants {
		p := v.compile(b, c)
		b.Run(strings.ReplaceAll(v.name, " ", ""), func(b *testing.B) {
			var machine vm.VM
			machine.MemoryBudget = VMBudget(DefaultMaxBytes)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				budget = benchBudget()
				if _, err := machine.Run(p, events[i]); err != nil {
					b.Fatal(err)
				}
				if i++; i == len(events) {
					i = 0
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/event")
		})
	}
}

// TestLeverFigures prints, for every variant, the time of one evaluation
// of orders-20 (the least over interleaved rounds: on a shared machine the
// least is the one least disturbed) and its allocations. It runs with
// ASSAY_LEVERS=1.
func TestLeverFigures(t *testing.T) {
	if os.Getenv("ASSAY_LEVERS") == "" {
		t.Skip("ASSAY_LEVERS=1 prints the figures")
	}
	c := ordersContract(t)
	var budget Budget
	events := benchEvents(t, &budget)
	progs := make([]*vm.Program, len(variants))
	for i, v := range variants {
		progs[i] = v.compile(t, c)
	}
	times := make([][]float64, len(variants))
	cpu := make([][]float64, len(variants))
	var machine vm.VM
	machine.MemoryBudget = VMBudget(DefaultMaxBytes)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for range 300 {
		for i, p := range progs {
			evs := events
			start, startCPU := time.Now(), threadCPU()
			for range 1 {
				for _, ev := range evs {
					budget = benchBudget()
					if _, err := machine.Run(p, ev); err != nil {
						t.Fatal(err)
					}
				}
			}
			n := float64(len(events))
			times[i] = append(times[i], float64(time.Since(start).Nanoseconds())/n)
			cpu[i] = append(cpu[i], float64(threadCPU()-startCPU)/n)
		}
	}
	for i, v := range variants {
		k, evs := 0, events
		allocs := testing.AllocsPerRun(len(evs), func() {
			budget = benchBudget()
			machine.Run(progs[i], evs[k%len(evs)])
			k++
		})
		sort.Float64s(times[i])
		sort.Float64s(cpu[i])
		fmt.Printf("%-28s wall min %6.0f ns median %6.0f ns, cpu min %6.0f ns median %6.0f ns, %5.1f allocs/evaluation\n",
			v.name, times[i][0], times[i][len(times[i])/2], cpu[i][0], cpu[i][len(cpu[i])/2], allocs)
	}
}

// threadCPU is the CPU time of the calling thread, in nanoseconds.
func threadCPU() int64 {
	var ts syscall.Timespec
	const clockThreadCPUTime = 3 // CLOCK_THREAD_CPUTIME_ID
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTime, uintptr(unsafe.Pointer(&ts)), 0)
	return ts.Nano()
}
