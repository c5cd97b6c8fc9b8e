package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tesuji/tesuji/api"
	"github.com/tesuji/tesuji/queue"
	"github.com/tesuji/tesuji/queue/redistest"
)

// commandCounter is a go-redis hook that counts the commands a client sends.
type commandCounter struct{ n atomic.Int64 }

func (c *commandCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *commandCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmd)
	}
}

func (c *commandCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.n.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}

// TestHealthAndMetricsCostTheSameWhateverTheBacklog counts the Redis commands that one
// /readyz and one /metrics cost with a small backlog and with a large one: the same few,
// since the queue's counters are kept by its scripts instead of read job by job.
func TestHealthAndMetricsCostTheSameWhateverTheBacklog(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, redistest.Options{})
	cost := func(t *testing.T, queued, running int) map[string]int64 {
		t.Helper()
		client := srv.Client(t)
		counter := &commandCounter{}
		client.AddHook(counter)
		q := queue.NewRedis(client, queue.RedisConfig{Prefix: fmt.Sprintf("cost%d-%d", queued, running), ReapInterval: -1})
		t.Cleanup(func() { q.Close() })
		ctx := context.Background()
		for i := range queued + running {
			if _, _, err := q.Enqueue(ctx, &queue.Job{Turns: []int{0, 1}, Positions: 10, Priority: queue.Priority(i % 2)}); err != nil {
				t.Fatal(err)
			}
		}
		for range running {
			if _, _, err := q.Claim(ctx, "w", time.Hour); err != nil {
				t.Fatal(err)
			}
		}
		a := api.New(api.Config{Queue: q})
		hs := httptest.NewServer(a.Handler())
		t.Cleanup(hs.Close)
		out := map[string]int64{}
		for _, path := range []string{"/readyz", "/metrics"} {
			// The first call may load a script into Redis (EVALSHA, then EVAL); count the second.
			for range 2 {
				before := counter.n.Load()
				resp, err := http.Get(hs.URL + path)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("GET %s: %s", path, resp.Status)
				}
				out[path] = counter.n.Load() - before
			}
		}
		return out
	}
	small := cost(t, 2, 1)
	large := cost(t, 400, 40)
	for _, path := range []string{"/readyz", "/metrics"} {
		if small[path] != large[path] || large[path] > 2 {
			t.Errorf("GET %s cost %d Redis commands with 3 jobs and %d with 440, want the same one or two",
				path, small[path], large[path])
		}
	}
}
