package compat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/bufbuild/protocompile"
	"github.com/hamba/avro/v2"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/assay-dev/assay/rules"
)

// The schema types, as the Schema Registry names them.
const (
	Avro     = "AVRO"
	Protobuf = "PROTOBUF"
	JSON     = "JSON"
)

// Schema is what a producer's schema says of the events it writes: their
// fields by dotted path, as assay decodes them (see formats/confluent).
type Schema struct {
	Type    string // Avro, Protobuf or JSON
	Subject string // when read from a registry
	Version int
	// Message is the Protobuf message events are.
	Message string
	Fields  map[string]*Field
	// Open: events may carry top-level fields the schema does not list
	// (a JSON Schema without additionalProperties: false).
	Open bool
	// Truncated: the schema has more than maxFields fields (counting each
	// path through nested and recursive types); the others were not read.
	Truncated bool
}

// Field is one field of a schema.
type Field struct {
	Path string
	// Type is the type of its values once decoded, in the terms of a
	// contract's fields: (string, int, float, bool, time, object, array or
	// any when the schema does not say one).
	Type rules.FieldType
	// Optional: events may lack it. Nullable: it may be null.
	Optional, Nullable bool
	// Symbols are the values of an enum, nil for other fields.
	Symbols []string
	// Open: its content is free (a map, a JSON object without
	// properties, any): paths below it may be there or not.
	Open bool
	// Union: the types a JSON Schema field may have ("type": ["string",
	// "number"]), whose Type is then any.
	Union []rules.FieldType
	// Ref is a JSON Schema $ref that gives the field, or its items, and
	// that assay does not follow: remote, file, or dangling.
	Ref string
}

// Lookup finds the field of a path, crossing arrays of records. A path
// below an open field gives that field and true for below.
func (s *Schema) Lookup(path string) (f *Field, below bool) {
	if f := s.Fields[path]; f != nil {
		return f, false
	}
	for i := strings.LastIndexByte(path, '.'); i > 0; i = strings.LastIndexByte(path[:i], '.') {
		if p := s.Fields[path[:i]]; p != nil && (p.Open || p.Type == rules.TypeAny) {
			return p, true
		}
	}
	return nil, false
}

// maxDepth bounds the nesting of a schema walked (recursive schemas).
const maxDepth = 32

// maxFields bounds the fields read of one schema: a type used twice in
// each of 32 nested levels (a recursive record with two fields of its own
// type) has billions of paths.
const maxFields = 10000

// Parse reads a schema's text. refs are the texts of the schemas it
// references: Avro named types, Protobuf imports by import path (the
// google/protobuf/ ones are built in). message names the Protobuf message
// that events are (default: the file's first).
func Parse(typ, text string, refs map[string]string, message string) (*Schema, error) {
	return parseSchema(typ, text, refs, message, "")
}

// maxImportBytes bounds one .proto file ParseFile reads for an import.
const maxImportBytes = 16 << 20

// ParseFile reads a schema file, as Parse its text; a Protobuf file's
// local imports (import "b.proto") are read from its directory.
func ParseFile(typ, file, message string) (*Schema, error) {
	text, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return parseSchema(typ, string(text), nil, message, file)
}

