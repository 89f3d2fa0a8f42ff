//go:build race

package rules

// raceEnabled: the race detector is on, and sync.Pool drops some of what
// it is given, so that allocations are not counted.
const raceEnabled = true
