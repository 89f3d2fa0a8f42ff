package checker

import (
	"cmp"
	"encoding/json"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"

	"github.com/assay-dev/assay/rules"
)

// Durable state.
//
// With Options.Durable, a Partition tracks what changes in the state of its
// unique, sequence and reference rules, and Changes hands it out as
// key/value pairs for a compacted changelog topic (Kafka Streams' way); a
// Partition made anew on another replica, or after a crash, takes them
// back with Restore before its first record. A key names one entry of one
// rule:
//
//	u\x00CONTRACT\x00RULE\x00HASH   a key of a unique rule (its 64-bit hash)
//	r\x00CONTRACT\x00RULE\x00HASH   a key a reference rule has seen referenced
//	o\x00CONTRACT\x00RULE\x00KEY    an open expectation (the key's text)
//
// and the value, JSON, carries the rule's fingerprint: the state of a rule
// whose definition changed is not restored. A nil value deletes the entry.

// StateChange is one changed entry of a partition's durable state; Value
// nil means the entry is gone.
type StateChange struct {
	Key   string
	Value []byte
	// Shared is set for the state that the partitions of one number of a
	// contract's co-partitioned topics share: it is kept under this name
	// (SharedStatePrefix and the contract's name) and the partition's
	// number, not under the partition's topic, and restored with every
	// partition of that number.
	Shared string
}

// stableHash is the hash of keys of durable state: the same in every
// process, so that a key written by one replica is found by the next.
func stableHash(text string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(text))
	x := h.Sum64()
	// A finalizer (murmur3's) spreads the bits of near keys.
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}

func fingerprintHash(fp string) string {
	h := fnv.New32a()
	h.Write([]byte(fp))
	return strconv.FormatUint(uint64(h.Sum32()), 16)
}

type uniqueValue struct {
	FP     string `json:"fp"`
	Offset int64  `json:"o"`
	First  int64  `json:"f"`
	Part   int32  `json:"p,omitempty"`
	TS     int64  `json:"t"`
}

type openValue struct {
	FP       string `json:"fp"`
	Start    int64  `json:"s"`
	Deadline int64  `json:"d"`
	At       int64  `json:"a"`
	Topic    string `json:"tp,omitempty"`
	Part     int32  `json:"p"`
	N        int    `json:"n"`
}

func stateEntryKey(kind byte, c *contract, r *rule, key string) string {
	return string(kind) + "\x00" + c.c.Name + "\x00" + r.r.Name + "\x00" + key
}

// appendUniqueValue is the JSON of a uniqueValue, written by hand: one is
// written for every key a batch sees, and encoding/json's reflection would
// cost more than the rule.
func appendUniqueValue(b []byte, fp string, s uniqueSeen) []byte {
	b = append(b, `{"fp":"`...)
	b = append(b, fp...) // hex digits: nothing to escape
	b = append(b, `","o":`...)
	b = strconv.AppendInt(b, s.offset, 10)
	b = append(b, `,"f":`...)
	b = strconv.AppendInt(b, s.first, 10)
	if s.part != 0 {
		b = append(b, `,"p":`...)
		b = strconv.AppendInt(b, int64(s.part), 10)
	}
	b = append(b, `,"t":`...)
	b = strconv.AppendInt(b, s.ts, 10)
	return append(b, '}')
}

// track turns change tracking on for the state of a new partition.
func (pc *partContract) track() {
	for _, u := range pc.unique {
		if u != nil {
			u.stable, u.dirty = stableHash, map[uint64]bool{}
		}
	}
	for _, s := range pc.corr {
		if s != nil {
			s.dirty = map[string]bool{}
			if s.seen != nil {
				s.seen.stable, s.seen.dirty = stableHash, map[uint64]bool{}
			}
		}
	}
}

// Changes returns the entries of the partition's durable state that
// changed since the last call (nothing without Options.Durable). Call it
// from the goroutine that checks the partition's records.
func (p *Partition) Changes() []StateChange {
	var out []StateChange
	for i, pc := range p.state {
		if pc == nil {
			continue
		}
		c := p.ch.contracts[i]
		for j, r := range c.rules {
			fp := r.fp
			if u := pc.unique[j]; u != nil {
				out = appendUnique(out, 'u', c, r, fp, u)
			}
			s := pc.corr[j]
			if s == nil {
				continue
			}
			s.mu.Lock()
			from := len(out)
			if s.seen != nil {
				out = appendUnique(out, 'r', c, r, fp, s.seen)
			}
			keys := make([]string, 0, len(s.dirty))
			for k := range s.dirty {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				ch := StateChange{Key: stateEntryKey('o', c, r, k)}
				if o := s.open[k]; o != nil {
					ch.Value, _ = json.Marshal(openValue{FP: fp, Start: o.start, Deadline: o.deadline, At: o.at, Topic: o.topic, Part: o.part, N: o.n})
				}
				out = append(out, ch)
			}
			clear(s.dirty)
			for k := range out[from:] {
				out[from+k].Shared = s.shared
			}
			s.mu.Unlock()
		}
	}
	return out
}

