package importer

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ConfluentRuleSet translates the rule set of a Confluent Schema Registry
// schema into one assay contract. data is either a registered schema as
// the registry returns it (subject, version, schema, metadata, ruleSet)
// or just the ruleSet ({"domainRules": [...], "migrationRules": [...]}).
//
// CONDITION rules of type CEL are translated with TranslateCEL; onFailure
// ERROR makes them critical, anything else warning. CEL_FIELD, TRANSFORM
// (encryption and other rewrites), JSONATA, migration and encoding rules,
// and rules the translator refuses, are listed as untranslated; disabled
// rules are skipped with a note. From a registered schema, the subject
// gives the name and (with the TopicNameStrategy, subject "<topic>-value")
// the topic, metadata.properties.owner the owner, and PII tags (in
// metadata.tags or an Avro or JSON Schema's confluent:tags) the pii paths.
// The error is only for input that is not such JSON.
func ConfluentRuleSet(data []byte, opts Options) (*Result, error) {
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("confluent: %v", err)
	}
	ruleSet := getMap(doc, "ruleSet")
	// A registered schema without rules still gives its fields.
	registered := ruleSet != nil || getStr(doc, "schema") != ""
	if !registered {
		if doc["domainRules"] == nil && doc["migrationRules"] == nil && doc["encodingRules"] == nil {
			return nil, errors.New("confluent: no ruleSet (nor domainRules or migrationRules) in the document")
		}
		ruleSet = doc
	}
	subject := getStr(doc, "subject")
	c := &contract{format: "auto", formatNote: "the registry's wire format, or plain JSON"}
	topic := ""
	for _, suffix := range []string{"-value", "-key"} {
		if strings.HasSuffix(subject, suffix) {
			topic = strings.TrimSuffix(subject, suffix)
		}
	}
	switch {
	case opts.Contract != "":
		c.name = contractName(opts.Contract)
	case topic != "":
		c.name = contractName(topic)
	case subject != "":
		c.name = contractName(subject)
	default:
		c.name = "imported-ruleset"
	}
	meta := getMap(doc, "metadata")
	props := getMap(meta, "properties")
	switch {
	case opts.Owner != "":
		c.owner = opts.Owner
	case getStr(props, "owner") != "":
		c.owner, c.ownerComment = getStr(props, "owner"), "from metadata.properties.owner"
	default:
		c.owner, c.ownerComment = todoOwner, "TODO: the producing team (the source names none)"
	}
	switch {
	case len(opts.Topics) > 0:
		c.topics = opts.Topics
	case topic != "":
		c.topics, c.topicComment = []string{topic}, "from the subject (TopicNameStrategy)"
	default:
		c.topics, c.topicComment = []string{todoTopic}, "TODO: the Kafka topic (the subject does not name it)"
	}
	if v := getStr(doc, "version"); v != "" {
		c.version = v
	}
	c.description = getStr(props, "description")
	what := "the rule set"
	if subject != "" {
		what = fmt.Sprintf("subject %q", subject)
		if c.version != "" {
			what += " version " + c.version
		}
	}
	c.comment = fmt.Sprintf("Imported from the Schema Registry rule set of %s by assay import.", what)

	schemaFields(c, doc)
	if ruleSet == nil && len(c.fields) == 0 {
		return nil, errors.New("confluent: no ruleSet, and no field could be read from the schema")
	}
	for _, p := range confluentPII(doc) {
		c.addPII(p)
	}
	if len(c.pii) > 0 {
		c.piiComment = "from the PII tags of the schema"
	}

	for i, r := range getList(ruleSet, "domainRules") {
		rm, ok := r.(map[string]any)
		if !ok {
			continue
		}
		translateRule(c, rm, fmt.Sprintf("domainRules[%d]", i))
	}
	for _, group := range []struct{ key, why string }{
		{"migrationRules", "migration rules rewrite messages between schema versions; there is nothing to check per event"},
		{"encodingRules", "encoding rules act on the serialized bytes; there is nothing to check per event"},
	} {
		for i, r := range getList(ruleSet, group.key) {
			rm, _ := r.(map[string]any)
			c.skip(fmt.Sprintf("%s[%d] %s", group.key, i, getStr(rm, "name")), group.why)
		}
	}
	return result([]*contract{c}), nil
}

