package worker_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tesuji/tesuji/analysis"
	"github.com/tesuji/tesuji/engine"
	"github.com/tesuji/tesuji/game"
	"github.com/tesuji/tesuji/katago"
	"github.com/tesuji/tesuji/queue"
	"github.com/tesuji/tesuji/worker"
)

// logBuffer collects a worker's log lines for a test.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// gated holds each query until the test opens the gate, telling it when one arrived.
type gated struct {
	next    worker.Analyzer
	arrived chan struct{}
	open    chan struct{}
}

func (g *gated) Analyze(ctx context.Context, q *katago.Query, fn func(*katago.Response) error) error {
	g.arrived <- struct{}{}
	<-g.open
	return g.next.Analyze(ctx, q, fn)
}

// TestWorkerLogsACancelledJobAsCancelled: a job cancelled while its search runs makes
// the next write fail with an error that matches both ErrCancelled and ErrLeaseLost; the
// worker reports a cancellation, not a lost lease.
func TestWorkerLogsACancelledJobAsCancelled(t *testing.T) {
	t.Parallel()
	q := newQueue(t)
	logs := &logBuffer{}
	g := &gated{next: startEngine(t), arrived: make(chan struct{}, 1), open: make(chan struct{})}
	// Heartbeats are an hour apart, so the cancellation is seen by the result write.
	startWorker(t, q, worker.Config{Engines: []worker.Analyzer{g}, HeartbeatInterval: time.Hour,
		Logger: slog.New(slog.NewTextHandler(logs, nil))})
	j := enqueue(t, q, sampleGame(t, 4), queue.PriorityInteractive, []int{4})
	<-g.arrived
	if err := q.Cancel(context.Background(), j.ID); err != nil {
		t.Fatal(err)
	}
	close(g.open)
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(logs.String(), "job_id="+j.ID) || !strings.Contains(logs.String(), "elapsed=") {
		if time.Now().After(deadline) {
			t.Fatalf("the worker logged no outcome for the job:\n%s", logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
	out := logs.String()
	if !strings.Contains(out, `msg="job cancelled"`) || strings.Contains(out, "lease lost") {
		t.Errorf("log does not report the cancellation as such:\n%s", out)
	}
}

// TestWorkerStopEndsAPonderingSearchAtOnce: a worker stopping with an open-ended search
// (KaTrain's pondering, a GTP analysis) ends it at once instead of waiting out the
// shutdown grace, keeps its latest report as the result and does not hand the job back.
func TestWorkerStopEndsAPonderingSearchAtOnce(t *testing.T) {
	t.Parallel()
	q, got := stopWhilePondering(t, 0.05, func(q queue.Queue, _ *engine.Engine, id string) bool {
		events, err := q.Events(context.Background(), id, "", 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		// A partial report: the search is under way.
		return slices.ContainsFunc(events, func(e queue.Event) bool { return e.Type == queue.EventPartial })
	})
	if got.State != queue.StateDone || got.Attempts != 0 {
		t.Fatalf("after stop: state %s attempts %d, want done with 0 attempts", got.State, got.Attempts)
	}
	res, err := q.Results(context.Background(), got.ID)
	if err != nil {
		t.Fatal(err)
	}
	var turn game.Turn
	if err := json.Unmarshal(res[6], &turn); err != nil {
		t.Fatal(err)
	}
	if turn.Turn != 6 || len(turn.Candidates) == 0 || turn.Visits < 1 || !turn.Interrupted {
		t.Errorf("stored result: turn %d, %d candidates, %d visits, interrupted %v", turn.Turn, len(turn.Candidates), turn.Visits, turn.Interrupted)
	}
}

// TestWorkerStopBeforeAPonderingSearchReports: a worker stopping with an open-ended
// search that has not reported yet fails the job as interrupted, with no retry, so that
// its client asks again rather than taking the failure for the request's.
func TestWorkerStopBeforeAPonderingSearchReports(t *testing.T) {
	t.Parallel()
	// A report every hour: the search is stopped before its first, once KataGo has it.
	_, got := stopWhilePondering(t, 3600, func(_ queue.Queue, eng *engine.Engine, _ string) bool { return eng.InFlight() > 0 })
	if got.State != queue.StateFailed {
		t.Fatalf("after stop: state %s, want failed", got.State)
	}
	if f := analysis.ParseFailure(got.Error); f.Code != analysis.FailureInterrupted {
		t.Errorf("failure %+v, want code %q", f, analysis.FailureInterrupted)
	}
}

// stopWhilePondering starts a worker with a slow fake KataGo, gives it an open-ended
// search of a 6-move game reporting every reportEvery seconds, waits until ready reports
// true, stops the worker and returns the job as the queue then holds it. The worker's
// grace is an hour, which Stop must not need.
func stopWhilePondering(t *testing.T, reportEvery float64, ready func(q queue.Queue, eng *engine.Engine, id string) bool) (queue.Queue, *queue.Job) {
	t.Helper()
	q := newQueue(t)
	// Slow enough that ten million visits never finish while the test runs.
	eng := startEngine(t, "TESUJI_FAKE_VISITS_PER_SECOND=1000")
	w := worker.New(q, worker.Config{Engines: []worker.Analyzer{eng}, ShutdownGrace: time.Hour})
	if err := w.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	payload, err := (&analysis.Spec{Game: sampleGame(t, 6), MaxVisits: 10000000, ReportEvery: reportEvery, Ponder: true}).Encode()
	if err != nil {
		t.Fatal(err)
	}
	j, _, err := q.Enqueue(context.Background(), &queue.Job{Priority: queue.PriorityInteractive, Payload: payload, Turns: []int{6}, Positions: 1})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !ready(q, eng, j.ID) {
		if time.Now().After(deadline) {
			t.Fatal("the search never got under way")
		}
		time.Sleep(10 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.Stop(ctx); err != nil {
		t.Fatalf("stop: %v", err)
	}
	got, err := q.Get(ctx, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	return q, got
}

// TestSpecCarriesQueryFields: what a job asks of KataGo reaches the query under
// KataGo's names.
func TestSpecCarriesQueryFields(t *testing.T) {
	t.Parallel()
	q := newQueue(t)
	rec := newRecorder(startEngine(t))
	startWorker(t, q, worker.Config{Engines: []worker.Analyzer{rec}})
	g := sampleGame(t, 2)
	avoid := []katago.MoveRestriction{{Player: "B", Moves: []string{"D4", "Q4"}, UntilDepth: 1}}
	payload, err := (&analysis.Spec{Game: g, MaxVisits: 5, MaxTime: 2,
		SearchOptions: analysis.SearchOptions{IncludeOwnershipStdev: true, IncludeMovesOwnership: true,
			IncludeMovesOwnershipStdev: true, IncludePVVisits: true, IncludePolicy: true, AvoidMoves: avoid},
		Settings: map[string]any{"playoutDoublingAdvantage": 0.5}}).Encode()
	if err != nil {
		t.Fatal(err)
	}
	j, _, err := q.Enqueue(context.Background(), &queue.Job{Priority: queue.PriorityInteractive, Payload: payload, Turns: []int{2}, Positions: 5})
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, q, j.ID, queue.StateDone)
	qs := rec.queries()
	if len(qs) != 1 {
		t.Fatalf("%d queries", len(qs))
	}
	got := qs[0]
	want := map[string]any{"includeOwnershipStdev": true, "includeMovesOwnership": true,
		"includeMovesOwnershipStdev": true, "includePVVisits": true, "includePolicy": true,
		"avoidMoves": avoid, "overrideSettings": map[string]any{"maxTime": 2.0, "playoutDoublingAdvantage": 0.5}}
	have := map[string]any{"includeOwnershipStdev": got.IncludeOwnershipStdev, "includeMovesOwnership": got.IncludeMovesOwnership,
		"includeMovesOwnershipStdev": got.IncludeMovesOwnershipStdev, "includePVVisits": got.IncludePVVisits,
		"includePolicy": got.IncludePolicy, "avoidMoves": got.AvoidMoves, "overrideSettings": got.OverrideSettings}
	if diff := cmp.Diff(want, have); diff != "" {
		t.Errorf("query fields (-want +got):\n%s", diff)
	}
	res, err := q.Results(context.Background(), j.ID)
	if err != nil {
		t.Fatal(err)
	}
	var turn game.Turn
	if err := json.Unmarshal(res[2], &turn); err != nil {
		t.Fatal(err)
	}
	if len(turn.Policy) != 19*19+1 || turn.Root == nil || turn.Root.RawWinrate == nil || len(turn.Candidates[0].PVVisits) == 0 {
		t.Errorf("stored turn lacks policy, rootInfo or pvVisits: %+v", turn)
	}
}

// downEngine answers ErrNotRunning, as an engine whose KataGo cannot restart does, until
// it is brought up; then it passes queries to eng.
type downEngine struct {
	eng    worker.Analyzer
	up     atomic.Bool
	called chan struct{}
	once   sync.Once
}

func (d *downEngine) Ready() bool { return d.up.Load() }

func (d *downEngine) Analyze(ctx context.Context, q *katago.Query, fn func(*katago.Response) error) error {
	if !d.up.Load() {
		d.once.Do(func() { close(d.called) })
		return fmt.Errorf("%w: restarting katago failed", engine.ErrNotRunning)
	}
	return d.eng.Analyze(ctx, q, fn)
}

// TestEngineDownHandsJobsBack: a job its engine cannot run because KataGo is not running
// goes back to the queue with no attempt counted, and the worker claims again only once
// the engine is ready: a worker with a broken KataGo does not use up the queue's attempts.
func TestEngineDownHandsJobsBack(t *testing.T) {
	t.Parallel()
	q := newQueue(t)
	g := sampleGame(t, 4)
	var jobs []*queue.Job
	for range 3 {
		jobs = append(jobs, enqueue(t, q, g, queue.PriorityReview, nil))
	}
	d := &downEngine{eng: startEngine(t), called: make(chan struct{})}
	startWorker(t, q, worker.Config{Engines: []worker.Analyzer{d}, JobsPerEngine: 1})
	<-d.called
	d.up.Store(true)
	for _, j := range jobs {
		if got := waitState(t, q, j.ID, queue.StateDone); got.Attempts != 0 {
			t.Errorf("job %s done after %d failed attempts, want 0: the engine's failure to run is not the job's", j.ID, got.Attempts)
		}
	}
}
