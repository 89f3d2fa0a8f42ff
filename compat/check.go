// Package compat checks a producer's schema (Avro, Protobuf or JSON
// Schema) against the contracts of the consumers that read its topic,
// before the producer ships it: for each contract, which rules and
// declared fields the events of the schema would break.
//
// What it detects, per contract:
//
//   - a declared field the schema does not have (breaks), or may leave
//     out or null where the contract requires it or refuses null (breaks);
//   - a declared type the schema's type is not (string declared, int in
//     the schema: breaks; int declared, float in the schema: breaks; float
//     declared, int in the schema: ok);
//   - a path a rule reads that the schema does not have (breaks), or may
//     leave out or null while the rule does not test it against nil
//     (unknown: the rule gives error on such events unless it is guarded);
//   - a rule comparing a path with numbers (amount > 0) where the schema's
//     type is not a number, or with strings where it is not a string
//     (breaks);
//   - a rule allowing a list of values (status in ["a", "b"], status ==
//     "a") for a schema enum: a symbol of the enum outside the list means
//     the producer may now send values the rule fails (breaks); a list
//     with values the enum does not have is fine (ok).
//
// Paths below a map, a free JSON object or a value of no one type are
// unknown, as is everything of a rule that reads the whole event.
package compat

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/expr-lang/expr/ast"

	"github.com/assay-dev/assay/rules"
)

// Verdict of one rule or declared field against a schema.
type Verdict string

// The verdicts, from the best to the worst.
const (
	OK      Verdict = "ok"
	Unknown Verdict = "unknown"
	Breaks  Verdict = "breaks"
)

func (v Verdict) rank() int {
	switch v {
	case Breaks:
		return 2
	case Unknown:
		return 1
	}
	return 0
}

// Item is one rule or declared field of a contract with its verdict.
type Item struct {
	Kind    string   `json:"kind"` // "field" or "rule"
	Name    string   `json:"name"` // the field's path or the rule's name
	Verdict Verdict  `json:"verdict"`
	Reasons []string `json:"reasons,omitempty"`
	// Shadow: a rule of mode shadow, whose verdict is shown but counts
	// toward neither its contract's verdict nor the exit code.
	Shadow bool `json:"shadow,omitempty"`
}

// Result is the verdict of one contract.
type Result struct {
	Contract string  `json:"contract"`
	Verdict  Verdict `json:"verdict"` // the worst of its items
	Items    []Item  `json:"items"`
}

// Report is the check of one schema against the contracts of a topic.
type Report struct {
	Topic     string   `json:"topic"`
	Type      string   `json:"schema_type"`
	Subject   string   `json:"subject,omitempty"`
	Version   int      `json:"version,omitempty"`
	Message   string   `json:"message,omitempty"`
	Verdict   Verdict  `json:"verdict"`
	Contracts []Result `json:"contracts"`
}

// Breaks reports whether anything breaks.
func (r *Report) Breaks() bool { return r.Verdict == Breaks }

// Check checks the schema against every contract that reads the topic. A
// report with no contracts means none reads it.
func Check(s *Schema, contracts []*rules.Contract, topic string) *Report {
	rep := &Report{Topic: topic, Type: s.Type, Subject: s.Subject, Version: s.Version, Message: s.Message, Verdict: OK, Contracts: []Result{}}
	for _, c := range contracts {
		if !c.MatchesTopic(topic) {
			continue
		}
		res := CheckContract(s, c)
		rep.Contracts = append(rep.Contracts, res)
		if res.Verdict.rank() > rep.Verdict.rank() {
			rep.Verdict = res.Verdict
		}
	}
	return rep
}

// CheckContract checks the schema against one contract.
func CheckContract(s *Schema, c *rules.Contract) Result {
	res := Result{Contract: c.Name, Verdict: OK, Items: []Item{}}
	for _, f := range c.Fields {
		res.add(checkField(s, f))
	}
	if c.Where != nil {
		res.add(checkExprs(s, Item{Kind: "where", Name: "where", Verdict: OK}, []*rules.Program{c.Where}, nil))
	}
	if c.EventTime != nil {
		res.add(checkExprs(s, Item{Kind: "event_time", Name: "event_time", Verdict: OK}, []*rules.Program{c.EventTime}, nil))
	}
	for _, r := range c.Rules {
		var cond *rules.Program
		if r.Kind == rules.KindExpr {
			cond = r.Expr
		}
		res.add(checkExprs(s, Item{Kind: "rule", Name: r.Name, Verdict: OK, Shadow: r.Shadow}, r.Programs(), cond))
	}
	return res
}

