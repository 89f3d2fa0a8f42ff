// Command assay checks Kafka events against data contracts.
//
//	assay run      the sidecar: consume, check, export metrics, alert
//	assay test     check NDJSON events offline (a producer's CI)
//	assay lint     parse and compile contracts
//	assay demo     an embedded broker, a generator and the sidecar
//	assay version  print the version
//
// Exit codes: 0 ok, 1 violations (test) or a fatal error (run), 2 bad input.
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
	exitViolations = 1
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
  assay infer --topic T FILE... | --brokers HOST:PORT
  assay import --from odcs|confluent FILE
  assay schema     print the JSON Schema of contract files (for editors)
  assay version

Run "assay COMMAND -h" for the flags of a command.
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
	case "infer":
		return cmdInfer(args[1:], stdin, stdout, stderr)
	case "import":
		return cmdImport(args[1:], stdin, stdout, stderr)
	case "schema":
		stdout.Write(rules.JSONSchema())
		return exitOK
	case "version", "--version":
		return cmdVersion(stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "assay: unknown command %q\n\n%s", args[0], usage)
	return exitBadInput
}
