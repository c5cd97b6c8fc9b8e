package queue_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/tesuji/tesuji/queue"
	"github.com/tesuji/tesuji/queue/queuetest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestMemoryConformance(t *testing.T) {
	t.Parallel()
	queuetest.Run(t, func(t *testing.T, opt queuetest.Options) queue.Queue {
		q := queue.NewMemory(queue.MemoryConfig{Retention: opt.Retention, RegistryTTL: opt.RegistryTTL})
		t.Cleanup(func() { q.Close() })
		return q
	})
}
