package confluent

import (
	"context"
	"encoding/base64"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/bufbuild/protocompile"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

// compileProto compiles the registered .proto text of a schema (named
// main) with the texts of its references (by import path). The
// google/protobuf/*.proto files are built in.
func compileProto(ctx context.Context, main string, files map[string]string) (protoreflect.FileDescriptor, error) {
	c := protocompile.Compiler{
		Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{
			Accessor: protocompile.SourceAccessorFromMap(files),
		}),
		MaxParallelism: 1,
	}
	fds, err := c.Compile(ctx, main)
	if err != nil {
		return nil, err
	}
	return fds[0], nil
}

// protoMessage finds the message type that the message indexes name: the
// first index in the file's top-level messages, each next one in the
// nested messages of the one before.
func protoMessage(fd protoreflect.FileDescriptor, indexes []int) (protoreflect.MessageDescriptor, error) {
	msgs := fd.Messages()
	var md protoreflect.MessageDescriptor
	for _, i := range indexes {
		if i >= msgs.Len() {
			return nil, fmt.Errorf("message index %v: no such message in the schema", indexes)
		}
		md = msgs.Get(i)
		msgs = md.Messages()
	}
	return md, nil
}

var unmarshalOpts = proto.UnmarshalOptions{AllowPartial: true, DiscardUnknown: true}

// decodeProto decodes payload as a md message into an event.
func decodeProto(md protoreflect.MessageDescriptor, payload []byte) (map[string]any, error) {
	m := dynamicpb.NewMessage(md)
	if err := unmarshalOpts.Unmarshal(payload, m); err != nil {
		return nil, err
	}
	return protoFields(m), nil
}

// protoFields makes the map of a message, keyed by proto field names.
// Fields without presence (proto3 scalars, enums, repeated and map fields)
// are always there, with their default when not sent (proto3 cannot tell
// 0 from absent); fields with presence (messages, oneof members, optional)
// only when set.
func protoFields(m protoreflect.Message) map[string]any {
	fields := m.Descriptor().Fields()
	out := make(map[string]any, fields.Len())
	for i := range fields.Len() {
		fd := fields.Get(i)
		if fd.HasPresence() && !m.Has(fd) {
			continue
		}
		out[string(fd.Name())] = protoField(fd, m.Get(fd))
	}
	return out
}

func protoField(fd protoreflect.FieldDescriptor, v protoreflect.Value) any {
	switch {
	case fd.IsList():
		l := v.List()
		out := make([]any, l.Len())
		for i := range out {
			out[i] = protoValue(fd, l.Get(i))
		}
		return out
	case fd.IsMap():
		out := make(map[string]any, v.Map().Len())
		vd := fd.MapValue()
		v.Map().Range(func(k protoreflect.MapKey, v protoreflect.Value) bool {
			out[k.String()] = protoValue(vd, v)
			return true
		})
		return out
	}
	return protoValue(fd, v)
}

// protoValue converts one singular value of the kind of fd.
func protoValue(fd protoreflect.FieldDescriptor, v protoreflect.Value) any {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return v.Bool()
	case protoreflect.EnumKind:
		if fd.Enum().FullName() == "google.protobuf.NullValue" {
			return nil
		}
		if ev := fd.Enum().Values().ByNumber(v.Enum()); ev != nil {
			return string(ev.Name())
		}
		return int64(v.Enum()) // a number this schema does not name
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return v.Int()
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind,
		protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		if u := v.Uint(); u <= math.MaxInt64 {
			return int64(u)
		}
		return float64(v.Uint()) // as JSON's decoder does past int64
	case protoreflect.FloatKind:
		return float32To64(float32(v.Float()))
	case protoreflect.DoubleKind:
		return v.Float()
	case protoreflect.StringKind:
		return v.String()
	case protoreflect.BytesKind:
		return base64.StdEncoding.EncodeToString(v.Bytes())
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return protoMessageValue(v.Message())
	}
	return nil
}

// protoMessageValue converts a message, the well-known types to what they
// stand for.
func protoMessageValue(m protoreflect.Message) any {
	md := m.Descriptor()
	name := md.FullName()
	if !strings.HasPrefix(string(name), "google.protobuf.") {
		return protoFields(m)
	}
	field := func(n protoreflect.FieldNumber) (protoreflect.FieldDescriptor, protoreflect.Value) {
		fd := md.Fields().ByNumber(n)
		return fd, m.Get(fd)
	}
	switch name {
	case "google.protobuf.Timestamp":
		_, s := field(1)
		_, n := field(2)
		return time.Unix(s.Int(), n.Int()).UTC()
	case "google.protobuf.Duration":
		_, s := field(1)
		_, n := field(2)
		return time.Duration(s.Int())*time.Second + time.Duration(n.Int())
	case "google.protobuf.DoubleValue", "google.protobuf.FloatValue",
		"google.protobuf.Int64Value", "google.protobuf.UInt64Value",
		"google.protobuf.Int32Value", "google.protobuf.UInt32Value",
		"google.protobuf.BoolValue", "google.protobuf.StringValue",
		"google.protobuf.BytesValue":
		return protoValue(field(1))
	case "google.protobuf.Struct":
		return protoField(field(1))
	case "google.protobuf.ListValue":
		return protoField(field(1))
	case "google.protobuf.Value":
		od := md.Oneofs().ByName("kind")
		fd := m.WhichOneof(od)
		if fd == nil {
			return nil
		}
		v := protoValue(fd, m.Get(fd))
		if f, ok := v.(float64); ok && f == math.Trunc(f) && f >= -1<<63 && f < 1<<63 {
			return int64(f) // the JSON text of a whole number decodes to int64
		}
		return v
	}
	return protoFields(m)
}
