package main

import "testing"

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
