package worker_test

import (
	"testing"

	"github.com/tesuji/tesuji/worker"
)

// TestLifecycle: Stop before Start leaves the worker stopped for good; Start runs once;
// Stop is idempotent, closes Done and takes the worker out of the registry.
func TestLifecycle(t *testing.T) {
	t.Parallel()
	eng := startEngine(t)
	q := newQueue(t)
	cfg := worker.Config{ID: "w-life", Engines: []worker.Analyzer{eng}}

	early := worker.New(q, cfg)
	for range 2 {
		if err := early.Stop(t.Context()); err != nil {
			t.Fatalf("Stop before Start: %v", err)
		}
	}
	<-early.Done()
	if err := early.Start(t.Context()); err == nil {
		t.Fatal("Start after Stop succeeded")
	}

	w := worker.New(q, cfg)
	if err := w.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := w.Start(t.Context()); err == nil {
		t.Fatal("second Start succeeded")
	}
	for range 2 {
		if err := w.Stop(t.Context()); err != nil {
			t.Fatalf("Stop: %v", err)
		}
	}
	<-w.Done()
	ws, err := q.Workers(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != 0 {
		t.Errorf("registry after Stop: %v, want empty", ws)
	}
	if err := w.Start(t.Context()); err == nil {
		t.Fatal("Start after Stop succeeded")
	}
}
