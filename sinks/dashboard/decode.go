package dashboard

import (
	"sort"
	"time"

	"github.com/assay-dev/assay/sinks"
)

// Bounds of GET /api/v1/decode_errors and of the overview's section.
const (
	MaxDecodeTopics      = 200 // the topics with the most failures
	MaxDecodeSamples     = 10  // per topic, newest first, in the API
	OverviewDecodeSample = 3   // per topic on the overview
	MaxPreviewBytes      = 512 // JSON-encoded
	MaxDecodeReasonBytes = 512 // JSON-encoded
)

// DecodeTopic is one topic's undecodable records, as the API returns them.
type DecodeTopic struct {
	Topic   string         `json:"topic"`
	Format  string         `json:"format"`
	Count   uint64         `json:"count"`
	Samples []DecodeRecord `json:"samples"` // newest first
}

// DecodeRecord is one undecodable record.
type DecodeRecord struct {
	Partition int32      `json:"partition"`
	Offset    int64      `json:"offset"`
	Reason    string     `json:"reason"`
	Preview   string     `json:"preview"`
	Bytes     int        `json:"bytes"`
	Seen      *time.Time `json:"seen,omitempty"`
}

// decodeErrors reads the Source's undecodable records within the bounds:
// topics with failures, sorted by topic, the samples newest first.
func (d *Dashboard) decodeErrors() []DecodeTopic {
	out := []DecodeTopic{}
	var in []sinks.Undecodable
	for _, e := range d.src.Undecodable() {
		if e.Count > 0 || len(e.Samples) > 0 {
			in = append(in, e)
		}
	}
	if len(in) > MaxDecodeTopics {
		sort.SliceStable(in, func(i, j int) bool { return in[i].Count > in[j].Count })
		in = in[:MaxDecodeTopics]
	}
	sort.SliceStable(in, func(i, j int) bool {
		if in[i].Topic != in[j].Topic {
			return in[i].Topic < in[j].Topic
		}
		return in[i].Format < in[j].Format
	})
	for _, e := range in {
		t := DecodeTopic{Topic: e.Topic, Format: e.Format, Count: e.Count, Samples: []DecodeRecord{}}
		for i := len(e.Samples) - 1; i >= 0 && len(t.Samples) < MaxDecodeSamples; i-- {
			s := e.Samples[i]
			r := DecodeRecord{Partition: s.Partition, Offset: s.Offset, Bytes: s.Bytes, Seen: timePtr(s.Seen)}
			r.Reason, _ = cutEncoded(s.Reason, MaxDecodeReasonBytes)
			r.Preview, _ = cutEncoded(s.Preview, MaxPreviewBytes)
			t.Samples = append(t.Samples, r)
		}
		sort.SliceStable(t.Samples, func(i, j int) bool {
			a, b := t.Samples[i].Seen, t.Samples[j].Seen
			return a != nil && b != nil && a.After(*b)
		})
		out = append(out, t)
	}
	return out
}
