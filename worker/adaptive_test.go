package worker_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tesuji/tesuji/analysis"
	"github.com/tesuji/tesuji/game"
	"github.com/tesuji/tesuji/katago"
	"github.com/tesuji/tesuji/queue"
	"github.com/tesuji/tesuji/worker"
)

func enqueueAdaptive(t *testing.T, q queue.Queue, g *game.Game, visits int) *queue.Job {
	t.Helper()
	spec := &analysis.Spec{Game: g, MaxVisits: visits, Adaptive: true}
	payload, err := spec.Encode()
	if err != nil {
		t.Fatal(err)
	}
	turns := make([]int, len(g.Moves)+1)
	for i := range turns {
		turns[i] = i
	}
	j, _, err := q.Enqueue(context.Background(), &queue.Job{Priority: queue.PriorityReview, Payload: payload,
		Turns: turns, Positions: spec.PlannedVisits(len(turns))})
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// turnEvents returns the job's turn events in order.
func turnEvents(t *testing.T, q queue.Queue, id string) []game.Turn {
	t.Helper()
	evs, err := q.Events(context.Background(), id, "", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []game.Turn
	for _, e := range evs {
		if e.Type != queue.EventTurn {
			continue
		}
		var turn game.Turn
		if err := json.Unmarshal(e.Data, &turn); err != nil {
			t.Fatal(err)
		}
		out = append(out, turn)
	}
	return out
}

// storedTurns returns the job's stored results by turn.
func storedTurns(t *testing.T, q queue.Queue, id string) map[int]game.Turn {
	t.Helper()
	res, err := q.Results(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[int]game.Turn, len(res))
	for n, data := range res {
		var turn game.Turn
		if err := json.Unmarshal(data, &turn); err != nil {
			t.Fatal(err)
		}
		out[n] = turn
	}
	return out
}

// askedVisits is what the queries asked of the engine: maxVisits for each analyzed turn.
func askedVisits(qs []katago.Query) int {
	n := 0
	for _, q := range qs {
		n += *q.MaxVisits * len(q.AnalyzeTurns)
	}
	return n
}

func spentVisits(turns map[int]game.Turn) int {
	n := 0
	for _, t := range turns {
		n += t.Spent()
	}
	return n
}

func TestAdaptiveReviewStreamsAndDeepens(t *testing.T) {
	t.Parallel()
	const visits = 64
	quick := analysis.QuickVisits(visits)
	q := newQueue(t)
	rec := newRecorder(startEngine(t))
	startWorker(t, q, worker.Config{Engines: []worker.Analyzer{rec}})
	g := sampleGame(t, 30)
	j := enqueueAdaptive(t, q, g, visits)
	waitState(t, q, j.ID, queue.StateDone)

	qs := rec.queries()
	if len(qs) != 2 {
		t.Fatalf("%d queries, want a quick pass and a deep one", len(qs))
	}
	if *qs[0].MaxVisits != quick || len(qs[0].AnalyzeTurns) != 31 {
		t.Errorf("quick query: %d turns at %d visits, want 31 at %d", len(qs[0].AnalyzeTurns), *qs[0].MaxVisits, quick)
	}
	deep := qs[1].AnalyzeTurns
	budget := analysis.DeepBudget(31, visits)
	if *qs[1].MaxVisits != visits || len(deep) == 0 || len(deep) > budget {
		t.Errorf("deep query: %d turns at %d visits, want 1 to %d at %d", len(deep), *qs[1].MaxVisits, budget, visits)
	}

	// Every turn streams once from the quick pass, in the order results came; each deepened
	// turn streams again with its deeper result, after the whole quick pass.
	evs := turnEvents(t, q, j.ID)
	if len(evs) != 31+len(deep) {
		t.Fatalf("%d turn events, want %d", len(evs), 31+len(deep))
	}
	firsts := map[int]bool{}
	for _, e := range evs[:31] {
		firsts[e.Turn] = true
		if e.Visits != quick || e.VisitsSpent != quick {
			t.Errorf("quick event of turn %d: visits %d spent %d, want %d", e.Turn, e.Visits, e.VisitsSpent, quick)
		}
	}
	if len(firsts) != 31 {
		t.Errorf("the quick pass streamed %d distinct turns, want 31", len(firsts))
	}
	var again []int
	for _, e := range evs[31:] {
		again = append(again, e.Turn)
		if e.Visits != visits || e.VisitsSpent != quick+visits {
			t.Errorf("deep event of turn %d: visits %d spent %d, want %d and %d", e.Turn, e.Visits, e.VisitsSpent, visits, quick+visits)
		}
	}
	slices.Sort(again)
	if diff := cmp.Diff(deep, again); diff != "" {
		t.Errorf("turns streamed again (-deep query +events):\n%s", diff)
	}

	// The stored result of a deepened turn is the deeper one; visitsSpent adds up to what
	// the engine was asked.
	stored := storedTurns(t, q, j.ID)
	for n, turn := range stored {
		want := quick
		if slices.Contains(deep, n) {
			want = visits
		}
		if turn.Visits != want {
			t.Errorf("stored turn %d has %d visits, want %d", n, turn.Visits, want)
		}
	}
	if got, want := spentVisits(stored), askedVisits(qs); got != want || want != 31*quick+len(deep)*visits {
		t.Errorf("visitsSpent %d, engine asked for %d (want %d)", got, want, 31*quick+len(deep)*visits)
	}
}

func TestAdaptiveReviewResumesOnlyShallowTurns(t *testing.T) {
	t.Parallel()
	const visits = 64
	g := sampleGame(t, 30)

	// A first review, run to its end, tells which turns the quick pass leads to deepen.
	first := newQueue(t)
	rec1 := newRecorder(startEngine(t))
	startWorker(t, first, worker.Config{Engines: []worker.Analyzer{rec1}})
	done := enqueueAdaptive(t, first, g, visits)
	waitState(t, first, done.ID, queue.StateDone)
	evs := turnEvents(t, first, done.ID)
	deep := rec1.queries()[1].AnalyzeTurns
	if len(deep) < 2 {
		t.Fatalf("the first review deepened %v; the test needs two turns or more", deep)
	}

	// The same review again, as a crashed worker left it: the quick pass stored, and the
	// deep results of the first half of those turns.
	q := newQueue(t)
	j := enqueueAdaptive(t, q, g, visits)
	ctx := context.Background()
	_, lease, err := q.Claim(ctx, "crashed", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	deepened := deep[:len(deep)/2]
	for _, e := range evs {
		if e.Visits == visits && slices.Contains(deepened, e.Turn) && e.Root != nil {
			// A deep search sees a spread of its own. Make it the narrowest, so that
			// ranking the stored results alone would put these turns last and pick others.
			narrow := 0.01
			e.Root.ScoreStdev = &narrow
		}
		data, _ := json.Marshal(e)
		if e.Visits == visits {
			if slices.Contains(deepened, e.Turn) {
				if err := q.ReplaceResult(ctx, lease, e.Turn, data); err != nil {
					t.Fatal(err)
				}
			}
			continue
		}
		if _, err := q.StoreResult(ctx, lease, e.Turn, data); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.Release(ctx, lease); err != nil {
		t.Fatal(err)
	}

	rec := newRecorder(startEngine(t))
	startWorker(t, q, worker.Config{Engines: []worker.Analyzer{rec}})
	waitState(t, q, j.ID, queue.StateDone)
	qs := rec.queries()
	if len(qs) != 1 || *qs[0].MaxVisits != visits {
		t.Fatalf("resumed review made %d queries, want one deep query at %d visits", len(qs), visits)
	}
	for _, n := range qs[0].AnalyzeTurns {
		if slices.Contains(deepened, n) {
			t.Errorf("turn %d was searched deeply again after the resume", n)
		}
	}
	if total, budget := len(deepened)+len(qs[0].AnalyzeTurns), analysis.DeepBudget(31, visits); total > budget {
		t.Errorf("%d turns deepened before the crash and %d after, over the budget of %d", len(deepened), len(qs[0].AnalyzeTurns), budget)
	}
	stored := storedTurns(t, q, j.ID)
	for _, n := range append(slices.Clone(deepened), qs[0].AnalyzeTurns...) {
		if stored[n].Visits != visits {
			t.Errorf("deepened turn %d has %d visits stored, want %d", n, stored[n].Visits, visits)
		}
	}
	if got, want := spentVisits(stored), 31*analysis.QuickVisits(visits)+(len(deepened)+len(qs[0].AnalyzeTurns))*visits; got != want {
		t.Errorf("visitsSpent %d, want %d", got, want)
	}
}
