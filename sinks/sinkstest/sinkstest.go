// Package sinkstest has a sinks.Source for the tests of the sinks.
package sinkstest

import (
	"github.com/assay-dev/assay/checker"
	"github.com/assay-dev/assay/sinks"
)

// Source is a sinks.Source made of functions, each called by the method of
// its name; a nil one returns nothing (no checker, no counts).
type Source struct {
	CheckerFunc     func() *checker.Checker
	CountsFunc      func() sinks.Counts
	UndecodableFunc func() []sinks.Undecodable
}

// Of returns a Source of the checker that ch returns (tests that reload
// change what it returns) and nothing else.
func Of(ch func() *checker.Checker) *Source { return &Source{CheckerFunc: ch} }

// Checker calls CheckerFunc.
func (s *Source) Checker() *checker.Checker {
	if s.CheckerFunc == nil {
		return nil
	}
	return s.CheckerFunc()
}

// Counts calls CountsFunc.
func (s *Source) Counts() sinks.Counts {
	if s.CountsFunc == nil {
		return sinks.Counts{}
	}
	return s.CountsFunc()
}

// Undecodable calls UndecodableFunc.
func (s *Source) Undecodable() []sinks.Undecodable {
	if s.UndecodableFunc == nil {
		return nil
	}
	return s.UndecodableFunc()
}