func (r *Result) add(it Item) {
	if !it.Shadow && it.Verdict.rank() > r.Verdict.rank() {
		r.Verdict = it.Verdict
	}
	r.Items = append(r.Items, it)
}

func (it *Item) note(v Verdict, format string, args ...any) {
	if v.rank() > it.Verdict.rank() {
		it.Verdict = v
	}
	it.Reasons = append(it.Reasons, fmt.Sprintf(format, args...))
}

func isMeta(path string) bool {
	return path == rules.MetaVar || strings.HasPrefix(path, rules.MetaVar+".")
}

// typeAccepts says whether a declared type accepts the values of a schema
// type: yes, no, or cannot tell.
func typeAccepts(declared, schema rules.FieldType) Verdict {
	switch {
	case declared == schema || declared == rules.TypeAny:
		return OK
	case declared == rules.TypeFloat && schema == rules.TypeInt:
		return OK
	case schema == rules.TypeAny:
		return Unknown
	case declared == rules.TypeTime && (schema == rules.TypeString || schema == rules.TypeInt || schema == rules.TypeFloat):
		return Unknown // an RFC 3339 string or epoch number may be a time
	}
	return Breaks
}

// unlistedWhy says why a path a schema does not list may be there.
func unlistedWhy(s *Schema) string {
	if s.Truncated {
		return fmt.Sprintf("assay read only the first %d of its fields", maxFields)
	}
	return "it allows other fields"
}

func checkField(s *Schema, f *rules.Field) Item {
	it := Item{Kind: "field", Name: f.Path, Verdict: OK}
	if isMeta(f.Path) {
		return it
	}
	sf, below := s.Lookup(f.Path)
	switch {
	case sf == nil && s.Unlisted(f.Path):
		it.note(Unknown, "the schema does not list %s, but %s", f.Path, unlistedWhy(s))
		return it
	case sf == nil:
		if f.Required {
			it.note(Breaks, "the schema has no %s: every event lacks a required field", f.Path)
		} else {
			it.note(Breaks, "the schema has no %s: consumers never get it", f.Path)
		}
		return it
	case below:
		it.note(Unknown, "%s is below %s, whose content the schema does not say%s", f.Path, sf.Path, refText(sf))
		return it
	case sf.Ref != "" && sf.Type == rules.TypeAny:
		it.note(Unknown, "the schema gives %s by $ref %q, which assay does not follow", f.Path, sf.Ref)
		return it
	}
	switch typeAccepts(f.Type, sf.Type) {
	case Breaks:
		it.note(Breaks, "declared %s, the schema has %s", f.Type, describe(sf))
	case Unknown:
		it.note(Unknown, "declared %s, the schema has %s", f.Type, describe(sf))
	}
	if f.Required && sf.Optional {
		it.note(Breaks, "required, the schema lets events leave %s out", f.Path)
	}
	if !f.Nullable && sf.Nullable {
		it.note(Breaks, "not nullable, the schema lets %s be null", f.Path)
	}
	return it
}

// refText names the $ref a field's content is behind, if any.
func refText(f *Field) string {
	if f.Ref == "" {
		return ""
	}
	return fmt.Sprintf(" ($ref %q, not followed)", f.Ref)
}

func allOf(ts []rules.FieldType, want ...rules.FieldType) bool {
	for _, t := range ts {
		if !slices.Contains(want, t) {
			return false
		}
	}
	return true
}

func unionText(ts []rules.FieldType) string {
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = string(t)
	}
	return strings.Join(parts, " or ")
}

func describe(f *Field) string {
	if len(f.Symbols) > 0 {
		return "an enum (" + strings.Join(f.Symbols, ", ") + ")"
	}
	return string(f.Type)
}

