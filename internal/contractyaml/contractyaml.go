// Package contractyaml writes contract files: the one writer behind
// `assay infer` and `assay import`, so that every generated contract has
// the same layout.
//
// The text is built by hand rather than through a YAML encoder so that
// comments sit where a reader expects them (above the key or rule they
// speak of). Every string goes through Scalar, which writes it plain when
// that reads back as the same string and quotes it otherwise, so that the
// file always decodes to exactly the values given.
//
// Layout, in this order: the head comment, contract, version, owner,
// description, topics (a block list), format, pii (a block list), fields
// (one flow mapping per path: type, required, nullable), rules
// (name, then expr, unique or fresh, when, within, severity, description),
// then the tail comment after a blank line. A comment given for a key is
// written on the lines above it.
package contractyaml

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// durationRE: durations (24h, 1h30m, 7d) are plain strings in YAML.
var durationRE = regexp.MustCompile(`^([0-9]+(ns|us|ms|s|m|h|d|w))+$`)

// Contract is one contract document.
type Contract struct {
	Head []string // comment lines above the document

	Name        string
	Version     string // optional
	Owner       string
	OwnerNote   string // a comment above owner
	Description string // optional
	Topics      []string
	TopicsNote  string // a comment above topics
	Format      string // optional
	FormatNote  string // a comment above format
	PII         []string
	PIINote     []string // comment lines above pii (written even without pii paths)
	Fields      []Field
	FieldsNote  []string // comment lines above fields (written only with fields)
	Rules       []Rule

	Tail []string // comment lines at the end, after a blank line
}

// Field is one declared field: a dotted path and its type (string, int,
// float, bool, time, object, array or any), required and nullable.
type Field struct {
	Path     string
	Type     string
	Required bool
	Nullable bool
}

// Rule is one rule of a contract.
type Rule struct {
	Comment     []string // comment lines above the rule
	Name        string
	Kind        string // "expr", "unique" or "fresh"
	Expr        string // the expression, the unique key or the fresh time
	When        string
	Within      string
	Severity    string // "" is the default (warning) and is not written
	Description string
}

var nameBadRE = regexp.MustCompile(`[^a-z0-9._-]+`)

// ContractName turns any text into a contract name ([a-z0-9._-]+):
// lower case, each run of other characters one "-", no leading or
// trailing "-" or "."; fallback when nothing is left.
func ContractName(s, fallback string) string {
	s = strings.Trim(nameBadRE.ReplaceAllString(strings.ToLower(s), "-"), "-.")
	if s == "" {
		return fallback
	}
	return s
}

// Write renders one contract document.
func Write(c *Contract) []byte {
	var b strings.Builder
	write(&b, c)
	return []byte(b.String())
}

// WriteAll renders several contracts as one file of YAML documents
// separated by "---".
func WriteAll(cs []*Contract) []byte {
	var b strings.Builder
	for i, c := range cs {
		if i > 0 {
			b.WriteString("---\n")
		}
		write(&b, c)
	}
	return []byte(b.String())
}

func write(b *strings.Builder, c *Contract) {
	line := func(format string, args ...any) { fmt.Fprintf(b, format+"\n", args...) }
	comment := func(indent string, lines ...string) {
		for _, s := range lines {
			for _, l := range strings.Split(s, "\n") {
				line("%s# %s", indent, CommentSafe(l))
			}
		}
	}
	note := func(s string) {
		if s != "" {
			comment("", s)
		}
	}
	comment("", c.Head...)
	line("contract: %s", Scalar(c.Name))
	if c.Version != "" {
		line("version: %s", Scalar(c.Version))
	}
	note(c.OwnerNote)
	line("owner: %s", Scalar(c.Owner))
	if c.Description != "" {
		line("description: %s", Scalar(c.Description))
	}
	note(c.TopicsNote)
	line("topics:")
	for _, t := range c.Topics {
		line("  - %s", scalarIn(t, "    "))
	}
	if c.Format != "" {
		note(c.FormatNote)
		line("format: %s", Scalar(c.Format))
	}
	comment("", c.PIINote...)
	if len(c.PII) > 0 {
		line("pii:")
		for _, p := range c.PII {
			line("  - %s", scalarIn(p, "    "))
		}
	}
	if len(c.Fields) > 0 {
		comment("", c.FieldsNote...)
		line("fields:")
		for _, f := range c.Fields {
			flags := ""
			if f.Required {
				flags += ", required: true"
			}
			if f.Nullable {
				flags += ", nullable: true"
			}
			line("  %s: {type: %s%s}", Scalar(f.Path), Scalar(f.Type), flags)
		}
	}
	line("rules:")
	for _, r := range c.Rules {
		comment("  ", r.Comment...)
		line("  - name: %s", scalarIn(r.Name, ruleIndent))
		line("    %s: %s", r.Kind, scalarIn(r.Expr, ruleIndent))
		if r.When != "" {
			line("    when: %s", scalarIn(r.When, ruleIndent))
		}
		if r.Within != "" {
			line("    within: %s", scalarIn(r.Within, ruleIndent))
		}
		if r.Severity != "" && r.Severity != "warning" {
			line("    severity: %s", Scalar(r.Severity))
		}
		if r.Description != "" {
			line("    description: %s", scalarIn(r.Description, ruleIndent))
		}
	}
	if len(c.Tail) > 0 {
		line("")
		comment("", c.Tail...)
	}
}

