//go:build !race

package rules

// raceEnabled: the race detector is on (see race_test.go).
const raceEnabled = false
