package rules

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/assay-dev/assay/anomaly"
	"github.com/assay-dev/assay/internal/safetext"
	"github.com/assay-dev/assay/internal/suggest"
)

var (
	nameRE     = regexp.MustCompile(`^[a-z0-9._-]+$`)
	ruleNameRE = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)
	piiPathRE  = regexp.MustCompile(`^[^.\s]+(\.[^.\s]+)*$`)
)

// decoder walks yaml.Node trees by hand instead of unmarshalling into
// structs: that way every unknown key, wrong type and bad value is reported
// with its own line and column, and decoding goes on after a problem so that
// one run reports all of them.
type decoder struct {
	lim      Limits
	file     string
	lines    []string // the file's lines, to map expression positions
	errs     Errors
	contract string // name of the contract being decoded, for messages
	rule     string // name of the rule being decoded, for messages
	// nodes are the operands of the contract's expressions so far
	// (Limits.MaxContractNodes); nodesOver is set past the limit.
	nodes     int
	nodesOver bool
	// declared are the rule names of the contract being decoded, the
	// broken rules' too, so that an example naming a broken rule adds no
	// second problem.
	declared map[string]bool
	// watched are the rules named by the violation_ratio anomaly rules of
	// the contract, checked once all its rules are read.
	watched []watchedRule
}

// maxQuoted bounds a value quoted in an error: a contract file can hold
// anything (a symlink to a secret, a megabyte scalar), and errors go to
// terminals and logs.
const maxQuoted = 40

// quoted cuts the string arguments of the %q verbs of format to maxQuoted
// bytes.
func quoted(format string, args []any) []any {
	out := args
	arg := 0
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		j := i + 1
		for j < len(format) && strings.IndexByte("+-# 0123456789.", format[j]) >= 0 {
			j++
		}
		if j >= len(format) {
			break
		}
		if format[j] == '%' {
			i = j
			continue
		}
		if arg < len(args) {
			if s, ok := args[arg].(string); ok && format[j] == 'q' && len(s) > maxQuoted {
				if &out[0] == &args[0] {
					out = append([]any(nil), args...)
				}
				out[arg] = safetext.Truncate(s, maxQuoted)
			}
		}
		arg++
		i = j
	}
	return out
}

func (d *decoder) errorf(n *yaml.Node, format string, args ...any) {
	args = quoted(format, args)
	e := &Error{Pos: Pos{File: d.file}, Contract: d.contract, Rule: d.rule, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	d.errs = append(d.errs, e)
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseFile decodes every YAML document of one file into contracts.
func parseFile(lim Limits, file string, data []byte) ([]*Contract, Errors) {
	if int64(len(data)) > lim.MaxFileBytes {
		// Refused before YAML parsing: a parse costs several times the
		// file's size in memory.
		return nil, Errors{{Pos: Pos{File: file, Line: 1, Column: 1}, Msg: (&tooLargeError{size: int64(len(data)), max: lim.MaxFileBytes}).Error()}}
	}
	d := &decoder{lim: lim, file: file, lines: strings.SplitAfter(string(data), "\n")}
	var out []*Contract
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// A syntax error ends the file: yaml.v3 cannot resume after it.
			line, msg := 0, err.Error()
			if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
				line, _ = strconv.Atoi(m[1])
				msg = "invalid YAML: " + m[2]
			}
			col := 1
			if l, c := syntaxErrorLine(data, line, err.Error()); l > 0 {
				line, col = l, c
			}
			d.errs = append(d.errs, &Error{Pos: Pos{File: file, Line: line, Column: col}, Msg: msg})
			break
		}
		if len(doc.Content) == 0 || (doc.Content[0].Kind == yaml.ScalarNode && doc.Content[0].Tag == "!!null" && doc.Content[0].Value == "") {
			continue // an empty document, e.g. after a trailing --- or only comments
		}
		if c := d.decodeContract(doc.Content[0]); c != nil {
			out = append(out, c)
		}
	}
	return out, d.errs
}

// syntaxErrorLine finds the line of a YAML syntax error. yaml.v3 reports
// the line where the enclosing block started, which for a bad indentation is
// far from the mistake; the first prefix of the file that does not parse
// ends on the line at fault. Contract files are small, so the quadratic
// search is cheap, and it only runs on broken files.
func syntaxErrorLine(data []byte, reported int, msg string) (line, col int) {
	lines := bytes.SplitAfter(data, []byte("\n"))
	if len(data) > 1<<20 {
		return 0, 0
	}
	ends := make([]int, len(lines)+1) // ends[k]: bytes in the first k lines
	for i, l := range lines {
		ends[i+1] = ends[i] + len(l)
	}
	// Binary search for the shortest prefix that fails the same way: a
	// few parses, however long the file.
	hi := len(lines)
	lo := min(max(reported, 1), hi)
	if hi == 0 || parseError(data[:ends[hi]]) != msg {
		return 0, 0
	}
	for lo < hi {
		mid := (lo + hi) / 2
		if parseError(data[:ends[mid]]) == msg {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	l := lines[lo-1]
	return lo, len(l) - len(bytes.TrimLeft(l, " \t")) + 1
}

// parseError returns the syntax error of a YAML text, or "".
func parseError(data []byte) string {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return ""
		}
		if err != nil {
			return err.Error()
		}
	}
}

