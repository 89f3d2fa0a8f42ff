package importer

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode"

	"gopkg.in/yaml.v3"
)

// ODCS translates an Open Data Contract Standard document (v3; the v2
// `dataset:` layout and the Data Contract Specification's `models:` are
// read as well) into assay contracts, one per schema object. The error is
// only for input that is not such a document.
//
// Per property: required → `<f> != nil` (critical for a primary key),
// unique or primaryKey → a unique rule, the logical type → a type check,
// logicalTypeOptions pattern, minLength/maxLength, minimum/maximum
// (exclusive too) and enum → expressions guarded by `when: <f> != nil`,
// classification pii/sensitive/confidential/restricted or a pii tag → pii.
// Quality checks: library nullValues/missingValues, duplicateValues,
// invalidValues/validValues, custom checks with engine expr or a simple
// boolean SQL condition. rowCount, sql, text and other engines' checks
// are reported as untranslated.
func ODCS(data []byte, opts Options) (*Result, error) {
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("odcs: %v", err)
	}
	if doc == nil {
		return nil, errors.New("odcs: empty document")
	}
	objects, err := odcsObjects(doc)
	if err != nil {
		return nil, err
	}
	base := opts.Contract
	if base == "" {
		base = odcsName(doc)
	}
	owner, ownerComment := opts.Owner, ""
	if owner == "" {
		owner = odcsOwner(doc)
	}
	if owner == "" {
		owner, ownerComment = todoOwner, "TODO: the producing team (the source names none)"
	}
	kafkaTopics := odcsKafkaTopics(doc)
	descr := getStr(doc, "description")
	if d := getMap(doc, "description"); d != nil {
		descr = getStr(d, "purpose")
	}
	if descr == "" {
		descr = getStr(getMap(doc, "info"), "description")
	}
	version := getStr(doc, "version")
	if version == "" {
		version = getStr(getMap(doc, "info"), "version")
	}
	srcID := getStr(doc, "id")
	if srcID == "" {
		srcID = getStr(doc, "name")
	}
	var cs []*contract
	for i, obj := range objects {
		objName := getStr(obj, "name")
		if objName == "" {
			objName = fmt.Sprintf("schema[%d]", i)
		}
		c := &contract{owner: owner, ownerComment: ownerComment, version: version, description: descr}
		c.name = contractName(base)
		if len(objects) > 1 {
			c.name = contractName(base + "." + objName)
		}
		c.comment = fmt.Sprintf("Imported from ODCS data contract %q (schema object %q) by assay import.", srcID, objName)
		switch {
		case len(opts.Topics) > 0:
			c.topics = opts.Topics
		case len(kafkaTopics) > 0:
			c.topics, c.topicComment = kafkaTopics, "from the kafka server entries"
		case getStr(obj, "physicalName") != "":
			c.topics, c.topicComment = []string{getStr(obj, "physicalName")}, "from physicalName: check it is the Kafka topic"
		default:
			c.topics, c.topicComment = []string{todoTopic}, "TODO: the Kafka topic (the source names none)"
		}
		b := &odcsBuilder{c: c, obj: objName}
		b.properties(nil, getList(obj, "properties"), objName)
		for qi, q := range getList(obj, "quality") {
			if qm, ok := q.(map[string]any); ok {
				b.quality(qm, nil, fmt.Sprintf("%s: quality[%d]", objName, qi))
			}
		}
		if len(c.pii) > 0 {
			c.piiComment = "from classification and tags"
		}
		if len(c.fields) > 0 {
			c.fieldsComment = "from the properties: logicalType (or physicalType) and required"
		}
		cs = append(cs, c)
	}
	return result(cs), nil
}

