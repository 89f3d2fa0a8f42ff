// Command assay checks Kafka events against data contracts.
//
//	assay run      the sidecar: consume, check, export metrics, alert
//	assay test     check NDJSON events offline (a producer's CI)
//	assay lint     parse and compile contracts
//	assay diff     classify the changes between two versions of contracts
//	assay compat   check a producer's schema against the consumers' contracts
//	assay demo     an embedded broker, a generator and the sidecar
//	assay version  print the version
//
// Exit codes: 0 ok, 1 violations (test) or a fatal runtime error (run), 2
// bad input (a bad flag, argument, contract or config) for every command.
// Every command prints its usage on -h and --help and exits 0.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/assay-dev/assay/rules"
)

// Exit codes.
const (
	exitOK         = 0
	exitViolations = 1 // assay test: a rule at or above --fail-on was violated
	exitFatal      = 1 // assay run: a fatal error at run time
	exitBadInput   = 2
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

const usage = `assay checks Kafka events against data contracts.

Usage:
  assay run -c DIR --brokers HOST:PORT [flags]
  assay demo
  assay test -c DIR --topic T [--output text|json|junit] [--fail-on LEVEL] FILE...
  assay lint -c DIR
  assay diff [--output text|json] [--fail-on CLASSES] OLD NEW
  assay compat (--schema FILE --topic T | --registry URL --subject S) -c DIR
  assay infer --topic T FILE... | --brokers HOST:PORT
  assay import --from odcs|confluent FILE
  assay schema     print the JSON Schema of contract files (for editors)
  assay version

Run "assay COMMAND -h" for the flags of a command. Durations are written as
in contracts: 300ms, 30s, 1h30m, 7d, 2w.
Exit codes: 0 ok, 1 violations (test), changes of a --fail-on class (diff),
a schema that breaks a contract (compat) or a fatal error (run), 2 bad input.
`

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitBadInput
	}
	switch args[0] {
	case "run":
		return cmdRun(args[1:], stderr)
	case "demo":
		return cmdDemo(args[1:], stdout, stderr)
	case "test":
		return cmdTest(args[1:], stdin, stdout, stderr)
	case "lint":
		return cmdLint(args[1:], stdout, stderr)
	case "diff":
		return cmdDiff(args[1:], stdout, stderr)
	case "compat":
		return cmdCompat(args[1:], stdout, stderr)
	case "infer":
		return cmdInfer(args[1:], stdin, stdout, stderr)
	case "import":
		return cmdImport(args[1:], stdin, stdout, stderr)
	case "schema":
		return cmdSchema(args[1:], stdout, stderr)
	case "version":
		return cmdVersion(args[1:], stdout, stderr)
	case "--version":
		return cmdVersion(nil, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "assay: unknown command %q\n\n%s", args[0], usage)
	return exitBadInput
}

func cmdSchema(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("schema", stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, `Usage: assay schema

Prints the JSON Schema (draft 2020-12) of contract files, for editors and
the YAML language server. assay lint stays the authority: it also compiles
every expression and runs the contracts' examples.`)
	}
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	if extraArgs("schema", fs, stderr) {
		return exitBadInput
	}
	if _, err := stdout.Write(rules.JSONSchema()); err != nil {
		fmt.Fprintln(stderr, "assay schema:", err)
		return exitFatal
	}
	return exitOK
}
