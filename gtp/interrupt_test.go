package gtp

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tesuji/tesuji/api"
	"github.com/tesuji/tesuji/engine"
	"github.com/tesuji/tesuji/engine/enginetest"
	"github.com/tesuji/tesuji/queue"
	"github.com/tesuji/tesuji/queue/sqlitetest"
	"github.com/tesuji/tesuji/worker"
)

// TestAnalysisGoesOnWhenAWorkerStops: a worker that shuts down ends a GTP analysis at
// once, with its latest report or, before its first, as interrupted; either way the
// bridge asks again, and the next worker goes on with the search.
func TestAnalysisGoesOnWhenAWorkerStops(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		interval string // kata-analyze's, in centiseconds
		// underway waits until the first worker's search is under way.
		underway func(t *testing.T, g *gui, eng *engine.Engine)
		// goesOn waits until the analysis goes on with the next worker's KataGo.
		goesOn func(t *testing.T, g *gui, eng *engine.Engine)
	}{
		{
			name:     "after a report",
			interval: "10",
			underway: func(t *testing.T, g *gui, _ *engine.Engine) {
				if l := g.next(30 * time.Second).text; !strings.HasPrefix(l, "info move ") {
					t.Fatalf("first line %q", l)
				}
			},
			goesOn: func(t *testing.T, g *gui, _ *engine.Engine) {
				up := time.Now()
				for {
					l := g.next(30 * time.Second)
					if !strings.HasPrefix(l.text, "info move ") {
						t.Fatalf("the analysis wrote %q", l.text)
					}
					if l.at.After(up) {
						return
					}
				}
			},
		},
		{
			// A report every hour: the worker stops before the first.
			name:     "before its first report",
			interval: "360000",
			underway: func(t *testing.T, _ *gui, eng *engine.Engine) {
				waitFor(t, 30*time.Second, "KataGo to get the search", func() bool { return eng.InFlight() > 0 })
			},
			goesOn: func(t *testing.T, _ *gui, eng *engine.Engine) {
				waitFor(t, 30*time.Second, "the next worker's KataGo to get the search", func() bool { return eng.InFlight() > 0 })
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newWorkerStopRig(t)
			first, eng := r.startWorker()
			g := startBridge(t, Config{Server: r.url})
			run(t, g, []exchange{{"play B Q16", "= "}})
			g.send("kata-analyze " + tt.interval)
			if h := g.next(30 * time.Second).text; h != "=" {
				t.Fatalf("header %q", h)
			}
			tt.underway(t, g, eng)
			r.stop(first)
			waitFor(t, 30*time.Second, "the bridge to ask again", func() bool {
				return strings.Contains(g.logs.String(), "the server interrupted the analysis; asking again")
			})
			_, next := r.startWorker()
			tt.goesOn(t, g, next)
			g.send("")
			for g.next(30*time.Second).text != "" {
			}
			if logs := g.logs.String(); strings.Contains(logs, "analysis failed") {
				t.Errorf("the bridge gave up:\n%s", logs)
			}
		})
	}
}

// workerStopRig is an API server on a queue whose workers a test starts and stops.
type workerStopRig struct {
	t   *testing.T
	q   queue.Queue
	url string
}

func newWorkerStopRig(t *testing.T) *workerStopRig {
	q := sqlitetest.Open(t, queue.SQLiteConfig{})
	a := api.New(api.Config{Queue: q, Logger: slog.New(slog.DiscardHandler)})
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		a.CloseStreams(ctx)
		srv.Close()
	})
	return &workerStopRig{t: t, q: q, url: srv.URL}
}

// startWorker starts a worker with a fake KataGo of its own.
func (r *workerStopRig) startWorker() (*worker.Worker, *engine.Engine) {
	t := r.t
	eng := enginetest.Start(t, enginetest.Config(t, fakeEnv...))
	// The grace is an hour: the worker must not wait for the open-ended search.
	w := worker.New(r.q, worker.Config{Engines: []worker.Analyzer{eng}, ShutdownGrace: time.Hour,
		Logger: slog.New(slog.DiscardHandler)})
	if err := w.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.stop(w) })
	return w, eng
}

func (r *workerStopRig) stop(w *worker.Worker) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.Stop(ctx); err != nil {
		r.t.Errorf("stop the worker: %v", err)
	}
}