// checkExprs checks the paths that expressions read; cond is the one
// every event must make true (an expr rule's), whose allowed values are
// compared with the schema's enums.
func checkExprs(s *Schema, it Item, progs []*rules.Program, cond *rules.Program) Item {
	guarded := map[string]bool{}
	var paths []string
	for _, p := range progs {
		if p == nil {
			continue
		}
		if p.WholeEvent {
			it.note(Unknown, "reads the whole event (%s)", p.Source)
		}
		for _, path := range nilTested(p.Source) {
			guarded[path] = true
		}
		// The rules' paths leave out what closures read of a list's
		// elements and indexed elements (decoding needs only the list);
		// the schema has them.
		for _, path := range slices.Concat(p.Paths, elementPaths(p.Source)) {
			if !slices.Contains(paths, path) {
				paths = append(paths, path)
			}
		}
	}
	for _, path := range paths {
		if isMeta(path) {
			continue
		}
		sf, below := s.Lookup(path)
		switch {
		case sf == nil && s.Unlisted(path):
			it.note(Unknown, "reads %s, which the schema does not list, but %s", path, unlistedWhy(s))
			continue
		case sf == nil:
			it.note(Breaks, "reads %s, which the schema does not have", path)
			continue
		case below:
			it.note(Unknown, "reads %s, below %s, whose content the schema does not say%s", path, sf.Path, refText(sf))
			continue
		case sf.Ref != "" && sf.Type == rules.TypeAny:
			it.note(Unknown, "reads %s, whose $ref %q assay does not follow", path, sf.Ref)
			continue
		}
		if (sf.Optional || sf.Nullable) && !guarded[path] && sf.Type != rules.TypeObject && sf.Type != rules.TypeArray {
			what := "absent"
			if sf.Nullable {
				what = "null"
			}
			it.note(Unknown, "reads %s, which the schema lets be %s, and does not test it against nil", path, what)
		}
	}
	for _, p := range progs {
		if p == nil {
			continue
		}
		for _, con := range constraints(p.Source) {
			sf, below := s.Lookup(con.path)
			if sf == nil || below {
				continue
			}
			if sf.Type == rules.TypeAny {
				if len(sf.Union) == 0 {
					continue
				}
				if (con.numeric || con.arith != "") && !allOf(sf.Union, rules.TypeInt, rules.TypeFloat) {
					it.note(Unknown, "compares %s with a number, the schema lets it be %s", con.path, unionText(sf.Union))
				}
				if len(con.strings) > 0 && !allOf(sf.Union, rules.TypeString) {
					it.note(Unknown, "compares %s with strings, the schema lets it be %s", con.path, unionText(sf.Union))
				}
				continue
			}
			if con.numeric && sf.Type != rules.TypeInt && sf.Type != rules.TypeFloat {
				it.note(Breaks, "compares %s with a number, the schema has %s", con.path, describe(sf))
			}
			if con.arith != "" && sf.Type != rules.TypeInt && sf.Type != rules.TypeFloat && (sf.Type != rules.TypeTime || con.arith != "-") {
				it.note(Breaks, "computes with %s (%s), the schema has %s", con.path, con.arith, describe(sf))
			}
			if len(con.strings) > 0 && sf.Type != rules.TypeString {
				it.note(Breaks, "compares %s with strings, the schema has %s", con.path, describe(sf))
			}
			if p == cond && len(con.strings) > 0 && len(sf.Symbols) > 0 {
				var outside []string
				for _, sym := range sf.Symbols {
					if !slices.Contains(con.strings, sym) {
						outside = append(outside, strconv.Quote(sym))
					}
				}
				if len(outside) > 0 {
					it.note(Breaks, "the schema's enum %s has %s, which %s fails", con.path, strings.Join(outside, ", "), p.Source)
				}
			}
		}
	}
	return it
}

// constraint is a conjunct of an expression over one path: compared with
// numbers, or allowed a list of strings.
type constraint struct {
	path    string
	numeric bool
	strings []string
	arith   string // the arithmetic operator it is an operand of
}

func pathOf(n ast.Node, sc scope) string {
	p, _ := pathIn(n, sc)
	return p
}

