package importer

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/bufbuild/protocompile"
	"github.com/hamba/avro/v2"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/assay-dev/assay/internal/contractyaml"
	"github.com/assay-dev/assay/rules"
)

// maxFieldDepth bounds how deep nested fields are declared (and recursive
// schemas followed).
const maxFieldDepth = 16

// addField declares a field of the contract's fields section. A path that
// cannot be written as dotted field names, or that is record metadata, is
// listed as untranslated; the first declaration of a path wins.
func (c *contract) addField(path []string, typ rules.FieldType, required, nullable bool, where string) {
	p := strings.Join(path, ".")
	if !piiPathRE.MatchString(p) || path[0] == rules.MetaVar {
		c.skip(where, fmt.Sprintf("field %q cannot be declared: a path is dotted field names, and kafka.* is record metadata", p))
		return
	}
	for _, f := range c.fields {
		if f.Path == p {
			return
		}
	}
	c.fields = append(c.fields, contractyaml.Field{Path: p, Type: string(typ), Required: required, Nullable: nullable})
}

// odcsFieldType maps an ODCS logicalType (or, without one, a
// physicalType) onto a field type; ok is false for a type it does not
// know. Dates and times of day are strings (only timestamps are RFC 3339
// times); a timestamp with a format of its own is a string too.
func odcsFieldType(p map[string]any) (rules.FieldType, bool) {
	t := strings.ToLower(getStr(p, "logicalType"))
	if t == "" {
		t = strings.ToLower(getStr(p, "physicalType"))
		if i := strings.IndexAny(t, "(<"); i >= 0 {
			t = t[:i] // varchar(20), array<string>
		}
	}
	switch t {
	case "":
		return rules.TypeAny, true
	case "string", "varchar", "char", "text", "uuid", "date", "time", "bytes", "binary":
		return rules.TypeString, true
	case "integer", "int", "long", "bigint", "smallint", "tinyint", "int32", "int64":
		return rules.TypeInt, true
	case "number", "double", "float", "decimal", "numeric", "real":
		return rules.TypeFloat, true
	case "boolean", "bool":
		return rules.TypeBool, true
	case "timestamp", "timestamp_tz", "timestamp_ntz", "datetime", "date-time":
		if f := getStr(getMap(p, "logicalTypeOptions"), "format"); f != "" && !strings.Contains(f, "'T'") {
			return rules.TypeString, true
		}
		return rules.TypeTime, true
	case "object", "record", "struct", "map":
		return rules.TypeObject, true
	case "array", "list":
		return rules.TypeArray, true
	}
	return rules.TypeAny, false
}

// odcsField declares an ODCS property: its type, required when required
// (or a primary key), nullable when not (ODCS's required means "not
// null").
func (b *odcsBuilder) odcsField(path []string, p map[string]any, loc string) {
	t, _ := odcsFieldType(p) // an unknown type is any (and listed as untranslated by property)
	required := getBool(p, "required") || getBool(p, "primaryKey")
	b.c.addField(path, t, required, !required, loc)
	if items := getMap(p, "items"); items != nil && len(path) < maxFieldDepth {
		// The properties of an array's elements: paths through it.
		for i, e := range getList(items, "properties") {
			if em, ok := e.(map[string]any); ok && getStr(em, "name") != "" {
				b.odcsField(append(append([]string(nil), path...), getStr(em, "name")), em, fmt.Sprintf("%s.items.properties[%d]", loc, i))
			}
		}
	}
}

// schemaFields declares the fields of the registered schema of a
// Confluent document (Avro, Protobuf or JSON Schema, by schemaType).
func schemaFields(c *contract, doc map[string]any) {
	s := getStr(doc, "schema")
	if s == "" {
		return
	}
	typ := strings.ToUpper(getStr(doc, "schemaType"))
	switch typ {
	case "", "AVRO":
		sch, err := avro.Parse(s)
		if err != nil {
			c.skip("schema (Avro)", "fields not declared: "+firstLine(err.Error()))
			return
		}
		rec, ok := sch.(*avro.RecordSchema)
		if !ok {
			c.skip("schema (Avro)", "fields not declared: the schema is no record")
			return
		}
		avroFields(c, nil, rec, 0)
	case "PROTOBUF":
		if len(getList(doc, "references")) > 0 {
			c.skip("schema (Protobuf)", "fields not declared: the schema imports other subjects")
			return
		}
		comp := protocompile.Compiler{Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{
			Accessor: protocompile.SourceAccessorFromMap(map[string]string{"schema.proto": s}),
		})}
		fds, err := comp.Compile(context.Background(), "schema.proto")
		if err != nil || fds[0].Messages().Len() == 0 {
			why := "no message"
			if err != nil {
				why = firstLine(err.Error())
			}
			c.skip("schema (Protobuf)", "fields not declared: "+why)
			return
		}
		// The first message, as serializers write by default.
		protoFields(c, nil, fds[0].Messages().Get(0), map[protoreflect.FullName]bool{})
	case "JSON":
		var js map[string]any
		if err := json.Unmarshal([]byte(s), &js); err != nil {
			c.skip("schema (JSON Schema)", "fields not declared: "+err.Error())
			return
		}
		jsonSchemaFields(c, nil, js, 0)
	default:
		c.skip("schema ("+typ+")", "fields not declared: an unknown schema type")
	}
	if len(c.fields) > 0 {
		c.fieldsComment = "from the registered " + strings.ToLower(orDefault(typ, "avro")) + " schema"
	}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// avroFields declares the fields of an Avro record: every field is always
