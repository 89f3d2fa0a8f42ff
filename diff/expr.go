package diff

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
)

// pred is a boolean expression read as a conjunction of constraints: a
// numeric interval per path (x > 0 && x <= 10), a set of allowed literal
// values per path (x in ["a", "b"], x == "a" || x == "b") and opaque
// conjuncts compared by their normalized text.
type pred struct {
	ranges map[string]interval
	sets   map[string]valueSet
	opaque map[string]bool
}

// interval is a numeric range; Inf bounds are open.
type interval struct {
	lo, hi         float64
	loIncl, hiIncl bool
}

var everything = interval{lo: math.Inf(-1), hi: math.Inf(1)}

// valueSet maps a literal's text to its number (NaN for non-numbers).
type valueSet map[string]float64

func parsePred(src string) *pred {
	p := &pred{ranges: map[string]interval{}, sets: map[string]valueSet{}, opaque: map[string]bool{}}
	tree, err := parser.Parse(src)
	if err != nil { // the rules package compiled it; be safe anyway
		p.opaque[strings.TrimSpace(src)] = true
		return p
	}
	var conj []ast.Node
	flatten(tree.Node, &conj)
	for _, c := range conj {
		p.add(c)
	}
	return p
}

func flatten(n ast.Node, out *[]ast.Node) {
	if b, ok := n.(*ast.BinaryNode); ok && (b.Operator == "&&" || b.Operator == "and") {
		flatten(b.Left, out)
		flatten(b.Right, out)
		return
	}
	*out = append(*out, n)
}

func (p *pred) add(n ast.Node) {
	if path, iv, ok := asInterval(n); ok {
		if cur, had := p.ranges[path]; had {
			iv = cur.intersect(iv)
		}
		p.ranges[path] = iv
		return
	}
	if path, vs, ok := asSet(n); ok {
		if cur, had := p.sets[path]; had {
			for k := range cur {
				if _, in := vs[k]; !in {
					delete(cur, k)
				}
			}
			return
		}
		p.sets[path] = vs
		return
	}
	if b, ok := n.(*ast.BoolNode); ok && b.Value {
		return // true: no constraint
	}
	p.opaque[n.String()] = true
}

// pathOf is the dotted path of an identifier or a chain of members.
func pathOf(n ast.Node) (string, bool) {
	switch n := n.(type) {
	case *ast.IdentifierNode:
		return n.Value, true
	case *ast.MemberNode:
		if n.Method {
			return "", false
		}
		s, ok := n.Property.(*ast.StringNode)
		if !ok {
			return "", false
		}
		base, ok := pathOf(n.Node)
		if !ok {
			return "", false
		}
		return base + "." + s.Value, true
	}
	return "", false
}

func number(n ast.Node) (float64, bool) {
	switch n := n.(type) {
	case *ast.IntegerNode:
		return float64(n.Value), true
	case *ast.FloatNode:
		return n.Value, true
	case *ast.UnaryNode:
		if n.Operator == "-" {
			if v, ok := number(n.Node); ok {
				return -v, true
			}
		}
		if n.Operator == "+" {
			return number(n.Node)
		}
	}
	return 0, false
}

var flipOp = map[string]string{"<": ">", ">": "<", "<=": ">=", ">=": "<="}

func asInterval(n ast.Node) (string, interval, bool) {
	b, ok := n.(*ast.BinaryNode)
	if !ok {
		return "", interval{}, false
	}
	op := b.Operator
	if _, cmp := flipOp[op]; !cmp {
		return "", interval{}, false
	}
	path, ok := pathOf(b.Left)
	v, vok := number(b.Right)
	if !ok || !vok {
		path, ok = pathOf(b.Right)
		v, vok = number(b.Left)
		if !ok || !vok {
			return "", interval{}, false
		}
		op = flipOp[op]
	}
	iv := everything
	switch op {
	case ">":
		iv.lo = v
	case ">=":
		iv.lo, iv.loIncl = v, true
	case "<":
		iv.hi = v
	case "<=":
		iv.hi, iv.hiIncl = v, true
	}
	return path, iv, true
}

