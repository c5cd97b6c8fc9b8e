package worker_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/tesuji/tesuji/queue"
	"github.com/tesuji/tesuji/worker"
)

// errConnection stands for what go-redis returns when Redis is out of reach.
var errConnection = errors.New("dial tcp 127.0.0.1:6379: connect: connection refused")

// flakyQueue fails the first calls of Complete and Release with a transient error, as a
// queue whose Redis restarts does, and passes the rest through.
type flakyQueue struct {
	queue.Queue
	mu    sync.Mutex
	fails map[string]int // op -> failures left
	calls map[string]int
}

func newFlakyQueue(q queue.Queue, fails map[string]int) *flakyQueue {
	return &flakyQueue{Queue: q, fails: fails, calls: map[string]int{}}
}

func (f *flakyQueue) fail(op string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[op]++
	if f.fails[op] > 0 {
		f.fails[op]--
		return errConnection
	}
	return nil
}

func (f *flakyQueue) callsOf(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op]
}

func (f *flakyQueue) Complete(ctx context.Context, l *queue.Lease) error {
	if err := f.fail("complete"); err != nil {
		return err
	}
	return f.Queue.Complete(ctx, l)
}

func (f *flakyQueue) Release(ctx context.Context, l *queue.Lease) error {
	if err := f.fail("release"); err != nil {
		return err
	}
	return f.Queue.Release(ctx, l)
}

// TestWorkerRetriesTheOutcomeOnTransientErrors: a finished job stays finished, and a
// released one is back in line at once, when the queue fails the write a few times; no
// attempt is counted against the job, since its lease was never lost.
func TestWorkerRetriesTheOutcomeOnTransientErrors(t *testing.T) {
	t.Parallel()
	t.Run("complete", func(t *testing.T) {
		t.Parallel()
		q := newFlakyQueue(newQueue(t), map[string]int{"complete": 3})
		startWorker(t, q, worker.Config{Engines: []worker.Analyzer{startEngine(t)}})
		j := enqueue(t, q, sampleGame(t, 5), queue.PriorityReview, nil)
		got := waitState(t, q, j.ID, queue.StateDone)
		if got.Attempts != 0 {
			t.Errorf("done with %d attempts, want none: the job's lease was never lost", got.Attempts)
		}
		if n := q.callsOf("complete"); n != 4 {
			t.Errorf("Complete called %d times, want 3 failures and the success", n)
		}
		turnsOnce(t, q, j.ID, 6)
	})
	t.Run("release", func(t *testing.T) {
		t.Parallel()
		q := newFlakyQueue(newQueue(t), map[string]int{"release": 3})
		w := worker.New(q, worker.Config{Engines: []worker.Analyzer{startEngine(t, "TESUJI_FAKE_SPEED=10")},
			ShutdownGrace: time.Millisecond})
		if err := w.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		j := enqueue(t, q, sampleGame(t, 30), queue.PriorityReview, nil)
		waitState(t, q, j.ID, queue.StateRunning)
		stopWantQueued(t, w, q, j.ID)
		if n := q.callsOf("release"); n != 4 {
			t.Errorf("Release called %d times, want 3 failures and the success", n)
		}
	})
}