// pairs returns the key/value pairs of a mapping node, reporting a node that
// is not a mapping and keys that appear twice.
func (d *decoder) pairs(n *yaml.Node, what string) [][2]*yaml.Node {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "%s must be a mapping, not %s", what, kindName(n))
		return nil
	}
	seen := map[string]bool{}
	var out [][2]*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if seen[k.Value] {
			d.errorf(k, "duplicate key %q", k.Value)
			continue
		}
		seen[k.Value] = true
		out = append(out, [2]*yaml.Node{k, v})
	}
	return out
}

// onlyDots reports a name like . or .., which would read as a path.
func onlyDots(s string) bool { return strings.Trim(s, ".") == "" }

// scalarKind names the type of a scalar without its value.
func scalarKind(n *yaml.Node) string {
	switch n.Tag {
	case "!!null":
		return "empty"
	case "!!int", "!!float":
		return "a number"
	case "!!bool":
		return "a boolean"
	}
	return "a string"
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "empty"
		}
		return fmt.Sprintf("%q", safetext.Truncate(n.Value, maxQuoted))
	}
	return "an alias"
}

func (d *decoder) str(n *yaml.Node, key string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		d.errorf(n, "%s must be a string, not %s", key, kindName(n))
		return "", false
	}
	return n.Value, true
}

func (d *decoder) strList(n *yaml.Node, key string) []string {
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, "%s must be a list of strings, not %s", key, kindName(n))
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for _, c := range n.Content {
		if s, ok := d.str(c, key+" item"); ok {
			out = append(out, s)
		}
	}
	return out
}

func (d *decoder) float(n *yaml.Node, key string) (float64, bool) {
	if n.Kind == yaml.ScalarNode && (n.Tag == "!!int" || n.Tag == "!!float") {
		if f, err := strconv.ParseFloat(n.Value, 64); err == nil {
			return f, true
		}
	}
	d.errorf(n, "%s must be a number, not %s", key, kindName(n))
	return 0, false
}

func (d *decoder) int(n *yaml.Node, key string) (int, bool) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!int" {
		if i, err := strconv.Atoi(n.Value); err == nil {
			return i, true
		}
	}
	d.errorf(n, "%s must be a whole number, not %s", key, kindName(n))
	return 0, false
}

func (d *decoder) duration(n *yaml.Node, key string) (time.Duration, bool) {
	s, ok := d.str(n, key)
	if !ok {
		return 0, false
	}
	dur, err := ParseDuration(s)
	if err != nil {
		d.errorf(n, "%s: %v", key, err)
		return 0, false
	}
	return dur, true
}

// ParseDuration parses a positive duration: Go's syntax ("90s", "1h30m")
// plus whole days and weeks ("7d", "2w").
func ParseDuration(s string) (time.Duration, error) {
	var dur time.Duration
	var err error
	if n := len(s); n > 1 && (s[n-1] == 'd' || s[n-1] == 'w') {
		var k int
		k, err = strconv.Atoi(s[:n-1])
		unit := 24 * time.Hour
		if s[n-1] == 'w' {
			unit *= 7
		}
		if k > int(math.MaxInt64/unit) {
			return 0, fmt.Errorf("duration %q is too long", safetext.Truncate(s, maxQuoted))
		}
		dur = time.Duration(k) * unit
	} else {
		dur, err = time.ParseDuration(s)
	}
	if err != nil {
		if hint := durationHint(s); hint == s {
			return 0, fmt.Errorf("duration %q is too long", safetext.Truncate(s, maxQuoted))
		} else if hint != "" {
			return 0, fmt.Errorf("invalid duration %q; did you mean %s?", safetext.Truncate(s, maxQuoted), hint)
		}
		return 0, fmt.Errorf("invalid duration %q (use e.g. 30s, 5m, 1h, 7d)", safetext.Truncate(s, maxQuoted))
	}
	if dur <= 0 {
		return 0, fmt.Errorf("duration %q must be positive", safetext.Truncate(s, maxQuoted))
	}
	return dur, nil
}

