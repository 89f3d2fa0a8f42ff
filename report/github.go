package report

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// GitHub writes the report as GitHub Actions workflow commands: an
// annotation per example violation and decode error, then the verdict on
// a line of its own. Violations of a rule that fails the run, and decode
// errors, are ::error; those of any other rule are ::warning. An
// annotation names its file and line when the example is in one of Files;
// otherwise (stdin, a backtest) the message starts with where it is.
func (r *Report) GitHub(w io.Writer) error {
	var b strings.Builder
	for _, c := range r.Contracts {
		for _, rule := range c.Rules {
			level := "warning"
			if r.breaks(rule) {
				level = "error"
			}
			title := fmt.Sprintf("%s/%s (%s", c.Contract, rule.Rule, rule.Severity)
			if rule.Shadow {
				title += ", shadow"
			}
			if t := r.toleranceNote(rule); t != "" {
				title += ", " + t
			}
			title += ")"
			for _, ex := range rule.Examples {
				r.annotate(&b, level, title, ex)
			}
		}
	}
	for _, ex := range r.DecodeExamples {
		r.annotate(&b, "error", "decode error", ex)
	}
	b.WriteString("assay test: " + r.Verdict() + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// annotate writes one ::error or ::warning command.
func (r *Report) annotate(b *strings.Builder, level, title string, ex Example) {
	file := ex.File
	if file == "" && len(r.Files) == 1 {
		file = r.Files[0]
	}
	msg := ex.Reason
	b.WriteString("::" + level + " ")
	switch {
	case ex.Line == 0 && ex.File == "":
		// Of no one event (a bucket of an anomaly rule): no place.
	case file != "" && slices.Contains(r.Files, file):
		fmt.Fprintf(b, "file=%s,line=%d,", escapeProperty(file), ex.Line)
	default:
		msg = where(ex) + ": " + msg
	}
	b.WriteString("title=" + escapeProperty("assay: "+title) + "::" + escapeData(msg) + "\n")
}

// escapeData escapes a workflow command's message as actions/toolkit's
// command.ts does: %, CR and LF.
func escapeData(s string) string { return dataEscaper.Replace(s) }

// escapeProperty escapes a workflow command's property value: as data,
// and : and , too.
func escapeProperty(s string) string { return propertyEscaper.Replace(s) }

var (
	dataEscaper     = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")
	propertyEscaper = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")
)