func conjuncts(n ast.Node, out *[]ast.Node) {
	if b, ok := n.(*ast.BinaryNode); ok && (b.Operator == "&&" || b.Operator == "and") {
		conjuncts(b.Left, out)
		conjuncts(b.Right, out)
		return
	}
	*out = append(*out, n)
}

func isNumber(n ast.Node) bool {
	switch n := n.(type) {
	case *ast.IntegerNode, *ast.FloatNode:
		return true
	case *ast.UnaryNode:
		return n.Operator == "-" && isNumber(n.Node)
	}
	return false
}

// constraints lists the conjuncts over one path of an expression and of
// the bodies of its closures (all(items, .qty > 0): items.qty compared
// with a number), and the paths it does arithmetic on anywhere.
func constraints(src string) []constraint {
	root := parse(src)
	if root == nil {
		return nil
	}
	var out []constraint
	add := func(n ast.Node, sc scope) {
		var cs []ast.Node
		conjuncts(n, &cs)
		for _, n := range cs {
			if c, ok := constraintOf(n, sc); ok {
				out = append(out, c)
			}
		}
	}
	add(root, scope{bound: map[string]bool{}})
	walkScopes(root, func(n ast.Node, sc scope) {
		switch n := n.(type) {
		case *ast.PredicateNode:
			if sc.elem != "" {
				add(n.Node, sc)
			}
		case *ast.BinaryNode:
			switch n.Operator {
			case "-", "*", "/", "%", "**", "^":
				for _, side := range []ast.Node{n.Left, n.Right} {
					if p, _ := pathIn(side, sc); p != "" {
						out = append(out, constraint{path: p, arith: n.Operator})
					}
				}
			}
		}
	})
	return out
}

func constraintOf(n ast.Node, sc scope) (constraint, bool) {
	b, ok := n.(*ast.BinaryNode)
	if !ok {
		return constraint{}, false
	}
	switch b.Operator {
	case "<", "<=", ">", ">=":
		if p := pathOf(b.Left, sc); p != "" && isNumber(b.Right) {
			return constraint{path: p, numeric: true}, true
		}
		if p := pathOf(b.Right, sc); p != "" && isNumber(b.Left) {
			return constraint{path: p, numeric: true}, true
		}
	case "in":
		p := pathOf(b.Left, sc)
		arr, ok := b.Right.(*ast.ArrayNode)
		if p == "" || !ok {
			return constraint{}, false
		}
		c := constraint{path: p}
		for _, e := range arr.Nodes {
			s, ok := e.(*ast.StringNode)
			if !ok {
				return constraint{}, false
			}
			c.strings = append(c.strings, s.Value)
		}
		return c, len(c.strings) > 0
	case "==":
		p, s := pathOf(b.Left, sc), b.Right
		if p == "" {
			p, s = pathOf(b.Right, sc), b.Left
		}
		if str, ok := s.(*ast.StringNode); ok && p != "" {
			return constraint{path: p, strings: []string{str.Value}}, true
		}
	case "||", "or":
		l, lok := constraintOf(b.Left, sc)
		r, rok := constraintOf(b.Right, sc)
		if lok && rok && l.path == r.path && len(l.strings) > 0 && len(r.strings) > 0 {
			l.strings = append(l.strings, r.strings...)
			return l, true
		}
	}
	return constraint{}, false
}

// nilTested lists the paths an expression compares with nil (x != nil,
// x == nil, x ?? y), which it guards, in closures too (.qty != nil in
// all(items, ...) guards items.qty).
func nilTested(src string) []string {
	root := parse(src)
	if root == nil {
		return nil
	}
	var out []string
	walkScopes(root, func(n ast.Node, sc scope) {
		b, ok := n.(*ast.BinaryNode)
		if !ok {
			return
		}
		switch b.Operator {
		case "==", "!=":
			if _, isNil := b.Right.(*ast.NilNode); isNil {
				out = append(out, pathOf(b.Left, sc))
			}
			if _, isNil := b.Left.(*ast.NilNode); isNil {
				out = append(out, pathOf(b.Right, sc))
			}
		case "??":
			out = append(out, pathOf(b.Left, sc))
		}
	})
	return out
}

type visitor func(ast.Node)

func (v visitor) Visit(n *ast.Node) { v(*n) }
