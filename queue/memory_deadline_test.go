package queue_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tesuji/tesuji/queue"
)

// TestMemoryDeadlines runs the in-memory queue's timers on synctest's clock, with the
// default lease (30s), retention (7 days) and registry TTL (30s): a dead worker's job is
// requeued by the sweeper alone, its watcher hears of it, and final jobs and stale workers
// go when their time comes.
func TestMemoryDeadlines(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		q := queue.NewMemory(queue.MemoryConfig{})
		defer q.Close()
		j, _, err := q.Enqueue(ctx, &queue.Job{Turns: []int{0}})
		if err != nil {
			t.Fatal(err)
		}
		_, lease, err := q.Claim(ctx, "w1", 0)
		if err != nil {
			t.Fatal(err)
		}
		if got := lease.Expires.Sub(time.Now()); got != 30*time.Second {
			t.Errorf("default lease %v, want 30s", got)
		}
		if err := q.RegisterWorker(ctx, queue.WorkerInfo{ID: "w1"}); err != nil {
			t.Fatal(err)
		}
		watched := make(chan []queue.Event, 1)
		go func() {
			evs, err := q.Events(ctx, j.ID, "", 0, time.Hour)
			if err != nil {
				t.Error(err)
			}
			watched <- evs
		}()

		// Inside the bubble Sleep moves the fake clock: here past the lease, with nobody claiming.
		time.Sleep(30 * time.Second)
		synctest.Wait()
		evs := <-watched
		if len(evs) != 1 || evs[0].Type != queue.EventRetry {
			t.Fatalf("the watcher got %v, want the retry event", evs)
		}
		g, err := q.Get(ctx, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := &queue.Job{ID: j.ID, Turns: []int{0}, MaxAttempts: 3, State: queue.StateQueued, Attempts: 1,
			Error: "lease expired", CreatedAt: j.CreatedAt, StartedAt: g.StartedAt}
		if diff := cmp.Diff(want, g); diff != "" {
			t.Errorf("job after its lease ended (-want +got):\n%s", diff)
		}
		if ws, _ := q.Workers(ctx); len(ws) != 0 {
			t.Errorf("workers past the registry TTL: %v", ws)
		}

		_, lease, err = q.Claim(ctx, "w2", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := q.StoreResult(ctx, lease, 0, []byte(`"r"`)); err != nil {
			t.Fatal(err)
		}
		if err := q.Complete(ctx, lease); err != nil {
			t.Fatal(err)
		}
		time.Sleep(7*24*time.Hour - time.Second)
		if _, err := q.Get(ctx, j.ID); err != nil {
			t.Fatalf("a done job a second before the retention ends: %v", err)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if _, err := q.Get(ctx, j.ID); !errors.Is(err, queue.ErrNotFound) {
			t.Errorf("a done job after the retention period: %v, want ErrNotFound", err)
		}
	})
}
