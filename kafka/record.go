package kafka

import (
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Record is one Kafka record as the rest of assay sees it: no client type
// travels beyond this package. The slices of a Record handed to a Handler
// belong to the consumer and are valid during that Handle call only.
type Record struct {
	Topic     string
	Partition int32
	Offset    int64
	Timestamp time.Time
	Key       []byte
	Value     []byte
	Headers   []Header
}

// Header is one record header.
type Header struct {
	Key   string
	Value []byte
}

// Size is the record's size as limits count it: key, value and headers.
func (r *Record) Size() int {
	n := len(r.Key) + len(r.Value)
	for _, h := range r.Headers {
		n += len(h.Key) + len(h.Value)
	}
	return n
}

// Header returns the value of the first header named key, and whether
// there is one.
func (r *Record) Header(key string) ([]byte, bool) {
	for _, h := range r.Headers {
		if h.Key == key {
			return h.Value, true
		}
	}
	return nil, false
}

// records converts franz-go records into Records, reusing out and hdrs
// (one flat slice for the headers of every record) from the previous
// call; it returns both for the next call.
func records(in []*kgo.Record, out []Record, hdrs []Header) ([]Record, []Header) {
	out, hdrs = out[:0], hdrs[:0]
	n := 0
	for _, r := range in {
		n += len(r.Headers)
	}
	if cap(hdrs) < n {
		hdrs = make([]Header, 0, n)
	}
	for _, r := range in {
		start := len(hdrs)
		for _, h := range r.Headers {
			hdrs = append(hdrs, Header{Key: h.Key, Value: h.Value})
		}
		rec := Record{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Timestamp: r.Timestamp, Key: r.Key, Value: r.Value}
		if len(hdrs) > start {
			rec.Headers = hdrs[start:len(hdrs):len(hdrs)]
		}
		out = append(out, rec)
	}
	return out, hdrs
}

// fromRecord converts a Record into a franz-go record to produce.
func fromRecord(r *Record) *kgo.Record {
	k := &kgo.Record{Topic: r.Topic, Key: r.Key, Value: r.Value, Timestamp: r.Timestamp}
	if len(r.Headers) > 0 {
		k.Headers = make([]kgo.RecordHeader, len(r.Headers))
		for i, h := range r.Headers {
			k.Headers[i] = kgo.RecordHeader{Key: h.Key, Value: h.Value}
		}
	}
	return k
}

// toRecord converts one franz-go record into a Record that owns nothing
// the client will reuse (franz-go never reuses a record's slices).
func toRecord(r *kgo.Record) Record {
	out, _ := records([]*kgo.Record{r}, nil, nil)
	return out[0]
}
