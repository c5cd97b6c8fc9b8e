package redistest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/tesuji/tesuji/queue/redistest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func ctx(t *testing.T) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestStart(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opt     redistest.Options
		urlHead string
	}{
		{"tcp", redistest.Options{}, "redis://127.0.0.1:"},
		{"unix", redistest.Options{Unix: true}, "unix:///"},
		{"cluster", redistest.Options{Cluster: true}, "redis+cluster://127.0.0.1:"},
		{"extra config", redistest.Options{Config: []string{"maxmemory 64mb"}}, "redis://127.0.0.1:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := redistest.Start(t, tt.opt)
			if !strings.HasPrefix(s.URL(), tt.urlHead) {
				t.Errorf("URL %q, want it to start with %q", s.URL(), tt.urlHead)
			}
			c := s.Client(t)
			if err := c.Set(ctx(t), "k", "v", 0).Err(); err != nil {
				t.Fatalf("SET: %v", err)
			}
			if got, err := c.Get(ctx(t), "k").Result(); err != nil || got != "v" {
				t.Fatalf("GET: %q, %v", got, err)
			}
			if !strings.Contains(strings.ToLower(s.Log()), "ready to accept connections") {
				t.Errorf("server log lacks the ready line:\n%s", s.Log())
			}
		})
	}
}

func TestClusterRejectsCrossSlot(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t, redistest.Options{Cluster: true})
	c := s.Client(t)
	// a and b hash to different slots; {x}a and {x}b share one.
	err := c.Eval(ctx(t), "redis.call('SET', KEYS[1], 1); redis.call('SET', KEYS[2], 1)", []string{"{x}a", "{y}b"}).Err()
	if err == nil || !strings.Contains(err.Error(), "CROSSSLOT") {
		t.Errorf("script over two slots: %v, want a CROSSSLOT error", err)
	}
	if err := c.Eval(ctx(t), "redis.call('SET', KEYS[1], 1); return redis.call('SET', KEYS[2], 1)", []string{"{x}a", "{x}b"}).Err(); err != nil {
		t.Errorf("script over one slot: %v", err)
	}
}

func TestRestart(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		opt      redistest.Options
		wantKept bool
	}{
		{"aof keeps data", redistest.Options{AOF: true}, true},
		{"no persistence loses it", redistest.Options{}, false},
		{"cluster with aof", redistest.Options{AOF: true, Cluster: true}, true},
		{"unix with aof", redistest.Options{AOF: true, Unix: true}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := redistest.Start(t, tt.opt)
			c := s.Client(t)
			if err := c.Set(ctx(t), "k", "v", 0).Err(); err != nil {
				t.Fatal(err)
			}
			if tt.opt.AOF {
				s.WaitAOFWritten(t)
			}
			s.Restart(t)
			var got string
			var err error
			// The client reconnects on its own; the first command may meet the old connection.
			for try := 0; try < 50; try++ {
				got, err = c.Get(ctx(t), "k").Result()
				if err == nil || err == redis.Nil {
					break
				}
			}
			if tt.wantKept && (err != nil || got != "v") {
				t.Errorf("after restart: %q, %v; want the value kept", got, err)
			}
			if !tt.wantKept && err != redis.Nil {
				t.Errorf("after restart: %q, %v; want the value gone", got, err)
			}
		})
	}
}

func TestKill(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t, redistest.Options{})
	c := s.Client(t)
	s.Kill(t)
	if err := c.Ping(ctx(t)).Err(); err == nil {
		t.Fatal("PING answered after Kill")
	}
	s.Restart(t)
	var err error
	for try := 0; try < 50; try++ {
		if err = c.Ping(ctx(t)).Err(); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("PING after Restart: %v", err)
	}
}

func TestPause(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t, redistest.Options{})
	c := s.Client(t)
	if err := c.Ping(ctx(t)).Err(); err != nil {
		t.Fatal(err)
	}
	const pause = 300 * time.Millisecond
	start := time.Now()
	s.Pause(t, pause)
	if err := c.Set(ctx(t), "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	// CLIENT PAUSE holds commands at least this long; this is a lower bound, not a speed claim.
	if waited := time.Since(start); waited < pause-50*time.Millisecond {
		t.Errorf("SET during a %v pause returned after %v", pause, waited)
	}
}

func TestProxyStall(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t, redistest.Options{})
	p := s.Proxy(t)
	cut := redis.NewClient(&redis.Options{Addr: p.Addr()})
	t.Cleanup(func() { cut.Close() })
	direct := s.Client(t)
	if err := cut.Ping(ctx(t)).Err(); err != nil {
		t.Fatalf("PING through the proxy: %v", err)
	}
	p.Stall()
	done := make(chan error, 1)
	go func() { done <- cut.Set(ctx(t), "k", "through the proxy", 0).Err() }()
	// The direct client goes on while the proxied one waits.
	for i := range 20 {
		if err := direct.Set(ctx(t), "direct", i, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if v, err := direct.Get(ctx(t), "k").Result(); err != redis.Nil {
		t.Fatalf("the stalled SET arrived: %q, %v", v, err)
	}
	select {
	case err := <-done:
		t.Fatalf("the stalled SET returned: %v", err)
	default:
	}
	p.Resume()
	if err := <-done; err != nil {
		t.Fatalf("SET after Resume: %v", err)
	}
	if v, err := direct.Get(ctx(t), "k").Result(); err != nil || v != "through the proxy" {
		t.Errorf("after Resume: %q, %v", v, err)
	}
}

func TestSentinel(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t, redistest.Options{})
	addr := s.StartSentinel(t, "mymaster")
	c := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: "mymaster", SentinelAddrs: []string{addr}})
	t.Cleanup(func() { c.Close() })
	if err := c.Set(ctx(t), "k", "via sentinel", 0).Err(); err != nil {
		t.Fatalf("SET through the sentinel: %v", err)
	}
	if v, err := s.Client(t).Get(ctx(t), "k").Result(); err != nil || v != "via sentinel" {
		t.Errorf("GET from the master: %q, %v", v, err)
	}
}
