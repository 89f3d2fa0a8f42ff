package rules

import (
	"encoding/json"
	"reflect"
	"strings"
)

// The types below describe the contract file format for editors: `assay
// schema` turns them into a JSON Schema that YAML language servers use for
// completion and checks. The decoder (decode.go) reads the same keys,
// strictly, and a test keeps the two in step.

type fileContract struct {
	Contract     string               `json:"contract" required:"true" pattern:"^[a-z0-9._-]+$" doc:"Unique name of the contract."`
	Version      any                  `json:"version" types:"string|integer" doc:"Version of the contract (a label)."`
	Owner        string               `json:"owner" required:"true" doc:"The producing team; alerts can route to it."`
	Consumers    []string             `json:"consumers" doc:"The teams that rely on this contract."`
	Description  string               `json:"description" doc:"What the events are and who needs what of them."`
	Topics       []string             `json:"topics" doc:"Topics the contract applies to (and/or topic_pattern)."`
	TopicPattern string               `json:"topic_pattern" doc:"RE2 pattern of topics the contract applies to."`
	Format       string               `json:"format" enum:"json|confluent|auto" doc:"How records are decoded: json (default), confluent (Schema Registry wire format: Avro, Protobuf, JSON Schema) or auto."`
	Where        string               `json:"where" doc:"Boolean expr-lang filter: events it rejects are not checked."`
	EventTime    string               `json:"event_time" doc:"When an event happened: a time, an RFC 3339 string, or epoch seconds or milliseconds; default the record timestamp. Windows of unique, sequence and reference rules follow it."`
	Sample       float64              `json:"sample" xmin:"0" max:"1" doc:"Fraction of events checked, (0,1]; the same events online and offline."`
	PII          []string             `json:"pii" doc:"Dotted field paths masked in samples, alerts, logs and quarantine (kafka.key, kafka.headers.NAME too)."`
	Rules        []fileRule           `json:"rules" doc:"The rules every event must meet."`
	Volume       *fileVolume          `json:"volume" doc:"The topic must not go silent (checked online)."`
	Segment      *fileSegment         `json:"segment" doc:"Split anomaly rules and per-segment metrics by the value of an expression: the max values with the most events have a segment each, the rest share the segment other."`
	Fields       map[string]fileField `json:"fields" doc:"Declared fields by dotted path: each is checked on every event (synthetic rules fields.required and fields.types), and lint reports rules that read an undeclared path."`
	Alert        *fileAlert           `json:"alert" doc:"When a rule counts as broken, and where to say so."`
	Quarantine   *fileQuarantine      `json:"quarantine" doc:"Send violating events to a topic of their own."`
	Examples     []fileExample        `json:"examples" doc:"Self-tests run by assay lint: events and the rules each must pass or fail."`
}

type fileRule struct {
	Name        string         `json:"name" required:"true" pattern:"^[A-Za-z0-9._-]+$" doc:"Unique in the contract."`
	Expr        string         `json:"expr" doc:"Boolean expr-lang expression every event must meet."`
	Unique      string         `json:"unique" doc:"Key expression; fails on a repeat within the window."`
	Fresh       string         `json:"fresh" doc:"Event-time expression; fails when the event is older than within."`
	Sequence    *fileSequence  `json:"sequence" doc:"Each event start matches opens an expectation for its key, which an event expect matches with the same key must close within within; else the start fails."`
	Reference   *fileReference `json:"reference" doc:"An event from matches names a key (key) that an event to matches must carry (to_key), earlier or up to within later."`
	Anomaly     *fileAnomaly   `json:"anomaly" doc:"A measure per bucket (volume, null_rate, mean, p95, distinct, violation_ratio, drift) that must stay inside a band learned from earlier buckets: each closed bucket gives one verdict."`
	Within      string         `json:"within" pattern:"^[0-9][0-9a-z.]*$" doc:"Window of unique, bound of fresh, the time a sequence's expect may take, how much later a referenced event may come: 30s, 5m, 1h, 7d, 2w."`
	Scope       string         `json:"scope" enum:"partition|topic" doc:"Where the state of a unique, sequence or reference rule lives: per partition (default) or for the whole topic (online, events are routed by key through an internal topic)."`
	Severity    string         `json:"severity" enum:"critical|warning|info" doc:"Default warning."`
	Description string         `json:"description" doc:"Why the rule matters: it is in every alert."`
	When        string         `json:"when" doc:"Boolean precondition; false gives skip."`
	Mode        string         `json:"mode" enum:"enforce|shadow" doc:"shadow: counted and shown, never alerted, quarantined or failing a test."`
	Tolerance   float64        `json:"tolerance" min:"0" xmax:"1" doc:"assay test: the violation ratio, (fail + error) / (pass + fail + error), up to which the rule does not fail the run, [0,1); default 0. Online it changes nothing."`
}

