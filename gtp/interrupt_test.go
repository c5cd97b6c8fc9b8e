package gtp

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tesuji/tesuji/api"
	"github.com/tesuji/tesuji/engine/enginetest"
	"github.com/tesuji/tesuji/queue"
	"github.com/tesuji/tesuji/worker"
)

// TestAnalysisGoesOnWhenAWorkerStops: a worker that shuts down ends a GTP analysis at
// once with its latest report; the bridge asks again, and the next worker streams it on.
func TestAnalysisGoesOnWhenAWorkerStops(t *testing.T) {
	t.Parallel()
	q := queue.NewMemory(queue.MemoryConfig{})
	t.Cleanup(func() { q.Close() })
	startWorker := func() *worker.Worker {
		eng := enginetest.Start(t, enginetest.Config(t, fakeEnv...))
		// The grace is an hour: the worker must not wait for the open-ended search.
		w := worker.New(q, worker.Config{Engines: []worker.Analyzer{eng}, ShutdownGrace: time.Hour,
			Logger: slog.New(slog.DiscardHandler)})
		if err := w.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			w.Stop(ctx)
		})
		return w
	}
	a := api.New(api.Config{Queue: q, Logger: slog.New(slog.DiscardHandler)})
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		a.CloseStreams(ctx)
		srv.Close()
	})
	first := startWorker()
	g := startBridge(t, Config{Server: srv.URL})
	run(t, g, []exchange{{"play B Q16", "= "}})
	g.send("kata-analyze 10")
	if h := g.next(30 * time.Second).text; h != "=" {
		t.Fatalf("header %q", h)
	}
	if l := g.next(30 * time.Second).text; !strings.HasPrefix(l, "info move ") {
		t.Fatalf("first line %q", l)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := first.Stop(ctx); err != nil {
		t.Fatalf("stop the worker: %v", err)
	}
	waitFor(t, 30*time.Second, "the bridge to ask again", func() bool {
		return strings.Contains(g.logs.String(), "the server interrupted the analysis; asking again")
	})
	startWorker()
	up := time.Now()
	for {
		l := g.next(30 * time.Second)
		if !strings.HasPrefix(l.text, "info move ") {
			t.Fatalf("the analysis wrote %q", l.text)
		}
		if l.at.After(up) {
			break
		}
	}
	g.send("")
	for g.next(30*time.Second).text != "" {
	}
}
