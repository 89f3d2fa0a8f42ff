package confluent

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/assay-dev/assay/formats"
	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/sr"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Schema types, as SchemaInfo.Type gives them.
const (
	Avro     = "AVRO"
	Protobuf = "PROTOBUF"
	JSON     = "JSON"
)

// SchemaInfo says which schema a value was written with.
type SchemaInfo struct {
	ID int
	// Subject and Version are one registration of the schema: the first
	// by subject, then version, when it is registered under several, and
	// empty when the registry does not say (an older registry without
	// GET /schemas/ids/{id}/versions).
	Subject string
	Version int
	Type    string // Avro, Protobuf or JSON
}

// Defaults of Config.
const (
	DefaultTimeout    = 10 * time.Second
	DefaultRetryAfter = 5 * time.Second
)

// Config says where the Schema Registry is and how the Decoder treats it.
type Config struct {
	// URLs of the registry, tried in order on network errors. Credentials
	// in a URL (https://user:pass@host) are taken out of it and used as
	// basic auth, so that they never show in errors.
	URLs []string
	// Username and Password log in with HTTP basic auth (Confluent Cloud:
	// API key and secret), when Username is set.
	Username, Password string
	// BearerToken logs in with "Authorization: Bearer ...", when set.
	// Setting both BearerToken and Username is an error.
	BearerToken string
	// TLS configures HTTPS (a private CA, client certificates); nil uses
	// the system roots.
	TLS *tls.Config

	// Timeout bounds one schema lookup, all of its requests included
	// (default DefaultTimeout). Decode never waits longer for the registry.
	Timeout time.Duration
	// RetryAfter is how long a failed lookup is remembered (default
	// DefaultRetryAfter): values with that schema id fail at once with the
	// same error until then, and while the registry is unreachable, lookups
	// of ids not yet cached fail at once too. Then the registry is asked
	// again. Successful lookups are cached for good (ids are immutable).
	RetryAfter time.Duration
}

// NewClient builds the Schema Registry client that New uses, from the URLs,
// credentials, TLS and Timeout of cfg.
func NewClient(cfg Config) (*sr.Client, error) {
	if len(cfg.URLs) == 0 {
		return nil, errors.New("confluent: no schema registry URL")
	}
	user, pass := cfg.Username, cfg.Password
	urls := make([]string, len(cfg.URLs))
	for i, raw := range cfg.URLs {
		if !strings.Contains(raw, "://") {
			raw = "http://" + raw
		}
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return nil, fmt.Errorf("confluent: bad schema registry URL #%d (want http(s)://host:port)", i+1)
		}
		if u.User != nil {
			if user == "" {
				user = u.User.Username()
				pass, _ = u.User.Password()
			}
			u.User = nil
		}
		urls[i] = u.String()
	}
	if user != "" && cfg.BearerToken != "" {
		return nil, errors.New("confluent: both basic auth and a bearer token are set for the schema registry")
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if cfg.TLS != nil {
		tr.TLSClientConfig = cfg.TLS
	}
	opts := []sr.ClientOpt{
		sr.URLs(urls...),
		sr.HTTPClient(&http.Client{Timeout: timeout, Transport: &limitTransport{base: tr, max: MaxResponseBytes}}),
		sr.UserAgent("assay"),
	}
	if user != "" {
		opts = append(opts, sr.BasicAuth(user, pass))
	}
	if cfg.BearerToken != "" {
		opts = append(opts, sr.BearerToken(cfg.BearerToken))
	}
	return sr.NewClient(opts...)
}

// MaxResponseBytes bounds the body of one registry response: past it the
// request fails, however much the registry sends.
const MaxResponseBytes = 16 << 20

// ErrResponseTooLarge is the error of a response body longer than
// MaxResponseBytes.
var ErrResponseTooLarge = fmt.Errorf("confluent: schema registry response larger than %d MiB", MaxResponseBytes>>20)

// limitTransport fails reads of a response body past max bytes.
type limitTransport struct {
	base http.RoundTripper
	max  int64
}

func (t *limitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil || resp.Body == nil {
		return resp, err
	}
	if resp.ContentLength > t.max {
		resp.Body.Close()
		return nil, ErrResponseTooLarge
	}
	resp.Body = &limitedBody{rc: resp.Body, left: t.max}
	return resp, nil
}

type limitedBody struct {
	rc   io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, ErrResponseTooLarge
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return n - 1, ErrResponseTooLarge // hand back max bytes, then the error
	}
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }

// Decoder decodes values in the Confluent wire format into events. It is
// safe for concurrent use; make one per registry and share it.
type Decoder struct {
	cl         *sr.Client
	timeout    time.Duration
	retryAfter time.Duration

	mu        sync.RWMutex
	schemas   map[int]*entry
	downUntil time.Time // registry unreachable: new lookups fail until then
	downErr   error
}

// entry is one schema id in the cache. done is closed once s or err is
// set; neither changes after.
type entry struct {
	done   chan struct{}
	s      *schema
	err    *Error
	failed time.Time
}