func (d *decoder) decodeContract(n *yaml.Node) *Contract {
	d.contract, d.rule, d.declared = "", "", map[string]bool{}
	d.nodes, d.nodesOver = 0, false
	c := &Contract{Pos: Pos{File: d.file, Line: n.Line, Column: n.Column}, Format: "json", Sample: 1}
	if n.Kind == yaml.ScalarNode {
		// Not quoted: a file that is no contract (a symlink to a
		// secret, say) is not echoed.
		d.errorf(n, "a contract must be a mapping, not %s", scalarKind(n))
		return nil
	}
	pairs := d.pairs(n, "a contract")
	if pairs == nil {
		return nil
	}
	// The name first, so that every later message can name the contract.
	for _, kv := range pairs {
		if kv[0].Value == "contract" {
			if s, ok := d.str(kv[1], "contract"); ok {
				if !nameRE.MatchString(s) {
					d.errorf(kv[1], "contract name %q must match [a-z0-9._-]+", s)
				} else if onlyDots(s) {
					d.errorf(kv[1], "contract name %q must not be only dots", s)
				}
				c.Name = s
			}
		}
	}
	d.contract = c.Name
	errsBefore := len(d.errs)
	var rulesNode, whereNode, eventTimeNode, examplesNode, segmentNode *yaml.Node
	hasTopics := false
	for _, kv := range pairs {
		k, v := kv[0], kv[1]
		switch k.Value {
		case "contract":
		case "version":
			c.Version, _ = d.str(v, "version")
		case "owner":
			c.Owner, _ = d.str(v, "owner")
		case "consumers":
			c.Consumers = d.strList(v, "consumers")
		case "description":
			c.Description, _ = d.str(v, "description")
		case "topics":
			c.Topics = d.strList(v, "topics")
			hasTopics = hasTopics || len(c.Topics) > 0 || v.Kind != yaml.SequenceNode
		case "topic_pattern":
			hasTopics = true
			if s, ok := d.str(v, "topic_pattern"); ok {
				re, err := regexp.Compile(s)
				if err != nil {
					d.errorf(v, "topic_pattern: %v", err)
				}
				c.TopicPattern = re
			}
		case "format":
			if s, ok := d.str(v, "format"); ok {
				if s != "json" && s != "confluent" && s != "auto" {
					d.errorf(v, "format must be json, confluent or auto, not %q", s)
				}
				c.Format = s
			}
		case "where":
			whereNode = v
		case "event_time":
			eventTimeNode = v
		case "sample":
			if f, ok := d.float(v, "sample"); ok {
				if f <= 0 || f > 1 {
					d.errorf(v, "sample must be in (0,1], not %v", f)
				}
				c.Sample = f
			}
		case "pii":
			c.PII = d.strList(v, "pii")
			for i, p := range c.PII {
				if !piiPathRE.MatchString(p) {
					d.errorf(v.Content[i], "pii path %q must be dotted field names, like customer.email", p)
				}
			}
		case "rules":
			rulesNode = v
		case "volume":
			c.Volume = d.decodeVolume(v)
		case "segment":
			segmentNode = v
			c.Segment = d.decodeSegment(v)
		case "fields":
			c.Fields = d.decodeFields(v)
		case "alert":
			c.Alert = d.decodeAlert(v)
		case "quarantine":
			c.Quarantine = d.decodeQuarantine(v)
		case "examples":
			examplesNode = v
		default:
			d.errorf(k, "%s", unknownKey(k.Value, contractKeys))
		}
	}
	if c.Name == "" {
		d.errorf(n, "missing required key \"contract\"")
	}
	if c.Owner == "" {
		d.errorf(n, "missing required key \"owner\"")
	}
	if !hasTopics {
		// topics: [] counts as absent.
		d.errorf(n, "needs topics or topic_pattern")
	}
	if whereNode != nil {
		c.Where = d.compile(whereNode, "where", boolExpr)
	}
	if eventTimeNode != nil {
		c.EventTime = d.compile(eventTimeNode, "event_time", timeExpr)
	}
	if q := c.Quarantine; q != nil && q.Topic != "" && c.MatchesTopic(q.Topic) {
		d.errorf(n, "quarantine topic %q is one of the contract's own topics: violations would be checked again", q.Topic)
	}
	if rulesNode != nil {
		c.Rules = d.decodeRules(rulesNode)
		for _, r := range c.Rules {
			if r.Kind == KindSequence || r.Kind == KindAnomaly || (r.Within > 0 && (r.Kind == KindUnique || r.Kind == KindReference)) {
				r.EventTime = c.EventTime
			}
		}
		d.checkWatched(c.Rules)
		if sg := c.Segment; sg != nil && sg.Max <= MaxSegments { // a bad max is reported already
			if k := len(c.AnomalyRules()); k*(sg.Max+1) > MaxSeries {
				d.errorf(segmentNode, "%d anomaly rules × %d segments (segment.max + other) are %d series, more than the %d a contract may have: lower segment.max", k, sg.Max+1, k*(sg.Max+1), MaxSeries)
			}
		}
	} else if c.Volume == nil {
		d.errorf(n, "missing required key \"rules\" (or a volume)")
	}
	d.rule = ""
	if examplesNode != nil {
		c.Examples = d.decodeExamples(examplesNode, c.Rules)
	}
	if len(d.errs) > errsBefore {
		return nil
	}
	c.operands = d.nodes
	return c
}

func ruleNames(rs []*Rule) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Name
	}
	return out
}

