package engine

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if any test leaves a goroutine running: every reader,
// writer, watchdog and supervisor must end with Stop.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
