package main

import (
	"os"
	"testing"
)

func TestParseMemoryLimit(t *testing.T) {
	for in, want := range map[string]int64{
		"536870912\n":         536870912,
		"max\n":               0,
		"9223372036854771712": 0, // cgroup v1 without a limit
		"":                    0,
		"-1":                  0,
		"garbage":             0,
		" 104857600 ":         104857600,
	} {
		if got := parseMemoryLimit(in); got != want {
			t.Errorf("%q: %d, want %d", in, got, want)
		}
	}
}

func TestConfigUnknownKeySuggests(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/c.yaml"
	os.WriteFile(path, []byte("dashbord_url: x\nchannels:\n  a: {type: webhook, urll: http://x}\n"), 0o644)
	_, err := loadServiceConfig(path)
	want := path + `: line 1: unknown key "dashbord_url"; did you mean "dashboard_url"?; line 3: unknown key "urll"; did you mean "url"?`
	if err == nil || err.Error() != want {
		t.Errorf("%v\nwant %s", err, want)
	}
}
