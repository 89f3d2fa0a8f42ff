package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"time"

	"github.com/assay-dev/assay/internal/progress"
	"github.com/assay-dev/assay/offline"
	"github.com/assay-dev/assay/report"
	"github.com/assay-dev/assay/rules"
)

func cmdTest(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("test", stderr)
	var dirs stringList
	fs.Var(&dirs, "c", "contract file or directory (repeatable)")
	fs.Var(&dirs, "contracts", "same as -c")
	topic := fs.String("topic", "", "topic the events belong to: selects the contracts and sets kafka.topic (required)")
	output := fs.String("output", "text", "report format: text, json, junit, html or github (GitHub Actions annotations)")
	failOn := fs.String("fail-on", "warning", "lowest severity that fails the run: critical, warning or info")
	maxLine := fs.Int("max-event-bytes", offline.DefaultMaxLine, "longer events count as decode errors")
	brokers := fs.String("brokers", "", "backtest: read topic T's history from these brokers instead of files (no group, no commits)")
	var since time.Duration
	durationVar(fs, &since, "since", 0, "backtest: from this `duration` ago (e.g. 24h, 7d, 2w: the syntax of contracts)")
	from := fs.String("from", "", "backtest: from an RFC 3339 time or an offset, included (default: the start)")
	to := fs.String("to", "", "backtest: up to an RFC 3339 time or an offset, excluded: --from 10 --to 20 reads offsets 10 to 19,\nand --to 2026-01-02T00:00:00Z the records stamped before then (default: the end when the run starts)")
	config := fs.String("config", "", "backtest: service config for tls and sasl")
	var lim limitFlags
	lim.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, `Usage: assay test -c DIR --topic T [flags] FILE... ("-" reads stdin)

Checks NDJSON events against the contracts that match topic T.
Exit 0 when no rule at or above --fail-on is violated beyond its tolerance and
every line decodes, 1 when one is, 2 on bad input (unreadable file, broken contract, no contract
for the topic).`)
		fs.PrintDefaults()
	}
	if os.Getenv("GOGC") == "" {
		// A batch job with a small live heap: collect less often.
		debug.SetGCPercent(400)
	}
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return flagExit(err)
	}
	sev, ok := rules.ParseSeverity(*failOn)
	if !ok {
		fmt.Fprintf(stderr, "assay test: --fail-on must be critical, warning or info, not %q\n", *failOn)
		return exitBadInput
	}
	if !slices.Contains(outputs, *output) {
		fmt.Fprintf(stderr, "assay test: --output must be text, json, junit, html or github, not %q\n", *output)
		return exitBadInput
	}
	backtest := *brokers != ""
	if len(dirs) == 0 || *topic == "" || (len(files) == 0) != backtest {
		fmt.Fprintln(stderr, "assay test: needs -c DIR, --topic T and either FILEs (- for stdin) or --brokers for a backtest")
		return exitBadInput
	}
	all, err := lim.limits().Load(dirs...)
	if err != nil {
		var errs rules.Errors
		if errors.As(err, &errs) {
			for _, e := range errs {
				fmt.Fprintln(stderr, e.Error())
			}
		} else {
			fmt.Fprintln(stderr, "assay test:", err)
		}
		return exitBadInput
	}
	var contracts []*rules.Contract
	for _, c := range all {
		if c.MatchesTopic(*topic) {
			contracts = append(contracts, c)
		}
	}
	if len(contracts) == 0 {
		fmt.Fprintf(stderr, "assay test: no contract in %v applies to topic %q\n", []string(dirs), *topic)
		return exitBadInput
	}
	if !backtest {
		for _, c := range contracts {
			if rs := c.NeedsEventTime(); len(rs) > 0 {
				fmt.Fprintf(stderr, "assay test: contract %q, rule %q: %s\n", c.Name, rs[0].Name, eventTimeNote(rs[0]))
				return exitBadInput
			}
		}
	}
	if backtest {
		return runBacktest(backtestArgs{brokers: *brokers, topic: *topic, since: since, from: *from, to: *to, config: *config,
			output: *output, failOn: sev}, contracts, stdout, stderr)
	}
	var inputs []offline.Input
	var named []string // the files, stdin aside
	var size int64
	for _, f := range files {
		if f == "-" {
			inputs = append(inputs, offline.Input{Name: "<stdin>", R: stdin})
			continue
		}
		named = append(named, f)
		fh, err := os.Open(f)
		if err != nil {
			fmt.Fprintln(stderr, "assay test:", err)
			return exitBadInput
		}
		defer fh.Close()
		if st, err := fh.Stat(); err == nil {
			size += st.Size()
		}
		inputs = append(inputs, offline.Input{Name: f, R: fh})
	}
	bar := progress.Start(stderr, size, "bytes", 200*time.Millisecond, false)
	rep, err := offline.Run(contracts, inputs, offline.Options{Topic: *topic, FailOn: sev, MaxLine: *maxLine, Progress: bar, Workers: runtime.GOMAXPROCS(0)})
	bar.Done()
	if err != nil {
		fmt.Fprintln(stderr, "assay test:", err)
		return exitBadInput
	}
	rep.Files = named
	return writeReport(rep, *output, stdout, stderr)
}

// outputs are the report formats of --output.
var outputs = []string{"text", "json", "junit", "html", "github"}

// writeReport prints a report and returns the exit code it calls for.
func writeReport(rep *report.Report, output string, stdout, stderr io.Writer) int {
	var err error
	switch output {
	case "json":
		err = rep.JSON(stdout)
	case "junit":
		err = rep.JUnit(stdout)
	case "html":
		err = rep.HTML(stdout)
	case "github":
		err = rep.GitHub(stdout)
	default:
		err = rep.Text(stdout)
	}
	if err != nil {
		fmt.Fprintln(stderr, "assay test:", err)
		return exitBadInput
	}
	if rep.Failed() {
		return exitViolations
	}
	return exitOK
}