// decodeExamples reads the examples block; rule names must exist.
func (d *decoder) decodeExamples(n *yaml.Node, rs []*Rule) []Example {
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, "examples must be a list, not %s", kindName(n))
		return nil
	}
	known := map[string]bool{}
	pairs := map[string]Kind{}
	for _, r := range rs {
		known[r.Name] = true
		if r.Correlates() || r.Kind == KindAnomaly {
			pairs[r.Name] = r.Kind
		}
	}
	var out []Example
	for i, en := range n.Content {
		ex := Example{Name: fmt.Sprintf("example %d", i+1), Pos: Pos{File: d.file, Line: en.Line, Column: en.Column}}
		hasEvent := false
		for _, kv := range d.pairs(en, "an example") {
			k, v := kv[0], kv[1]
			switch k.Value {
			case "name":
				if s, ok := d.str(v, "name"); ok {
					ex.Name = s
				}
			case "event":
				hasEvent = true
				var raw any
				if err := v.Decode(&raw); err != nil {
					d.errorf(v, "event: %v", err)
					continue
				}
				ev, err := eventOf(raw)
				if err != nil {
					d.errorf(v, "event: %v", err)
					continue
				}
				ex.Event = ev
			case "pass", "fail":
				names := d.strList(v, k.Value)
				for j, name := range names {
					if !known[name] && !d.declared[name] {
						msg := fmt.Sprintf("%s: no rule %q in this contract", k.Value, safetext.Truncate(name, maxQuoted))
						if to, ok := suggest.Closest(name, ruleNames(rs)); ok {
							msg += fmt.Sprintf("; did you mean %q?", to)
						}
						d.errorf(v.Content[j], "%s", msg)
					} else if kind, ok := pairs[name]; ok && kind == KindAnomaly {
						d.errorf(v.Content[j], "%s: %q is an anomaly rule: it judges buckets of events against a learned band, which one example event cannot show; take it out of %s and check it with assay test on a file of events", k.Value, safetext.Truncate(name, maxQuoted), k.Value)
					} else if ok {
						d.errorf(v.Content[j], "%s: %q is a %s rule: it judges pairs of events, which one example event cannot show; take it out of %s and check it with assay test on a file of events", k.Value, safetext.Truncate(name, maxQuoted), kind, k.Value)
					}
				}
				if k.Value == "pass" {
					ex.Pass = names
				} else {
					ex.Fail = names
				}
			default:
				d.errorf(k, "%s", unknownKey(k.Value, exampleKeys))
			}
		}
		if !hasEvent {
			d.errorf(en, "an example needs an event")
		}
		if len(ex.Pass)+len(ex.Fail) == 0 {
			d.errorf(en, "an example needs pass or fail (the rules it must pass or fail)")
		}
		out = append(out, ex)
	}
	return out
}

// eventOf turns a YAML value into the event JSON would give: a map with
// int64 and float64 numbers.
func eventOf(v any) (map[string]any, error) {
	b, err := json.Marshal(yamlToJSON(v))
	if err != nil {
		return nil, err
	}
	m := map[string]any{}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return nil, errors.New("must be a mapping")
	}
	return numbers(m).(map[string]any), nil
}

func yamlToJSON(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			v[k] = yamlToJSON(e)
		}
	case map[any]any:
		m := map[string]any{}
		for k, e := range v {
			m[fmt.Sprint(k)] = yamlToJSON(e)
		}
		return m
	case []any:
		for i, e := range v {
			v[i] = yamlToJSON(e)
		}
	case time.Time:
		return v.Format(time.RFC3339Nano)
	}
	return v
}

func numbers(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			v[k] = numbers(e)
		}
	case []any:
		for i, e := range v {
			v[i] = numbers(e)
		}
	case json.Number:
		if i, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			return i
		}
		f, _ := strconv.ParseFloat(string(v), 64)
		return f
	}
	return v
}

func (d *decoder) decodeRules(n *yaml.Node) []*Rule {
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, "rules must be a list, not %s", kindName(n))
		return nil
	}
	if len(n.Content) == 0 {
		d.errorf(n, "rules must not be empty")
	}
	if len(n.Content) > d.lim.MaxRules {
		// None is decoded: each costs a compilation.
		d.errorf(n, "a contract has at most %d rules, this one has %d", d.lim.MaxRules, len(n.Content))
		return nil
	}
	seen := map[string]int{}
	var out []*Rule
	for _, rn := range n.Content {
		r := d.decodeRule(rn)
		if r == nil {
			continue
		}
		if line, dup := seen[r.Name]; dup {
			d.errorf(rn, "duplicate rule name %q (first at line %d)", r.Name, line)
			continue
		}
		if r.Name == "fields.required" || r.Name == "fields.types" {
			d.errorf(rn, "rule name %q is taken by a synthetic rule of the fields section", r.Name)
		}
		seen[r.Name] = rn.Line
		out = append(out, r)
	}
	return out
}