// there (Avro writes each one), nullable when a union holds null; records
// are objects with their fields below, arrays of records have paths
// through them.
func avroFields(c *contract, prefix []string, rec *avro.RecordSchema, depth int) {
	for _, f := range rec.Fields() {
		path := append(append([]string(nil), prefix...), f.Name())
		s, nullable := f.Type(), false
		if u, ok := s.(*avro.UnionSchema); ok {
			var others []avro.Schema
			for _, t := range u.Types() {
				if t.Type() == avro.Null {
					nullable = true
				} else {
					others = append(others, t)
				}
			}
			s = nil
			if len(others) == 1 {
				s = others[0]
			}
		}
		typ, below := avroType(s)
		c.addField(path, typ, true, nullable, "schema field "+strings.Join(path, "."))
		if below != nil && depth < maxFieldDepth {
			avroFields(c, path, below, depth+1)
		}
	}
}

// avroType is the field type of an Avro schema (nil: a union of several
// types), and the record whose fields are below it (of a record, or of
// the elements of an array).
func avroType(s avro.Schema) (rules.FieldType, *avro.RecordSchema) {
	if s == nil {
		return rules.TypeAny, nil
	}
	if r, ok := s.(*avro.RefSchema); ok {
		s = r.Schema()
	}
	var logical avro.LogicalType
	if l, ok := s.(avro.LogicalTypeSchema); ok && l.Logical() != nil {
		logical = l.Logical().Type()
	}
	switch logical {
	case avro.Date, avro.TimestampMillis, avro.TimestampMicros, avro.LocalTimestampMillis, avro.LocalTimestampMicros:
		return rules.TypeTime, nil
	case avro.TimeMillis, avro.TimeMicros:
		return rules.TypeAny, nil // a time of day
	case avro.Decimal:
		return rules.TypeFloat, nil
	}
	switch s.Type() {
	case avro.Boolean:
		return rules.TypeBool, nil
	case avro.Int, avro.Long:
		return rules.TypeInt, nil
	case avro.Float, avro.Double:
		return rules.TypeFloat, nil
	case avro.String, avro.Bytes, avro.Fixed, avro.Enum:
		return rules.TypeString, nil
	case avro.Record:
		return rules.TypeObject, s.(*avro.RecordSchema)
	case avro.Map:
		return rules.TypeObject, nil
	case avro.Array:
		items := s.(*avro.ArraySchema).Items()
		if r, ok := items.(*avro.RefSchema); ok {
			items = r.Schema()
		}
		rec, _ := items.(*avro.RecordSchema)
		return rules.TypeArray, rec
	}
	return rules.TypeAny, nil
}

// protoFields declares the fields of a Protobuf message: none is required
// (proto3 fields may be left out; proto2 required ones are), nullable
// never (the decoder leaves a field without a value out rather than
// null); messages are objects with their fields below, repeated fields
// arrays, maps objects. seen stops recursive messages.
func protoFields(c *contract, prefix []string, md protoreflect.MessageDescriptor, seen map[protoreflect.FullName]bool) {
	if seen[md.FullName()] || len(prefix) >= maxFieldDepth {
		return
	}
	seen[md.FullName()] = true
	defer delete(seen, md.FullName())
	fields := md.Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		path := append(append([]string(nil), prefix...), string(fd.Name()))
		typ, below := protoType(fd)
		switch {
		case fd.IsList():
			typ = rules.TypeArray
		case fd.IsMap():
			typ, below = rules.TypeObject, nil
		}
		c.addField(path, typ, fd.Cardinality() == protoreflect.Required, false, "schema field "+strings.Join(path, "."))
		if below != nil {
			protoFields(c, path, below, seen)
		}
	}
}