// literal is the canonical text of a literal and its number (NaN if none).
func literal(n ast.Node) (string, float64, bool) {
	if i, ok := bigInteger(n); ok {
		return strconv.Itoa(i), float64(i), true
	}
	if v, ok := number(n); ok {
		return fmtFloat(v), v, true
	}
	switch n := n.(type) {
	case *ast.StringNode:
		return strconv.Quote(n.Value), math.NaN(), true
	case *ast.BoolNode:
		return strconv.FormatBool(n.Value), math.NaN(), true
	}
	return "", 0, false
}

// bigInteger is a whole number literal beyond 2^53: events compare it
// exactly, and as a float64 two of them would be one value.
func bigInteger(n ast.Node) (int, bool) {
	sign := 1
	if u, ok := n.(*ast.UnaryNode); ok && (u.Operator == "-" || u.Operator == "+") {
		if u.Operator == "-" {
			sign = -1
		}
		n = u.Node
	}
	i, ok := n.(*ast.IntegerNode)
	if !ok || (i.Value <= 1<<53 && i.Value >= -(1<<53)) {
		return 0, false
	}
	return sign * i.Value, true
}

func asSet(n ast.Node) (string, valueSet, bool) {
	b, ok := n.(*ast.BinaryNode)
	if !ok {
		return "", nil, false
	}
	switch b.Operator {
	case "in":
		path, ok := pathOf(b.Left)
		arr, aok := b.Right.(*ast.ArrayNode)
		if !ok || !aok {
			return "", nil, false
		}
		vs := valueSet{}
		for _, e := range arr.Nodes {
			k, v, ok := literal(e)
			if !ok {
				return "", nil, false
			}
			vs[k] = v
		}
		return path, vs, true
	case "==":
		path, ok := pathOf(b.Left)
		k, v, lok := literal(b.Right)
		if !ok || !lok {
			path, ok = pathOf(b.Right)
			k, v, lok = literal(b.Left)
			if !ok || !lok {
				return "", nil, false
			}
		}
		return path, valueSet{k: v}, true
	case "||", "or":
		lp, lv, lok := asSet(b.Left)
		rp, rv, rok := asSet(b.Right)
		if !lok || !rok || lp != rp {
			return "", nil, false
		}
		for k, v := range rv {
			lv[k] = v
		}
		return lp, lv, true
	}
	return "", nil, false
}

func (a interval) intersect(b interval) interval {
	out := a
	if b.lo > out.lo || (b.lo == out.lo && !b.loIncl) {
		out.lo, out.loIncl = b.lo, b.loIncl
	}
	if b.hi < out.hi || (b.hi == out.hi && !b.hiIncl) {
		out.hi, out.hiIncl = b.hi, b.hiIncl
	}
	return out
}

// within reports whether a ⊆ b.
func (a interval) within(b interval) bool {
	loOK := a.lo > b.lo || (a.lo == b.lo && (b.loIncl || !a.loIncl))
	hiOK := a.hi < b.hi || (a.hi == b.hi && (b.hiIncl || !a.hiIncl))
	return loOK && hiOK
}

func (a interval) contains(v float64) bool {
	if math.IsNaN(v) {
		return false
	}
	return (v > a.lo || (v == a.lo && a.loIncl)) && (v < a.hi || (v == a.hi && a.hiIncl))
}

func fmtNum(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+inf"
	case math.IsInf(v, -1):
		return "-inf"
	}
	return fmtFloat(v)
}

func (a interval) String() string {
	l, r := "(", ")"
	if a.loIncl {
		l = "["
	}
	if a.hiIncl {
		r = "]"
	}
	return l + fmtNum(a.lo) + ", " + fmtNum(a.hi) + r
}

