package worker_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tesuji/tesuji/analysis"
	"github.com/tesuji/tesuji/queue"
	"github.com/tesuji/tesuji/worker"
)

// errConnection stands for what go-redis returns when Redis is out of reach.
var errConnection = errors.New("dial tcp 127.0.0.1:6379: connect: connection refused")

// errOutage is the queue's error while its Redis is out of reach.
var errOutage = fmt.Errorf("%w: %w", queue.ErrUnavailable, errConnection)

// flakyQueue fails the first calls of Complete and Release with a transient error, and of
// StoreResult and Publish with ErrUnavailable, as a queue whose Redis restarts does, and
// passes the rest through.
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

func (f *flakyQueue) StoreResult(ctx context.Context, l *queue.Lease, turn int, data []byte) (bool, error) {
	if err := f.fail("store"); err != nil {
		return false, fmt.Errorf("queue: store result: %w", errOutage)
	}
	return f.Queue.StoreResult(ctx, l, turn, data)
}

func (f *flakyQueue) Publish(ctx context.Context, l *queue.Lease, typ string, data []byte) error {
	if err := f.fail("publish"); err != nil {
		return fmt.Errorf("queue: publish: %w", errOutage)
	}
	return f.Queue.Publish(ctx, l, typ, data)
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

// TestQueueOutageCountsNoAttempt: results the queue cannot store now (ErrUnavailable: its
// Redis restarting, a full disk) hand the job back with no attempt counted, and the job
// finishes once they can be stored; a partial report the queue cannot take is skipped, and
// the search goes on.
func TestQueueOutageCountsNoAttempt(t *testing.T) {
	t.Parallel()
	t.Run("results", func(t *testing.T) {
		t.Parallel()
		q := newFlakyQueue(newQueue(t), map[string]int{"store": 2})
		startWorker(t, q, worker.Config{Engines: []worker.Analyzer{startEngine(t)}})
		j := enqueue(t, q, sampleGame(t, 5), queue.PriorityReview, nil)
		got := waitState(t, q, j.ID, queue.StateDone)
		if got.Attempts != 0 {
			t.Errorf("done with %d attempts, want none: the queue's outage is not the job's failure", got.Attempts)
		}
		if n := q.callsOf("release"); n == 0 {
			t.Error("the job was never handed back")
		}
		turnsOnce(t, q, j.ID, 6)
	})
	t.Run("partial reports", func(t *testing.T) {
		t.Parallel()
		q := newFlakyQueue(newQueue(t), map[string]int{"publish": 3})
		startWorker(t, q, worker.Config{Engines: []worker.Analyzer{startEngine(t, "TESUJI_FAKE_VISITS_PER_SECOND=1000")}})
		payload, err := (&analysis.Spec{Game: sampleGame(t, 4), MaxVisits: 400, ReportEvery: 0.05}).Encode()
		if err != nil {
			t.Fatal(err)
		}
		j, _, err := q.Enqueue(context.Background(), &queue.Job{Priority: queue.PriorityInteractive, Payload: payload, Turns: []int{4}, Positions: 400})
		if err != nil {
			t.Fatal(err)
		}
		got := waitState(t, q, j.ID, queue.StateDone)
		if got.Attempts != 0 || q.callsOf("release") != 0 {
			t.Errorf("done with %d attempts and %d releases, want neither", got.Attempts, q.callsOf("release"))
		}
		if n := q.callsOf("publish"); n <= 3 {
			t.Errorf("Publish called %d times: the search stopped reporting after the failures", n)
		}
	})
}
