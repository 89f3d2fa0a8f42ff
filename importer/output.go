package importer

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/assay-dev/assay/internal/contractyaml"
)

// contract is the assay contract being built, in the order it is written.
type contract struct {
	comment      string // above the document
	name         string
	version      string
	owner        string
	ownerComment string
	description  string
	topics       []string
	topicComment string
	format       string
	formatNote   string
	pii          []string
	piiComment   string
	// fields is the fields section, fieldsComment says where it came
	// from.
	fields        []contractyaml.Field
	fieldsComment string
	rules         []rule
	untranslated  []Untranslated // listed at the end of the document
	ruleNames     map[string]bool
}

type rule struct {
	source      string // where the rule came from, as a comment
	name        string
	kind        string // "expr" or "unique"
	expr        string
	when        string
	severity    string
	description string
}

var ruleNameBad = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// add appends a rule, making its name valid and unique in the contract.
func (c *contract) add(r rule) {
	if c.ruleNames == nil {
		c.ruleNames = map[string]bool{}
	}
	base := strings.Trim(ruleNameBad.ReplaceAllString(r.name, "-"), "-")
	if base == "" {
		base = "rule"
	}
	name := base
	for i := 2; c.ruleNames[name]; i++ {
		name = base + "-" + strconv.Itoa(i)
	}
	c.ruleNames[name] = true
	r.name = name
	c.rules = append(c.rules, r)
}

func (c *contract) addPII(path string) {
	for _, p := range c.pii {
		if p == path {
			return
		}
	}
	c.pii = append(c.pii, path)
}

// contractName turns any name into one that matches [a-z0-9._-]+.
func contractName(s string) string { return contractyaml.ContractName(s, "imported") }

// document is the contract as contractyaml writes it.
func (c *contract) document() *contractyaml.Contract {
	d := &contractyaml.Contract{
		Name: c.name, Version: c.version, Owner: c.owner, OwnerNote: c.ownerComment, Description: c.description,
		Topics: c.topics, TopicsNote: c.topicComment, Format: c.format, FormatNote: c.formatNote, PII: c.pii,
	}
	if c.comment != "" {
		d.Head = []string{c.comment}
	}
	if check := c.check(); check != "" {
		d.Head = append(d.Head, check)
	}
	if c.piiComment != "" {
		d.PIINote = []string{c.piiComment}
	}
	d.Fields = c.fields
	if c.fieldsComment != "" {
		d.FieldsNote = []string{c.fieldsComment}
	}
	for _, r := range c.rules {
		d.Rules = append(d.Rules, contractyaml.Rule{
			Comment: []string{"from " + strings.Join(strings.Fields(r.source), " ")},
			Name:    r.name, Kind: r.kind, Expr: r.expr, When: r.when, Severity: r.severity, Description: r.description,
		})
	}
	if len(c.rules) == 0 {
		// A contract needs rules; leave a valid placeholder that says so.
		d.Rules = []contractyaml.Rule{{
			Comment: []string{"TODO: nothing could be translated into a rule; this placeholder keeps the contract valid."},
			Name:    "todo", Kind: "expr", Expr: "true", Severity: "info",
		}}
	}
	if len(c.untranslated) > 0 {
		d.Tail = append(d.Tail, "Not translated:")
		for _, u := range c.untranslated {
			for i, l := range strings.Split(u.What+": "+u.Why, "\n") {
				if i == 0 {
					d.Tail = append(d.Tail, "  - "+l)
				} else {
					d.Tail = append(d.Tail, "    "+l)
				}
			}
		}
	}
	return d
}

// check says what the reader must look at: the TODOs, when there are
// any, and the list of what was not translated, when there is one.
func (c *contract) check() string {
	var todos []string
	if c.owner == todoOwner {
		todos = append(todos, "owner")
	}
	if contains(c.topics, todoTopic) {
		todos = append(todos, "topics")
	}
	if len(c.rules) == 0 {
		todos = append(todos, "rules")
	}
	var parts []string
	if len(todos) > 0 {
		parts = append(parts, "the TODOs ("+strings.Join(todos, ", ")+")")
	}
	if len(c.untranslated) > 0 {
		parts = append(parts, "the list of what was not translated at the end")
	}
	if len(parts) == 0 {
		return ""
	}
	return "Check " + strings.Join(parts, " and ") + "."
}

// result joins the contracts into one file.
func result(cs []*contract) *Result {
	res := &Result{}
	docs := make([]*contractyaml.Contract, len(cs))
	for i, c := range cs {
		c.declareReads()
		docs[i] = c.document()
		res.Untranslated = append(res.Untranslated, c.untranslated...)
	}
	res.YAML = contractyaml.WriteAll(docs)
	return res
}
