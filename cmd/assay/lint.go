package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/assay-dev/assay/checker"
	"github.com/assay-dev/assay/formats"
	"github.com/assay-dev/assay/offline"
	"github.com/assay-dev/assay/rules"
)

func cmdLint(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("lint", stderr)
	var dirs stringList
	fs.Var(&dirs, "c", "contract file or directory (repeatable)")
	fs.Var(&dirs, "contracts", "same as -c")
	var events stringList
	fs.Var(&events, "events", "NDJSON file of sample events (repeatable): a rule that reads a field none of them has is a problem, with the closest field they have")
	var lim limitFlags
	lim.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: assay lint -c DIR|FILE [-c ...] [--events FILE]\n\nParses and compiles every contract; prints file:line:col: message per problem.\nWith --events, a rule that reads a field no sample event has is a problem too.\nExit 0 when all are good, 2 when any problem is found.")
		fs.PrintDefaults()
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return flagExit(err)
	}
	dirs = append(dirs, pos...)
	if len(dirs) == 0 {
		fmt.Fprintln(stderr, "assay lint: give contracts with -c DIR|FILE")
		return exitBadInput
	}
	contracts, err := lim.limits().Load(dirs...)
	if err != nil {
		var errs rules.Errors
		if errors.As(err, &errs) {
			for _, e := range errs {
				fmt.Fprintln(stdout, e.Error())
			}
			fmt.Fprintf(stderr, "%d %s\n", len(errs), plural(len(errs), "problem", "problems"))
		} else {
			fmt.Fprintln(stderr, "assay lint:", err)
		}
		return exitBadInput
	}
	if len(contracts) == 0 {
		fmt.Fprintf(stderr, "assay lint: no contract files (*.yaml, *.yml) in %v\n", []string(dirs))
		return exitBadInput
	}
	// Rules that files cannot give a time to: a note, not a problem (the
	// contract may be meant for `assay run` and backtests only).
	for _, c := range contracts {
		for _, r := range c.NeedsEventTime() {
			fmt.Fprintf(stdout, "%s:%d:%d: contract %q, rule %q: note: %s\n", r.Pos.File, r.Pos.Line, r.Pos.Column, c.Name, r.Name, eventTimeNote(r))
		}
	}
	// The contracts' self-tests.
	var failed []*rules.Error
	examples := 0
	for _, c := range contracts {
		examples += len(c.Examples)
		failed = append(failed, checker.RunExamples(c)...)
		// With a fields section, reading an undeclared path is a
		// problem (a typo, or a field the section leaves out).
		failed = append(failed, rules.UndeclaredReads(c)...)
	}
	if len(events) > 0 {
		missing, err := missingFields(contracts, events)
		if err != nil {
			fmt.Fprintln(stderr, "assay lint:", err)
			return exitBadInput
		}
		failed = append(failed, missing...)
	}
	for _, e := range failed {
		fmt.Fprintln(stdout, e.Error())
	}
	if len(failed) > 0 {
		fmt.Fprintf(stderr, "%d %s\n", len(failed), plural(len(failed), "problem", "problems"))
		return exitBadInput
	}
	rulesN := 0
	for _, c := range contracts {
		rulesN += len(c.Rules)
	}
	fmt.Fprintf(stderr, "%d %s, %d %s, %d %s: ok\n", len(contracts), plural(len(contracts), "contract", "contracts"), rulesN, plural(rulesN, "rule", "rules"),
		examples, plural(examples, "example", "examples"))
	return exitOK
}

// eventTimeNote says why a rule needs the contract's event_time.
func eventTimeNote(r *rules.Rule) string {
	article := "a"
	if r.Kind == rules.KindAnomaly {
		article = "an"
	}
	return fmt.Sprintf("%s %s rule runs on event time, and events from files have no record timestamp: add event_time (e.g. event_time: created_at) to check this contract with assay test on files", article, r.Kind)
}

// missingFields reads sample events and returns a problem for every field a
// rule reads that none of them has.
func missingFields(contracts []*rules.Contract, files []string) ([]*rules.Error, error) {
	watch := offline.NewFieldWatch(contracts)
	events, undecodable := 0, 0
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, offline.DefaultMaxLine)
		for sc.Scan() {
			if len(formats.TrimSpace(sc.Bytes())) == 0 {
				continue
			}
			if fields, err := formats.DecodeJSON(sc.Bytes()); err == nil {
				events++
				watch.Observe(fields)
				watch.Name(fields)
			} else {
				undecodable++
			}
		}
		err = sc.Err()
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	if events == 0 {
		return nil, fmt.Errorf("--events: no line of %s is a JSON object (%d %s not): nothing to compare the fields with",
			strings.Join(files, ", "), undecodable, plural(undecodable, "line is", "lines are"))
	}
	var out []*rules.Error
	for _, c := range contracts {
		for _, r := range c.Rules {
			for _, m := range watch.Missing(r) {
				out = append(out, &rules.Error{Pos: r.Pos, Contract: c.Name, Rule: r.Name, Msg: m.String() + " (in " + strings.Join(files, ", ") + ")"})
			}
		}
	}
	return out, nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// stringList is a repeatable flag.
type stringList []string

func (s *stringList) String() string { return fmt.Sprint([]string(*s)) }

func (s *stringList) Set(v string) error {
	*s = append(*s, v)
	return nil
}