func appendUnique(out []StateChange, kind byte, c *contract, r *rule, fp string, u *uniqueState) []StateChange {
	if len(u.dirty) == 0 {
		return out
	}
	hashes := make([]uint64, 0, len(u.dirty))
	for h := range u.dirty {
		hashes = append(hashes, h)
	}
	slices.Sort(hashes)
	for _, h := range hashes {
		ch := StateChange{Key: stateEntryKey(kind, c, r, strconv.FormatUint(h, 16))}
		if seen, ok := u.keys[h]; ok {
			ch.Value = appendUniqueValue(nil, fp, seen)
		}
		out = append(out, ch)
	}
	clear(u.dirty)
	return out
}

// Restore takes back one entry of the partition's durable state, in the
// order they were written (a later one replaces an earlier; a nil value
// deletes). It reports whether the entry is of a rule of the partition's
// contracts, as it is defined now: one that is not (a rule gone or
// changed, an entry assay cannot read) is ignored, and the caller should
// delete it from the changelog. Call Restored after the last one, before
// the partition's first record.
func (p *Partition) Restore(key string, value []byte) bool {
	kind, contractName, ruleName, k, ok := splitStateKey(key)
	if !ok {
		return false
	}
	i, c := p.ch.contractNamed(contractName)
	if c == nil || p.state[i] == nil {
		return false
	}
	pc := p.state[i]
	for j, r := range c.rules {
		if r.r.Name != ruleName {
			continue
		}
		fp := r.fp
		switch kind {
		case "u", "r":
			u := pc.unique[j]
			if kind == "r" && pc.corr[j] != nil {
				u = pc.corr[j].seen
			}
			h, err := strconv.ParseUint(k, 16, 64)
			if u == nil || err != nil {
				return false
			}
			var v uniqueValue
			if value == nil {
				delete(u.keys, h)
				return true
			}
			if json.Unmarshal(value, &v) != nil || v.FP != fp {
				return false
			}
			u.keys[h] = uniqueSeen{offset: v.Offset, first: v.First, part: v.Part, ts: v.TS}
			return true
		case "o":
			s := pc.corr[j]
			if s == nil {
				return false
			}
			s.mu.Lock()
			defer s.mu.Unlock()
			if o := s.open[k]; o != nil {
				s.remove(o)
				delete(s.open, k)
			}
			if value == nil {
				return true
			}
			var v openValue
			if json.Unmarshal(value, &v) != nil || v.FP != fp {
				return false
			}
			o := &openExp{key: k, start: v.Start, deadline: v.Deadline, at: v.At, topic: v.Topic, part: v.Part, n: min(max(v.N, 1), maxWaiting)}
			s.open[k] = o
			s.push(o)
			return true
		}
		return false
	}
	return false
}

// maxWaiting bounds the events one restored expectation may say are waiting
// for it: a changelog entry is not trusted to say more.
const maxWaiting = 1 << 20

// Restored ends a restore: the keys of unique rules are put back in the
// order they were last seen, within their caps.
func (p *Partition) Restored() {
	for _, pc := range p.state {
		if pc == nil {
			continue
		}
		for j, u := range pc.unique {
			if u != nil {
				u.rebuild()
			}
			if s := pc.corr[j]; s != nil {
				if s.seen != nil {
					s.seen.rebuild()
				}
				for len(s.open) > s.max && len(s.due) > 0 {
					e := s.popDue()
					delete(s.open, e.key)
					s.evictions.Add(1)
				}
				s.count()
			}
		}
	}
}

// rebuild makes the ring of sightings anew from the keys, oldest first,
// and applies the cap.
func (u *uniqueState) rebuild() {
	type kv struct {
		h uint64
		s uniqueSeen
	}
	all := make([]kv, 0, len(u.keys))
	for h, s := range u.keys {
		all = append(all, kv{h, s})
	}
	slices.SortFunc(all, func(a, b kv) int {
		if a.s.ts != b.s.ts {
			return cmp.Compare(a.s.ts, b.s.ts)
		}
		return cmp.Compare(int64(a.h), int64(b.h))
	})
	u.fifo, u.head, u.n, u.seq = nil, 0, 0, 0
	clear(u.keys)
	for _, e := range all {
		u.seq++
		e.s.seq = u.seq
		if len(u.keys) >= u.max {
			u.evictOldest()
		}
		u.keys[e.h] = e.s
		u.push(uniqueEntry{e.h, u.seq, e.s.ts})
		u.newest = max(u.newest, e.s.ts)
	}
	u.size.Store(int64(len(u.keys)))
	if u.dirty != nil {
		clear(u.dirty) // what was restored is written already
	}
}

