package queue_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
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
	if cfg.Logger == nil {
		cfg.Logger = warnings(t)
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
				return newRedisQueue(t, client, queue.RedisConfig{Retention: opt.Retention, RegistryTTL: opt.RegistryTTL,
					MaxOwnerJobs: opt.MaxOwnerJobs, MaxOwnerBytes: opt.MaxOwnerBytes})
			})
		})
	}
}

// warnings returns a logger that fails the test, once it ends, if the queue warned of
// anything but a dead letter (which the suite makes on purpose): the other warnings are
// commands that failed, which no test here should see.
func warnings(t testing.TB) *slog.Logger {
	h := &warnHandler{}
	t.Cleanup(func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		for _, w := range h.got {
			t.Errorf("queue warned: %s", w)
		}
	})
	return slog.New(h)
}

type warnHandler struct {
	mu  sync.Mutex
	got []string
}

func (h *warnHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (h *warnHandler) WithAttrs([]slog.Attr) slog.Handler           { return h }
func (h *warnHandler) WithGroup(string) slog.Handler                { return h }
func (h *warnHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message == "job dead-lettered" {
		return nil
	}
	msg := r.Message
	r.Attrs(func(a slog.Attr) bool {
		msg += " " + a.String()
		return true
	})
	h.mu.Lock()
	h.got = append(h.got, msg)
	h.mu.Unlock()
	return nil
}