// odcsObjects returns the schema objects in the v3 shape: maps with name,
// physicalName, properties and quality.
func odcsObjects(doc map[string]any) ([]map[string]any, error) {
	var out []map[string]any
	if s, ok := doc["schema"].([]any); ok {
		for _, o := range s {
			if m, ok := o.(map[string]any); ok {
				out = append(out, m)
			}
		}
	} else if ds, ok := doc["dataset"].([]any); ok {
		// ODCS v2: dataset: [{table, columns: [{column, isNullable, isUnique, isPrimaryKey, ...}]}]
		for _, t := range ds {
			tm, ok := t.(map[string]any)
			if !ok {
				continue
			}
			obj := map[string]any{"name": getStr(tm, "table"), "physicalName": getStr(tm, "physicalName"), "quality": tm["quality"]}
			var props []any
			for _, col := range getList(tm, "columns") {
				cm, ok := col.(map[string]any)
				if !ok {
					continue
				}
				p := map[string]any{}
				for k, v := range cm {
					p[k] = v
				}
				p["name"] = getStr(cm, "column")
				if v, ok := cm["isNullable"].(bool); ok {
					p["required"] = !v
				}
				p["unique"] = getBool(cm, "isUnique")
				p["primaryKey"] = getBool(cm, "isPrimaryKey")
				props = append(props, p)
			}
			obj["properties"] = props
			out = append(out, obj)
		}
	} else if models, ok := doc["models"].(map[string]any); ok {
		// Data Contract Specification: models: {name: {fields: {name: {type, required, ...}}}}
		for _, name := range sortedKeys(models) {
			mm, _ := models[name].(map[string]any)
			obj := map[string]any{"name": name, "quality": mm["quality"], "properties": dcsFields(getMap(mm, "fields"))}
			out = append(out, obj)
		}
	} else {
		return nil, errors.New("odcs: not an ODCS document: no schema (v3), dataset (v2) or models")
	}
	return out, nil
}

// dcsFields turns Data Contract Specification fields into v3 properties.
func dcsFields(fields map[string]any) []any {
	var out []any
	for _, name := range sortedKeys(fields) {
		f, _ := fields[name].(map[string]any)
		p := map[string]any{"name": name}
		opts := map[string]any{}
		for k, v := range f {
			switch k {
			case "type":
				p["logicalType"] = v
			case "pattern", "minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "enum", "format":
				opts[k] = v
			case "pii":
				if getBool(f, "pii") {
					p["classification"] = "pii"
				}
			case "fields":
				p["properties"] = dcsFields(getMap(f, "fields"))
			default:
				p[k] = v
			}
		}
		if len(opts) > 0 {
			p["logicalTypeOptions"] = opts
		}
		out = append(out, p)
	}
	return out
}

func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// odcsName picks the contract name. ODCS v3 has `name` for "the name of
// the data contract" and `id` for "a unique identifier used to reduce the
// risk of dataset name collisions, such as a UUID": the name it is, then
// the Data Contract Specification's info.title, then the data product,
// and the id only when there is nothing else and it is no UUID.
func odcsName(doc map[string]any) string {
	for _, s := range []string{getStr(doc, "name"), getStr(getMap(doc, "info"), "title"), getStr(doc, "dataProduct")} {
		if contractName(s) != "imported" {
			return s
		}
	}
	if id := getStr(doc, "id"); !uuidRE.MatchString(id) {
		return id
	}
	return ""
}

func odcsOwner(doc map[string]any) string {
	if s := getStr(doc, "owner"); s != "" {
		return s
	}
	if s := getStr(doc, "team"); s != "" {
		return s
	}
	if t := getMap(doc, "team"); t != nil && getStr(t, "name") != "" {
		return getStr(t, "name")
	}
	return getStr(getMap(doc, "info"), "owner")
}

