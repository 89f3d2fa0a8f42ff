package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

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

// durationFlag is a duration flag in the syntax contracts use
// (rules.ParseDuration): Go's ("90s", "1h30m") plus whole days and weeks
// ("7d", "2w"), and positive. A flag made with zeroOK also takes 0 (off).
type durationFlag struct {
	d      *time.Duration
	zeroOK bool
}

// durationVar defines a duration flag with that syntax.
func durationVar(fs *flag.FlagSet, p *time.Duration, name string, value time.Duration, usage string) {
	*p = value
	fs.Var(&durationFlag{d: p}, name, usage)
}

// durationVarZeroOK is durationVar for a flag that 0 turns off.
func durationVarZeroOK(fs *flag.FlagSet, p *time.Duration, name string, value time.Duration, usage string) {
	*p = value
	fs.Var(&durationFlag{d: p, zeroOK: true}, name, usage)
}

func (f *durationFlag) Set(s string) error {
	if f.zeroOK {
		if d, err := time.ParseDuration(s); err == nil && d == 0 {
			*f.d = 0
			return nil
		}
	}
	d, err := rules.ParseDuration(s)
	if err != nil {
		return err
	}
	*f.d = d
	return nil
}

// String prints whole days as contracts write them ("7d").
func (f *durationFlag) String() string {
	if f == nil || f.d == nil {
		return "0s"
	}
	return formatDuration(*f.d)
}

func formatDuration(d time.Duration) string {
	const day = 24 * time.Hour
	if d >= day && d%day == 0 {
		return fmt.Sprintf("%dd", d/day)
	}
	return d.String()
}

// extraArgs reports positional arguments given to a command that takes
// none, and returns true when there were any.
func extraArgs(name string, fs *flag.FlagSet, stderr io.Writer) bool {
	if fs.NArg() == 0 {
		return false
	}
	fmt.Fprintf(stderr, "assay %s: unexpected argument %q: %s takes no arguments (see assay %s -h)\n", name, fs.Arg(0), name, name)
	return true
}
