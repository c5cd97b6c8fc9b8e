package queue

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tesuji/tesuji/queue/redistest"
)

// before is a go-redis hook that runs fn before every command named one of names.
type before struct {
	names []string
	fn    func()
}

func (h before) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h before) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if slices.Contains(h.names, cmd.Name()) {
			h.fn()
		}
		return next(ctx, cmd)
	}
}
func (h before) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// twoRedis starts a Redis and returns two stores of one prefix on it: direct, and hooked,
// whose commands pass through the hook that hook makes (it may use direct).
func twoRedis(t *testing.T, prefix string, hook func(direct *Redis) before) (direct, hooked *Redis) {
	t.Helper()
	srv := redistest.Start(t, redistest.Options{})
	cfg := RedisConfig{Prefix: prefix, BlockTimeout: 100 * time.Millisecond, ReapInterval: -1}
	direct = NewRedis(srv.Client(t), cfg)
	c := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	c.AddHook(hook(direct))
	hooked = NewRedis(c, cfg)
	t.Cleanup(func() {
		hooked.Close()
		c.Close()
		direct.Close()
	})
	return direct, hooked
}

// TestRedisListDuringEnqueue: the owner's library listed between any two steps of an
// Enqueue (each a script call) keeps the new job: a List forgets a library entry whose
// record is missing, so the entry must never be there before the record.
func TestRedisListDuringEnqueue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var listErr error
	direct, q := twoRedis(t, "listrace", func(direct *Redis) before {
		return before{names: []string{"evalsha", "eval"}, fn: func() {
			if _, _, err := direct.List(ctx, ListFilter{Owner: "alice"}); err != nil && listErr == nil {
				listErr = err
			}
		}}
	})

	for i := range 3 {
		j, created, err := q.Enqueue(ctx, &Job{Owner: "alice", Turns: []int{0}, Positions: 1, Payload: []byte(fmt.Sprint(i))})
		if err != nil || !created {
			t.Fatalf("Enqueue %d: %v, created %v", i, err, created)
		}
		jobs, _, err := direct.List(ctx, ListFilter{Owner: "alice"})
		if err != nil {
			t.Fatal(err)
		}
		if len(jobs) != i+1 || jobs[0].ID != j.ID {
			t.Errorf("after Enqueue %d the library holds %d jobs, newest first %v; want %d, %s first", i, len(jobs), ids(jobs), i+1, j.ID)
		}
		if n, err := direct.c.HGet(ctx, direct.k.ownerUsage("alice"), "jobs").Int(); err != nil || n != i+1 {
			t.Errorf("after Enqueue %d the owner's usage counts %d jobs (%v), want %d", i, n, err, i+1)
		}
	}
	if listErr != nil {
		t.Errorf("List during Enqueue: %v", listErr)
	}
}

// TestRedisListWhileTheLibraryChanges: a page longer than List's batch of reads lists
// every job once, though a job is enqueued between two of its reads.
func TestRedisListWhileTheLibraryChanges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	reads := 0
	direct, q := twoRedis(t, "listshift", func(direct *Redis) before {
		return before{names: []string{"zrevrangebyscore"}, fn: func() {
			if reads++; reads == 2 {
				if _, _, err := direct.Enqueue(ctx, &Job{Owner: "alice", Turns: []int{0}, Positions: 1, Payload: []byte("late")}); err != nil {
					t.Error(err)
				}
			}
		}}
	})
	const n = 300
	for i := range n {
		if _, _, err := direct.Enqueue(ctx, &Job{Owner: "alice", Turns: []int{0}, Positions: 1, Payload: []byte(fmt.Sprint(i))}); err != nil {
			t.Fatal(err)
		}
	}

	jobs, _, err := q.List(ctx, ListFilter{Owner: "alice", Limit: MaxListLimit})
	if err != nil {
		t.Fatal(err)
	}
	if reads < 2 {
		t.Fatalf("List read the library in %d batch(es); the test needs two", reads)
	}
	seen := map[string]int{}
	for _, j := range jobs {
		seen[j.ID]++
		if seen[j.ID] == 2 {
			t.Errorf("job %s listed twice", j.ID)
		}
	}
	if len(seen) < n {
		t.Errorf("%d distinct jobs listed, want the %d there before the List", len(seen), n)
	}
}

func ids(jobs []*Job) []string {
	out := make([]string, len(jobs))
	for i, j := range jobs {
		out[i] = j.ID
	}
	return out
}
