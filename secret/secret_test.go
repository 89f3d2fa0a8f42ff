package secret_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assay-dev/assay/secret"
)

const value = "hunter2-s3cr3t-https://hooks.slack.test/T000/B000/XXXX"

// TestNeverPrinted formats a secret every way we know and looks for it.
func TestNeverPrinted(t *testing.T) {
	s := secret.New(value)
	type holder struct {
		URL  secret.Secret `json:"url"`
		Name string
	}
	h := holder{URL: s, Name: "x"}
	var outs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%T %v", "%10s", "%d"} {
		outs = append(outs, fmt.Sprintf(verb, s), fmt.Sprintf(verb, h), fmt.Sprintf(verb, &h))
	}
	outs = append(outs, fmt.Sprint(s), fmt.Sprintln(s, h), s.String())
	js, _ := json.Marshal(h)
	outs = append(outs, string(js))
	var buf bytes.Buffer
	for _, l := range []*slog.Logger{slog.New(slog.NewTextHandler(&buf, nil)), slog.New(slog.NewJSONHandler(&buf, nil))} {
		l.Info("msg", "secret", s, "holder", h, "ptr", &h)
	}
	outs = append(outs, buf.String(), fmt.Errorf("wrapped: %v", s).Error())
	for _, o := range outs {
		if strings.Contains(o, value) || strings.Contains(o, "hunter2") {
			t.Fatalf("secret leaked: %s", o)
		}
	}
	if s.Reveal() != value {
		t.Fatal("Reveal")
	}
}

func TestFromSources(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "pw")
	os.WriteFile(f, []byte(value+"\n"), 0o600)
	t.Setenv("ASSAY_TEST_SECRET", value)
	for _, tc := range []struct{ v, env, file string }{{value, "", ""}, {"", "ASSAY_TEST_SECRET", ""}, {"", "", f}} {
		s, err := secret.FromSources("x", tc.v, tc.env, tc.file)
		if err != nil || s.Reveal() != value {
			t.Errorf("%+v: %v", tc, err)
		}
	}
	for _, tc := range []struct{ v, env, file string }{{}, {value, "ASSAY_TEST_SECRET", ""}, {"", "ASSAY_UNSET_VAR", ""}, {"", "", filepath.Join(dir, "missing")}} {
		_, err := secret.FromSources("x", tc.v, tc.env, tc.file)
		if err == nil {
			t.Errorf("%+v: want error", tc)
		} else if strings.Contains(err.Error(), value) {
			t.Errorf("error leaks the secret: %v", err)
		}
	}
}
