package compat

import (
	"strings"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/parser"
)

// parse parses an expression as rules compiles it (rules accepted it
// already, within its limits, so no node limit here); nil when it cannot.
func parse(src string) ast.Node {
	cfg := conf.CreateNew()
	cfg.MaxNodes = 0
	tree, err := parser.ParseWithConfig(src, cfg)
	if err != nil {
		return nil
	}
	return tree.Node
}

// scope is what the names of an expression stand for where a node is:
// elem is the path of the list a closure runs over (items for the .qty of
// all(items, .qty > 0)), "" outside closures or over what is no path;
// bound are the names let binds.
type scope struct {
	elem  string
	bound map[string]bool
}

// walkScopes calls fn for every node of the tree, with the scope it is in:
// the body of a builtin's closure (all, any, none, one, filter, map,
// count, sum, find, findIndex, findLast, findLastIndex, groupBy, sortBy,
// reduce...) over a path P has P for elem, so that its .f is P's elements'
// f: P.f, the path the schema gives the fields of a list's records.
func walkScopes(root ast.Node, fn func(ast.Node, scope)) {
	bound := map[string]bool{}
	ast.Walk(&root, visitor(func(n ast.Node) {
		if v, ok := n.(*ast.VariableDeclaratorNode); ok {
			bound[v.Name] = true
		}
	}))
	walkIn(root, scope{bound: bound}, fn)
}

func walkIn(n ast.Node, sc scope, fn func(ast.Node, scope)) {
	if n == nil {
		return
	}
	fn(n, sc)
	switch n := n.(type) {
	case *ast.UnaryNode:
		walkIn(n.Node, sc, fn)
	case *ast.BinaryNode:
		walkIn(n.Left, sc, fn)
		walkIn(n.Right, sc, fn)
	case *ast.ChainNode:
		walkIn(n.Node, sc, fn)
	case *ast.MemberNode:
		walkIn(n.Node, sc, fn)
		walkIn(n.Property, sc, fn)
	case *ast.SliceNode:
		walkIn(n.Node, sc, fn)
		walkIn(n.From, sc, fn)
		walkIn(n.To, sc, fn)
	case *ast.CallNode:
		walkIn(n.Callee, sc, fn)
		for _, a := range n.Arguments {
			walkIn(a, sc, fn)
		}
	case *ast.BuiltinNode:
		inner := scope{bound: sc.bound}
		if len(n.Arguments) > 0 {
			inner.elem, _ = pathIn(n.Arguments[0], sc)
		}
		for i, a := range n.Arguments {
			if p, ok := a.(*ast.PredicateNode); ok && i > 0 {
				fn(p, inner)
				walkIn(p.Node, inner, fn)
				continue
			}
			walkIn(a, sc, fn)
		}
	case *ast.PredicateNode:
		walkIn(n.Node, scope{bound: sc.bound}, fn) // over no known list
	case *ast.VariableDeclaratorNode:
		walkIn(n.Value, sc, fn)
		walkIn(n.Expr, sc, fn)
	case *ast.SequenceNode:
		for _, x := range n.Nodes {
			walkIn(x, sc, fn)
		}
	case *ast.ConditionalNode:
		walkIn(n.Cond, sc, fn)
		walkIn(n.Exp1, sc, fn)
		walkIn(n.Exp2, sc, fn)
	case *ast.ArrayNode:
		for _, x := range n.Nodes {
			walkIn(x, sc, fn)
		}
	case *ast.MapNode:
		for _, x := range n.Pairs {
			walkIn(x, sc, fn)
		}
	case *ast.PairNode:
		walkIn(n.Key, sc, fn)
		walkIn(n.Value, sc, fn)
	}
}

// pathIn gives the field path a node reads in a scope, "" when it is none;
// elemental says the path goes through a list's elements: a closure's .f
// (P.f) or a constant index (items[0].qty: items.qty), which the rules'
// own paths leave out.
func pathIn(n ast.Node, sc scope) (path string, elemental bool) {
	switch n := n.(type) {
	case *ast.IdentifierNode:
		if sc.bound[n.Value] || strings.HasPrefix(n.Value, "$") {
			return "", false
		}
		return n.Value, false
	case *ast.ChainNode:
		return pathIn(n.Node, sc)
	case *ast.MemberNode:
		s, ok := n.Property.(*ast.StringNode)
		if !ok || n.Method {
			return "", false
		}
		switch base := n.Node.(type) {
		case *ast.PointerNode:
			if base.Name == "" && sc.elem != "" {
				return sc.elem + "." + s.Value, true
			}
			return "", false
		case *ast.IdentifierNode:
			if base.Value == "$env" {
				return s.Value, false
			}
		case *ast.MemberNode:
			if isIndex(base.Property) && !base.Method {
				if p, _ := pathIn(base.Node, sc); p != "" {
					return p + "." + s.Value, true
				}
				return "", false
			}
		}
		if p, el := pathIn(n.Node, sc); p != "" {
			return p + "." + s.Value, el
		}
	}
	return "", false
}

func isIndex(n ast.Node) bool {
	switch n := n.(type) {
	case *ast.IntegerNode:
		return true
	case *ast.UnaryNode:
		return n.Operator == "-" && isIndex(n.Node)
	}
	return false
}

// elementPaths lists the paths an expression reads through lists'
// elements (see pathIn), outermost only: all(items, .dims.w > 0) reads
// items.dims.w, not items.dims too.
func elementPaths(src string) []string {
	root := parse(src)
	if root == nil {
		return nil
	}
	type found struct {
		node ast.Node
		path string
	}
	var all []found
	inner := map[ast.Node]bool{}
	walkScopes(root, func(n ast.Node, sc scope) {
		m, ok := n.(*ast.MemberNode)
		if !ok {
			return
		}
		p, el := pathIn(m, sc)
		if p == "" {
			return
		}
		inner[m.Node] = true
		if mm, ok := m.Node.(*ast.MemberNode); ok && isIndex(mm.Property) {
			inner[mm.Node] = true
		}
		if el {
			all = append(all, found{m, p})
		}
	})
	var out []string
	seen := map[string]bool{}
	for _, f := range all {
		if !inner[f.node] && !seen[f.path] {
			seen[f.path] = true
			out = append(out, f.path)
		}
	}
	return out
}