type fileSequence struct {
	Key    string `json:"key" required:"true" doc:"Correlation key expression, evaluated on both events."`
	Start  string `json:"start" required:"true" doc:"Boolean expression: the events that open an expectation."`
	Expect string `json:"expect" required:"true" doc:"Boolean expression: the events that close it."`
}

type fileReference struct {
	Key   string `json:"key" required:"true" doc:"The key a referring event names."`
	From  string `json:"from" required:"true" doc:"Boolean expression: the referring events."`
	To    string `json:"to" required:"true" doc:"Boolean expression: the referenced events."`
	ToKey string `json:"to_key" doc:"The key of a referenced event; default: key."`
}

type fileAnomaly struct {
	Metric      string  `json:"metric" required:"true" enum:"volume|null_rate|mean|p95|distinct|violation_ratio|drift" doc:"What is measured per bucket."`
	Of          string  `json:"of" doc:"The expression measured (null_rate, mean, p95, distinct, drift), or the name of the rule watched (violation_ratio); not for volume."`
	Every       string  `json:"every" required:"true" pattern:"^[0-9][0-9a-z.]*$" doc:"The bucket: 1m, 10m, 1h; whole seconds, at least 1s."`
	Seasonality string  `json:"seasonality" enum:"none|daily|weekly" doc:"Which earlier buckets a bucket is compared with: the latest ones (none, default), the same time of day (daily) or of the week (weekly)."`
	Sensitivity float64 `json:"sensitivity" xmin:"0" max:"100" doc:"How many robust standard deviations (MAD x 1.4826) outside the learned median a bucket must be to fail; default 3."`
	Direction   string  `json:"direction" enum:"up|down|both" doc:"Which side of the band fails; default both (drift: up)."`
	MinHistory  int     `json:"min_history" min:"1" max:"4096" doc:"Buckets learned before the rule judges; until then its verdicts are skip. Default 24."`
	Train       string  `json:"train" pattern:"^[0-9][0-9a-z.]*$" doc:"Online: how far back a new rule reads the topic's history on its first start to learn its baseline; default the history it keeps (4 x min_history buckets, 7 days daily, 4 weeks weekly)."`
}

type fileSegment struct {
	By  string `json:"by" required:"true" doc:"Expression whose value names an event's segment (a country, a tenant, a header)."`
	Max int    `json:"max" min:"1" max:"100" doc:"Segments of their own, by events; default 10. The segment label has at most max+1 values."`
}

type fileField struct {
	Type     string `json:"type" required:"true" enum:"string|int|float|bool|time|object|array|any" doc:"float is any number; time an RFC 3339 string or epoch seconds or milliseconds; checked when the field is present and not null."`
	Required bool   `json:"required" doc:"The field must be present (default false)."`
	Nullable bool   `json:"nullable" doc:"The field may be null (default false)."`
}

type fileVolume struct {
	Min int    `json:"min" required:"true" min:"1" doc:"Fewest events per window."`
	Per string `json:"per" required:"true" doc:"The window: 10m, 1h, ..."`
}

