package infer

import (
	"regexp"

	"github.com/assay-dev/assay/internal/contractyaml"
	"github.com/assay-dev/assay/rules"
)

// fieldPathRE is what a declared field's path may be: dotted names
// without spaces (as the contract decoder reads it).
var fieldPathRE = regexp.MustCompile(`^[^.\s]+(\.[^.\s]+)*$`)

// declared is the fields section of the inferred contract: every profiled
// path (through arrays, as checks cross them) with the type of its values,
// required when it was present wherever it could be (in every event, or
// in every value of the object or every element of the array that holds
// it), and nullable when it was seen null.
func (g *gen) declared() []contractyaml.Field {
	var out []contractyaml.Field
	seen := map[string]bool{}
	for _, f := range g.sorted {
		if f.path[len(f.path)-1] == "[]" || f.path[0] == rules.MetaVar || hasDotInSegment(f.path) {
			continue // elements are declared through their array
		}
		dp := displayPath(f.path)
		if seen[dp] || !fieldPathRE.MatchString(dp) {
			continue
		}
		seen[dp] = true
		out = append(out, contractyaml.Field{Path: dp, Type: fieldType(f), Required: g.required(f), Nullable: f.kinds[kNull] > 0})
	}
	return out
}

// required reports whether a field was present wherever it could be.
func (g *gen) required(f *field) bool {
	base := g.p.events
	if len(f.path) > 1 {
		parent := g.field(f.path[:len(f.path)-1])
		if parent == nil {
			return false
		}
		base = parent.nonNull()
		if parent.name() == "[]" {
			base = parent.present // every element, null or not
		}
	}
	return base > 0 && f.present == base
}

// fieldType is the declared type of a field's values: time for strings
// that were all RFC 3339 date-times (or numbers a time-named field held as
// epochs), any for mixed kinds or only nulls.
func fieldType(f *field) string {
	switch {
	case f.nonNull() == 0:
		return string(rules.TypeAny)
	case f.only(kString) && f.formats&fDateTime != 0:
		return string(rules.TypeTime)
	case f.only(kString):
		return string(rules.TypeString)
	case f.only(kInt) && f.timeHint && f.timeEpochs && !f.timeBad && f.times == f.nonNull():
		return string(rules.TypeTime)
	case f.only(kInt):
		return string(rules.TypeInt)
	case f.only(kInt, kFloat):
		return string(rules.TypeFloat)
	case f.only(kBool):
		return string(rules.TypeBool)
	case f.only(kObject):
		return string(rules.TypeObject)
	case f.only(kArray):
		return string(rules.TypeArray)
	}
	return string(rules.TypeAny)
}
