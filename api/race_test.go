//go:build race

package api_test

// raceEnabled reports a build with the race detector, which slows the pure-Go SQLite of
// the embedded store several times over.
const raceEnabled = true