// protoType is the field type of one value of a Protobuf field, and the
// message below it (not for the well-known types, which stand for a
// value).
func protoType(fd protoreflect.FieldDescriptor) (rules.FieldType, protoreflect.MessageDescriptor) {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return rules.TypeBool, nil
	case protoreflect.EnumKind, protoreflect.StringKind, protoreflect.BytesKind:
		return rules.TypeString, nil
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		return rules.TypeFloat, nil
	case protoreflect.MessageKind, protoreflect.GroupKind:
		md := fd.Message()
		switch md.FullName() {
		case "google.protobuf.Timestamp":
			return rules.TypeTime, nil
		case "google.protobuf.DoubleValue", "google.protobuf.FloatValue":
			return rules.TypeFloat, nil
		case "google.protobuf.Int64Value", "google.protobuf.UInt64Value", "google.protobuf.Int32Value", "google.protobuf.UInt32Value":
			return rules.TypeInt, nil
		case "google.protobuf.BoolValue":
			return rules.TypeBool, nil
		case "google.protobuf.StringValue", "google.protobuf.BytesValue":
			return rules.TypeString, nil
		}
		if strings.HasPrefix(string(md.FullName()), "google.protobuf.") {
			return rules.TypeAny, nil
		}
		return rules.TypeObject, md
	}
	return rules.TypeInt, nil // the integer kinds
}

// jsonSchemaFields declares the properties of a JSON Schema object:
// required by its required list, nullable when its type lists null,
// objects with their properties below, arrays of objects with paths
// through them.
func jsonSchemaFields(c *contract, prefix []string, s map[string]any, depth int) {
	req := map[string]bool{}
	for _, r := range getList(s, "required") {
		if name, ok := r.(string); ok {
			req[name] = true
		}
	}
	props := getMap(s, "properties")
	for _, name := range sortedKeys(props) {
		p, _ := props[name].(map[string]any)
		path := append(append([]string(nil), prefix...), name)
		typ, nullable := jsonSchemaType(p)
		c.addField(path, typ, req[name], nullable, "schema property "+strings.Join(path, "."))
		if depth >= maxFieldDepth {
			continue
		}
		switch typ {
		case rules.TypeObject:
			jsonSchemaFields(c, path, p, depth+1)
		case rules.TypeArray:
			if items := getMap(p, "items"); items != nil {
				if t, _ := jsonSchemaType(items); t == rules.TypeObject {
					jsonSchemaFields(c, path, items, depth+1)
				}
			}
		}
	}
}

// jsonSchemaType is the field type of a JSON Schema and whether it allows
// null ("type": ["string", "null"]).
func jsonSchemaType(s map[string]any) (rules.FieldType, bool) {
	var types []string
	switch t := s["type"].(type) {
	case string:
		types = []string{t}
	case []any:
		for _, e := range t {
			if name, ok := e.(string); ok {
				types = append(types, name)
			}
		}
	}
	nullable := false
	var others []string
	for _, t := range types {
		if t == "null" {
			nullable = true
		} else {
			others = append(others, t)
		}
	}
	if len(others) != 1 {
		return rules.TypeAny, nullable || len(types) == 0
	}
	switch others[0] {
	case "string":
		if getStr(s, "format") == "date-time" {
			return rules.TypeTime, nullable
		}
		return rules.TypeString, nullable
	case "integer":
		return rules.TypeInt, nullable
	case "number":
		return rules.TypeFloat, nullable
	case "boolean":
		return rules.TypeBool, nullable
	case "object":
		return rules.TypeObject, nullable
	case "array":
		return rules.TypeArray, nullable
	}
	return rules.TypeAny, nullable
}

// declareReads declares as any every path the contract's rules read that
// its fields section does not cover (a column a quality check names that
// is no property), so that the contract lints clean.
func (c *contract) declareReads() {
	if len(c.fields) == 0 {
		return
	}
	decl := &rules.Contract{}
	for _, f := range c.fields {
		decl.Fields = append(decl.Fields, &rules.Field{Path: f.Path, Type: rules.FieldType(f.Type)})
	}
	var extra []string
	for _, r := range c.rules {
		for _, src := range []string{r.expr, r.when} {
			if src == "" {
				continue
			}
			if r.kind == "unique" && src == r.expr {
				src = "(" + src + ") != nil"
			}
			p, err := rules.Compile(src)
			if err != nil {
				continue
			}
			for _, path := range p.Paths {
				if root, _, _ := strings.Cut(path, "."); root != rules.MetaVar && !decl.Declares(path) {
					n := len(c.fields)
					c.addField(strings.Split(path, "."), rules.TypeAny, false, true, "rule "+r.name)
					for _, f := range c.fields[n:] {
						decl.Fields = append(decl.Fields, &rules.Field{Path: f.Path, Type: rules.FieldType(f.Type)})
					}
					extra = append(extra, path)
				}
			}
		}
	}
	if len(extra) > 0 {
		c.fieldsComment += "; " + strings.Join(extra, ", ") + ": read by a rule, not among the fields of the source: declared as any"
	}
}