// ruleIndent is the indentation of the lines of a block scalar under a
// rule's keys.
const ruleIndent = "      "

// CommentSafe keeps a comment on one line: control characters become
// spaces.
func CommentSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// Scalar writes a string as a YAML scalar that reads back as the same
// string: plain when it can be, a literal block (|-) for text of several
// lines, single-quoted when only quoting is needed, double-quoted with
// escapes when the string holds control characters. The lines of a
// block are indented by two spaces, for a top-level key.
func Scalar(s string) string { return scalarIn(s, "  ") }

// scalarIn is Scalar for a key whose block lines are indented by indent.
func scalarIn(s, indent string) string {
	switch {
	case PlainOK(s):
		return s
	case blockOK(s):
		lines := strings.Split(s, "\n")
		for i, l := range lines {
			if l != "" {
				lines[i] = indent + l
			}
		}
		return "|-\n" + strings.Join(lines, "\n")
	case !hasControl(s, false):
		return "'" + strings.ReplaceAll(s, "'", "''") + "'"
	}
	return doubleQuoted(s)
}

// PlainOK reports whether s can be written as a plain YAML scalar and
// read back as the same string.
func PlainOK(s string) bool {
	if s == "" || s != strings.TrimSpace(s) || hasControl(s, false) {
		return false
	}
	if strings.ContainsAny(s[:1], "-?:,[]{}#&*!|>'\"%@`+.~") {
		return false
	}
	if s[0] >= '0' && s[0] <= '9' && !durationRE.MatchString(s) {
		return false // a number, a date, a time or 1:20 (sexagesimal in YAML 1.1)
	}
	if strings.Contains(s, ": ") || strings.Contains(s, " #") || strings.HasSuffix(s, ":") ||
		strings.ContainsRune(s, '\t') || strings.ContainsRune(s, 0xfeff) {
		return false
	}
	switch strings.ToLower(s) {
	case "true", "false", "yes", "no", "on", "off", "y", "n", "null", "nan", ".inf":
		return false
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return false
	}
	return true
}

// blockOK: several lines, none with characters a block cannot hold, the
// first not indented (a block would need an indentation indicator) and
// no trailing newline or blank last line (|- would strip it).
func blockOK(s string) bool {
	if !strings.Contains(s, "\n") || hasControl(s, true) || strings.HasSuffix(s, "\n") {
		return false
	}
	if s[0] == ' ' || s[0] == '\t' || s[0] == '\n' || strings.ContainsRune(s, 0xfeff) {
		return false
	}
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimRight(l, " \t") != l { // trailing blanks: legal, but unreadable
			return false
		}
	}
	return true
}

// hasControl: a character that only a double-quoted scalar can carry
// (newlines and tabs allowed in a block when block is true). Unicode line
// and paragraph separators and NEL count: YAML breaks lines on them.
func hasControl(s string, block bool) bool {
	for _, r := range s {
		switch {
		case block && (r == '\n' || r == '\t'):
		case r < 0x20 || r == 0x7f || r == 0x85 || r == 0x2028 || r == 0x2029 || r == 0xfffd:
			return true
		case r >= 0x80 && r < 0xa0:
			return true
		}
	}
	return false
}

// doubleQuoted writes a YAML double-quoted scalar; every escape used
// (\n, \t, \\, \", \xXX, \uXXXX, \UXXXXXXXX) means the same in YAML as in
// Go. Invalid UTF-8 becomes U+FFFD.
func doubleQuoted(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range strings.ToValidUTF8(s, "\ufffd") {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			fmt.Fprintf(&b, `\x%02x`, r)
		case r == 0x2028 || r == 0x2029 || r == 0xfeff:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