// parseSchema is Parse of the text of file, or of no file for "".
func parseSchema(typ, text string, refs map[string]string, message, file string) (*Schema, error) {
	s := &Schema{Type: typ, Fields: map[string]*Field{}}
	var err error
	switch typ {
	case Avro:
		err = s.parseAvro(text, refs)
	case Protobuf:
		err = s.parseProto(text, refs, message, file)
	case JSON:
		err = s.parseJSON(text)
	default:
		err = fmt.Errorf("schema type %q: want AVRO, PROTOBUF or JSON", typ)
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

// add records a field; past maxFields it records none and marks the
// schema truncated, and the walks stop.
func (s *Schema) add(f *Field) {
	if _, had := s.Fields[f.Path]; !had && len(s.Fields) >= maxFields {
		s.Truncated = true
		return
	}
	s.Fields[f.Path] = f
}

// Unlisted reports whether a path the schema does not have may still be
// there: the schema allows top-level fields it does not list and the
// path's first name is not listed, or the schema was not read whole.
func (s *Schema) Unlisted(path string) bool {
	root, _, _ := strings.Cut(path, ".")
	return s.Truncated || (s.Open && s.Fields[root] == nil)
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// --- Avro

func (s *Schema) parseAvro(text string, refs map[string]string) error {
	cache := &avro.SchemaCache{}
	names := make([]string, 0, len(refs))
	for n := range refs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if _, err := avro.ParseWithCache(refs[n], "", cache); err != nil {
			return fmt.Errorf("referenced schema %q: %w", n, err)
		}
	}
	sch, err := avro.ParseWithCache(text, "", cache)
	if err != nil {
		return err
	}
	if r, ok := sch.(*avro.RecordSchema); ok {
		s.avroRecord("", r, 0)
		return nil
	}
	return fmt.Errorf("avro schema of type %q: events must be records", sch.Type())
}

func (s *Schema) avroRecord(prefix string, r *avro.RecordSchema, depth int) {
	if depth > maxDepth || s.Truncated {
		return
	}
	// A record's own fields first, then what is below them: a schema cut
	// at maxFields keeps its top levels.
	for _, f := range r.Fields() {
		s.add(&Field{Path: join(prefix, f.Name()), Type: rules.TypeAny})
	}
	for _, f := range r.Fields() {
		s.avroField(join(prefix, f.Name()), f.Type(), false, depth)
	}
}

func (s *Schema) avroField(path string, t avro.Schema, nullable bool, depth int) {
	f := &Field{Path: path, Nullable: nullable}
	s.add(f)
	if ref, ok := t.(*avro.RefSchema); ok {
		t = ref.Schema()
	}
	var logical avro.LogicalType
	if l, ok := t.(avro.LogicalTypeSchema); ok && l.Logical() != nil {
		logical = l.Logical().Type()
	}
	switch t.Type() {
	case avro.Null:
		f.Type, f.Nullable = rules.TypeAny, true
	case avro.Boolean:
		f.Type = rules.TypeBool
	case avro.Int, avro.Long:
		switch logical {
		case avro.Date, avro.TimestampMillis, avro.TimestampMicros, avro.LocalTimestampMillis, avro.LocalTimestampMicros:
			f.Type = rules.TypeTime
		case avro.TimeMillis, avro.TimeMicros:
			f.Type = rules.TypeAny // a time.Duration
		default:
			f.Type = rules.TypeInt
		}
	case avro.Float, avro.Double:
		f.Type = rules.TypeFloat
	case avro.String:
		f.Type = rules.TypeString
	case avro.Bytes, avro.Fixed:
		f.Type = rules.TypeString // base64
		if logical == avro.Decimal {
			f.Type = rules.TypeFloat
		}
	case avro.Enum:
		f.Type, f.Symbols = rules.TypeString, t.(*avro.EnumSchema).Symbols()
	case avro.Record, avro.Error:
		f.Type = rules.TypeObject
		s.avroRecord(path, t.(*avro.RecordSchema), depth+1)
	case avro.Array:
		f.Type = rules.TypeArray
		if depth < maxDepth {
			s.avroElem(path, t.(*avro.ArraySchema).Items(), depth+1)
		}
	case avro.Map:
		f.Type, f.Open = rules.TypeObject, true
	case avro.Union:
		var branches []avro.Schema
		for _, b := range t.(*avro.UnionSchema).Types() {
			if b.Type() == avro.Null {
				f.Nullable = true
				continue
			}
			branches = append(branches, b)
		}
		if len(branches) == 1 {
			s.avroField(path, branches[0], f.Nullable, depth)
			return
		}
		f.Type = rules.TypeAny
	default:
		f.Type = rules.TypeAny
	}
}

// avroElem adds the fields of an array's records under the array's path
// (rules read them as items.qty through all(items, .qty > 0) and paths
// cross lists).
func (s *Schema) avroElem(path string, t avro.Schema, depth int) {
	if ref, ok := t.(*avro.RefSchema); ok {
		t = ref.Schema()
	}
	if r, ok := t.(*avro.RecordSchema); ok {
		s.avroRecord(path, r, depth)
	}
}

// --- Protobuf

func (s *Schema) parseProto(text string, refs map[string]string, message, file string) error {
	files := map[string]string{}
	for k, v := range refs {
		files[k] = v
	}
	main, dir := "schema.proto", ""
	if file != "" {
		main, dir = filepath.Base(file), filepath.Dir(file)
	}
	files[main] = text
	c := protocompile.Compiler{
		Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{
			Accessor: func(path string) (io.ReadCloser, error) {
				if text, ok := files[path]; ok {
					return io.NopCloser(strings.NewReader(text)), nil
				}
				if dir == "" {
					return nil, fmt.Errorf("%w: assay reads no local imports; check the registry's subject, which has its references", fs.ErrNotExist)
				}
				if !filepath.IsLocal(path) {
					return nil, fmt.Errorf("%w: assay reads imports only below %s", fs.ErrNotExist, dir)
				}
				f, err := os.Open(filepath.Join(dir, path))
				if err != nil {
					return nil, fmt.Errorf("%w (imports are read from %s)", err, dir)
				}
				return struct {
					io.Reader
					io.Closer
				}{io.LimitReader(f, maxImportBytes), f}, nil
			},
		}),
		MaxParallelism: 1,
	}
	fds, err := c.Compile(context.Background(), main)
	if err != nil {
		return err
	}
	fd := fds[0]
	if fd.Messages().Len() == 0 {
		return errors.New("protobuf schema has no message")
	}
	md := fd.Messages().Get(0)
	if message != "" {
		md = findMessage(fd.Messages(), protoreflect.FullName(strings.TrimPrefix(message, ".")))
		if md == nil {
			return fmt.Errorf("protobuf schema has no message %q", message)
		}
	}
	s.Message = string(md.FullName())
	s.protoMessage("", md, 0)
	return nil
}

func findMessage(ms protoreflect.MessageDescriptors, name protoreflect.FullName) protoreflect.MessageDescriptor {
	for i := range ms.Len() {
		m := ms.Get(i)
		if m.FullName() == name || m.Name() == protoreflect.Name(name) {
			return m
		}
		if sub := findMessage(m.Messages(), name); sub != nil {
			return sub
		}
	}
	return nil
}

func (s *Schema) protoMessage(prefix string, md protoreflect.MessageDescriptor, depth int) {
	if depth > maxDepth || s.Truncated {
		return
	}
	fields := md.Fields()
	for i := range fields.Len() { // its own fields first, as for Avro
		s.add(&Field{Path: join(prefix, string(fields.Get(i).Name())), Type: rules.TypeAny})
	}
	for i := range fields.Len() {
		fd := fields.Get(i)
		f := &Field{Path: join(prefix, string(fd.Name())), Optional: fd.HasPresence()}
		s.add(f)
		switch {
		case fd.IsMap():
			f.Type, f.Open, f.Optional = rules.TypeObject, true, false
		case fd.IsList():
			f.Type, f.Optional = rules.TypeArray, false
			if fd.Message() != nil && !wellKnown(fd.Message()) {
				s.protoMessage(f.Path, fd.Message(), depth+1)
			}
		default:
			s.protoScalar(f, fd, depth)
		}
	}
}

func wellKnown(md protoreflect.MessageDescriptor) bool {
	return strings.HasPrefix(string(md.FullName()), "google.protobuf.")
}

func (s *Schema) protoScalar(f *Field, fd protoreflect.FieldDescriptor, depth int) {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		f.Type = rules.TypeBool
	case protoreflect.EnumKind:
		f.Type = rules.TypeString
		vals := fd.Enum().Values()
		for i := range vals.Len() {
			f.Symbols = append(f.Symbols, string(vals.Get(i).Name()))
		}
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind,
		protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		f.Type = rules.TypeInt
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		f.Type = rules.TypeFloat // above MaxInt64 a float
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		f.Type = rules.TypeFloat
	case protoreflect.StringKind, protoreflect.BytesKind:
		f.Type = rules.TypeString
	case protoreflect.MessageKind, protoreflect.GroupKind:
		md := fd.Message()
		switch md.FullName() {
		case "google.protobuf.Timestamp":
			f.Type = rules.TypeTime
		case "google.protobuf.Struct":
			f.Type, f.Open = rules.TypeObject, true
		case "google.protobuf.ListValue":
			f.Type = rules.TypeArray
		case "google.protobuf.BoolValue":
			f.Type = rules.TypeBool
		case "google.protobuf.StringValue", "google.protobuf.BytesValue":
			f.Type = rules.TypeString
		case "google.protobuf.Int32Value", "google.protobuf.Int64Value", "google.protobuf.UInt32Value":
			f.Type = rules.TypeInt
		case "google.protobuf.UInt64Value", "google.protobuf.FloatValue", "google.protobuf.DoubleValue":
			f.Type = rules.TypeFloat
		case "google.protobuf.Value":
			f.Type, f.Open, f.Nullable = rules.TypeAny, true, true
		default:
			if wellKnown(md) {
				f.Type = rules.TypeAny
				return
			}
			f.Type = rules.TypeObject
			s.protoMessage(f.Path, md, depth+1)
		}
	default:
		f.Type = rules.TypeAny
	}
}

