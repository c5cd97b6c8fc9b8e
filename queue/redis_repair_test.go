package queue

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tesuji/tesuji/queue/redistest"
)

var repairPrefixes atomic.Int64

// TestRedisRepairsStaleIndex plays a process that died between a job's script and the
// index update that follows it (see keys.go): the job's own script runs alone, and the
// queue must still end up right, nothing lost and no attempt miscounted.
func TestRedisRepairsStaleIndex(t *testing.T) {
	t.Parallel()
	client := redistest.Start(t, redistest.Options{}).Client(t)
	newQueue := func(t *testing.T) *Redis {
		q := NewRedis(client, RedisConfig{Prefix: fmt.Sprintf("repair%d", repairPrefixes.Add(1)),
			BlockTimeout: 100 * time.Millisecond, ReapInterval: 50 * time.Millisecond})
		t.Cleanup(func() { q.Close() })
		return q
	}
	ctx := context.Background()
	enqueue := func(t *testing.T, q *Redis) *Job {
		t.Helper()
		j, _, err := q.Enqueue(ctx, &Job{Turns: []int{0}})
		if err != nil {
			t.Fatal(err)
		}
		return j
	}
	claim := func(t *testing.T, q *Redis, worker string, ttl time.Duration) (*Job, *Lease) {
		t.Helper()
		cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		j, l, err := q.Claim(cctx, worker, ttl)
		if err != nil {
			t.Fatalf("Claim: %v", err)
		}
		return j, l
	}
	run := func(t *testing.T, q *Redis, script *redis.Script, keys []string, args ...any) []any {
		t.Helper()
		res, err := q.run(ctx, script, keys, args...)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	waitFor := func(t *testing.T, what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			<-tick.C
		}
	}

	// expireLeaseEntry makes the job's entry among the leases due at once, as it would be
	// once its lease ended, so the repair runs now. The lease itself was a long one, so the
	// script above ran under it however slow the machine.
	expireLeaseEntry := func(t *testing.T, q *Redis, id string) {
		t.Helper()
		if err := client.ZAdd(ctx, q.k.leases(), redis.Z{Score: 0, Member: id}).Err(); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("release without its index update", func(t *testing.T) {
		t.Parallel()
		q := newQueue(t)
		j := enqueue(t, q)
		_, l := claim(t, q, "w1", time.Minute)
		run(t, q, releaseScript, q.k.callKeys(j.ID, "r"), l.Token)
		expireLeaseEntry(t, q, j.ID)
		got, _ := claim(t, q, "w2", time.Minute)
		if got.ID != j.ID || got.Attempts != 0 {
			t.Errorf("claimed %s with %d attempts, want %s with none", got.ID, got.Attempts, j.ID)
		}
	})

	t.Run("complete without its index update", func(t *testing.T) {
		t.Parallel()
		q := newQueue(t)
		j := enqueue(t, q)
		_, l := claim(t, q, "w1", time.Minute)
		if _, err := q.StoreResult(ctx, l, 0, []byte(`"r"`)); err != nil {
			t.Fatal(err)
		}
		run(t, q, completeScript, q.k.callKeys(j.ID, "c"), l.Token, ms(time.Hour))
		expireLeaseEntry(t, q, j.ID)
		waitFor(t, "the lease entry of the done job to go", func() bool {
			return client.ZCard(ctx, q.k.leases()).Val() == 0 && client.HLen(ctx, q.k.index()).Val() == 0
		})
		s, err := q.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if s.Running != 0 {
			t.Errorf("Stats.Running %d after the job was done", s.Running)
		}
		if g, _ := q.Get(ctx, j.ID); g.State != StateDone || g.Attempts != 0 {
			t.Errorf("job %+v, want done with no attempt counted", g)
		}
	})

	t.Run("cancel without its index update", func(t *testing.T) {
		t.Parallel()
		q := newQueue(t)
		j := enqueue(t, q)
		run(t, q, cancelScript, q.k.callKeys(j.ID, "c"), ms(time.Hour))
		cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		if got, _, err := q.Claim(cctx, "w1", time.Minute); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Claim got %v, %v; want nothing claimable", got, err)
		}
		if n := client.ZCard(ctx, q.k.ready()).Val() + client.ZCard(ctx, q.k.leases()).Val(); n != 0 {
			t.Errorf("the cancelled job still has %d index entries", n)
		}
	})

	t.Run("claim that died after taking the job from the line", func(t *testing.T) {
		t.Parallel()
		q := newQueue(t)
		j := enqueue(t, q)
		res := run(t, q, claimNextScript, append(q.k.indexKeys(), q.k.globalReply("n")), ms(200*time.Millisecond), reapBatch, "-inf", "+inf")
		if str(res[0]) != "claim" || str(res[1]) != j.ID {
			t.Fatalf("claimNextScript: %v", res)
		}
		got, _ := claim(t, q, "w2", time.Minute)
		if got.ID != j.ID || got.Attempts != 0 {
			t.Errorf("claimed %s with %d attempts, want %s with none", got.ID, got.Attempts, j.ID)
		}
	})

	t.Run("fail without its index update", func(t *testing.T) {
		t.Parallel()
		q := newQueue(t)
		j := enqueue(t, q)
		_, l := claim(t, q, "w1", time.Minute)
		run(t, q, failScript, q.k.callKeys(j.ID, "f"), l.Token, "boom", "1", ms(time.Hour))
		expireLeaseEntry(t, q, j.ID)
		got, _ := claim(t, q, "w2", time.Minute)
		if got.ID != j.ID || got.Attempts != 1 || got.Error != "boom" {
			t.Errorf("claimed %+v, want %s with the one failed attempt", got, j.ID)
		}
	})

	t.Run("enqueue that died before its commit", func(t *testing.T) {
		t.Parallel()
		q := newQueue(t)
		res := run(t, q, createScript, q.k.callKeys("orphan", "o"), ms(orphanTTL), "id", "orphan", "turns", ",0,", "nturns", "1", "max", "3")
		if str(res[0]) != "ok" {
			t.Fatalf("createScript: %v", res)
		}
		if ttl := client.PTTL(ctx, q.k.job("orphan")).Val(); ttl <= 0 || ttl > orphanTTL {
			t.Errorf("TTL of an uncommitted record: %v, want at most %v", ttl, orphanTTL)
		}
		cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		if got, _, err := q.Claim(cctx, "w1", time.Minute); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Claim got %v, %v; want the uncommitted job out of line", got, err)
		}
	})
}
