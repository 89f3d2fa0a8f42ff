// Package importer turns data contracts written for other tools into assay
// contracts: the engine of `assay import`.
//
// Two formats are read:
//
//   - the Open Data Contract Standard (ODCS v3, bitol-io; the v2 `dataset:`
//     layout and the Data Contract Specification's `models:` are read too),
//     with ODCS; and
//   - the rule set of a Confluent Schema Registry schema (data contract
//     rules), with ConfluentRuleSet.
//
// Only what means the same thing per event is translated: required and
// unique fields, logical type options, simple library quality checks, CEL
// conditions and simple boolean SQL conditions. Everything else (SQL
// queries, row counts, checks of other engines, transforms, migration
// rules) is listed in Result.Untranslated with the reason, and also as
// comments at the end of the generated YAML. Every expression written is
// compiled with rules.Compile, and the YAML parses with rules.Parse; each
// rule carries a comment that says where in the source it came from.
//
// The importer never reads files or the network: the caller passes the
// document's bytes.
package importer

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/assay-dev/assay/rules"
)

// Untranslated is one part of the source that has no assay rule: What
// names it (e.g. `orders: quality[2] (type sql)`), Why says why.
type Untranslated struct {
	What, Why string
}

func (u Untranslated) String() string { return u.What + ": " + u.Why }

// Result of an import.
type Result struct {
	// YAML is the contract file: one document per contract, with comments.
	YAML []byte
	// Untranslated lists what was left out, in source order.
	Untranslated []Untranslated
}

// Options override what the importer would take from the source.
type Options struct {
	Contract string   // the contract name (sanitized to [a-z0-9._-]+); with several contracts, their prefix
	Owner    string   // the owner (producing team)
	Topics   []string // the topics
}

const (
	todoOwner = "TODO-owner"
	todoTopic = "TODO-topic"
)

// checkRule compiles a translated expression the way a contract file
// would; an error means the rule must not be written.
func checkRule(r rule) error {
	src := r.expr
	if r.kind == "unique" {
		src = "(" + r.expr + ") != nil" // a key is any value: compile it as one
	}
	if _, err := rules.Compile(src); err != nil {
		return fmt.Errorf("%q does not compile: %s", r.expr, firstLine(err.Error()))
	}
	if r.when != "" {
		if _, err := rules.Compile(r.when); err != nil {
			return fmt.Errorf("when %q does not compile: %s", r.when, firstLine(err.Error()))
		}
	}
	return nil
}

// addChecked adds the rule if it compiles, and reports it otherwise.
func (c *contract) addChecked(r rule, what string) bool {
	if err := checkRule(r); err != nil {
		c.untranslated = append(c.untranslated, Untranslated{What: what, Why: err.Error()})
		return false
	}
	for i, old := range c.rules {
		if old.kind == r.kind && old.expr == r.expr && old.when == r.when {
			// The same check twice (required and a null check): keep one,
			// at the higher severity.
			if sevLevel(r.severity) > sevLevel(old.severity) {
				c.rules[i].severity = r.severity
			}
			c.rules[i].source += "; " + r.source
			return true
		}
	}
	c.add(r)
	return true
}

func sevLevel(s string) int {
	switch s {
	case "critical":
		return 3
	case "info":
		return 1
	}
	return 2
}

func (c *contract) skip(what, why string) {
	c.untranslated = append(c.untranslated, Untranslated{What: what, Why: why})
}

// Generic access to decoded YAML/JSON documents.

func getMap(m map[string]any, key string) map[string]any {
	v, _ := m[key].(map[string]any)
	return v
}

func getList(m map[string]any, key string) []any {
	v, _ := m[key].([]any)
	return v
}

// getStr returns a scalar as text ("" when absent or not a scalar).
func getStr(m map[string]any, key string) string {
	switch v := m[key].(type) {
	case string:
		return v
	case int, int64, float64, bool:
		return fmt.Sprint(v)
	}
	return ""
}

func getBool(m map[string]any, key string) bool {
	switch v := m[key].(type) {
	case bool:
		return v
	case string:
		b, _ := strconv.ParseBool(v)
		return b
	}
	return false
}

// getNum returns a number (YAML int or float, or a numeric string).
func getNum(m map[string]any, key string) (string, bool) {
	switch v := m[key].(type) {
	case int:
		return strconv.Itoa(v), true
	case int64:
		return strconv.FormatInt(v, 10), true
	case uint64:
		return strconv.FormatUint(v, 10), true
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64), true
	case string:
		if _, err := strconv.ParseFloat(v, 64); err == nil && !strings.ContainsAny(v, "xXnN") {
			return v, true
		}
	}
	return "", false
}

// literal renders a scalar of a source document as an expr literal.
func literal(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return quote(v), true
	case bool:
		return strconv.FormatBool(v), true
	case int:
		return strconv.Itoa(v), true
	case int64:
		return strconv.FormatInt(v, 10), true
	case float64:
		s := strconv.FormatFloat(v, 'g', -1, 64)
		if strings.ContainsAny(s, "IN") { // Inf, NaN
			return "", false
		}
		return s, true
	}
	return "", false
}

// listLiteral renders a list of scalars as an expr list; nil elements are
// left out (missing fields are checked by required rules).
func listLiteral(vs []any) (string, bool) {
	var parts []string
	for _, v := range vs {
		if v == nil {
			continue
		}
		s, ok := literal(v)
		if !ok {
			return "", false
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		return "", false
	}
	return "[" + strings.Join(parts, ", ") + "]", true
}

// severityOf maps a source's severity words onto assay's.
func severityOf(s, def string) string {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "error", "critical", "high", "blocker", "fatal", "major":
		return "critical"
	case "warning", "warn", "medium":
		return "warning"
	case "info", "informational", "low", "minor":
		return "info"
	}
	return def
}
