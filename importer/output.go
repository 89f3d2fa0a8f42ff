package importer

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
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
	rules        []rule
	untranslated []Untranslated // listed at the end of the document
	ruleNames    map[string]bool
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

var contractNameBad = regexp.MustCompile(`[^a-z0-9._-]+`)

// contractName turns any name into one that matches [a-z0-9._-]+.
func contractName(s string) string {
	s = strings.Trim(contractNameBad.ReplaceAllString(strings.ToLower(s), "-"), "-.")
	if s == "" {
		return "imported"
	}
	return s
}

func scalar(v, comment string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v, LineComment: comment}
	if strings.Contains(v, "\n") {
		n.Style = yaml.LiteralStyle
	}
	return n
}

func strSeq(vs []string, comment string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle, LineComment: comment}
	for _, v := range vs {
		n.Content = append(n.Content, scalar(v, ""))
	}
	return n
}

type mapping struct{ n *yaml.Node }

func newMapping() mapping { return mapping{&yaml.Node{Kind: yaml.MappingNode}} }

func (m mapping) set(key string, v *yaml.Node, head string) {
	k := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key, HeadComment: head}
	m.n.Content = append(m.n.Content, k, v)
}

func (m mapping) str(key, v string) {
	if v != "" {
		m.set(key, scalar(v, ""), "")
	}
}

// yamlDoc renders the contract as one YAML document with comments.
func (c *contract) yamlDoc() ([]byte, error) {
	m := newMapping()
	m.set("contract", scalar(c.name, ""), c.comment)
	m.str("version", c.version)
	m.set("owner", scalar(c.owner, c.ownerComment), "")
	m.str("description", c.description)
	m.set("topics", strSeq(c.topics, c.topicComment), "")
	if c.format != "" {
		m.set("format", scalar(c.format, c.formatNote), "")
	}
	if len(c.pii) > 0 {
		m.set("pii", strSeq(c.pii, ""), c.piiComment)
	}
	if len(c.rules) > 0 {
		seq := &yaml.Node{Kind: yaml.SequenceNode}
		for _, r := range c.rules {
			rm := newMapping()
			rm.n.HeadComment = "from " + strings.Join(strings.Fields(r.source), " ")
			rm.set("name", scalar(r.name, ""), "")
			rm.set(r.kind, scalar(r.expr, ""), "")
			rm.str("when", r.when)
			if r.severity != "" && r.severity != "warning" {
				rm.str("severity", r.severity)
			}
			rm.str("description", r.description)
			seq.Content = append(seq.Content, rm.n)
		}
		m.set("rules", seq, "")
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(m.n); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	if len(c.rules) == 0 {
		// A contract needs rules; leave a valid placeholder that says so.
		buf.WriteString("# Nothing could be translated into a rule; this placeholder keeps the contract valid.\n")
		buf.WriteString("rules:\n  - name: todo\n    expr: \"true\"\n    severity: info\n")
	}
	if len(c.untranslated) > 0 {
		buf.WriteString("# Not translated:\n")
		for _, u := range c.untranslated {
			for i, l := range strings.Split(fmt.Sprintf("%s: %s", u.What, u.Why), "\n") {
				if i == 0 {
					buf.WriteString("#   - " + l + "\n")
				} else {
					buf.WriteString("#     " + l + "\n")
				}
			}
		}
	}
	return buf.Bytes(), nil
}

// result joins the contracts into one file.
func result(cs []*contract) (*Result, error) {
	res := &Result{}
	var out bytes.Buffer
	for i, c := range cs {
		doc, err := c.yamlDoc()
		if err != nil {
			return nil, err
		}
		if i > 0 {
			out.WriteString("---\n")
		}
		out.Write(doc)
		res.Untranslated = append(res.Untranslated, c.untranslated...)
	}
	res.YAML = out.Bytes()
	return res, nil
}
