package main

import (
	"errors"
	"flag"
	"io"

	"github.com/assay-dev/assay/rules"
)

// flagExit is the exit code for a flag parsing error: 0 for -h.
func flagExit(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	return exitBadInput
}

// newFlagSet returns a FlagSet that reports errors instead of exiting.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("assay "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseInterspersed parses flags that may come before, between or after
// positional arguments ("assay test events.ndjson -c contracts/"), and
// returns the positional ones. A lone "-" is positional (stdin).
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// limitFlags are the bounds of contract files and expressions, shared by
// run, test and lint so that a contract that lints also loads.
type limitFlags struct {
	fileBytes, exprBytes, rules, depth int
}

func (l *limitFlags) register(fs *flag.FlagSet) {
	d := rules.DefaultLimits
	fs.IntVar(&l.fileBytes, "max-contract-bytes", int(d.MaxFileBytes), "larger contract files are refused before they are parsed")
	fs.IntVar(&l.rules, "max-rules", d.MaxRules, "rules per contract")
	fs.IntVar(&l.exprBytes, "max-expr-bytes", d.MaxExprBytes, "length of one expression")
	fs.IntVar(&l.depth, "max-expr-depth", d.MaxExprDepth, "nesting of brackets and prefix operators in one expression")
}

func (l *limitFlags) limits() rules.Limits {
	out := rules.DefaultLimits
	out.MaxFileBytes, out.MaxRules, out.MaxExprBytes, out.MaxExprDepth = int64(l.fileBytes), l.rules, l.exprBytes, l.depth
	return out
}
