package dashboard

import (
	"net/http"
	"strconv"
	"time"

	"github.com/assay-dev/assay/schemawatch"
)

// maxSchemaPaths bounds the paths of one topic shown on a page (the API
// returns every path kept, at most schemawatch.DefaultMaxPaths).
const maxSchemaPaths = 200

// Schema is a contract's observed schema: GET
// /api/v1/contracts/{name}/schema, and the page's section.
type Schema struct {
	Contract string         `json:"contract"`
	Enabled  bool           `json:"enabled"` // false: the sidecar watches no schema
	Topics   []SchemaTopic  `json:"topics"`
	Changes  []SchemaChange `json:"changes"` // newest first, bounded
}

// SchemaTopic is what was observed of one topic the contract reads.
type SchemaTopic struct {
	Topic   string       `json:"topic"`
	Sampled uint64       `json:"sampled"`
	Settled bool         `json:"settled"`
	Dropped uint64       `json:"dropped_paths"`
	Paths   []SchemaPath `json:"paths"`
	Schemas []SchemaID   `json:"schema_ids"`
	// Cut: the page shows only the first paths (the API has them all).
	Cut int `json:"-"`
}

// SchemaPath is one observed or declared path.
type SchemaPath struct {
	Path     string     `json:"path"`
	Types    []string   `json:"types"`
	Declared string     `json:"declared,omitempty"` // the type in fields:; absent: undeclared
	Required bool       `json:"required,omitempty"`
	Seen     uint64     `json:"seen"`
	LastSeen *time.Time `json:"last_seen,omitempty"`
	Missing  bool       `json:"missing,omitempty"`
}

// SchemaID is a writer schema id seen (Confluent records).
type SchemaID struct {
	ID        int       `json:"id"`
	Seen      uint64    `json:"seen"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

// SchemaChange is one entry of the change log.
type SchemaChange struct {
	Change string    `json:"change"`
	Topic  string    `json:"topic"`
	Path   string    `json:"path,omitempty"`
	Detail string    `json:"detail"`
	At     time.Time `json:"at"`
}

func (d *Dashboard) schema(contract string, page bool) Schema {
	out := Schema{Contract: contract, Topics: []SchemaTopic{}, Changes: []SchemaChange{}}
	src := d.opts.Schema
	if src == nil {
		return out
	}
	out.Enabled = true
	for _, p := range src.Profiles(contract) {
		t := SchemaTopic{Topic: p.Topic, Sampled: p.Sampled, Settled: p.Settled, Dropped: p.Dropped, Paths: []SchemaPath{}, Schemas: []SchemaID{}}
		for _, ph := range p.Paths {
			if page && len(t.Paths) == maxSchemaPaths {
				t.Cut++
				continue
			}
			sp := SchemaPath{Path: ph.Path, Types: ph.Types, Declared: ph.Declared, Required: ph.Required, Seen: ph.Seen, Missing: ph.Missing}
			if !ph.LastSeen.IsZero() && ph.Seen > 0 {
				at := ph.LastSeen.UTC()
				sp.LastSeen = &at
			}
			t.Paths = append(t.Paths, sp)
		}
		for _, s := range p.Schemas {
			t.Schemas = append(t.Schemas, SchemaID{ID: s.ID, Seen: s.Seen, FirstSeen: s.FirstSeen.UTC(), LastSeen: s.LastSeen.UTC()})
		}
		out.Topics = append(out.Topics, t)
	}
	for _, c := range src.Changes(contract) {
		out.Changes = append(out.Changes, SchemaChange{Change: c.Change, Topic: c.Topic, Path: c.Path, Detail: c.Detail, At: c.At.UTC()})
	}
	return out
}

func (d *Dashboard) apiSchema(w http.ResponseWriter, r *http.Request) {
	s := d.read()
	name := r.PathValue("name")
	if s.find(name) == nil {
		d.writeError(w, http.StatusNotFound, "no contract named "+strconv.Quote(name))
		return
	}
	d.writeJSON(w, r, http.StatusOK, d.schema(name, false))
}

var _ schemawatch.Reader = (*schemawatch.Watch)(nil)
