//go:build !race

package api_test

// raceEnabled reports a build with the race detector.
const raceEnabled = false
