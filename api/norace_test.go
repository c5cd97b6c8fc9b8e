//go:build !race

package api_test

// loadSubmitRate is TestLoad's rate of submissions per second (see race_test.go).
const loadSubmitRate = 200
