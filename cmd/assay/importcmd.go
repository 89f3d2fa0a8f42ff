package main

import (
	"fmt"
	"io"
	"os"

	"github.com/assay-dev/assay/importer"
)

// cmdImport turns an Open Data Contract Standard document or a Confluent
// Schema Registry rule set into assay contracts, and says what it could
// not translate.
func cmdImport(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("import", stderr)
	from := fs.String("from", "", "the input's kind: odcs or confluent (a registered schema with its ruleSet, or the ruleSet)")
	outFile := fs.String("o", "", "write the contract to this file (default: stdout)")
	name := fs.String("contract", "", "contract name (default: from the input)")
	owner := fs.String("owner", "", "owner (default: from the input)")
	var topics stringList
	fs.Var(&topics, "topic", "topic (repeatable; default: from the input)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: assay import --from odcs|confluent [flags] FILE (\"-\" reads stdin)\n\nWrites assay contracts and lists on stderr what could not be translated.")
		fs.PrintDefaults()
	}
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(files) != 1 || (*from != "odcs" && *from != "confluent") {
		fmt.Fprintln(stderr, "assay import: needs --from odcs|confluent and one FILE")
		return exitBadInput
	}
	var data []byte
	if files[0] == "-" {
		data, err = io.ReadAll(stdin)
	} else {
		data, err = os.ReadFile(files[0])
	}
	if err != nil {
		fmt.Fprintln(stderr, "assay import:", err)
		return exitBadInput
	}
	opts := importer.Options{Contract: *name, Owner: *owner, Topics: topics}
	var res *importer.Result
	if *from == "odcs" {
		res, err = importer.ODCS(data, opts)
	} else {
		res, err = importer.ConfluentRuleSet(data, opts)
	}
	if err != nil {
		fmt.Fprintln(stderr, "assay import:", err)
		return exitBadInput
	}
	if *outFile != "" {
		err = os.WriteFile(*outFile, res.YAML, 0o644)
	} else {
		_, err = stdout.Write(res.YAML)
	}
	if err != nil {
		fmt.Fprintln(stderr, "assay import:", err)
		return exitBadInput
	}
	for _, u := range res.Untranslated {
		fmt.Fprintf(stderr, "not translated: %s: %s\n", u.What, u.Why)
	}
	fmt.Fprintf(stderr, "%d %s not translated (see the comments at the end of the contract); run assay lint on the result\n",
		len(res.Untranslated), plural(len(res.Untranslated), "item", "items"))
	return exitOK
}
