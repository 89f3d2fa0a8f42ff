package infer

import (
	"hash/maphash"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Bounds on the memory one Profiler uses, whatever it reads.
const (
	// MaxFields is the number of distinct field paths profiled; paths
	// first seen after that are counted and left out.
	MaxFields = 500
	// MaxDistinct is the number of distinct values tracked per field for
	// enums; past it the field is no enum.
	MaxDistinct = 64
	// MaxUnique is the number of values per field remembered to tell
	// whether all are distinct; past it uniqueness is no longer tracked.
	MaxUnique = 100_000
	// maxDepth bounds how deep nested objects are walked.
	maxDepth = 8
	// maxEnumLen is the longest string offered as an enum value.
	maxEnumLen = 64
)

type kind uint8

const (
	kNull kind = iota
	kString
	kInt
	kFloat
	kBool
	kObject
	kArray
	kOther
	nKinds
)

var kindNames = [nKinds]string{"null", "string", "int", "float", "bool", "object", "array", "other"}

// String formats, as bits of a mask: a field has a format when every one
// of its strings matched it.
const (
	fUUID uint16 = 1 << iota
	fDateTime
	fDate
	fEmail
	fURL
	fCurrency
	fCountry
	allFormats = fUUID | fDateTime | fDate | fEmail | fURL | fCurrency | fCountry
)

// A format: the regular expression both detects it here and is written
// into the contract (RE2, without backslashes so that it survives expr's
// and YAML's quoting untouched).
type format struct {
	bit  uint16
	name string // for comments and descriptions: "a UUID"
	re   string
}

// formatOrder is the order of preference when several formats fit.
var formatOrder = []format{
	{fUUID, "a UUID", `^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`},
	{fDateTime, "an RFC 3339 date-time", `^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}([.,][0-9]+)?([Zz]|[+-][0-9]{2}:?[0-9]{2})$`},
	{fDate, "an ISO 8601 date", `^[0-9]{4}-[0-9]{2}-[0-9]{2}$`},
	{fEmail, "an email address", `^[^@ ]+@[^@ ]+[.][^@ ]+$`},
	{fURL, "a URL", `^https?://[^ ]+$`},
	{fCurrency, "an ISO 4217-like currency code (3 uppercase letters)", `^[A-Z]{3}$`},
	{fCountry, "an ISO 3166-like country code (2 uppercase letters)", `^[A-Z]{2}$`},
}

var formatREs = func() []*regexp.Regexp {
	out := make([]*regexp.Regexp, len(formatOrder))
	for i, f := range formatOrder {
		out[i] = regexp.MustCompile(f.re)
	}
	return out
}()

// Values that look like personal data whatever the field is called.
var (
	emailValueRE = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
	phoneValueRE = regexp.MustCompile(`^\+[0-9][0-9 ()./-]{6,}[0-9]$`)
	ibanValueRE  = regexp.MustCompile(`^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$`)
	ipv4ValueRE  = regexp.MustCompile(`^[0-9]{1,3}(\.[0-9]{1,3}){3}$`)
)

// formatMask returns the formats among want that s matches.
func formatMask(s string, want uint16) uint16 {
	var m uint16
	for i, f := range formatOrder {
		if want&f.bit != 0 && formatREs[i].MatchString(s) {
			m |= f.bit
		}
	}
	return m
}

// field is what is known about one field path.
type field struct {
	path []string // segments; "[]" stands for the elements of an array
	key  string   // path joined with NUL, the map key

	present int // the key was there (null included)
	kinds   [nKinds]int

	// numbers
	nums           int
	min, max       float64
	allWhole       bool
	zeros          int     // numbers that were 0
	minAbs, maxAbs float64 // of the numbers that were not 0

	// strings
	strs      int
	formats   uint16 // formats every string matched so far
	empty     int
	piiValues int // strings that look like an email, phone, IBAN or IP address

	// enum candidates: distinct strings and their counts, nil once more
	// than MaxDistinct were seen or a value cannot be offered as an enum
	distinct     map[string]int
	distinctDone bool

	// uniqueness of id-like fields
	uniqTrack  bool // the name says it is an id
	uniqOff    bool // a value that cannot be a key (or, for a uuid guess, no uuid) was seen
	uniq       map[uint64]struct{}
	uniqSeen   int  // values looked up in uniq
	uniqRepeat int  // of them, values seen before
	uniqRef    bool // repeats were so common that tracking stopped: a reference, not an id
	uniqCapped bool

	// arrays
	arrays         int
	minLen, maxLen int

	// event time
	timeHint   bool // the name says it is a time
	times      int
	timeBad    bool // a non-null value was no time
	newest     time.Time
	maxLag     time.Duration // behind the newest time seen so far
	recLags    int
	maxRecLag  time.Duration // behind the record timestamp
	timeEpochs bool          // numbers rather than strings
}

func (f *field) name() string { return f.path[len(f.path)-1] }

func (f *field) nonNull() int { return f.present - f.kinds[kNull] }

// only reports whether every non-null value was of one of the kinds.
func (f *field) only(ks ...kind) bool {
	n := 0
	for _, k := range ks {
		n += f.kinds[k]
	}
	return n > 0 && n == f.nonNull()
}

// Profiler accumulates what a stream of decoded events looks like. Its
// memory is bounded (MaxFields, MaxDistinct, MaxUnique). It is not safe for
// concurrent use.
type Profiler struct {
	events       int
	decodeErrors int
	fields       map[string]*field
	droppedPaths int // paths not profiled because of MaxFields
	droppedKeys  int // keys that look like values (dynamic keys) or are unprintable
	seed         maphash.Seed
	first, last  time.Time // record timestamps seen
}

// NewProfiler returns an empty profiler.
func NewProfiler() *Profiler {
	return &Profiler{fields: map[string]*field{}, seed: maphash.MakeSeed()}
}

// Events returns the number of events added.
func (p *Profiler) Events() int { return p.events }

// AddDecodeError counts an event that could not be decoded; it is not
// profiled but is mentioned in the contract.
func (p *Profiler) AddDecodeError() { p.decodeErrors++ }

// Add profiles one decoded event. ts is the record timestamp (zero when
// there is none, e.g. offline); event-time lags are measured against it,
// or against the newest event time seen so far when it is zero.
func (p *Profiler) Add(fields map[string]any, ts time.Time) {
	p.events++
	if !ts.IsZero() {
		if p.first.IsZero() || ts.Before(p.first) {
			p.first = ts
		}
		if ts.After(p.last) {
			p.last = ts
		}
	}
	p.walk(fields, nil, false, 0, ts)
}

func (p *Profiler) walk(obj map[string]any, prefix []string, inElem bool, depth int, ts time.Time) {
	for k, v := range obj {
		if !keyOK(k) {
			p.droppedKeys++
			continue
		}
		path := append(prefix[:len(prefix):len(prefix)], k)
		f := p.field(path)
		if f == nil {
			continue
		}
		p.observe(f, v, ts)
		switch v := v.(type) {
		case map[string]any:
			if !inElem && depth < maxDepth {
				p.walk(v, path, false, depth+1, ts)
			}
		case []any:
			if inElem {
				continue
			}
			ep := append(path[:len(path):len(path)], "[]")
			ef := p.field(ep)
			if ef == nil {
				continue
			}
			for _, e := range v {
				p.observe(ef, e, ts)
				if m, ok := e.(map[string]any); ok {
					p.walk(m, ep, true, depth+1, ts)
				}
			}
		}
	}
}

// keyOK rejects keys that cannot be field names worth a rule, or that may
// be values themselves (maps keyed by email, say): such keys are never
// written to the contract.
func keyOK(k string) bool {
	if k == "" || len(k) > 64 || k == "[]" || strings.ContainsAny(k, "@\"\\") {
		return false
	}
	for _, r := range k {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

func (p *Profiler) field(path []string) *field {
	key := strings.Join(path, "\x00")
	if f, ok := p.fields[key]; ok {
		return f
	}
	if len(p.fields) >= MaxFields {
		p.droppedPaths++
		return nil
	}
	name := path[len(path)-1]
	if name == "[]" && len(path) > 1 {
		name = path[len(path)-2]
	}
	f := &field{
		path: append([]string(nil), path...), key: key,
		allWhole: true, formats: allFormats, distinct: map[string]int{},
		uniqTrack: idLike(name), timeHint: timeLike(name),
		minLen: math.MaxInt,
	}
	p.fields[key] = f
	return f
}

func (p *Profiler) observe(f *field, v any, ts time.Time) {
	f.present++
	k := kindOf(v)
	f.kinds[k]++
	switch k {
	case kNull:
		return
	case kString:
		s := v.(string)
		f.strs++
		f.formats = formatMask(s, f.formats)
		if s == "" {
			f.empty++
		}
		if emailValueRE.MatchString(s) || phoneValueRE.MatchString(s) || ibanValueRE.MatchString(s) || ipv4ValueRE.MatchString(s) {
			f.piiValues++
		}
		f.addDistinct(s)
		if f.uniqTrack || f.formats&fUUID != 0 {
			p.addUnique(f, "s"+s)
		} else {
			f.uniqOff, f.uniq = true, nil
		}
		if f.timeHint && !f.timeBad {
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil || f.timeEpochs {
				f.timeBad = true
			} else {
				f.addTime(t, ts)
			}
		}
	case kInt, kFloat:
		x := number(v)
		if f.nums == 0 || x < f.min {
			f.min = x
		}
		if f.nums == 0 || x > f.max {
			f.max = x
		}
		f.nums++
		if a := math.Abs(x); a == 0 {
			f.zeros++
		} else {
			if f.maxAbs == 0 || a < f.minAbs {
				f.minAbs = a
			}
			f.maxAbs = max(f.maxAbs, a)
		}
		if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
			f.allWhole = false
		}
		f.distinctDone, f.distinct = true, nil
		if f.uniqTrack {
			p.addUnique(f, "n"+strconv.FormatFloat(x, 'g', -1, 64))
		} else {
			f.uniqOff, f.uniq = true, nil
		}
		if f.timeHint && !f.timeBad {
			t, ok := epoch(x)
			if !ok || (f.times > 0 && !f.timeEpochs) {
				f.timeBad = true
			} else {
				f.timeEpochs = true
				f.addTime(t, ts)
			}
		}
	case kArray:
		n := len(v.([]any))
		f.arrays++
		f.minLen = min(f.minLen, n)
		f.maxLen = max(f.maxLen, n)
	}
	if k != kString {
		f.distinctDone, f.distinct = true, nil
		if k != kInt && k != kFloat {
			f.uniqOff, f.uniq = true, nil
		}
		if f.timeHint && k != kInt && k != kFloat {
			f.timeBad = true
		}
	}
}

func (f *field) addDistinct(s string) {
	if f.distinctDone {
		return
	}
	if _, ok := f.distinct[s]; !ok && (len(f.distinct) >= MaxDistinct || !enumValueOK(s)) {
		f.distinctDone, f.distinct = true, nil
		return
	}
	f.distinct[s]++
}

// enumValueOK: a value that can be written into an expr string literal in
// a YAML scalar as it is.
func enumValueOK(s string) bool {
	if len(s) > maxEnumLen || strings.ContainsAny(s, "\"\\") {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == 0xfffd {
			return false
		}
	}
	return true
}

// addUnique remembers a value of an id-like field and counts repeats.
// Once more than half of the values repeat (after 20), the field is a
// reference (a customer id, say), not the event's id: tracking stops.
func (p *Profiler) addUnique(f *field, s string) {
	if f.uniqOff || f.uniqRef || f.uniqCapped {
		return
	}
	if f.uniq == nil {
		f.uniq = map[uint64]struct{}{}
	}
	f.uniqSeen++
	h := maphash.String(p.seed, s)
	if _, dup := f.uniq[h]; dup {
		// A hash collision reads as a repeat: with 64-bit hashes of at
		// most MaxUnique values, about one sample in 10^9 has one.
		f.uniqRepeat++
		if f.uniqSeen >= 20 && 2*f.uniqRepeat > f.uniqSeen {
			f.uniqRef, f.uniq = true, nil
		}
		return
	}
	if len(f.uniq) >= MaxUnique {
		f.uniqCapped, f.uniq = true, nil
		return
	}
	f.uniq[h] = struct{}{}
}

func (f *field) addTime(t, ts time.Time) {
	f.times++
	if t.After(f.newest) {
		f.newest = t
	}
	if lag := f.newest.Sub(t); lag > f.maxLag {
		f.maxLag = lag
	}
	if !ts.IsZero() {
		f.recLags++
		if lag := ts.Sub(t); lag > f.maxRecLag {
			f.maxRecLag = lag
		}
	}
}

func kindOf(v any) kind {
	switch v := v.(type) {
	case nil:
		return kNull
	case string:
		return kString
	case bool:
		return kBool
	case map[string]any:
		return kObject
	case []any:
		return kArray
	case int, int8, int16, int32, int64, uint8, uint16, uint32:
		return kInt
	case uint, uint64:
		if number(v) > 1<<63 {
			return kFloat
		}
		return kInt
	case float32, float64:
		return kFloat
	}
	return kOther
}

func number(v any) float64 {
	switch v := v.(type) {
	case int:
		return float64(v)
	case int8:
		return float64(v)
	case int16:
		return float64(v)
	case int32:
		return float64(v)
	case int64:
		return float64(v)
	case uint:
		return float64(v)
	case uint8:
		return float64(v)
	case uint16:
		return float64(v)
	case uint32:
		return float64(v)
	case uint64:
		return float64(v)
	case float32:
		return float64(v)
	case float64:
		return v
	}
	return math.NaN()
}

// epoch reads a number the way fresh rules do (seconds, or milli-, micro-
// or nanoseconds by magnitude) and accepts it only between 2000 and 2100.
func epoch(f float64) (time.Time, bool) {
	var t time.Time
	switch a := math.Abs(f); {
	case a >= 1e17:
		t = time.Unix(0, int64(f))
	case a >= 1e14:
		t = time.UnixMicro(int64(f))
	case a >= 1e11:
		t = time.UnixMilli(int64(f))
	default:
		sec, frac := math.Modf(f)
		t = time.Unix(int64(sec), int64(frac*1e9))
	}
	return t, t.Year() >= 2000 && t.Year() < 2100
}

// words splits a field name into lower-case words: snake, kebab and
// camel case.
func words(name string) []string {
	var out []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			out = append(out, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	rs := []rune(name)
	for i, r := range rs {
		switch {
		case r == '_' || r == '-' || r == ' ' || r == '.':
			flush()
		case r >= 'A' && r <= 'Z' && i > 0 && (rs[i-1] >= 'a' && rs[i-1] <= 'z' || rs[i-1] >= '0' && rs[i-1] <= '9'):
			flush()
			cur = append(cur, r)
		default:
			cur = append(cur, r)
		}
	}
	flush()
	return out
}

// idLike: id, order_id, orderId, order-id, uuid.
func idLike(name string) bool {
	ws := words(name)
	if len(ws) == 0 {
		return false
	}
	last := ws[len(ws)-1]
	return last == "id" || last == "uuid" || last == "guid"
}

// timeLike: created_at, createdAt, event_time, timestamp, ts.
func timeLike(name string) bool {
	ws := words(name)
	if len(ws) == 0 {
		return false
	}
	last := ws[len(ws)-1]
	if last == "at" && len(ws) > 1 || last == "ts" || last == "timestamp" {
		return true
	}
	for _, w := range ws {
		if strings.Contains(w, "time") {
			return true
		}
	}
	return false
}

var (
	// piiWords are words of a field name that mark it as personal data.
	piiWords = map[string]bool{
		"email": true, "mail": true, "phone": true, "mobile": true, "tel": true, "telephone": true, "fax": true,
		"firstname": true, "lastname": true, "surname": true, "fullname": true, "username": true, "holder": true,
		"address": true, "addr": true, "street": true, "zip": true, "zipcode": true, "postcode": true, "postal": true,
		"iban": true, "bic": true, "card": true, "pan": true, "cvv": true, "cvc": true, "account": true,
		"ip": true, "ssn": true, "birth": true, "birthday": true, "birthdate": true, "dob": true,
		"passport": true, "license": true, "nationality": true,
		"password": true, "secret": true, "token": true, "geo": true, "lat": true, "lon": true, "lng": true,
		"latitude": true, "longitude": true,
	}
	// personWords before "name" make it a person's name.
	personWords = map[string]bool{
		"first": true, "last": true, "full": true, "given": true, "family": true, "middle": true, "maiden": true,
		"nick": true, "user": true, "customer": true, "display": true, "contact": true, "holder": true,
		"person": true, "account": true, "sur": true, "legal": true, "real": true, "billing": true, "shipping": true,
	}
	// piiParts are marks of personal data inside a word (emailaddress,
	// dateofbirth).
	piiParts = []string{"email", "phone", "address", "street", "iban", "birth", "passport", "firstname", "lastname", "surname", "password"}
)

// piiName reports whether a field name looks like personal data.
func piiName(name string) bool {
	ws := words(name)
	for i, w := range ws {
		if w == "name" {
			// name alone, or a person's: first_name, customerName.
			if len(ws) == 1 || i > 0 && personWords[ws[i-1]] {
				return true
			}
			continue
		}
		if piiWords[w] {
			return true
		}
		for _, part := range piiParts {
			if strings.Contains(w, part) {
				return true
			}
		}
	}
	return false
}