// eachRuleState calls fn for every rule of every contract of every
// partition held, with ch.mu held.
func (ch *Checker) eachRuleState(fn func(c *contract, r *rule, pc *partContract, j int)) {
	for p := range ch.partitions {
		for i, pc := range p.state {
			if pc == nil {
				continue
			}
			c := ch.contracts[i]
			for j, r := range c.rules {
				fn(c, r, pc, j)
			}
		}
	}
}

// StateKeys returns, per contract and rule, the keys held by unique,
// sequence and reference rules over the partitions held now
// (assay_state_keys), and how many were evicted at their caps.
func (ch *Checker) StateKeys() (keys map[string]map[string]int64, evicted uint64) {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	keys = map[string]map[string]int64{}
	for _, c := range ch.contracts {
		for _, r := range c.rules {
			if r.r.Kind == rules.KindUnique || r.r.Correlates() {
				if keys[c.c.Name] == nil {
					keys[c.c.Name] = map[string]int64{}
				}
				keys[c.c.Name][r.r.Name] = 0
			}
		}
	}
	seen := map[*corrState]bool{} // a state shared by partitions counts once
	ch.eachRuleState(func(c *contract, r *rule, pc *partContract, j int) {
		if u := pc.unique[j]; u != nil {
			keys[c.c.Name][r.r.Name] += u.size.Load()
			evicted += u.evictions.Load()
		}
		if s := pc.corr[j]; s != nil && !seen[s] {
			seen[s] = true
			keys[c.c.Name][r.r.Name] += s.keys.Load()
			evicted += s.evictions.Load()
			if s.seen != nil {
				evicted += s.seen.evictions.Load()
			}
		}
	})
	return keys, evicted
}

// Stateful reports whether the partition holds the state of a unique,
// sequence or reference rule.
func (p *Partition) Stateful() bool {
	for _, pc := range p.state {
		if pc == nil {
			continue
		}
		for j := range pc.unique {
			if pc.unique[j] != nil || pc.corr[j] != nil {
				return true
			}
		}
	}
	return false
}

// SharedNames are the names under which state this partition shares with
// the partitions of its number of co-partitioned topics is kept
// (StateChange.Shared): restore them with the partition.
func (p *Partition) SharedNames() []string {
	var out []string
	seen := map[string]bool{}
	for _, pc := range p.state {
		if pc == nil {
			continue
		}
		for _, s := range pc.corr {
			if s != nil && s.shared != "" && !seen[s.shared] {
				seen[s.shared] = true
				out = append(out, s.shared)
			}
		}
	}
	return out
}

// Unwritten marks changes that Changes handed out, and that could not be
// written, as changed again, for the next Changes.
func (p *Partition) Unwritten(changes []StateChange) {
	for _, ch := range changes {
		kind, contractName, ruleName, k, ok := splitStateKey(ch.Key)
		if !ok {
			continue
		}
		i, c := p.ch.contractNamed(contractName)
		if c == nil || p.state[i] == nil {
			continue
		}
		pc := p.state[i]
		for j, r := range c.rules {
			if r.r.Name != ruleName {
				continue
			}
			switch kind {
			case "u", "r":
				u := pc.unique[j]
				if kind == "r" && pc.corr[j] != nil {
					u = pc.corr[j].seen
				}
				if h, err := strconv.ParseUint(k, 16, 64); err == nil && u != nil && u.dirty != nil {
					u.dirty[h] = true
				}
			case "o":
				if s := pc.corr[j]; s != nil {
					s.mu.Lock()
					s.changed(k)
					s.mu.Unlock()
				}
			}
		}
	}
}

// splitStateKey splits the key of a state entry into its kind, contract,
// rule and key.
func splitStateKey(key string) (kind, contract, rule, k string, ok bool) {
	kind, rest, ok := strings.Cut(key, "\x00")
	if !ok || len(kind) != 1 {
		return "", "", "", "", false
	}
	contract, rest, _ = strings.Cut(rest, "\x00")
	rule, k, ok = strings.Cut(rest, "\x00")
	return kind, contract, rule, k, ok
}
