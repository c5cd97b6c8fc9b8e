package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tesuji/tesuji/api"
	"github.com/tesuji/tesuji/queue"
	"github.com/tesuji/tesuji/queue/redistest"
)

// TestStreamsDoNotStarveRedis: event streams blocked in Redis as many as the main
// client's whole pool do not hold up token checks and queue calls, because their
// blocking reads run on a client of their own. Were they on the main client, each
// request would wait its PoolTimeout for a connection and fail.
func TestStreamsDoNotStarveRedis(t *testing.T) {
	t.Parallel()
	rs := redistest.Start(t, redistest.Options{})
	const pool = 2
	main := redis.NewClient(&redis.Options{Addr: rs.Addr(), PoolSize: pool, PoolTimeout: 500 * time.Millisecond})
	t.Cleanup(func() { main.Close() })
	blocking := redis.NewClient(&redis.Options{Addr: rs.Addr(), PoolSize: pool})
	t.Cleanup(func() { blocking.Close() })
	// A long block, so that the streams hold their connections while the test asks.
	q := queue.NewRedis(main, queue.RedisConfig{Blocking: blocking, BlockTimeout: 10 * time.Second, ReapInterval: -1})
	t.Cleanup(func() { q.Close() })
	tokens := api.NewRedisTokens(main, "")
	e := serveAPI(t, api.New(api.Config{Queue: q, Tokens: tokens, Limits: api.NewRedisLimits(main, ""), KeepAlive: time.Minute}))
	e.tokens = tokens
	tok := e.token(t, "alice")
	// No worker: the job stays queued, and its streams wait for events.
	id := e.submit(t, tok, game3, nil)
	for range pool {
		e.openStream(t, context.Background(), tok, id, "")
	}
	waitFor(t, "both streams to block in XREAD", func() bool {
		return rs.Info(t, "clients")["blocked_clients"] == "2"
	})
	for i := range 5 {
		if r := e.do(t, "GET", "/api/v1/analyses/"+id, tok, nil); r.status != http.StatusOK {
			t.Fatalf("request %d while the streams block: %d %s", i, r.status, r.body)
		}
	}
	// Cancelling ends the streams at once.
	if r := e.do(t, "DELETE", "/api/v1/analyses/"+id, tok, nil); r.status != http.StatusOK {
		t.Errorf("cancel: %d %s", r.status, r.body)
	}
}
