package rules

import (
	"fmt"
	"strings"

	"github.com/assay-dev/assay/internal/suggest"
)

// Declares reports whether the contract's fields section covers a path: it
// is declared, or lies under a declared any, or under a declared object or
// array whose own paths are not declared (customer.city under customer,
// when no customer.* is declared: with customer.email declared,
// customer.emial is a typo), or above a declared path (customer above
// customer.email). Record metadata (kafka.*) is never a declared field.
// Without a fields section nothing is declared.
func (c *Contract) Declares(path string) bool {
	if root, _, _ := strings.Cut(path, "."); root == MetaVar {
		return false
	}
	for _, f := range c.Fields {
		switch {
		case f.Path == path, strings.HasPrefix(f.Path, path+"."):
			return true
		case strings.HasPrefix(path, f.Path+"."):
			if f.Type == TypeAny || ((f.Type == TypeObject || f.Type == TypeArray) && !c.declaresBelow(f.Path)) {
				return true
			}
		}
	}
	return false
}

// declaresBelow reports whether a path below prefix is declared.
func (c *Contract) declaresBelow(prefix string) bool {
	for _, f := range c.Fields {
		if strings.HasPrefix(f.Path, prefix+".") {
			return true
		}
	}
	return false
}

// UndeclaredReads lists, for a contract with a fields section, every event
// path its expressions read (where, event_time, and each rule's
// expression, when and keys) that the section does not declare, at the
// position of the rule (of the contract for where and event_time), with
// the closest declared path when one is near. Paths of record metadata
// (kafka.*) are left out, and so are expressions that read the event as a
// whole. `assay lint` reports them.
func UndeclaredReads(c *Contract) []*Error {
	if len(c.Fields) == 0 {
		return nil
	}
	declared := make([]string, len(c.Fields))
	for i, f := range c.Fields {
		declared[i] = f.Path
	}
	var out []*Error
	check := func(what string, pos Pos, progs ...*Program) {
		seen := map[string]bool{}
		for _, p := range progs {
			if p == nil {
				continue
			}
			for _, path := range p.Paths {
				if root, _, _ := strings.Cut(path, "."); root == MetaVar || seen[path] || c.Declares(path) {
					continue
				}
				seen[path] = true
				msg := fmt.Sprintf("%s reads %s, which fields does not declare", what, path)
				if to, ok := suggest.Closest(path, declared); ok {
					msg += fmt.Sprintf("; did you mean %s?", to)
				}
				out = append(out, &Error{Pos: pos, Contract: c.Name, Msg: msg})
			}
		}
	}
	check("where", c.Pos, c.Where)
	check("event_time", c.Pos, c.EventTime)
	for _, r := range c.Rules {
		check(fmt.Sprintf("rule %q", r.Name), r.Pos, r.Programs()...)
	}
	return out
}