type schema struct {
	info  SchemaInfo
	avro  *avroNode                   // Avro: the record
	proto protoreflect.FileDescriptor // Protobuf: the file
}

// New makes a Decoder that asks the registry cfg names.
func New(cfg Config) (*Decoder, error) {
	cl, err := NewClient(cfg)
	if err != nil {
		return nil, err
	}
	return NewWithClient(cl, cfg), nil
}

// NewWithClient makes a Decoder that asks the registry through cl; only
// Timeout and RetryAfter of cfg are used.
func NewWithClient(cl *sr.Client, cfg Config) *Decoder {
	d := &Decoder{cl: cl, timeout: cfg.Timeout, retryAfter: cfg.RetryAfter, schemas: map[int]*entry{}}
	if d.timeout <= 0 {
		d.timeout = DefaultTimeout
	}
	if d.retryAfter <= 0 {
		d.retryAfter = DefaultRetryAfter
	}
	return d
}

// Decode decodes a value in the Confluent wire format. See the package
// documentation for the values it makes. On error, info has what is known
// (the id once the header is read) and Reason(err) says why.
func (d *Decoder) Decode(value []byte) (fields map[string]any, info SchemaInfo, err error) {
	return d.DecodeContext(context.Background(), value)
}

// DecodeContext is Decode, giving up waiting for the registry when ctx
// ends (Config.Timeout bounds it too).
func (d *Decoder) DecodeContext(ctx context.Context, value []byte) (fields map[string]any, info SchemaInfo, err error) {
	id, rest, err := SplitHeader(value)
	if err != nil {
		return nil, info, err
	}
	info.ID = id
	s, err := d.schema(ctx, id)
	if err != nil {
		return nil, info, err
	}
	info = s.info
	switch info.Type {
	case Avro:
		fields, err = decodeAvro(s.avro, rest)
	case Protobuf:
		indexes, payload, ierr := SplitIndexes(rest)
		if ierr != nil {
			ierr.(*Error).ID = id
			return nil, info, ierr
		}
		md, merr := protoMessage(s.proto, indexes)
		if merr != nil {
			return nil, info, newError(ReasonCorruptPayload, id, merr)
		}
		fields, err = decodeProto(md, payload)
	case JSON:
		fields, err = formats.DecodeJSON(rest)
	}
	if err == nil && info.Type != JSON {
		// Avro and Protobuf can carry NaN and ±Inf; JSON cannot, and a
		// value must decode as its JSON form would.
		err = formats.CheckFinite(fields)
	}
	if err != nil {
		return nil, info, newError(ReasonCorruptPayload, id, err)
	}
	return fields, info, nil
}

// schema returns the compiled schema of id, from the cache or the
// registry. One goroutine asks the registry for an id; others wait for it.
func (d *Decoder) schema(ctx context.Context, id int) (*schema, error) {
	d.mu.RLock()
	e := d.schemas[id]
	d.mu.RUnlock()
	if e != nil {
		select {
		case <-e.done:
			if e.err == nil {
				return e.s, nil
			}
			if !e.expired(d.retryAfter) {
				return nil, e.err
			}
		default:
		}
	}

	d.mu.Lock()
	e = d.schemas[id]
	if e != nil && e.expired(d.retryAfter) {
		e = nil
	}
	if e == nil {
		if time.Now().Before(d.downUntil) {
			err := d.downErr
			d.mu.Unlock()
			return nil, newError(ReasonRegistryUnreachable, id, err)
		}
		e = &entry{done: make(chan struct{})}
		d.schemas[id] = e
		if len(d.schemas) > sweepAt {
			d.sweepLocked()
		}
		d.mu.Unlock()
		d.fill(ctx, id, e)
	} else {
		d.mu.Unlock()
	}

	select {
	case <-e.done:
	case <-ctx.Done():
		return nil, registryError(id, ctx.Err())
	}
	if e.err != nil {
		return nil, e.err
	}
	return e.s, nil
}

// expired reports whether e is a failure older than retryAfter.
func (e *entry) expired(retryAfter time.Duration) bool {
	select {
	case <-e.done:
		return e.err != nil && time.Since(e.failed) >= retryAfter
	default:
		return false
	}
}

// sweepAt is the cache size past which adding an id first drops expired
// failures (ids of garbage values must not pile up).
const sweepAt = 1024

func (d *Decoder) sweepLocked() {
	for id, e := range d.schemas {
		if e.expired(d.retryAfter) {
			delete(d.schemas, id)
		}
	}
}

// fill looks id up and completes e.
func (d *Decoder) fill(ctx context.Context, id int, e *entry) {
	lctx, cancel := context.WithTimeout(ctx, d.timeout)
	s, err := d.load(lctx, id)
	cancel()
	d.mu.Lock()
	if err != nil {
		e.err, e.failed = err, time.Now()
		switch {
		case ctx.Err() != nil:
			// The caller gave up: not the registry's fault, not remembered.
			if d.schemas[id] == e {
				delete(d.schemas, id)
			}
		case err.Reason == ReasonRegistryUnreachable:
			d.downUntil, d.downErr = e.failed.Add(d.retryAfter), err.Err
		}
	} else {
		e.s = s
	}
	close(e.done)
	d.mu.Unlock()
}