// implies reports whether every event p accepts, q accepts too (as far as
// the shapes tell: false when it cannot tell).
func (p *pred) implies(q *pred) bool {
	for path, qi := range q.ranges {
		if pi, ok := p.ranges[path]; ok && pi.within(qi) {
			continue
		}
		if ps, ok := p.sets[path]; ok && allIn(ps, qi) {
			continue
		}
		return false
	}
	for path, qs := range q.sets {
		ps, ok := p.sets[path]
		if !ok {
			return false
		}
		for k := range ps {
			if _, in := qs[k]; !in {
				return false
			}
		}
	}
	for o := range q.opaque {
		if !p.opaque[o] {
			return false
		}
	}
	return true
}

func allIn(s valueSet, iv interval) bool {
	for _, v := range s {
		if !iv.contains(v) {
			return false
		}
	}
	return true
}

// exprDelta compares an old and a new predicate. newImpliesOld means the
// new one accepts fewer events (narrower), oldImpliesNew more (wider).
type exprDelta struct {
	narrower, wider bool
	kind            string   // bound, enum, conjunct or expression
	details         []string // what changed, per path
}

func compareExpr(oldSrc, newSrc string) (exprDelta, bool) {
	if normalize(oldSrc) == normalize(newSrc) {
		return exprDelta{}, false
	}
	o, n := parsePred(oldSrc), parsePred(newSrc)
	d := exprDelta{narrower: n.implies(o), wider: o.implies(n)}
	kinds := map[string]bool{}
	for _, path := range unionKeys(o.ranges, n.ranges) {
		oi, oh := o.ranges[path]
		ni, nh := n.ranges[path]
		switch {
		case oh && nh && oi != ni:
			kinds["bound"] = true
			d.details = append(d.details, fmt.Sprintf("%s in %s, was %s", path, ni, oi))
		case oh && !nh:
			kinds["conjunct"] = true
			d.details = append(d.details, fmt.Sprintf("bound on %s %s removed", path, oi))
		case !oh && nh:
			kinds["conjunct"] = true
			d.details = append(d.details, fmt.Sprintf("bound on %s %s added", path, ni))
		}
	}
	for _, path := range unionKeys(o.sets, n.sets) {
		os, oh := o.sets[path]
		ns, nh := n.sets[path]
		switch {
		case oh && nh:
			added, removed := setDiff(ns, os), setDiff(os, ns)
			if len(added)+len(removed) == 0 {
				continue
			}
			kinds["enum"] = true
			var parts []string
			if len(added) > 0 {
				parts = append(parts, "allows "+strings.Join(added, ", "))
			}
			if len(removed) > 0 {
				parts = append(parts, "no longer allows "+strings.Join(removed, ", "))
			}
			d.details = append(d.details, path+" "+strings.Join(parts, " and "))
		case oh:
			kinds["conjunct"] = true
			d.details = append(d.details, fmt.Sprintf("the values allowed for %s removed", path))
		case nh:
			kinds["conjunct"] = true
			d.details = append(d.details, fmt.Sprintf("the values allowed for %s added", path))
		}
	}
	for _, c := range unionKeys(o.opaque, n.opaque) {
		switch {
		case o.opaque[c] && !n.opaque[c]:
			kinds["conjunct"] = true
			d.details = append(d.details, "condition removed: "+c)
		case !o.opaque[c] && n.opaque[c]:
			kinds["conjunct"] = true
			d.details = append(d.details, "condition added: "+c)
		}
	}
	switch {
	case len(kinds) == 1:
		for k := range kinds {
			d.kind = k
		}
	default:
		d.kind = "expression"
	}
	if len(d.details) == 0 {
		d.details = []string{"rewritten"}
	}
	return d, true
}

// normalize is the expression's text as expr prints its syntax tree, so
// that spacing, line breaks and redundant brackets make no change.
func normalize(src string) string {
	tree, err := parser.Parse(src)
	if err != nil {
		return strings.Join(strings.Fields(src), " ")
	}
	return tree.Node.String()
}

func unionKeys[V any](a, b map[string]V) []string {
	var out []string
	for k := range a {
		out = append(out, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func setDiff(a, b valueSet) []string {
	var out []string
	for k := range a {
		if _, ok := b[k]; !ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}
