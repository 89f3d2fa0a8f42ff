package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/assay-dev/assay/compat"
	"github.com/assay-dev/assay/formats/confluent"
	"github.com/assay-dev/assay/rules"
)

// cmdCompat checks a producer's schema against the contracts of the
// consumers that read its topic.
func cmdCompat(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("compat", stderr)
	var dirs stringList
	fs.Var(&dirs, "c", "contract file or directory (repeatable); required")
	fs.Var(&dirs, "contracts", "same as -c")
	schemaFile := fs.String("schema", "", "the schema file: .avsc (Avro), .proto (Protobuf) or .json (JSON Schema)")
	schemaType := fs.String("schema-type", "", "avro, protobuf or json (default: from the --schema file's extension)")
	registry := fs.String("registry", "", "Schema Registry URL, to read --subject from")
	subject := fs.String("subject", "", "the subject to check (with --registry)")
	version := fs.Int("version", -1, "the subject's version (default: the latest)")
	message := fs.String("message", "", "Protobuf: the message the events are (default: the file's first)")
	topic := fs.String("topic", "", "the topic whose contracts are checked (default: the subject's topic, TOPIC-value)")
	output := fs.String("output", "text", "text or json")
	config := fs.String("config", "", "the service config file, for the registry's credentials (schema_registry)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, `Usage: assay compat --schema FILE --topic T -c DIR [flags]
       assay compat --registry URL --subject S [--version V] -c DIR [--topic T] [flags]

Checks a producer's Avro, Protobuf or JSON Schema against every contract
that reads the topic: which declared fields and rules its events would
break (a field or path the schema does not have, a type it changes, a
required field it makes optional or nullable, an enum symbol a rule fails).
Exit 0 when nothing breaks, 1 when something does, 2 on bad input.`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	if extraArgs("compat", fs, stderr) {
		return exitBadInput
	}
	bad := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "assay compat: "+format+"\n", a...)
		return exitBadInput
	}
	if len(dirs) == 0 {
		return bad("give the consumers' contracts with -c DIR|FILE")
	}
	if (*schemaFile == "") == (*registry == "") {
		return bad("give either --schema FILE or --registry URL --subject S")
	}
	if *registry != "" && *subject == "" {
		return bad("--registry needs --subject")
	}
	if *output != "text" && *output != "json" {
		return bad("--output %q: want text or json", *output)
	}
	if *topic == "" && *subject != "" {
		*topic = compat.TopicOf(*subject)
	}
	if *topic == "" {
		return bad("give --topic (a subject named TOPIC-value gives it)")
	}
	contracts, err := rules.Load(dirs...)
	if err != nil {
		var errs rules.Errors
		if errors.As(err, &errs) {
			for _, e := range errs {
				fmt.Fprintln(stderr, e.Error())
			}
			return bad("%d %s in the contracts", len(errs), plural(len(errs), "problem", "problems"))
		}
		return bad("%v", err)
	}

	var schema *compat.Schema
	if *schemaFile != "" {
		typ, err := schemaTypeOf(*schemaType, *schemaFile)
		if err != nil {
			return bad("%v", err)
		}
		if schema, err = compat.ParseFile(typ, *schemaFile, *message); err != nil {
			return bad("%s: %v", *schemaFile, err)
		}
	} else {
		svc, err := loadServiceConfig(*config)
		if err != nil {
			return bad("%v", err)
		}
		rc := confluent.Config{URLs: splitList(*registry), Timeout: 10 * time.Second}
		if r := svc.SchemaRegistry; r != nil {
			rc.Username, rc.Password, rc.BearerToken = r.Username, r.password.Reveal(), r.token.Reveal()
		}
		cl, err := confluent.NewClient(rc)
		if err != nil {
			return bad("%v", err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if schema, err = compat.Fetch(ctx, cl, *subject, *version, *message); err != nil {
			return bad("%v", err)
		}
	}
	rep := compat.Check(schema, contracts, *topic)
	if len(rep.Contracts) == 0 {
		return bad("no contract reads topic %q", *topic)
	}
	if *output == "json" {
		err = compat.WriteJSON(stdout, rep)
	} else {
		err = compat.WriteText(stdout, rep)
	}
	if err != nil {
		fmt.Fprintln(stderr, "assay compat:", err)
		return exitFatal
	}
	if rep.Breaks() {
		return exitViolations
	}
	return exitOK
}

func schemaTypeOf(flagValue, file string) (string, error) {
	v := strings.ToLower(flagValue)
	if v == "" {
		switch strings.ToLower(filepath.Ext(file)) {
		case ".avsc", ".avro":
			v = "avro"
		case ".proto":
			v = "protobuf"
		case ".json":
			v = "json"
		default:
			return "", fmt.Errorf("%s: give --schema-type avro|protobuf|json", file)
		}
	}
	switch v {
	case "avro":
		return compat.Avro, nil
	case "protobuf", "proto":
		return compat.Protobuf, nil
	case "json":
		return compat.JSON, nil
	}
	return "", fmt.Errorf("--schema-type %q: want avro, protobuf or json", flagValue)
}
