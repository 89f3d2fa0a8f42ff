package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/assay-dev/assay/internal/safetext"
	"github.com/assay-dev/assay/internal/suggest"
	"github.com/assay-dev/assay/secret"
	"github.com/assay-dev/assay/sinks/alert"
)

// serviceConfig is the --config file: what flags cannot say well. Secrets
// come from environment variables or files (or, discouraged, inline) and
// are held as secret.Secret from the moment they are read.
type serviceConfig struct {
	TLS            *tlsConfig               `yaml:"tls"`
	SASL           *saslConfig              `yaml:"sasl"`
	Datadog        datadogConfig            `yaml:"datadog"`
	DashboardURL   string                   `yaml:"dashboard_url"`
	Channels       map[string]channelConfig `yaml:"channels"`
	SchemaRegistry *registryConfig          `yaml:"schema_registry"`
}

// registryConfig is the Schema Registry's auth: basic (username and a
// password) or a bearer token, from the environment or a file.
type registryConfig struct {
	Username     string `yaml:"username"`
	Password     string `yaml:"password"`
	PasswordEnv  string `yaml:"password_env"`
	PasswordFile string `yaml:"password_file"`
	TokenEnv     string `yaml:"token_env"`
	TokenFile    string `yaml:"token_file"`

	password, token secret.Secret
}

type tlsConfig struct {
	CAFile   string `yaml:"ca_file"`
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

type saslConfig struct {
	Mechanism    string `yaml:"mechanism"`
	Username     string `yaml:"username"`
	Password     string `yaml:"password"`
	PasswordEnv  string `yaml:"password_env"`
	PasswordFile string `yaml:"password_file"`

	password secret.Secret
}

type datadogConfig struct {
	Tags []string `yaml:"tags"`
}

type channelConfig struct {
	Type    string `yaml:"type"`
	URL     string `yaml:"url"`
	URLEnv  string `yaml:"url_env"`
	URLFile string `yaml:"url_file"`

	url secret.Secret
}

// alertChannels returns the channels for the alert sink, in name order.
func (c *serviceConfig) alertChannels() []alert.Channel {
	names := make([]string, 0, len(c.Channels))
	for name := range c.Channels {
		names = append(names, name)
	}
	sort.Strings(names)
	out := make([]alert.Channel, 0, len(names))
	for _, name := range names {
		ch := c.Channels[name]
		out = append(out, alert.Channel{Name: name, Type: ch.Type, URL: ch.url})
	}
	return out
}

// loadServiceConfig reads and validates the --config file; every problem is
// reported, and no error message carries a secret value.
func loadServiceConfig(path string) (*serviceConfig, error) {
	cfg := &serviceConfig{}
	if path == "" {
		return cfg, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %v", path, configError(err))
	}
	var errs []error
	if cfg.SASL != nil {
		cfg.SASL.password, err = secret.FromSources("sasl password", cfg.SASL.Password, cfg.SASL.PasswordEnv, cfg.SASL.PasswordFile)
		cfg.SASL.Password = ""
		if err != nil {
			errs = append(errs, err)
		}
		if cfg.SASL.Username == "" {
			errs = append(errs, errors.New("sasl: username is required"))
		}
	}
	if r := cfg.SchemaRegistry; r != nil {
		if r.Username != "" {
			r.password, err = secret.FromSources("schema_registry password", r.Password, r.PasswordEnv, r.PasswordFile)
			if err != nil {
				errs = append(errs, err)
			}
		}
		if r.TokenEnv != "" || r.TokenFile != "" {
			r.token, err = secret.FromSources("schema_registry token", "", r.TokenEnv, r.TokenFile)
			if err != nil {
				errs = append(errs, err)
			}
		}
		r.Password = ""
	}
	names := make([]string, 0, len(cfg.Channels))
	for name := range cfg.Channels {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		ch := cfg.Channels[name]
		if types := alert.Types(); !slices.Contains(types, ch.Type) {
			errs = append(errs, fmt.Errorf("channel %q: type must be one of %s, not %q", name, strings.Join(types, ", "), ch.Type))
		}
		ch.url, err = secret.FromSources(fmt.Sprintf("channel %q url", name), ch.URL, ch.URLEnv, ch.URLFile)
		ch.URL = ""
		if err != nil {
			errs = append(errs, err)
		}
		cfg.Channels[name] = ch
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s: %w", path, errors.Join(errs...))
	}
	return cfg, nil
}

var unknownField = regexp.MustCompile(`^line (\d+): field (\S+) not found in type \S+$`)

// configError words yaml's errors for people: an unknown key by its line,
// with the key that was most likely meant, instead of a Go type's name.
func configError(err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return err
	}
	var msgs []string
	for _, e := range te.Errors {
		if m := unknownField.FindStringSubmatch(e); m != nil {
			msg := fmt.Sprintf("line %s: unknown key %q", m[1], safetext.Truncate(m[2], 64))
			if to, ok := suggest.Closest(m[2], configKeys(reflect.TypeOf(serviceConfig{}), nil)); ok {
				msg += fmt.Sprintf("; did you mean %q?", to)
			}
			e = msg
		}
		msgs = append(msgs, e)
	}
	return errors.New(strings.Join(msgs, "; "))
}

// configKeys lists the yaml keys of a config type and the types in it.
func configKeys(t reflect.Type, out []string) []string {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Map || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return out
	}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
		out = configKeys(f.Type, out)
	}
	return out
}
