package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/assay-dev/assay/checker"
	"github.com/assay-dev/assay/rules"
)

func cmdLint(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("lint", stderr)
	var dirs stringList
	fs.Var(&dirs, "c", "contract file or directory (repeatable)")
	fs.Var(&dirs, "contracts", "same as -c")
	var lim limitFlags
	lim.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: assay lint -c DIR|FILE [-c ...]\n\nParses and compiles every contract; prints file:line:col: message per problem.\nExit 0 when all are good, 2 when any problem is found.")
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
	// The contracts' self-tests.
	var failed []*rules.Error
	examples := 0
	for _, c := range contracts {
		examples += len(c.Examples)
		failed = append(failed, checker.RunExamples(c)...)
	}
	for _, e := range failed {
		fmt.Fprintln(stdout, e.Error())
	}
	if len(failed) > 0 {
		fmt.Fprintf(stderr, "%d of the contracts' examples %s not hold\n", len(failed), plural(len(failed), "does", "do"))
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