func (d *decoder) decodeRule(n *yaml.Node) *Rule {
	d.rule = ""
	r := &Rule{Severity: Warning, Pos: Pos{File: d.file, Line: n.Line, Column: n.Column}}
	pairs := d.pairs(n, "a rule")
	if pairs == nil {
		return nil
	}
	for _, kv := range pairs {
		if kv[0].Value == "name" {
			r.Name, _ = d.str(kv[1], "name")
			if r.Name != "" && !ruleNameRE.MatchString(r.Name) {
				d.errorf(kv[1], "rule name %q must match [A-Za-z0-9._-]+", r.Name)
			} else if onlyDots(r.Name) {
				d.errorf(kv[1], "rule name %q must not be only dots", r.Name)
			}
		}
	}
	d.rule = r.Name
	if r.Name != "" {
		d.declared[r.Name] = true
	}
	defer func() { d.rule = "" }()
	errsBefore := len(d.errs)
	var exprNode, whenNode, withinNode, scopeNode *yaml.Node
	kinds := 0
	for _, kv := range pairs {
		k, v := kv[0], kv[1]
		switch k.Value {
		case "name":
		case "expr", "unique", "fresh", "sequence", "reference", "anomaly":
			kinds++
			exprNode = v
			r.Kind = map[string]Kind{"expr": KindExpr, "unique": KindUnique, "fresh": KindFresh, "sequence": KindSequence, "reference": KindReference, "anomaly": KindAnomaly}[k.Value]
		case "scope":
			scopeNode = v
			if s, ok := d.str(v, "scope"); ok {
				switch s {
				case "partition":
				case "topic":
					r.Scope = ScopeTopic
				default:
					d.errorf(v, "scope must be partition or topic, not %q", s)
				}
			}
		case "severity":
			if s, ok := d.str(v, "severity"); ok {
				sev, ok := ParseSeverity(s)
				if !ok {
					msg := fmt.Sprintf("severity must be critical, warning or info, not %q", safetext.Truncate(s, maxQuoted))
					if to, ok := suggest.Closest(s, []string{"critical", "warning", "info"}); ok {
						msg += fmt.Sprintf("; did you mean %q?", to)
					}
					d.errorf(v, "%s", msg)
				}
				r.Severity = sev
			}
		case "description":
			r.Description, _ = d.str(v, "description")
		case "when":
			whenNode = v
		case "within":
			withinNode = v
			r.Within, _ = d.duration(v, "within")
		case "tolerance":
			if f, ok := d.float(v, "tolerance"); ok {
				if !(f >= 0 && f < 1) {
					d.errorf(v, "tolerance must be in [0,1), not %v", f)
				}
				r.Tolerance = f
			}
		case "mode":
			if s, ok := d.str(v, "mode"); ok {
				switch s {
				case "shadow":
					r.Shadow = true
				case "enforce":
				default:
					d.errorf(v, "mode must be enforce or shadow, not %q", s)
				}
			}
		default:
			d.errorf(k, "%s", unknownKey(k.Value, ruleKeys))
		}
	}
	if r.Name == "" {
		d.errorf(n, "rule is missing required key \"name\"")
	}
	switch {
	case kinds == 0:
		d.errorf(n, "rule needs one of expr, unique, fresh, sequence, reference or anomaly")
	case kinds > 1:
		d.errorf(n, "rule must have only one of expr, unique, fresh, sequence, reference or anomaly")
	default:
		switch r.Kind {
		case KindExpr:
			r.Expr = d.compile(exprNode, "expr", boolExpr)
			if withinNode != nil {
				d.errorf(withinNode, "within applies only to unique, fresh, sequence and reference rules")
			}
		case KindUnique:
			r.Expr = d.compile(exprNode, "unique", valueExpr)
		case KindFresh:
			r.Expr = d.compile(exprNode, "fresh", timeExpr)
			if withinNode == nil {
				d.errorf(n, "a fresh rule needs within (the maximum age)")
			}
		case KindSequence:
			r.Sequence = d.decodeSequence(exprNode, r)
			if withinNode == nil {
				d.errorf(n, "a sequence rule needs within (how long the expect may take)")
			}
		case KindReference:
			r.Reference = d.decodeReference(exprNode, r)
		case KindAnomaly:
			r.Anomaly = d.decodeAnomaly(exprNode)
			if withinNode != nil {
				d.errorf(withinNode, "within does not apply to anomaly rules: their buckets are anomaly.every")
			}
		}
	}
	if scopeNode != nil && r.Kind != KindUnique && r.Kind != KindSequence && r.Kind != KindReference && kinds == 1 {
		d.errorf(scopeNode, "scope applies only to unique, sequence and reference rules")
	}
	if whenNode != nil {
		r.When = d.compile(whenNode, "when", boolExpr)
	}
	if len(d.errs) > errsBefore {
		return nil
	}
	return r
}

// blockKey is one expression of a sequence or reference block.
type blockKey struct {
	name     string
	kind     exprKind
	required bool
	into     **Program
}

// decodeBlock reads a block of expressions (sequence, reference): each key
// compiled into its place, unknown keys and missing required ones
// reported.
func (d *decoder) decodeBlock(n *yaml.Node, what string, keys []blockKey) {
	pairs := d.pairs(n, what)
	if pairs == nil {
		return
	}
	names := make([]string, len(keys))
	found := make([]*yaml.Node, len(keys))
	for i, k := range keys {
		names[i] = k.name
	}
	for _, kv := range pairs {
		i := slices.Index(names, kv[0].Value)
		if i < 0 {
			d.errorf(kv[0], "%s", unknownKey(kv[0].Value, names))
			continue
		}
		found[i] = kv[1]
	}
	for i, k := range keys {
		switch {
		case found[i] != nil:
			*k.into = d.compile(found[i], what+"."+k.name, k.kind)
		case k.required:
			d.errorf(n, "%s needs %s", what, k.name)
		}
	}
}

// decodeSequence reads a sequence block: key, start and expect, all
// required; the key goes to r.Expr.
func (d *decoder) decodeSequence(n *yaml.Node, r *Rule) *Sequence {
	s := &Sequence{}
	d.decodeBlock(n, "sequence", []blockKey{
		{"key", valueExpr, true, &r.Expr}, {"start", boolExpr, true, &s.Start}, {"expect", boolExpr, true, &s.Expect},
	})
	return s
}

// decodeReference reads a reference block: key, from and to required,
// to_key optional; the key goes to r.Expr.
func (d *decoder) decodeReference(n *yaml.Node, r *Rule) *Reference {
	f := &Reference{}
	d.decodeBlock(n, "reference", []blockKey{
		{"key", valueExpr, true, &r.Expr}, {"from", boolExpr, true, &f.From}, {"to", boolExpr, true, &f.To}, {"to_key", valueExpr, false, &f.ToKey},
	})
	return f
}

