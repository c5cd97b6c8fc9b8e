package queue_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/tesuji/tesuji/queue"
	"github.com/tesuji/tesuji/queue/queuetest"
	"github.com/tesuji/tesuji/queue/sqlitetest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestSQLiteConformance(t *testing.T) {
	t.Parallel()
	queuetest.Run(t, func(t *testing.T, opt queuetest.Options) queue.Queue {
		return sqlitetest.Open(t, queue.SQLiteConfig{Retention: opt.Retention, RegistryTTL: opt.RegistryTTL,
			MaxOwnerJobs: opt.MaxOwnerJobs, MaxOwnerBytes: opt.MaxOwnerBytes})
	})
}