// --- JSON Schema

func (s *Schema) parseJSON(text string) error {
	var root map[string]any
	if err := json.Unmarshal([]byte(text), &root); err != nil {
		return fmt.Errorf("json schema: %w", err)
	}
	if t, _ := root["type"].(string); t != "" && t != "object" {
		return fmt.Errorf("json schema of type %q: events must be objects", t)
	}
	if ap, ok := root["additionalProperties"].(bool); !ok || ap {
		s.Open = true
	}
	s.jsonObject("", root, root, 0)
	return nil
}

// resolve follows a local $ref (#/definitions/x, #/$defs/x, #); nil and
// the $ref when it cannot (remote, file://, dangling, or a loop). It never
// fetches anything.
func resolve(root, node map[string]any) (map[string]any, string) {
	ref := ""
	for i := 0; i < maxDepth; i++ {
		r, ok := node["$ref"].(string)
		if !ok {
			return node, ""
		}
		ref = r
		if ref == "#" {
			node = root
			continue
		}
		if !strings.HasPrefix(ref, "#/") {
			return nil, ref
		}
		cur := any(root)
		for _, part := range strings.Split(ref[2:], "/") {
			m, ok := cur.(map[string]any)
			if !ok {
				return nil, ref
			}
			cur = m[strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")]
		}
		if node, ok = cur.(map[string]any); !ok {
			return nil, ref
		}
	}
	return nil, ref
}

func (s *Schema) jsonObject(prefix string, root, node map[string]any, depth int) {
	if depth > maxDepth || s.Truncated {
		return
	}
	required := map[string]bool{}
	if rs, ok := node["required"].([]any); ok {
		for _, r := range rs {
			if name, ok := r.(string); ok {
				required[name] = true
			}
		}
	}
	props, _ := node["properties"].(map[string]any)
	names := slices.Sorted(maps.Keys(props))
	for _, name := range names { // its own fields first, as for Avro
		s.add(&Field{Path: join(prefix, name), Type: rules.TypeAny})
	}
	for _, name := range names {
		p := props[name]
		f := &Field{Path: join(prefix, name), Optional: !required[name]}
		s.add(f)
		pm, _ := p.(map[string]any)
		pm, ref := resolve(root, pm)
		if pm == nil {
			f.Type, f.Open, f.Ref = rules.TypeAny, true, ref
			continue
		}
		s.jsonField(f, root, pm, depth)
	}
}

func jsonType(t string) rules.FieldType {
	switch t {
	case "string":
		return rules.TypeString
	case "integer":
		return rules.TypeInt
	case "number":
		return rules.TypeFloat
	case "boolean":
		return rules.TypeBool
	case "object":
		return rules.TypeObject
	case "array":
		return rules.TypeArray
	}
	return rules.TypeAny
}

func (s *Schema) jsonField(f *Field, root, pm map[string]any, depth int) {
	var types []string
	switch t := pm["type"].(type) {
	case string:
		types = []string{t}
	case []any:
		for _, x := range t {
			if s, ok := x.(string); ok {
				types = append(types, s)
			}
		}
	}
	if enum, ok := pm["enum"].([]any); ok {
		for _, e := range enum {
			switch v := e.(type) {
			case string:
				f.Symbols = append(f.Symbols, v)
			case nil:
				f.Nullable = true
			}
		}
		if len(types) == 0 && len(f.Symbols) > 0 {
			types = []string{"string"}
		}
	}
	var nonNull []string
	for _, t := range types {
		if t == "null" {
			f.Nullable = true
		} else {
			nonNull = append(nonNull, t)
		}
	}
	if len(nonNull) != 1 {
		if len(types) == 0 {
			f.Nullable = true // no type: anything, null too
		}
		f.Type, f.Open = rules.TypeAny, true
		for _, t := range nonNull {
			f.Union = append(f.Union, jsonType(t))
		}
		return
	}
	switch nonNull[0] {
	case "string":
		f.Type = rules.TypeString
		if format, _ := pm["format"].(string); format == "date-time" {
			f.Type = rules.TypeTime
		}
	case "integer":
		f.Type = rules.TypeInt
	case "number":
		f.Type = rules.TypeFloat
	case "boolean":
		f.Type = rules.TypeBool
	case "object":
		f.Type = rules.TypeObject
		if _, has := pm["properties"]; !has {
			f.Open = true
			return
		}
		if ap, ok := pm["additionalProperties"].(bool); !ok || ap {
			f.Open = true // other properties may come
		}
		s.jsonObject(f.Path, root, pm, depth+1)
	case "array":
		f.Type = rules.TypeArray
		if items, ok := pm["items"].(map[string]any); ok {
			items, ref := resolve(root, items)
			if items == nil {
				f.Open, f.Ref = true, ref // its elements' fields are unknown
				return
			}
			if t, _ := items["type"].(string); t == "object" {
				s.jsonObject(f.Path, root, items, depth+1)
			}
		}
	default:
		f.Type = rules.TypeAny
	}
}
