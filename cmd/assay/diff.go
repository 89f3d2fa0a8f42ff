package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/assay-dev/assay/diff"
	"github.com/assay-dev/assay/rules"
)

// cmdDiff compares two versions of a set of contracts and classifies each
// change: stricter, looser, neutral or changed.
func cmdDiff(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("diff", stderr)
	output := fs.String("output", "text", "text or json")
	failOn := fs.String("fail-on", string(diff.Stricter), "exit 1 when a change of these classes is present (comma separated: stricter, looser, neutral, changed; \"\" never)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, `Usage: assay diff [--output text|json] [--fail-on CLASSES] OLD NEW

Compares the contracts of OLD and NEW (files or directories), matched by
name, and classifies each change: stricter (an event that passed may fail:
the producer may break), looser (a consumer loses a guarantee), neutral,
or changed (cannot tell). Exit 0 when no change is of a class in --fail-on,
1 when one is, 2 on bad input.`)
		fs.PrintDefaults()
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(pos) != 2 {
		fmt.Fprintln(stderr, "assay diff: needs OLD and NEW, two contract files or directories (see assay diff -h)")
		return exitBadInput
	}
	if *output != "text" && *output != "json" {
		fmt.Fprintf(stderr, "assay diff: --output %q: want text or json\n", *output)
		return exitBadInput
	}
	var failClasses []diff.Class
	for _, s := range strings.Split(*failOn, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		c, ok := diff.ParseClass(s)
		if !ok {
			fmt.Fprintf(stderr, "assay diff: --fail-on %q: want a comma list of stricter, looser, neutral, changed\n", s)
			return exitBadInput
		}
		failClasses = append(failClasses, c)
	}
	old, ok := loadForDiff("OLD", pos[0], stderr)
	if !ok {
		return exitBadInput
	}
	new, ok := loadForDiff("NEW", pos[1], stderr)
	if !ok {
		return exitBadInput
	}
	changes := diff.Contracts(old, new)
	if *output == "json" {
		err = diff.WriteJSON(stdout, changes)
	} else {
		err = diff.WriteText(stdout, changes)
	}
	if err != nil {
		fmt.Fprintln(stderr, "assay diff:", err)
		return exitFatal
	}
	if diff.Has(changes, failClasses...) {
		return exitViolations
	}
	return exitOK
}

func loadForDiff(which, path string, stderr io.Writer) ([]*rules.Contract, bool) {
	cs, err := rules.Load(path)
	if err == nil {
		return cs, true
	}
	var errs rules.Errors
	if errors.As(err, &errs) {
		for _, e := range errs {
			fmt.Fprintln(stderr, e.Error())
		}
		fmt.Fprintf(stderr, "assay diff: %s (%s): %d %s\n", which, path, len(errs), plural(len(errs), "problem", "problems"))
	} else {
		fmt.Fprintf(stderr, "assay diff: %s (%s): %v\n", which, path, err)
	}
	return nil, false
}