func translateRule(c *contract, r map[string]any, where string) {
	name, kind, typ := getStr(r, "name"), strings.ToUpper(getStr(r, "kind")), strings.ToUpper(getStr(r, "type"))
	what := fmt.Sprintf("%s %s (%s %s)", where, name, orDash(kind), orDash(typ))
	switch {
	case getBool(r, "disabled"):
		c.skip(what, "disabled in the registry; skipped")
	case kind == "TRANSFORM":
		c.skip(what, "a TRANSFORM rule rewrites the message (e.g. encryption); it checks nothing")
	case kind != "CONDITION" && kind != "":
		c.skip(what, "unknown rule kind")
	case typ == "CEL_FIELD":
		c.skip(what, "CEL_FIELD runs once per field chosen by name, type or tag; write a rule per field by hand")
	case typ != "CEL":
		c.skip(what, fmt.Sprintf("%s conditions are not translated; only CEL", orDash(typ)))
	default:
		expr, err := TranslateCEL(getStr(r, "expr"))
		if err != nil {
			c.skip(what, "CEL "+quote(getStr(r, "expr"))+" not translated: "+err.Error())
			return
		}
		sev := "warning"
		if strings.Contains(strings.ToUpper(getStr(r, "onFailure")), "ERROR") {
			sev = "critical"
		}
		if name == "" {
			name = "rule"
		}
		src := fmt.Sprintf("%s %s: CEL %s", where, name, getStr(r, "expr"))
		if m := getStr(r, "mode"); m != "" {
			src += " (mode " + m + ")"
		}
		c.addChecked(rule{source: src, name: name, kind: "expr", expr: expr, severity: sev, description: getStr(r, "doc")}, what)
	}
}

// confluentPII finds fields tagged PII: metadata.tags ("Order.ssn":
// ["PII"], the first segment being the record) and confluent:tags inside
// an Avro or JSON Schema.
func confluentPII(doc map[string]any) []string {
	var out []string
	add := func(p string) {
		if p != "" && piiPathRE.MatchString(p) && !contains(out, p) {
			out = append(out, p)
		}
	}
	tags := getMap(getMap(doc, "metadata"), "tags")
	for _, k := range sortedKeys(tags) {
		if !hasPIITag(tags[k]) {
			continue
		}
		p := strings.TrimPrefix(k, "**.")
		if i := strings.IndexByte(p, '.'); i >= 0 && p == k {
			p = p[i+1:]
		}
		if !strings.Contains(p, "*") {
			add(p)
		}
	}
	if s := getStr(doc, "schema"); s != "" {
		var schema any
		if json.Unmarshal([]byte(s), &schema) == nil {
			walkSchemaPII(schema, nil, add, 0)
		}
	}
	return out
}

func hasPIITag(v any) bool {
	l, _ := v.([]any)
	for _, t := range l {
		if s, ok := t.(string); ok && strings.EqualFold(s, "PII") {
			return true
		}
	}
	return false
}

// walkSchemaPII walks Avro records (fields) and JSON Schema objects
// (properties), calling add for every field tagged PII.
func walkSchemaPII(s any, path []string, add func(string), depth int) {
	if depth > 32 {
		return
	}
	switch s := s.(type) {
	case []any: // an Avro union
		for _, t := range s {
			walkSchemaPII(t, path, add, depth+1)
		}
	case map[string]any:
		if hasPIITag(s["confluent:tags"]) && len(path) > 0 {
			add(strings.Join(path, "."))
		}
		for _, f := range getList(s, "fields") {
			fm, ok := f.(map[string]any)
			if !ok {
				continue
			}
			fp := append(append([]string(nil), path...), getStr(fm, "name"))
			if hasPIITag(fm["confluent:tags"]) {
				add(strings.Join(fp, "."))
			}
			walkSchemaPII(fm["type"], fp, add, depth+1)
		}
		props := getMap(s, "properties")
		for _, k := range sortedKeys(props) {
			walkSchemaPII(props[k], append(append([]string(nil), path...), k), add, depth+1)
		}
		if t, ok := s["type"].(map[string]any); ok && s["fields"] == nil {
			walkSchemaPII(t, path, add, depth+1)
		}
	}
}