// decodeFields reads the fields section: a mapping of dotted paths to
// {type, required, nullable}.
func (d *decoder) decodeFields(n *yaml.Node) []*Field {
	var out []*Field
	pairs := d.pairs(n, "fields")
	if pairs != nil && len(pairs) == 0 {
		d.errorf(n, "fields must not be empty")
	}
	for _, kv := range pairs {
		k, v := kv[0], kv[1]
		f := &Field{Path: k.Value, Type: TypeAny, Pos: Pos{File: d.file, Line: k.Line, Column: k.Column}}
		if !piiPathRE.MatchString(f.Path) {
			d.errorf(k, "field path %q must be dotted field names, like customer.email", f.Path)
		} else if root, _, _ := strings.Cut(f.Path, "."); root == MetaVar {
			d.errorf(k, "field path %q: record metadata (kafka.*) is no field of the event", f.Path)
		}
		hasType := false
		for _, fkv := range d.pairs(v, "a field") {
			fk, fv := fkv[0], fkv[1]
			switch fk.Value {
			case "type":
				hasType = true
				if s, ok := d.str(fv, "type"); ok {
					t := FieldType(s)
					if !slices.Contains(FieldTypes, t) {
						names := make([]string, len(FieldTypes))
						for i, ft := range FieldTypes {
							names[i] = string(ft)
						}
						msg := fmt.Sprintf("field type must be one of %s, not %q", strings.Join(names, ", "), safetext.Truncate(s, maxQuoted))
						if to, ok := fieldTypeAliases[strings.ToLower(s)]; ok {
							msg += fmt.Sprintf("; did you mean %q?", to)
						} else if to, ok := suggest.Closest(s, names); ok {
							msg += fmt.Sprintf("; did you mean %q?", to)
						}
						d.errorf(fv, "%s", msg)
					}
					f.Type = t
				}
			case "required", "nullable":
				if fv.Kind == yaml.ScalarNode && fv.Tag == "!!bool" {
					b := fv.Value == "true"
					if fk.Value == "required" {
						f.Required = b
					} else {
						f.Nullable = b
					}
				} else {
					d.errorf(fv, "%s must be true or false, not %s", fk.Value, kindName(fv))
				}
			default:
				d.errorf(fk, "%s", unknownKey(fk.Value, fieldKeys))
			}
		}
		if !hasType && v.Kind == yaml.MappingNode {
			d.errorf(v, "field %q needs a type (%s)", safetext.Truncate(f.Path, maxQuoted), "string, int, float, bool, time, object, array or any")
		}
		out = append(out, f)
	}
	return out
}

// fieldTypeAliases are type names of other schema languages.
var fieldTypeAliases = map[string]string{
	"integer": "int", "long": "int", "int64": "int", "int32": "int", "number": "float", "double": "float",
	"decimal": "float", "boolean": "bool", "timestamp": "time", "datetime": "time", "date": "time",
	"text": "string", "str": "string", "map": "object", "record": "object", "struct": "object",
	"list": "array", "sequence": "array", "null": "any",
}

func (d *decoder) decodeVolume(n *yaml.Node) *Volume {
	v := &Volume{}
	pairs := d.pairs(n, "volume")
	var hasMin, hasPer bool
	for _, kv := range pairs {
		switch kv[0].Value {
		case "min":
			hasMin = true
			if i, ok := d.int(kv[1], "volume.min"); ok {
				if i < 1 {
					d.errorf(kv[1], "volume.min must be at least 1")
				}
				v.Min = i
			}
		case "per":
			hasPer = true
			v.Per, _ = d.duration(kv[1], "volume.per")
		default:
			d.errorf(kv[0], "%s", unknownKey(kv[0].Value, volumeKeys))
		}
	}
	if pairs != nil && (!hasMin || !hasPer) {
		d.errorf(n, "volume needs min and per")
	}
	return v
}