// odcsKafkaTopics collects the topic of every kafka server entry (servers
// is a list in ODCS, a map in the Data Contract Specification).
func odcsKafkaTopics(doc map[string]any) []string {
	var servers []any
	switch s := doc["servers"].(type) {
	case []any:
		servers = s
	case map[string]any:
		for _, k := range sortedKeys(s) {
			servers = append(servers, s[k])
		}
	}
	var out []string
	for _, s := range servers {
		m, ok := s.(map[string]any)
		if !ok || !strings.EqualFold(getStr(m, "type"), "kafka") {
			continue
		}
		if t := getStr(m, "topic"); t != "" && !contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

type odcsBuilder struct {
	c   *contract
	obj string
}

var piiPathRE = regexp.MustCompile(`^[^.\s]+(\.[^.\s]+)*$`)

func (b *odcsBuilder) properties(prefix []string, props []any, where string) {
	for i, p := range props {
		pm, ok := p.(map[string]any)
		if !ok {
			continue
		}
		name := getStr(pm, "name")
		if name == "" {
			b.c.skip(fmt.Sprintf("%s.properties[%d]", where, i), "a property without a name")
			continue
		}
		path := append(append([]string(nil), prefix...), name)
		b.property(path, pm, b.obj+"."+strings.Join(path, "."))
	}
}

func (b *odcsBuilder) property(path []string, p map[string]any, loc string) {
	c := b.c
	ref := fieldRef(path, false)
	guard := fieldRef(path, true) + " != nil"
	rname := strings.Join(path, ".")
	descr := getStr(p, "description")
	// Nested fields are checked only when their parent is there.
	parentGuard := ""
	if len(path) > 1 {
		parentGuard = fieldRef(path[:len(path)-1], true) + " != nil"
	}
	b.odcsField(path, p, loc)
	pk := getBool(p, "primaryKey")
	if getBool(p, "required") || pk {
		sev, what := "warning", "required"
		if pk {
			sev, what = "critical", "primaryKey"
		}
		c.addChecked(rule{source: loc + ": " + what, name: rname + "-required", kind: "expr",
			expr: ref + " != nil", when: parentGuard, severity: sev, description: descr}, loc+": "+what)
	}
	if getBool(p, "unique") || pk {
		sev, what := "warning", "unique"
		if pk {
			sev, what = "critical", "primaryKey"
		}
		// A missing key is the required rule's business, not an error here.
		c.addChecked(rule{source: loc + ": " + what, name: rname + "-unique", kind: "unique",
			expr: ref, when: guard, severity: sev}, loc+": "+what)
	}
	lt := strings.ToLower(getStr(p, "logicalType"))
	o := getMap(p, "logicalTypeOptions")
	var layout string // the Go layout of a date property's values
	switch t, ok := typeChecks[lt]; {
	case ok:
		c.addChecked(rule{source: loc + ": logicalType " + lt, name: rname + "-type", kind: "expr",
			expr: fmt.Sprintf(t, ref), when: guard}, loc+": logicalType")
	case dateTypes[lt]:
		layout = b.dateRule(path, lt, getStr(o, "format"), loc)
	case lt != "":
		c.skip(loc+": logicalType "+lt, "an unknown logical type; no type check is written")
	}
	if o != nil {
		b.typeOptions(path, o, loc, lt, layout)
	}
	if isPII(p) {
		if piiPathRE.MatchString(rname) {
			c.addPII(rname)
		} else {
			c.skip(loc+": classification", fmt.Sprintf("pii path %q cannot be written as dotted field names", rname))
		}
	}
	for qi, q := range getList(p, "quality") {
		if qm, ok := q.(map[string]any); ok {
			b.quality(qm, path, fmt.Sprintf("%s: quality[%d]", loc, qi))
		}
	}
	if nested := getList(p, "properties"); len(nested) > 0 {
		b.properties(path, nested, loc)
	}
	if items := getMap(p, "items"); items != nil && (items["quality"] != nil || items["properties"] != nil || items["logicalTypeOptions"] != nil) {
		c.skip(loc+": items", "checks on the elements of an array are not translated; write them with all(...) by hand")
	}
}

// typeChecks by logical type; %s is the field. JSON integers decode as
// int, other numbers as float.
var typeChecks = map[string]string{
	"string":  `type(%s) == "string"`,
	"integer": `type(%s) == "int"`,
	"long":    `type(%s) == "int"`,
	"int":     `type(%s) == "int"`,
	"number":  `type(%s) in ["int", "float"]`,
	"double":  `type(%s) in ["int", "float"]`,
	"float":   `type(%s) in ["int", "float"]`,
	"decimal": `type(%s) in ["int", "float"]`,
	"boolean": `type(%s) == "bool"`,
	"array":   `type(%s) == "array"`,
	"object":  `type(%s) == "map"`,
	"record":  `type(%s) == "map"`,
}

// handledOptions are the logicalTypeOptions typeOptions translates (and
// format, for dates, dateRule).
var handledOptions = map[string]bool{"pattern": true, "minLength": true, "maxLength": true, "minItems": true, "maxItems": true,
	"minimum": true, "maximum": true, "exclusiveMinimum": true, "exclusiveMaximum": true, "enum": true}

// dateTypes are the logical types of dates and times (ODCS v3.0 has date,
// v3.1 adds timestamp and time).
var dateTypes = map[string]bool{"date": true, "timestamp": true, "time": true}

// isoDate is what a date without a format may look like: the shapes
// expr's date() reads, a date, "date time" or RFC 3339.
const isoDate = `^[0-9]{4}-[0-9]{2}-[0-9]{2}( [0-9]{2}:[0-9]{2}:[0-9]{2}|T[0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2}))?$`

// isoTime is a time of day without a format.
const isoTime = `^[0-9]{2}:[0-9]{2}:[0-9]{2}$`

// dateRule checks that a date property is a string that parses as a
// date: its shape with matches (so that a wrong shape fails), then expr's
// date() (so that 2026-02-31 is an error, with the parse error as the
// reason). With a format (Java-style, "yyyy-MM-dd HH:mm:ss") the layout
// is that format's; without, the ISO 8601 shapes date() reads. It returns
// the Go layout ("" for date()'s own) for minimum and maximum.
func (b *odcsBuilder) dateRule(path []string, lt, format, loc string) string {
	c := b.c
	ref, guard, rname := fieldRef(path, false), fieldRef(path, true)+" != nil", strings.Join(path, ".")
	re, layout, src := isoDate, "", loc+": logicalType "+lt
	if lt == "time" {
		re, layout = isoTime, "15:04:05"
	}
	if format != "" {
		var err error
		if re, layout, err = javaDateFormat(format); err != nil {
			c.skip(loc+": logicalTypeOptions.format", fmt.Sprintf("format %q: %v; the date is checked as a string only", format, err))
			c.addChecked(rule{source: src, name: rname + "-type", kind: "expr", expr: fmt.Sprintf(`type(%s) == "string"`, ref), when: guard}, src)
			return ""
		}
		src += " (format " + format + ")"
	}
	what := "an ISO 8601 date or date-time"
	switch {
	case format != "":
		what = "a date of the format " + format
	case lt == "time":
		what = "a time of day (HH:mm:ss)"
	}
	c.addChecked(rule{source: src, name: rname + "-date", kind: "expr",
		expr: ref + " matches " + quote(re) + " && " + dateOf(ref, layout) + " != nil", when: guard,
		description: fmt.Sprintf("%s is %s.", rname, what)}, src)
	return layout
}

// dateOf writes expr's date() of x, with a layout when there is one.
func dateOf(x, layout string) string {
	if layout == "" {
		return "date(" + x + ")"
	}
	return "date(" + x + ", " + quote(layout) + ")"
}

// dateBound returns a date minimum or maximum as text of the layout.
// YAML reads an unquoted 2020-01-01 as a timestamp.
func dateBound(v any, layout string) (string, bool) {
	switch v := v.(type) {
	case time.Time:
		if layout == "" {
			if v.Equal(v.Truncate(24*time.Hour)) && v.Location() == time.UTC {
				return v.Format("2006-01-02"), true
			}
			return v.Format(time.RFC3339Nano), true
		}
		return v.Format(layout), true
	case string:
		if layout != "" {
			_, err := time.Parse(layout, v)
			return v, err == nil
		}
		return v, regexp.MustCompile(isoDate).MatchString(v)
	}
	return "", false
}

// javaDateFormat turns a Java-style date format into a regular expression
// of its shape and a Go layout. Letters with no translation are refused.
func javaDateFormat(f string) (re, layout string, err error) {
	tokens := []struct{ java, re, goLayout string }{
		{"yyyy", "[0-9]{4}", "2006"}, {"MM", "[0-9]{2}", "01"}, {"dd", "[0-9]{2}", "02"},
		{"HH", "[0-9]{2}", "15"}, {"mm", "[0-9]{2}", "04"}, {"ss", "[0-9]{2}", "05"},
		{"SSS", "[0-9]{3}", "000"}, {"XXX", "(Z|[+-][0-9]{2}:[0-9]{2})", "Z07:00"}, {"Z", "[+-][0-9]{4}", "-0700"},
	}
	var r, l strings.Builder
	r.WriteString("^")
	for i := 0; i < len(f); {
		if f[i] == '\'' { // a quoted literal: 'T'
			j := strings.IndexByte(f[i+1:], '\'')
			if j < 0 {
				return "", "", errors.New("an unterminated quote")
			}
			lit := f[i+1 : i+1+j]
			if strings.ContainsAny(lit, "0123456789") || lit != "T" && strings.IndexFunc(lit, unicode.IsLetter) >= 0 {
				return "", "", fmt.Errorf("the quoted literal %q is not translated", lit)
			}
			r.WriteString(regexp.QuoteMeta(lit))
			l.WriteString(lit)
			i += j + 2
			continue
		}
		matched := false
		for _, t := range tokens {
			if strings.HasPrefix(f[i:], t.java) {
				r.WriteString(t.re)
				l.WriteString(t.goLayout)
				i += len(t.java)
				matched = true
				break
			}
		}
		if matched {
			continue
		}
		ch := f[i]
		if ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' {
			return "", "", fmt.Errorf("the pattern letter %q is not translated (yyyy MM dd HH mm ss SSS XXX Z are)", ch)
		}
		if ch >= '0' && ch <= '9' {
			return "", "", errors.New("digits in a format are not translated")
		}
		r.WriteString(regexp.QuoteMeta(string(ch)))
		l.WriteByte(ch)
		i++
	}
	r.WriteString("$")
	return r.String(), l.String(), nil
}

func isPII(p map[string]any) bool {
	switch strings.ToLower(getStr(p, "classification")) {
	case "pii", "sensitive", "confidential", "restricted", "secret":
		return true
	}
	if getBool(p, "pii") {
		return true
	}
	for _, t := range getList(p, "tags") {
		if s, ok := t.(string); ok && strings.Contains(strings.ToLower(s), "pii") {
			return true
		}
	}
	return false
}

func (b *odcsBuilder) typeOptions(path []string, o map[string]any, loc, lt, layout string) {
	c := b.c
	ref := fieldRef(path, false)
	guard := fieldRef(path, true) + " != nil"
	rname := strings.Join(path, ".")
	src := loc + ": logicalTypeOptions."
	if pat := getStr(o, "pattern"); pat != "" {
		c.addChecked(rule{source: src + "pattern", name: rname + "-pattern", kind: "expr",
			expr: ref + " matches " + quote(pat), when: guard}, src+"pattern")
	}
	lenOf := "len(" + ref + ")"
	var lens []string
	for _, k := range []struct{ key, op string }{{"minLength", ">="}, {"maxLength", "<="}, {"minItems", ">="}, {"maxItems", "<="}} {
		if n, ok := getNum(o, k.key); ok {
			lens = append(lens, lenOf+" "+k.op+" "+n)
		}
	}
	if len(lens) > 0 {
		c.addChecked(rule{source: src + "minLength/maxLength", name: rname + "-length", kind: "expr",
			expr: strings.Join(lens, " && "), when: guard}, src+"minLength/maxLength")
	}
	var cmp []string
	for _, k := range []struct{ key, op, excl string }{{"minimum", ">=", ">"}, {"maximum", "<=", "<"}} {
		exclKey := "exclusiveM" + k.key[1:]
		op, v, ok := k.op, o[k.key], o[k.key] != nil
		if getBool(o, exclKey) { // ODCS: exclusiveMinimum: true
			op = k.excl
		} else if !ok && o[exclKey] != nil { // JSON Schema: exclusiveMinimum: 0
			if _, isBool := o[exclKey].(bool); !isBool {
				op, v, ok = k.excl, o[exclKey], true
			}
		}
		if !ok {
			continue
		}
		if dateTypes[lt] {
			d, ok := dateBound(v, layout)
			if !ok {
				c.skip(src+k.key, fmt.Sprintf("%v is not a date of the property's format", v))
				continue
			}
			cmp = append(cmp, dateOf(ref, layout)+" "+op+" "+dateOf(quote(d), layout))
			continue
		}
		n, ok := getNum(map[string]any{"v": v}, "v")
		if !ok {
			c.skip(src+k.key, fmt.Sprintf("%v is not a number", v))
			continue
		}
		cmp = append(cmp, ref+" "+op+" "+n)
	}
	if len(cmp) > 0 {
		c.addChecked(rule{source: src + "minimum/maximum", name: rname + "-range", kind: "expr",
			expr: strings.Join(cmp, " && "), when: guard}, src+"minimum/maximum")
	}
	if vs := getList(o, "enum"); vs != nil {
		if l, ok := listLiteral(vs); ok {
			c.addChecked(rule{source: src + "enum", name: rname + "-values", kind: "expr",
				expr: ref + " in " + l, when: guard}, src+"enum")
		} else {
			c.skip(src+"enum", "the values are not all scalars")
		}
	}
	for _, k := range sortedKeys(o) {
		if handledOptions[k] || k == "format" && dateTypes[lt] {
			continue
		}
		c.skip(src+k, fmt.Sprintf("%s %v has no per-event translation; write it by hand if it matters", k, o[k]))
	}
}

// Library metrics (ODCS v3.0 `rule`, v3.1 `metric`) by what they check.
var (
	libNull    = map[string]bool{"nullvalues": true, "nullcheck": true, "notnull": true, "not_null": true, "missingvalues": true, "completeness": true, "nullcount": true}
	libUnique  = map[string]bool{"duplicatevalues": true, "duplicatecount": true, "uniquecheck": true, "unique": true, "uniqueness": true, "duplicates": true}
	libValid   = map[string]bool{"invalidvalues": true, "validvalues": true, "validvaluescheck": true, "acceptedvalues": true, "accepted_values": true, "allowedvalues": true}
	libRows    = map[string]bool{"rowcount": true, "countcheck": true, "row_count": true}
	otherTools = map[string]string{"soda": "Soda", "greatexpectations": "Great Expectations", "great-expectations": "Great Expectations",
		"great_expectations": "Great Expectations", "montecarlo": "Monte Carlo", "monte-carlo": "Monte Carlo", "dbt": "dbt",
		"deequ": "Deequ", "dqx": "DQX", "anomalo": "Anomalo", "bigeye": "Bigeye", "sifflet": "Sifflet"}
)

// quality translates one quality block; col is the property it belongs
// to (nil at object level).
func (b *odcsBuilder) quality(q map[string]any, col []string, what string) {
	c := b.c
	typ := strings.ToLower(getStr(q, "type"))
	if typ == "" {
		typ = "library"
	}
	sev := severityOf(getStr(q, "severity"), "warning")
	descr := getStr(q, "description")
	name := getStr(q, "name")
	colName := b.obj
	if col != nil {
		colName = strings.Join(col, ".")
	}
	switch typ {
	case "text":
		c.skip(what+" (type text)", "a text check only describes the expectation in words")
	case "sql":
		c.skip(what+" (type sql)", "SQL queries run over a table, not over one event")
	case "custom":
		engine := getStr(q, "engine")
		impl, isStr := q["implementation"].(string)
		w := fmt.Sprintf("%s (type custom, engine %s)", what, orDash(engine))
		if tool, ok := otherTools[strings.ToLower(engine)]; ok {
			c.skip(w, tool+" checks run in "+tool+", not per event")
			return
		}
		if !isStr || strings.TrimSpace(impl) == "" {
			c.skip(w, "no implementation expression to translate")
			return
		}
		impl = strings.TrimSpace(impl)
		if name == "" {
			name = colName + "-custom"
		}
		r := rule{source: w, name: name, kind: "expr", severity: sev, description: descr}
		switch strings.ToLower(engine) {
		case "expr", "expr-lang", "assay":
			r.expr = impl
		default:
			e, paths, testsNull, err := translateSQL(impl)
			if err != nil {
				c.skip(w, "not a simple boolean condition over fields: "+err.Error())
				return
			}
			r.expr = e
			if !testsNull {
				// SQL lets NULL through a condition; so do we.
				var g []string
				for _, p := range paths {
					g = append(g, fieldRef(p, true)+" != nil")
				}
				r.when = strings.Join(g, " && ")
			}
		}
		c.addChecked(r, w)
	case "library":
		metric := getStr(q, "metric")
		if metric == "" {
			metric = getStr(q, "rule")
		}
		lm := strings.ToLower(metric)
		w := fmt.Sprintf("%s (library %s)", what, orDash(metric))
		args := getMap(q, "arguments")
		if args == nil {
			args = map[string]any{}
		}
		var r rule
		switch {
		case libRows[lm]:
			c.skip(w, "a row count is about a whole table, not one event; for a topic that must not go silent, add volume: {min, per} by hand")
			return
		case libNull[lm]:
			if col == nil {
				c.skip(w, "a null check needs a property; put it on the property")
				return
			}
			e := fieldRef(col, false) + " != nil"
			missing := getList(q, "missingValues")
			if missing == nil {
				missing = getList(args, "missingValues")
			}
			if l, ok := listLiteral(missing); ok {
				e += " && " + fieldRef(col, false) + " not in " + l
			}
			r = rule{name: colName + "-not-null", kind: "expr", expr: e}
			if len(col) > 1 {
				r.when = fieldRef(col[:len(col)-1], true) + " != nil"
			}
		case libUnique[lm]:
			keyPaths := [][]string{col}
			if col == nil {
				keyPaths = nil
				for _, k := range append(getList(args, "properties"), getList(q, "columns")...) {
					if s, ok := k.(string); ok {
						keyPaths = append(keyPaths, strings.Split(s, "."))
					}
				}
			}
			var ks, guards []string
			for _, p := range keyPaths {
				ks = append(ks, fieldRef(p, false))
				guards = append(guards, fieldRef(p, true)+" != nil")
			}
			switch len(ks) {
			case 0:
				c.skip(w, "a duplicate check needs a property (or arguments.properties)")
				return
			case 1:
				r = rule{name: colName + "-unique", kind: "unique", expr: ks[0]}
			default:
				r = rule{name: colName + "-unique", kind: "unique", expr: "[" + strings.Join(ks, ", ") + "]"}
			}
			r.when = strings.Join(guards, " && ")
		case libValid[lm]:
			if col == nil {
				c.skip(w, "a valid-values check needs a property; put it on the property")
				return
			}
			ref := fieldRef(col, false)
			vals := getList(q, "validValues")
			if vals == nil {
				vals = getList(args, "validValues")
			}
			pattern := getStr(q, "pattern")
			if pattern == "" {
				pattern = getStr(args, "pattern")
			}
			switch l, ok := listLiteral(vals); {
			case ok:
				r = rule{name: colName + "-valid-values", kind: "expr", expr: ref + " in " + l}
			case pattern != "":
				r = rule{name: colName + "-valid-values", kind: "expr", expr: ref + " matches " + quote(pattern)}
			default:
				c.skip(w, "no validValues list or pattern to check against")
				return
			}
			r.when = fieldRef(col, true) + " != nil"
		default:
			c.skip(w, "unknown library check")
			return
		}
		if name != "" {
			r.name = name
		}
		r.source, r.severity, r.description = w, sev, descr
		if c.addChecked(r, w) {
			if tol := tolerance(q); tol != "" {
				c.skip(w+" threshold", "the tolerance ("+tol+") is not carried over: the rule fails on every such event; use alert.ratio to tolerate some")
			}
		}
	default:
		c.skip(fmt.Sprintf("%s (type %s)", what, typ), "unknown quality type")
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// tolerance describes a threshold that allows some bad rows ("" when
// none: no operator, or one that means zero).
func tolerance(q map[string]any) string {
	zero := func(k string) bool { n, ok := getNum(q, k); return ok && (n == "0" || n == "0.0") }
	for _, k := range []string{"mustBe", "mustBeLessOrEqualTo", "mustBeLessThanOrEqualTo"} {
		if _, ok := q[k]; ok && zero(k) {
			return ""
		}
	}
	if n, ok := getNum(q, "mustBeLessThan"); ok && (n == "1" || n == "0") {
		return ""
	}
	for _, k := range []string{"mustBe", "mustNotBe", "mustBeGreaterThan", "mustBeGreaterOrEqualTo", "mustBeGreaterThanOrEqualTo",
		"mustBeLessThan", "mustBeLessOrEqualTo", "mustBeLessThanOrEqualTo", "mustBeBetween", "mustNotBeBetween"} {
		if v, ok := q[k]; ok {
			unit := getStr(q, "unit")
			if unit == "" {
				unit = "rows"
			}
			return fmt.Sprintf("%s %v %s", k, v, unit)
		}
	}
	return ""
}
