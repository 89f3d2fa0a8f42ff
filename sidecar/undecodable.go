package sidecar

import (
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/assay-dev/assay/internal/safetext"
	"github.com/assay-dev/assay/rules"
	"github.com/assay-dev/assay/sinks"
)

// Bounds of what is kept about undecodable records: the last few per topic,
// each with a short preview, and a warn log line per topic at most every
// undecodableLogEvery.
const (
	undecodableSamples   = 5
	undecodablePreview   = 160 // bytes of the record shown
	undecodableReason    = 300 // bytes of the decoder's reason
	undecodableLogEvery  = 10 * time.Second
	undecodableMaxTopics = 10000 // topics tracked; beyond, only counted
)

type undecodableTopic struct {
	format  string
	count   uint64
	samples []sinks.UndecodableSample // ring, at most undecodableSamples
	next    int
	logged  time.Time
}

// undecodables keeps the last undecodable records of every topic.
type undecodables struct {
	mu     sync.Mutex
	topics map[string]*undecodableTopic
}

// add records one undecodable record and reports whether it should be
// logged (at most one line per topic every undecodableLogEvery).
func (u *undecodables) add(topic, format string, s sinks.UndecodableSample) (logIt bool, suppressed uint64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.topics == nil {
		u.topics = map[string]*undecodableTopic{}
	}
	t := u.topics[topic]
	if t == nil {
		if len(u.topics) >= undecodableMaxTopics {
			return false, 0
		}
		t = &undecodableTopic{}
		u.topics[topic] = t
	}
	t.format = format
	t.count++
	if len(t.samples) < undecodableSamples {
		t.samples = append(t.samples, s)
	} else {
		t.samples[t.next] = s
		t.next = (t.next + 1) % undecodableSamples
	}
	if s.Seen.Sub(t.logged) >= undecodableLogEvery {
		t.logged = s.Seen
		return true, t.count
	}
	return false, 0
}

// list returns the undecodable records of every topic, sorted by topic.
func (u *undecodables) list() []sinks.Undecodable {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := make([]sinks.Undecodable, 0, len(u.topics))
	for name, t := range u.topics {
		d := sinks.Undecodable{Topic: name, Format: t.format, Count: t.count}
		d.Samples = append(d.Samples, t.samples[t.next:]...)
		d.Samples = append(d.Samples, t.samples[:t.next]...)
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Topic < out[j].Topic })
	return out
}

// undecodableRecord counts, keeps and (rate-limited) logs a record that
// could not be decoded.
func (s *Sidecar) undecodableRecord(contracts []*rules.Contract, topic string, partition int32, offset int64, value []byte, format, reason string, err error) {
	s.countDecodeError(topic, format, reason)
	why := reason
	if err != nil {
		why = err.Error()
	}
	pii := hasPII(contracts, topic)
	why = safetext.Truncate(why, undecodableReason)
	if pii {
		why = longDigits.ReplaceAllString(why, "***") // a decoder may quote a number
	}
	sample := sinks.UndecodableSample{
		Partition: partition, Offset: offset, Bytes: len(value), Seen: time.Now(),
		Reason:  safetext.Visible(why),
		Preview: preview(value, pii),
	}
	if logIt, n := s.undecodable.add(topic, format, sample); logIt {
		s.log.Warn("undecodable record (counted in assay_decode_errors_total; the last few are on the dashboard)",
			"topic", topic, "partition", partition, "offset", offset, "format", format, "reason", sample.Reason,
			"undecodable_on_topic", n)
	}
}

var longDigits = regexp.MustCompile(`[0-9][0-9.eE+-]{3,}`)

func hasPII(contracts []*rules.Contract, topic string) bool {
	for _, c := range contracts {
		if len(c.PII) > 0 && c.MatchesTopic(topic) {
			return true
		}
	}
	return false
}

// preview returns the start of a record, fit to show: at most
// undecodablePreview bytes, control characters and invalid UTF-8 escaped,
// and with masked set every value masked.
func preview(value []byte, masked bool) string {
	cut := len(value) > undecodablePreview
	v := value[:min(len(value), undecodablePreview)]
	var text string
	if masked {
		text = maskValues(v)
	} else {
		text = string(v)
	}
	text = safetext.Visible(text)
	if cut {
		text += "…"
	}
	return text
}

// maskValues keeps the structure of JSON-like text and hides its values:
// the content of every string that is not an object key becomes ***, and
// so does every run of letters and digits outside strings other than
// true, false and null. Text that is not JSON at all ends up as *** runs.
func maskValues(v []byte) string {
	var b strings.Builder
	for i := 0; i < len(v); {
		c := v[i]
		switch {
		case c == '"':
			j := i + 1
			for j < len(v) && v[j] != '"' {
				if v[j] == '\\' {
					j++
				}
				j++
			}
			end := min(j+1, len(v))
			k := end
			for k < len(v) && (v[k] == ' ' || v[k] == '\t' || v[k] == '\n' || v[k] == '\r') {
				k++
			}
			if j < len(v) && k < len(v) && v[k] == ':' {
				b.Write(v[i:end]) // a key
			} else {
				b.WriteString(`"***"`)
			}
			i = end
		case isWordByte(c):
			j := i
			for j < len(v) && isWordByte(v[j]) {
				j++
			}
			switch w := string(v[i:j]); w {
			case "true", "false", "null":
				b.WriteString(w)
			default:
				b.WriteString("***")
			}
			i = j
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

func isWordByte(c byte) bool {
	return c >= 0x80 || c == '_' || c == '-' || c == '+' || c == '.' || c == '@' ||
		(c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}
