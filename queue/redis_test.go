package queue_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tesuji/tesuji/queue"
	"github.com/tesuji/tesuji/queue/queuetest"
	"github.com/tesuji/tesuji/queue/redistest"
)

var prefixes atomic.Int64

// newRedisQueue returns a queue on its own key prefix of client, so the subtests of a
// suite share one server without meeting.
func newRedisQueue(t testing.TB, client redis.UniversalClient, cfg queue.RedisConfig) *queue.Redis {
	t.Helper()
	if cfg.Prefix == "" {
		cfg.Prefix = fmt.Sprintf("test%d", prefixes.Add(1))
	}
	if cfg.BlockTimeout == 0 {
		cfg.BlockTimeout = 200 * time.Millisecond
	}
	if cfg.ReapInterval == 0 {
		cfg.ReapInterval = 100 * time.Millisecond
	}
	q := queue.NewRedis(client, cfg)
	t.Cleanup(func() { q.Close() })
	return q
}

func TestRedisConformance(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opt  redistest.Options
	}{
		{"single node", redistest.Options{}},
		// A one-node cluster refuses any command or script that spans slots, as a big one does.
		{"cluster", redistest.Options{Cluster: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			client := redistest.Start(t, tt.opt).Client(t)
			queuetest.Run(t, func(t *testing.T, opt queuetest.Options) queue.Queue {
				return newRedisQueue(t, client, queue.RedisConfig{Retention: opt.Retention, RegistryTTL: opt.RegistryTTL})
			})
		})
	}
}