// decodeAnomaly reads an anomaly block.
func (d *decoder) decodeAnomaly(n *yaml.Node) *Anomaly {
	a := &Anomaly{Config: anomaly.Config{Seasonality: anomaly.None, Sensitivity: 3, Direction: anomaly.Both, MinHistory: 24}}
	pairs := d.pairs(n, "anomaly")
	if pairs == nil {
		return a
	}
	var ofNode, everyNode, dirNode *yaml.Node
	everyBad, historyBad := false, false
	for _, kv := range pairs {
		k, v := kv[0], kv[1]
		switch k.Value {
		case "metric":
			if s, ok := d.str(v, "anomaly.metric"); ok {
				a.Metric = anomaly.Metric(s)
				if !slices.Contains(anomaly.Metrics, a.Metric) {
					d.errorf(v, "%s", oneOf("anomaly.metric", s, metricNames()))
				}
			}
		case "of":
			ofNode = v
		case "every":
			var ok bool
			if a.Every, ok = d.duration(v, "anomaly.every"); ok {
				everyNode = v
			} else {
				everyBad = true
			}
		case "seasonality":
			if s, ok := d.str(v, "anomaly.seasonality"); ok {
				a.Seasonality = anomaly.Seasonality(s)
				if s != "none" && s != "daily" && s != "weekly" {
					d.errorf(v, "%s", oneOf("anomaly.seasonality", s, []string{"none", "daily", "weekly"}))
				}
			}
		case "sensitivity":
			if f, ok := d.float(v, "anomaly.sensitivity"); ok {
				if !(f > 0 && f <= 100) {
					d.errorf(v, "anomaly.sensitivity must be in (0,100], not %v", f)
				}
				a.Sensitivity = f
			}
		case "direction":
			dirNode = v
			if s, ok := d.str(v, "anomaly.direction"); ok {
				a.Direction = anomaly.Direction(s)
				if s != "up" && s != "down" && s != "both" {
					d.errorf(v, "%s", oneOf("anomaly.direction", s, []string{"up", "down", "both"}))
				}
			}
		case "min_history":
			if i, ok := d.int(v, "anomaly.min_history"); ok {
				if i < 1 || i > anomaly.MaxPoints {
					d.errorf(v, "anomaly.min_history must be in [1,%d], not %d", anomaly.MaxPoints, i)
					historyBad = true
				}
				a.MinHistory = i
			}
		case "train":
			if dur, ok := d.duration(v, "anomaly.train"); ok {
				a.Train = dur
			}
		default:
			d.errorf(k, "%s", unknownKey(k.Value, anomalyKeys))
		}
	}
	if a.Metric == "" {
		d.errorf(n, "anomaly needs metric (one of %s)", strings.Join(metricNames(), ", "))
		return a
	}
	if !slices.Contains(anomaly.Metrics, a.Metric) {
		return a
	}
	switch {
	case everyBad: // reported
	case everyNode == nil:
		d.errorf(n, "anomaly needs every (the bucket, e.g. 10m)")
	case a.Every < time.Second:
		d.errorf(everyNode, "anomaly.every must be at least 1s")
	case a.Every%time.Second != 0:
		d.errorf(everyNode, "anomaly.every must be whole seconds")
	case historyBad: // reported
	default:
		if err := a.Config.Check(); err != nil {
			at := everyNode
			if a.Metric == anomaly.Drift && a.Direction == anomaly.Down && dirNode != nil {
				at = dirNode
			}
			d.errorf(at, "anomaly: %v", err)
		}
	}
	switch a.Metric {
	case anomaly.Volume:
		if ofNode != nil {
			d.errorf(ofNode, "anomaly.of does not apply to metric volume (it counts the events the contract checks)")
		}
	case anomaly.ViolationRatio:
		if ofNode == nil {
			d.errorf(n, "anomaly of metric violation_ratio needs of: the name of the rule it watches")
		} else if s, ok := d.str(ofNode, "anomaly.of"); ok {
			a.Watch = s
			d.watched = append(d.watched, watchedRule{ofNode, s, d.rule})
		}
	default:
		if ofNode == nil {
			d.errorf(n, "anomaly of metric %s needs of: the expression measured", a.Metric)
		} else {
			a.Of = d.compile(ofNode, "anomaly.of", valueExpr)
		}
	}
	if a.Metric == anomaly.Drift && dirNode == nil {
		a.Direction = anomaly.Up
	}
	return a
}

// watchedRule is a rule named by a violation_ratio anomaly rule.
type watchedRule struct {
	n          *yaml.Node
	name, rule string // the rule watched, the anomaly rule watching it
}

// checkWatched reports violation_ratio rules that watch no rule of the
// contract, or another anomaly rule.
func (d *decoder) checkWatched(rs []*Rule) {
	defer func() { d.watched, d.rule = nil, "" }()
	byName := map[string]*Rule{}
	for _, r := range rs {
		byName[r.Name] = r
	}
	for _, w := range d.watched {
		d.rule = w.rule
		r := byName[w.name]
		switch {
		case r == nil:
			msg := fmt.Sprintf("anomaly.of: no rule %q in the contract", safetext.Truncate(w.name, maxQuoted))
			if to, ok := suggest.Closest(w.name, ruleNames(rs)); ok {
				msg += fmt.Sprintf("; did you mean %q?", to)
			}
			d.errorf(w.n, "%s", msg)
		case r.Kind == KindAnomaly:
			d.errorf(w.n, "anomaly.of: rule %q is an anomaly rule; violation_ratio watches a rule judged per event", w.name)
		case r.Correlates():
			d.errorf(w.n, "anomaly.of: rule %q is a %s rule, judged when its pair completes; violation_ratio watches a rule judged per event", w.name, r.Kind)
		}
	}
}

// decodeSegment reads the segment block of a contract.
func (d *decoder) decodeSegment(n *yaml.Node) *Segment {
	sg := &Segment{Max: 10}
	pairs := d.pairs(n, "segment")
	if pairs == nil {
		return sg
	}
	var byNode *yaml.Node
	for _, kv := range pairs {
		k, v := kv[0], kv[1]
		switch k.Value {
		case "by":
			byNode = v
		case "max":
			if i, ok := d.int(v, "segment.max"); ok {
				if i < 1 || i > MaxSegments {
					d.errorf(v, "segment.max must be in [1,%d], not %d", MaxSegments, i)
				}
				sg.Max = i
			}
		default:
			d.errorf(k, "%s", unknownKey(k.Value, segmentKeys))
		}
	}
	if byNode == nil {
		d.errorf(n, "segment needs by: the expression whose value names an event's segment")
	} else {
		sg.By = d.compile(byNode, "segment.by", valueExpr)
	}
	return sg
}

// MaxSegments bounds segment.max: every segment is a series of every
// anomaly rule and a value of the segment label.
const MaxSegments = 100

