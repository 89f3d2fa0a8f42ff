package compat

import (
	"cmp"
	"context"
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/sr"
)

// maxReferences bounds the schemas one schema may pull in.
const maxReferences = 1000

// Fetch reads a subject's schema from a Schema Registry: version -1 is the
// latest. Its references are fetched too (Protobuf imports of
// google/protobuf/ are built in). message is as for Parse.
func Fetch(ctx context.Context, cl *sr.Client, subject string, version int, message string) (*Schema, error) {
	ss, err := cl.SchemaByVersion(ctx, subject, version)
	if err != nil {
		return nil, fmt.Errorf("subject %q version %s: %w", subject, versionText(version), err)
	}
	refs := map[string]string{}
	seen := map[sr.SchemaReference]bool{}
	var walk func([]sr.SchemaReference) error
	walk = func(rs []sr.SchemaReference) error {
		for _, ref := range rs {
			if seen[ref] || strings.HasPrefix(ref.Name, "google/protobuf/") {
				continue
			}
			seen[ref] = true
			if len(seen) > maxReferences {
				return fmt.Errorf("more than %d referenced schemas", maxReferences)
			}
			rs, err := cl.SchemaByVersion(ctx, ref.Subject, ref.Version)
			if err != nil {
				return fmt.Errorf("referenced schema %q (subject %q version %d): %w", ref.Name, ref.Subject, ref.Version, err)
			}
			if err := walk(rs.References); err != nil {
				return err
			}
			refs[ref.Name] = rs.Schema.Schema
		}
		return nil
	}
	if err := walk(ss.References); err != nil {
		return nil, err
	}
	typ := cmp.Or(strings.ToUpper(ss.Type.String()), Avro)
	s, err := Parse(typ, ss.Schema.Schema, refs, message)
	if err != nil {
		return nil, fmt.Errorf("subject %q version %d: %w", subject, ss.Version, err)
	}
	s.Subject, s.Version = ss.Subject, ss.Version
	return s, nil
}

func versionText(v int) string {
	if v < 0 {
		return "latest"
	}
	return fmt.Sprint(v)
}

// TopicOf is the topic of a subject named by the TopicNameStrategy
// (TOPIC-value, TOPIC-key), or "" for another name.
func TopicOf(subject string) string {
	for _, suffix := range []string{"-value", "-key"} {
		if t, ok := strings.CutSuffix(subject, suffix); ok && t != "" {
			return t
		}
	}
	return ""
}