type fileAlert struct {
	Ratio     float64  `json:"ratio" min:"0" xmax:"1" doc:"Failure ratio over the window above which a rule fires (default 0.01)."`
	Window    string   `json:"window" doc:"Sliding window (default 5m)."`
	MinEvents int      `json:"min_events" min:"0" doc:"Fewest events in the window to judge (default 20)."`
	Channels  []string `json:"channels" doc:"Channel names defined in the service config."`
}

type fileQuarantine struct {
	Topic   string `json:"topic" required:"true" doc:"Topic that receives the violating events."`
	MaskPII bool   `json:"mask_pii" doc:"Mask the pii paths in the copies."`
}

type fileExample struct {
	Name  string         `json:"name" doc:"What the example shows."`
	Event map[string]any `json:"event" required:"true" doc:"The event, as its JSON would be."`
	Pass  []string       `json:"pass" doc:"Rules the event must pass."`
	Fail  []string       `json:"fail" doc:"Rules the event must fail."`
}

// JSONSchema returns the JSON Schema (draft 2020-12) of a contract file's
// document.
func JSONSchema() []byte {
	s := schemaOf(reflect.TypeOf(fileContract{}))
	s["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	s["$id"] = "https://raw.githubusercontent.com/assay-dev/assay/main/schema/contract.schema.json"
	s["title"] = "assay contract"
	s["anyOf"] = []any{map[string]any{"required": []string{"topics"}}, map[string]any{"required": []string{"topic_pattern"}}}
	rule := s["properties"].(map[string]any)["rules"].(map[string]any)["items"].(map[string]any)
	rule["oneOf"] = []any{
		map[string]any{"required": []string{"expr"}},
		map[string]any{"required": []string{"unique"}},
		map[string]any{"required": []string{"fresh"}},
		map[string]any{"required": []string{"sequence"}},
		map[string]any{"required": []string{"reference"}},
		map[string]any{"required": []string{"anomaly"}},
	}
	b, _ := json.MarshalIndent(s, "", "  ")
	return append(b, '\n')
}

func schemaOf(t reflect.Type) map[string]any {
	switch t.Kind() {
	case reflect.Pointer:
		return schemaOf(t.Elem())
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Int:
		return map[string]any{"type": "integer"}
	case reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Slice:
		return map[string]any{"type": "array", "items": schemaOf(t.Elem())}
	case reflect.Map:
		if t.Elem().Kind() == reflect.Struct {
			return map[string]any{"type": "object", "additionalProperties": schemaOf(t.Elem())}
		}
		return map[string]any{"type": "object"}
	case reflect.Struct:
		props := map[string]any{}
		var required []string
		for i := range t.NumField() {
			f := t.Field(i)
			name := strings.Split(f.Tag.Get("json"), ",")[0]
			p := schemaOf(f.Type)
			if types := f.Tag.Get("types"); types != "" {
				p = map[string]any{"type": strings.Split(types, "|")}
			}
			if d := f.Tag.Get("doc"); d != "" {
				p["description"] = d
			}
			if e := f.Tag.Get("enum"); e != "" {
				p["enum"] = strings.Split(e, "|")
			}
			if pat := f.Tag.Get("pattern"); pat != "" {
				p["pattern"] = pat
			}
			for _, k := range []string{"min", "max", "xmin", "xmax"} {
				if v := f.Tag.Get(k); v != "" {
					var n json.Number = json.Number(v)
					p[map[string]string{"min": "minimum", "max": "maximum", "xmin": "exclusiveMinimum", "xmax": "exclusiveMaximum"}[k]] = n
				}
			}
			if f.Tag.Get("required") == "true" {
				required = append(required, name)
			}
			props[name] = p
		}
		s := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
		if len(required) > 0 {
			s["required"] = required
		}
		return s
	}
	return map[string]any{}
}