// MaxSeries bounds the anomaly series of a contract, rules × (segment.max
// + 1): each keeps up to 4,096 buckets.
const MaxSeries = 1000

func metricNames() []string {
	out := make([]string, len(anomaly.Metrics))
	for i, m := range anomaly.Metrics {
		out[i] = string(m)
	}
	return out
}

// oneOf is the message of a value that is not one of the allowed ones.
func oneOf(key, got string, allowed []string) string {
	msg := fmt.Sprintf("%s must be %s, not %q", key, strings.Join(allowed, ", "), safetext.Truncate(got, maxQuoted))
	if to, ok := valueAliases[got]; ok && slices.Contains(allowed, to) {
		msg += fmt.Sprintf("; did you mean %q?", to)
	} else if to, ok := suggest.Closest(got, allowed); ok {
		msg += fmt.Sprintf("; did you mean %q?", to)
	}
	return msg
}

// valueAliases are the words other tools use for a value of an anomaly
// block.
var valueAliases = map[string]string{
	"nulls": "null_rate", "null": "null_rate", "null_count": "null_rate", "missing": "null_rate", "completeness": "null_rate",
	"count": "volume", "rows": "volume", "row_count": "volume", "events": "volume",
	"avg": "mean", "average": "mean", "percentile": "p95", "p99": "p95", "quantile": "p95",
	"unique": "distinct", "cardinality": "distinct", "count_distinct": "distinct",
	"psi": "drift", "distribution": "drift", "failure_rate": "violation_ratio", "error_rate": "violation_ratio",
	"lower": "down", "decrease": "down", "below": "down", "drop": "down",
	"higher": "up", "increase": "up", "above": "up", "spike": "up", "any": "both",
	"day": "daily", "day_of_week": "weekly", "week": "weekly",
}

func (d *decoder) decodeQuarantine(n *yaml.Node) *Quarantine {
	q := &Quarantine{}
	for _, kv := range d.pairs(n, "quarantine") {
		k, v := kv[0], kv[1]
		switch k.Value {
		case "topic":
			q.Topic, _ = d.str(v, "quarantine.topic")
		case "mask_pii":
			if v.Kind == yaml.ScalarNode && v.Tag == "!!bool" {
				q.MaskPII = v.Value == "true"
			} else {
				d.errorf(v, "quarantine.mask_pii must be true or false, not %s", kindName(v))
			}
		default:
			d.errorf(k, "%s", unknownKey(k.Value, quarantineKeys))
		}
	}
	if q.Topic == "" {
		d.errorf(n, "quarantine needs a topic")
	}
	return q
}

func (d *decoder) decodeAlert(n *yaml.Node) *Alert {
	a := DefaultAlert
	for _, kv := range d.pairs(n, "alert") {
		k, v := kv[0], kv[1]
		switch k.Value {
		case "ratio":
			if f, ok := d.float(v, "alert.ratio"); ok {
				if f < 0 || f >= 1 {
					d.errorf(v, "alert.ratio must be in [0,1), not %v", f)
				}
				a.Ratio = f
			}
		case "window":
			if dur, ok := d.duration(v, "alert.window"); ok {
				a.Window = dur
			}
		case "min_events":
			if i, ok := d.int(v, "alert.min_events"); ok {
				if i < 0 {
					d.errorf(v, "alert.min_events must not be negative")
				}
				a.MinEvents = i
			}
		case "channels":
			a.Channels = d.strList(v, "alert.channels")
		default:
			d.errorf(k, "%s", unknownKey(k.Value, alertKeys))
		}
	}
	return &a
}

// exprPos maps a position inside an expression (line starting at 1, rune
// column starting at 0, as expr reports them) to the position in the file.
// Where the scalar's text in the file is not the expression verbatim (a
// folded or multi-line plain scalar, escapes before the position), it
// falls back to where the scalar starts.
func (d *decoder) exprPos(n *yaml.Node, line, col int) (int, int) {
	raw := func(l int) string {
		if l >= 1 && l <= len(d.lines) {
			return strings.TrimRight(d.lines[l-1], "\r\n")
		}
		return ""
	}
	exprLines := strings.Split(n.Value, "\n")
	if line < 1 || line > len(exprLines) {
		return n.Line, n.Column
	}
	want := []rune(exprLines[line-1])
	if col > len(want) {
		col = len(want)
	}
	prefix := string(want[:col])
	switch n.Style {
	case yaml.LiteralStyle:
		text := raw(n.Line + line)
		trimmed := strings.TrimLeft(text, " ")
		indent := len([]rune(text)) - len([]rune(trimmed)) - (len(want) - len([]rune(strings.TrimLeft(string(want), " "))))
		if strings.HasPrefix(string([]rune(text)[indent:]), prefix) {
			return n.Line + line, indent + col + 1
		}
	case yaml.SingleQuotedStyle, yaml.DoubleQuotedStyle, 0:
		if line != 1 || strings.Contains(n.Value, "\n") {
			break
		}
		start := n.Column - 1 // rune offset of the scalar in its line
		if n.Style != 0 {
			start++ // the opening quote
		}
		text := []rune(raw(n.Line))
		if start <= len(text) && strings.HasPrefix(string(text[start:]), prefix) {
			return n.Line, start + col + 1
		}
	}
	return n.Line, n.Column
}

func indent(s string) string {
	return strings.ReplaceAll(s, "\n", "\n  ")
}