// schemaByID is the registry's answer to GET /schemas/ids/{id}, with the
// type as text so that a type sr.SchemaType does not know is "unsupported"
// rather than a bad answer.
type schemaByID struct {
	Schema     string               `json:"schema"`
	SchemaType string               `json:"schemaType"`
	References []sr.SchemaReference `json:"references"`
}

// load asks the registry for schema id (and what it references) and
// compiles it.
func (d *Decoder) load(ctx context.Context, id int) (*schema, *Error) {
	var raw schemaByID
	if err := d.cl.Do(ctx, http.MethodGet, fmt.Sprintf("/schemas/ids/%d", id), nil, &raw); err != nil {
		return nil, registryError(id, err)
	}
	s := &schema{info: SchemaInfo{ID: id}}
	switch t := strings.ToUpper(raw.SchemaType); t {
	case "", Avro, Protobuf, JSON:
		s.info.Type = cmp.Or(t, Avro)
	default:
		return nil, newError(ReasonUnsupported, id, fmt.Errorf("schema type %q is not supported", raw.SchemaType))
	}

	versions, err := d.cl.SchemaVersionsByID(ctx, id)
	if err != nil && Reason(registryError(id, err)) != ReasonUnknownSchema {
		return nil, registryError(id, err)
	}
	if len(versions) > 0 {
		first := slices.MinFunc(versions, func(a, b sr.SubjectVersion) int {
			return cmp.Or(cmp.Compare(a.Subject, b.Subject), cmp.Compare(a.Version, b.Version))
		})
		s.info.Subject, s.info.Version = first.Subject, first.Version
	}

	switch s.info.Type {
	case Avro:
		cache := &avro.SchemaCache{}
		var perr error
		err := d.references(ctx, raw.References, func(ref sr.SchemaReference, text string) {
			if perr == nil {
				if _, err := avro.ParseWithCache(text, "", cache); err != nil {
					perr = fmt.Errorf("referenced schema %q (subject %q version %d): %w", ref.Name, ref.Subject, ref.Version, err)
				}
			}
		})
		if err != nil {
			return nil, err.withID(id)
		}
		if perr != nil {
			return nil, newError(ReasonUnsupported, id, perr)
		}
		parsed, perr := avro.ParseWithCache(raw.Schema, "", cache)
		if perr != nil {
			return nil, newError(ReasonUnsupported, id, perr)
		}
		n, cerr := compileAvro(parsed, map[string]*avroNode{})
		if cerr != nil {
			return nil, newError(ReasonUnsupported, id, cerr)
		}
		if n.kind != avroRecord {
			return nil, newError(ReasonUnsupported, id, fmt.Errorf("avro schema of type %q: events must be records", parsed.Type()))
		}
		s.avro = n
	case Protobuf:
		files := map[string]string{}
		err := d.references(ctx, raw.References, func(ref sr.SchemaReference, text string) {
			if _, ok := files[ref.Name]; !ok {
				files[ref.Name] = text
			}
		})
		if err != nil {
			return nil, err.withID(id)
		}
		main := fmt.Sprintf("confluent-schema-id-%d.proto", id)
		files[main] = raw.Schema
		fd, cerr := compileProto(ctx, main, files)
		if cerr != nil {
			return nil, newError(ReasonUnsupported, id, cerr)
		}
		if fd.Messages().Len() == 0 {
			return nil, newError(ReasonUnsupported, id, errors.New("protobuf schema has no message"))
		}
		s.proto = fd
	}
	return s, nil
}

func (e *Error) withID(id int) *Error {
	e.ID = id
	return e
}

// maxReferences bounds the schemas one schema may pull in.
const maxReferences = 1000

// references fetches the schemas refs name, depth first, and calls visit
// for each once, after the schemas it references. Protobuf imports of
// google/protobuf/ are built in and not fetched.
func (d *Decoder) references(ctx context.Context, refs []sr.SchemaReference, visit func(sr.SchemaReference, string)) *Error {
	seen := map[sr.SchemaReference]bool{}
	var walk func(refs []sr.SchemaReference) *Error
	walk = func(refs []sr.SchemaReference) *Error {
		for _, ref := range refs {
			if seen[ref] || strings.HasPrefix(ref.Name, "google/protobuf/") {
				continue
			}
			seen[ref] = true
			if len(seen) > maxReferences {
				return newError(ReasonUnsupported, 0, fmt.Errorf("more than %d referenced schemas", maxReferences))
			}
			s, err := d.cl.SchemaByVersion(ctx, ref.Subject, ref.Version)
			if err != nil {
				e := registryError(0, err)
				e.Err = fmt.Errorf("referenced schema %q (subject %q version %d): %w", ref.Name, ref.Subject, ref.Version, err)
				return e
			}
			if err := walk(s.References); err != nil {
				return err
			}
			visit(ref, s.Schema.Schema)
		}
		return nil
	}
	return walk(refs)
}
