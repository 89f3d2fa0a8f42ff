package rules

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/expr-lang/expr/builtin"

	"github.com/assay-dev/assay/internal/safetext"
	"github.com/assay-dev/assay/internal/suggest"
)

// The keys of each block of a contract, for "did you mean" on unknown keys.
var (
	contractKeys   = []string{"contract", "version", "owner", "consumers", "description", "topics", "topic_pattern", "format", "where", "event_time", "sample", "pii", "rules", "fields", "volume", "segment", "alert", "quarantine", "examples"}
	fieldKeys      = []string{"type", "required", "nullable"}
	ruleKeys       = []string{"name", "expr", "unique", "fresh", "sequence", "reference", "anomaly", "severity", "description", "when", "within", "scope", "tolerance", "mode"}
	exampleKeys    = []string{"name", "event", "pass", "fail"}
	volumeKeys     = []string{"min", "per"}
	anomalyKeys    = []string{"metric", "of", "every", "seasonality", "sensitivity", "direction", "min_history", "train"}
	segmentKeys    = []string{"by", "max"}
	quarantineKeys = []string{"topic", "mask_pii"}
	alertKeys      = []string{"ratio", "window", "min_events", "channels"}
)

// keyAliases are keys other tools use for what a contract names otherwise.
var keyAliases = map[string]string{
	"window": "within", "duration": "within", "period": "within", "max_age": "within",
	"condition": "when", "if": "when", "filter": "where", "expression": "expr", "check": "expr",
	"level": "severity", "priority": "severity", "topic": "topics", "rule": "rules", "checks": "rules",
	"threshold": "ratio", "channel": "channels", "key": "unique", "team": "owner",
	"timestamp": "event_time", "event_timestamp": "event_time", "time": "event_time", "ts": "event_time",
	"begin": "start", "end": "expect", "then": "expect", "followed_by": "expect", "correlation_key": "key",
	"references": "reference", "lookup": "reference", "sequences": "sequence",
}

// unknownKey is the message of a key that is not one of keys: with the key
// it was most likely meant to be.
func unknownKey(key string, keys []string) string {
	msg := fmt.Sprintf("unknown key %q", safetext.Truncate(key, maxQuoted))
	if to, ok := keyAliases[strings.ToLower(key)]; ok && contains(keys, to) {
		return msg + fmt.Sprintf("; did you mean %q?", to)
	}
	if to, ok := suggest.Closest(key, keys); ok {
		return msg + fmt.Sprintf("; did you mean %q?", to)
	}
	return msg + " (known: " + strings.Join(keys, ", ") + ")"
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// functionAliases are the names other languages give expr's functions.
var functionAliases = map[string]string{
	"length": "len", "size": "len", "count": "len", "strlen": "len",
	"lowercase": "lower", "tolower": "lower", "uppercase": "upper", "toupper": "upper",
	"strip": "trim", "exists": "any", "every": "all", "some": "any",
	"startswith": "the operator startsWith", "endswith": "the operator endsWith",
	"contains": "the operator contains", "match": "the operator matches", "regex": "the operator matches",
	"parse_date": "date", "to_date": "date", "timestamp": "date", "parsedate": "date",
}

// functionNames are the functions a contract's expressions may call.
func functionNames() []string {
	var out []string
	for _, f := range builtin.Builtins {
		if !strings.HasPrefix(f.Name, "$") {
			out = append(out, f.Name)
		}
	}
	return out
}

// unknownFunction is the message of a call of a function expr does not
// have, with the one that was most likely meant.
func unknownFunction(name string) string {
	msg := fmt.Sprintf("unknown function %q", safetext.Truncate(name, maxQuoted))
	if to, ok := functionAliases[strings.ToLower(name)]; ok {
		return msg + "; did you mean " + to + "?"
	}
	names := functionNames()
	for alias := range functionAliases {
		names = append(names, alias)
	}
	if to, ok := suggest.Closest(name, names); ok {
		if a, ok := functionAliases[to]; ok {
			to = a
		}
		return msg + "; did you mean " + to + "?"
	}
	return msg
}

// durationUnits are the unit words people write, by the letter assay uses.
var durationUnits = map[string]string{
	"ms": "ms", "msec": "ms", "millisecond": "ms", "milliseconds": "ms",
	"s": "s", "sec": "s", "secs": "s", "second": "s", "seconds": "s",
	"m": "m", "min": "m", "mins": "m", "minute": "m", "minutes": "m",
	"h": "h", "hr": "h", "hrs": "h", "hour": "h", "hours": "h",
	"d": "d", "day": "d", "days": "d", "w": "w", "wk": "w", "week": "w", "weeks": "w",
}

var durationWords = regexp.MustCompile(`^\s*([0-9]+)\s*([A-Za-z]+)\s*$`)

// durationHint is the duration a text like "5 minutes" means, "" when it
// is no such text.
func durationHint(s string) string {
	m := durationWords.FindStringSubmatch(s)
	if m == nil {
		return ""
	}
	unit, ok := durationUnits[strings.ToLower(m[2])]
	if !ok {
		return ""
	}
	n, err := strconv.Atoi(m[1])
	if err != nil || n <= 0 {
		return ""
	}
	return m[1] + unit
}

// exprHint adds what a newcomer's mistake most likely was to expr's
// message: "=" to compare.
func exprHint(msg string) string {
	if strings.Contains(msg, `unexpected token Operator("=")`) {
		return msg + "; to compare, write =="
	}
	return msg
}
