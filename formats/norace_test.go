//go:build !race

package formats_test

// raceEnabled is set in builds with the race detector.
const raceEnabled = false
