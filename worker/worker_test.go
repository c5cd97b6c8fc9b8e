package worker_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/tesuji/tesuji/analysis"
	"github.com/tesuji/tesuji/engine"
	"github.com/tesuji/tesuji/engine/enginetest"
	"github.com/tesuji/tesuji/game"
	"github.com/tesuji/tesuji/katago"
	"github.com/tesuji/tesuji/queue"
	"github.com/tesuji/tesuji/queue/sqlitetest"
	"github.com/tesuji/tesuji/worker"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// startEngine starts the fake KataGo with the given behaviour.
func startEngine(t *testing.T, env ...string) *engine.Engine {
	t.Helper()
	return enginetest.Start(t, enginetest.Config(t, env...))
}

func sampleGame(t *testing.T, moves int) *game.Game {
	t.Helper()
	sgf := "(;SZ[19]KM[7.5]RU[Chinese]"
	coords := []string{"pd", "dp", "pq", "dd", "fq", "cn", "jp", "qo", "qm", "pm", "pl", "om", "ql", "mq", "op", "oq", "nq", "np", "pp", "mp", "lq", "lp", "kq", "kp", "jq", "ip", "iq", "ho", "qc", "qd"}
	for i := 0; i < moves; i++ {
		c := "B"
		if i%2 == 1 {
			c = "W"
		}
		sgf += ";" + c + "[" + coords[i] + "]"
	}
	sgf += ")"
	rec, err := game.ParseSGF([]byte(sgf), game.ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return rec.Game
}

func enqueue(t *testing.T, q queue.Queue, g *game.Game, prio queue.Priority, turns []int) *queue.Job {
	t.Helper()
	payload, err := (&analysis.Spec{Game: g, MaxVisits: 10}).Encode()
	if err != nil {
		t.Fatal(err)
	}
	if turns == nil {
		for i := 0; i <= len(g.Moves); i++ {
			turns = append(turns, i)
		}
	}
	j, _, err := q.Enqueue(context.Background(), &queue.Job{Priority: prio, Payload: payload, Turns: turns, Positions: int64(len(turns) * 10)})
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// waitState polls the job until it reaches a final state or the deadline passes.
func waitState(t *testing.T, q queue.Queue, id string, want queue.State) *queue.Job {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		j, err := q.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if j.State == want {
			return j
		}
		if j.State.Final() || time.Now().After(deadline) {
			t.Fatalf("job %s is %s (error %q), want %s", id, j.State, j.Error, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func newQueue(t *testing.T) queue.Queue {
	t.Helper()
	q := sqlitetest.Open(t, queue.SQLiteConfig{})
	t.Cleanup(func() { q.Close() })
	return q
}

func startWorker(t *testing.T, q queue.Queue, cfg worker.Config) *worker.Worker {
	t.Helper()
	w := worker.New(q, cfg)
	if err := w.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := w.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return w
}

// stopWantQueued stops the worker and checks that it handed the job back without counting
// an attempt.
func stopWantQueued(t *testing.T, w *worker.Worker, q queue.Queue, id string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := w.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := q.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != queue.StateQueued || got.Attempts != 0 {
		t.Fatalf("after stop: state %s attempts %d, want queued with 0 attempts", got.State, got.Attempts)
	}
}

// turnsOnce checks that every turn of the job has exactly one stored result and one
// turn event.
func turnsOnce(t *testing.T, q queue.Queue, id string, n int) {
	t.Helper()
	res, err := q.Results(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != n {
		t.Errorf("%d results, want %d", len(res), n)
	}
	events, err := q.Events(context.Background(), id, "", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	count := map[int]int{}
	for _, e := range events {
		if e.Type != queue.EventTurn {
			continue
		}
		var turn game.Turn
		if err := json.Unmarshal(e.Data, &turn); err != nil {
			t.Fatal(err)
		}
		count[turn.Turn]++
	}
	for i := 0; i < n; i++ {
		if count[i] != 1 {
			t.Errorf("turn %d has %d events, want 1", i, count[i])
		}
	}
}

func TestWorkerAnalyzesAJobWithOneQuery(t *testing.T) {
	t.Parallel()
	q := newQueue(t)
	rec := newRecorder(startEngine(t))
	startWorker(t, q, worker.Config{Engines: []worker.Analyzer{rec}})
	g := sampleGame(t, 20)
	j := enqueue(t, q, g, queue.PriorityReview, nil)
	waitState(t, q, j.ID, queue.StateDone)
	turnsOnce(t, q, j.ID, 21)
	qs := rec.queries()
	if len(qs) != 1 {
		t.Fatalf("%d queries, want exactly one for the whole game", len(qs))
	}
	if len(qs[0].AnalyzeTurns) != 21 || *qs[0].Priority != 0 || *qs[0].MaxVisits != 10 {
		t.Errorf("query turns %v priority %d visits %d", qs[0].AnalyzeTurns, *qs[0].Priority, *qs[0].MaxVisits)
	}
}

func TestWorkerResumesOnlyMissingTurns(t *testing.T) {
	t.Parallel()
	q := newQueue(t)
	g := sampleGame(t, 10)
	j := enqueue(t, q, g, queue.PriorityReview, nil)

	// A first worker stores turns 0..4, then its lease is lost (it crashed).
	ctx := context.Background()
	_, lease, err := q.Claim(ctx, "crashed", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for turn := range 5 {
		data, _ := json.Marshal(game.Turn{Turn: turn, Visits: 10})
		if _, err := q.StoreResult(ctx, lease, turn, data); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.Release(ctx, lease); err != nil {
		t.Fatal(err)
	}

	rec := newRecorder(startEngine(t))
	startWorker(t, q, worker.Config{Engines: []worker.Analyzer{rec}})
	waitState(t, q, j.ID, queue.StateDone)
	turnsOnce(t, q, j.ID, 11)
	qs := rec.queries()
	if len(qs) != 1 {
		t.Fatalf("%d queries, want 1", len(qs))
	}
	if diff := cmp.Diff([]int{5, 6, 7, 8, 9, 10}, qs[0].AnalyzeTurns); diff != "" {
		t.Errorf("analyzed turns (-want +got):\n%s", diff)
	}
}

func TestWorkerCancellationStopsTheSearch(t *testing.T) {
	t.Parallel()
	q := newQueue(t)
	rec := newRecorder(startEngine(t, "TESUJI_FAKE_SPEED=0.05"))
	startWorker(t, q, worker.Config{Engines: []worker.Analyzer{rec}, HeartbeatInterval: 50 * time.Millisecond})
	g := sampleGame(t, 30)
	j := enqueue(t, q, g, queue.PriorityReview, nil)
	waitState(t, q, j.ID, queue.StateRunning)
	if err := q.Cancel(context.Background(), j.ID); err != nil {
		t.Fatal(err)
	}
	// The search would last minutes; that it ends at all shows the cancellation stopped it.
	select {
	case <-rec.finished:
	case <-time.After(60 * time.Second):
		t.Fatal("the query did not end after the job was cancelled")
	}
	if j := waitState(t, q, j.ID, queue.StateCancelled); j.Attempts != 0 {
		t.Errorf("attempts = %d", j.Attempts)
	}
}

func TestWorkerStopReleasesWithoutCountingAnAttempt(t *testing.T) {
	t.Parallel()
	q := newQueue(t)
	eng := startEngine(t, "TESUJI_FAKE_SPEED=10")
	w := worker.New(q, worker.Config{Engines: []worker.Analyzer{eng}, ShutdownGrace: 100 * time.Millisecond})
	if err := w.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	g := sampleGame(t, 30)
	j := enqueue(t, q, g, queue.PriorityReview, nil)
	waitState(t, q, j.ID, queue.StateRunning)
	stopWantQueued(t, w, q, j.ID)
	ws, _ := q.Workers(context.Background())
	if len(ws) != 0 {
		t.Errorf("worker still registered: %+v", ws)
	}
	// Another worker finishes it, each turn exactly once.
	startWorker(t, q, worker.Config{Engines: []worker.Analyzer{startEngine(t)}})
	waitState(t, q, j.ID, queue.StateDone)
	turnsOnce(t, q, j.ID, 31)
}

func TestWorkerSurvivesAnEngineCrash(t *testing.T) {
	t.Parallel()
	q := newQueue(t)
	marker := filepath.Join(t.TempDir(), "crashed")
	eng := startEngine(t, "TESUJI_FAKE_CRASH_ONCE="+marker, "TESUJI_FAKE_CRASH_AFTER=5")
	startWorker(t, q, worker.Config{Engines: []worker.Analyzer{eng}})
	g := sampleGame(t, 20)
	j := enqueue(t, q, g, queue.PriorityReview, nil)
	done := waitState(t, q, j.ID, queue.StateDone)
	if done.Attempts != 1 {
		t.Errorf("attempts = %d, want the crash counted once", done.Attempts)
	}
	turnsOnce(t, q, j.ID, 21)
	if _, err := os.Stat(marker); err != nil {
		t.Fatalf("the engine never crashed: %v", err)
	}
}

func TestWorkerPanicFailsTheJobWithFileAndLine(t *testing.T) {
	t.Parallel()
	q := newQueue(t)
	startWorker(t, q, worker.Config{Engines: []worker.Analyzer{panicky{}}})
	j := enqueue(t, q, sampleGame(t, 2), queue.PriorityReview, nil)
	failed := waitState(t, q, j.ID, queue.StateFailed)
	if !strings.Contains(failed.Error, "worker_test.go:") || !strings.Contains(failed.Error, "boom") {
		t.Errorf("error %q does not name the panic and its file and line", failed.Error)
	}
}

func TestWorkerInteractiveGetsKataGoPriority(t *testing.T) {
	t.Parallel()
	q := newQueue(t)
	rec := newRecorder(startEngine(t))
	startWorker(t, q, worker.Config{Engines: []worker.Analyzer{rec}})
	g := sampleGame(t, 4)
	j := enqueue(t, q, g, queue.PriorityInteractive, []int{4})
	waitState(t, q, j.ID, queue.StateDone)
	qs := rec.queries()
	if len(qs) != 1 || *qs[0].Priority <= 0 {
		t.Fatalf("interactive query priority not raised: %+v", qs)
	}
}

// TestWorkerInteractiveGetsItsThreadsOnAReviewEngine: on one engine tuned for reviews
// (one search thread per position), an interactive job's query asks KataGo for the
// interactive settings' threads and a review's keeps the engine's own.
func TestWorkerInteractiveGetsItsThreadsOnAReviewEngine(t *testing.T) {
	t.Parallel()
	q := newQueue(t)
	cfg := enginetest.Config(t)
	cfg.AnalysisThreads = 0
	cfg.Hardware = &engine.Hardware{Backend: engine.BackendEigen, Cores: 2}
	e := enginetest.Start(t, cfg)
	want := e.Tuning().InteractiveSearchThreads
	if want <= 1 {
		t.Fatalf("a fitted CPU engine's interactive positions get %d search threads, want more than its reviews' 1", want)
	}
	rec := &tuningRecorder{newRecorder(e), e}
	startWorker(t, q, worker.Config{Engines: []worker.Analyzer{rec}, JobsPerEngine: 1})
	g := sampleGame(t, 4)
	review := enqueue(t, q, g, queue.PriorityReview, []int{1, 2})
	waitState(t, q, review.ID, queue.StateDone)
	interactive := enqueue(t, q, g, queue.PriorityInteractive, []int{4})
	waitState(t, q, interactive.ID, queue.StateDone)
	qs := rec.queries()
	if len(qs) != 2 {
		t.Fatalf("%d queries, want 2", len(qs))
	}
	if _, set := qs[0].OverrideSettings["numSearchThreads"]; set {
		t.Errorf("the review's query sets numSearchThreads: %v", qs[0].OverrideSettings)
	}
	if got := qs[1].OverrideSettings["numSearchThreads"]; got != want {
		t.Errorf("the interactive query's numSearchThreads is %v, want %d", got, want)
	}
}

// tuningRecorder is a recorder over an *engine.Engine that marks interactive queries as
// the engine does.
type tuningRecorder struct {
	*recorder
	e *engine.Engine
}

func (r *tuningRecorder) InteractiveQuery(q *katago.Query) *katago.Query {
	return r.e.InteractiveQuery(q)
}

// recorder passes queries to an engine and keeps a copy of each.
type recorder struct {
	next     worker.Analyzer
	mu       sync.Mutex
	qs       []katago.Query
	once     sync.Once
	finished chan struct{}
}

func (r *recorder) Analyze(ctx context.Context, q *katago.Query, fn func(*katago.Response) error) error {
	r.mu.Lock()
	r.qs = append(r.qs, *q)
	r.mu.Unlock()
	err := r.next.Analyze(ctx, q, fn)
	r.once.Do(func() { close(r.finished) })
	return err
}

func newRecorder(next worker.Analyzer) *recorder {
	return &recorder{next: next, finished: make(chan struct{})}
}

func (r *recorder) queries() []katago.Query {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.qs)
}

type panicky struct{}

func (panicky) Analyze(context.Context, *katago.Query, func(*katago.Response) error) error {
	panic("boom")
}

// TestWorkerStoresKataGoRefusalAsTypedFailure: a query KataGo refuses fails the job at
// once with KataGo's field and words, which the API hands on without reading the text.
func TestWorkerStoresKataGoRefusalAsTypedFailure(t *testing.T) {
	t.Parallel()
	q := newQueue(t)
	startWorker(t, q, worker.Config{Engines: []worker.Analyzer{startEngine(t)}})
	g := sampleGame(t, 2)
	g.Komi = 7.25 // not a half-integer: KataGo refuses the query
	j := enqueue(t, q, g, queue.PriorityReview, nil)
	failed := waitState(t, q, j.ID, queue.StateFailed)
	want := analysis.Failure{Code: analysis.FailureRejected, Field: "komi",
		Message: "Must be a integer or half-integer from -400.0 to 400.0"}
	if diff := cmp.Diff(want, analysis.ParseFailure(failed.Error)); diff != "" {
		t.Errorf("failure (-want +got):\n%s", diff)
	}
	if failed.Attempts != 1 {
		t.Errorf("attempts = %d, want 1: a refusal is not retried", failed.Attempts)
	}
}

// TestWorkerRoutesInteractiveJobsToTheirEngines: with interactive engines, an interactive
// job is served by one of them while a long review holds the review engine, and the review
// engine's free slot takes the next review, never an interactive job waiting in line.
func TestWorkerRoutesInteractiveJobsToTheirEngines(t *testing.T) {
	t.Parallel()
	q := newQueue(t)
	reviews := newGate(startEngine(t))
	inter := newGate(startEngine(t))
	startWorker(t, q, worker.Config{
		Engines: []worker.Analyzer{reviews}, JobsPerEngine: 2,
		InteractiveEngines: []worker.Analyzer{inter}, InteractiveJobsPerEngine: 1,
	})
	// Runs before the worker stops, so a failed test does not wait out the grace.
	t.Cleanup(func() { reviews.open(); inter.open() })
	g := sampleGame(t, 20)

	i1 := enqueue(t, q, g, queue.PriorityInteractive, []int{20})
	if got := inter.next(t); !slices.Equal(got.AnalyzeTurns, []int{20}) {
		t.Fatalf("interactive engine got turns %v, want [20]", got.AnalyzeTurns)
	}
	// The interactive engine's one slot is busy: i2 waits in line, and the review that
	// comes after it goes to a review slot.
	i2 := enqueue(t, q, g, queue.PriorityInteractive, []int{19})
	r1 := enqueue(t, q, g, queue.PriorityReview, nil)
	if got := reviews.next(t); len(got.AnalyzeTurns) != 21 || *got.Priority != 0 {
		t.Fatalf("review engine got turns %v priority %d, want the review's 21 turns", got.AnalyzeTurns, *got.Priority)
	}
	if j, err := q.Get(context.Background(), i2.ID); err != nil || j.State != queue.StateQueued {
		t.Fatalf("interactive job behind a busy interactive engine: %v %v, want queued", j.State, err)
	}

	// The review engine holds r1 while both interactive jobs are served.
	inter.open()
	waitState(t, q, i1.ID, queue.StateDone)
	waitState(t, q, i2.ID, queue.StateDone)
	if j, err := q.Get(context.Background(), r1.ID); err != nil || j.State != queue.StateRunning {
		t.Fatalf("review while interactive jobs ran: %v %v, want running", j.State, err)
	}
	reviews.open()
	waitState(t, q, r1.ID, queue.StateDone)
	turnsOnce(t, q, r1.ID, 21)
	for _, got := range reviews.queries() {
		if *got.Priority != 0 {
			t.Errorf("review engine searched an interactive query: turns %v", got.AnalyzeTurns)
		}
	}
	if n := len(inter.queries()); n != 2 {
		t.Errorf("interactive engine searched %d queries, want 2", n)
	}
}

// gate records each query, announces it on started and holds it until release closes.
type gate struct {
	eng      worker.Analyzer
	started  chan katago.Query
	release  chan struct{}
	openOnce sync.Once
	mu       sync.Mutex
	qs       []katago.Query
}

// open lets every query through, now and later.
func (g *gate) open() { g.openOnce.Do(func() { close(g.release) }) }

// next returns the next query that reached the gate, failing the test if none comes.
func (g *gate) next(t *testing.T) katago.Query {
	t.Helper()
	select {
	case q := <-g.started:
		return q
	case <-time.After(20 * time.Second):
		t.Fatal("no query reached the engine")
		return katago.Query{}
	}
}

func newGate(next worker.Analyzer) *gate {
	return &gate{eng: next, started: make(chan katago.Query, 16), release: make(chan struct{})}
}

func (g *gate) Analyze(ctx context.Context, q *katago.Query, fn func(*katago.Response) error) error {
	g.mu.Lock()
	g.qs = append(g.qs, *q)
	g.mu.Unlock()
	g.started <- *q
	select {
	case <-g.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	return g.eng.Analyze(ctx, q, fn)
}

func (g *gate) queries() []katago.Query {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.qs)
}
