// Package confluent decodes Kafka record values in the Confluent wire
// format (Avro, Protobuf and JSON Schema through a Schema Registry) into
// events: the same map[string]any that formats.DecodeJSON makes from the
// JSON form of the event, so that contracts read both alike.
//
// # API
//
//	IsWireFormat(value) bool                         magic byte 0 and >= 5 bytes ("format: auto")
//	SplitHeader(value) (id, rest, err)               the 5-byte header
//	SplitIndexes(rest) (indexes, payload, err)       Protobuf message indexes
//	NewClient(Config) (*sr.Client, error)            registry client from URLs + basic auth or bearer token
//	New(Config) (*Decoder, error)                    NewClient, then NewWithClient
//	NewWithClient(*sr.Client, Config) *Decoder
//	(*Decoder).Decode(value) (fields, SchemaInfo, error)
//	(*Decoder).DecodeContext(ctx, value) (fields, SchemaInfo, error)
//	SchemaInfo{ID, Subject, Version, Type}           Type: Avro "AVRO" | Protobuf "PROTOBUF" | JSON "JSON"
//	Reason(err) string                               unknown_schema | registry_unreachable | corrupt_payload | unsupported
//	Error{Reason, ID, Err}                           every error of Decode, Split*
//
// # Wire format
//
// Byte 0 is the magic byte 0, bytes 1-4 the schema id (big endian). For
// Protobuf, the message indexes follow: a zigzag varint count and that many
// zigzag varint indexes naming the message type in the schema's .proto file
// (count 0 is the shortcut for [0], the first message). The rest is the
// Avro binary, Protobuf binary or JSON text of the value.
//
// # Values
//
// Every type of every format maps to what formats.DecodeJSON gives for the
// JSON form of the value, plus time.Time for times:
//
//   - records and messages: map[string]any by field name (Protobuf: the
//     name in the .proto file, not its json_name)
//   - arrays and repeated fields: []any; maps: map[string]any (Protobuf
//     map keys as their decimal or "true"/"false" text)
//   - int, long and all Protobuf integers: int64 (a uint64 above
//     MaxInt64: float64, as JSON's decoder does)
//   - double: float64; float: the float64 of its shortest decimal form
//     (1.1, not 1.100000023841858), which is what a JSON encoder writes
//   - string, Avro uuid: string; boolean: bool
//   - bytes, Avro fixed: the standard base64 of the bytes, with padding
//     (what encoding/json and protojson write for bytes)
//   - enums: the symbol's name (Protobuf: the number as int64 when the
//     schema does not name it)
//   - Avro unions: the value of the branch, unwrapped (null: nil)
//   - Avro timestamp-millis/-micros, local-timestamp-millis/-micros (read
//     as UTC) and date (midnight UTC): time.Time in UTC;
//     time-millis/-micros: time.Duration since midnight
//   - Avro decimal (bytes or fixed): the float64 nearest the exact value;
//     digits past float64's ~15-17 significant ones are lost
//   - Protobuf google.protobuf.Timestamp: time.Time in UTC; Duration:
//     time.Duration; the wrappers (Int64Value, StringValue, ...): the
//     wrapped value; Struct, Value, ListValue: their JSON form (a whole
//     number_value: int64, as its JSON text would decode); other
//     messages, Any and FieldMask included: maps of their fields
//   - Protobuf fields without presence (proto3 scalars, enums, repeated,
//     maps) are always present, with their default when not sent (proto3
//     cannot tell 0 from absent); fields with presence (messages, oneof
//     members, optional) only when set: of a oneof, only the set field
//   - JSON Schema: the JSON after the header, decoded by
//     formats.DecodeJSON (the schema is fetched for SchemaInfo and to
//     know the id, not used to validate)
//
// An Avro value must be a record and a JSON value an object: events are
// objects. Avro values must use every byte (trailing bytes are corrupt).
//
// # Registry
//
// Schemas are fetched by id (GET /schemas/ids/{id}), with the subject and
// version of the id (GET /schemas/ids/{id}/versions) and the schemas they
// reference (Avro named types across subjects, Protobuf imports; the
// google/protobuf/*.proto imports are built in), and compiled once. The
// cache of compiled schemas is unbounded: a registry holds few ids, and a
// schema id never changes meaning. Failed lookups are remembered for
// Config.RetryAfter (default 5s), then asked again; while the registry is
// unreachable, lookups of new ids also fail at once for RetryAfter, so that
// workers do not each wait out a timeout. One lookup per id runs at a
// time; concurrent Decodes of that id wait for it. No lookup takes longer
// than Config.Timeout (default 10s).
//
// # Errors
//
// Reason(err) is one of:
//
//   - unknown_schema: the registry answers 404 for the id or a schema it
//     references
//   - registry_unreachable: network error, timeout, 5xx, 401/403 or any
//     other failed answer: retry later (the Decoder does, after RetryAfter)
//   - corrupt_payload: bad magic byte, header or message indexes too
//     short, an index naming no message, or a payload that does not decode
//     with the schema
//   - unsupported: a schema type other than AVRO, PROTOBUF and JSON, a
//     schema that does not parse or compile, an Avro schema that is not a
//     record
//
// # Wiring
//
//	d, err := confluent.New(confluent.Config{
//		URLs:     []string{"https://registry:8081"},
//		Username: key, Password: secret, // or BearerToken: token
//	})
//	...
//	if confluent.IsWireFormat(value) { // format: confluent, or auto
//		fields, info, err = d.Decode(value)
//	} else {                         // format: auto, not the wire format
//		fields, err = formats.DecodeJSON(value)
//	}
package confluent
