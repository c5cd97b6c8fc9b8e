//go:build race

package api_test

// loadSubmitRate is TestLoad's rate of submissions per second. The race detector slows
// the pure-Go SQLite store many times over, so a build with it sends fewer; the test's
// assertions are the same at any rate.
const loadSubmitRate = 10
