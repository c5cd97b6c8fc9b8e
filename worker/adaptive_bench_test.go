package worker

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tesuji/tesuji/analysis"
	"github.com/tesuji/tesuji/engine"
	"github.com/tesuji/tesuji/game"
	"github.com/tesuji/tesuji/katago"
	"github.com/tesuji/tesuji/queue"
	"github.com/tesuji/tesuji/queue/sqlitetest"
)

// BenchmarkAdaptiveReview reviews the self-play games in testdata/games four times with
// the real KataGo, through this package's worker and the engine driver, each time on a
// KataGo process of its own: a uniform review A at 200 visits (the reference), a second
// uniform review B (the baseline: how well two independent uniform reviews agree), an
// adaptive review at 200 visits, and a uniform review C at the visits the adaptive one
// may spend (analysis.AdaptiveShare of 200: the same cost spread evenly). It reports the
// recall and precision of B, of the adaptive review and of C against A, and the adaptive
// review's visitsSpent and wall time as shares of A's (the time from the first job queued
// to the last one done, on a KataGo process started for the review: the deeper searches
// find the quick pass's evaluations in KataGo's cache). It runs when TESUJI_KATAGO and TESUJI_MODEL name
// a KataGo binary and a network; KataGo runs 2 analysis threads of 1 search thread each.
// TESUJI_RECORD_DIR, when set, receives each game's results (trimmed): a run that, put in
// a folder of its own under testdata/adaptive, the selection's tests replay.
//
//	TESUJI_KATAGO=katago TESUJI_MODEL=net.bin.gz go test -run '^$' -bench AdaptiveReview -benchtime 1x ./worker/
func BenchmarkAdaptiveReview(b *testing.B) {
	kg, model := os.Getenv("TESUJI_KATAGO"), os.Getenv("TESUJI_MODEL")
	if kg == "" || model == "" {
		b.Skip("set TESUJI_KATAGO and TESUJI_MODEL to run the adaptive review against the real KataGo")
	}
	const visits = 200
	files, err := filepath.Glob(filepath.Join("testdata", "games", "*.sgf"))
	if err != nil || len(files) < 3 {
		b.Fatalf("want at least 3 games in testdata/games: %v %v", files, err)
	}
	var games []*game.Game
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		rec, err := game.ParseSGF(data, game.ParseOptions{})
		if err != nil {
			b.Fatalf("%s: %v", f, err)
		}
		games = append(games, rec.Game)
	}
	evenVisits := int(analysis.AdaptiveShare * visits)
	var refA, refB, adaptive, quick, even [][]game.Turn // game -> turns; quick: the adaptive review's first results
	var spentA, spentB, spentAdaptive, spentEven int64
	var timeA, timeB, timeAdaptive, timeEven time.Duration
	for b.Loop() {
		refA, _, spentA, timeA = review(b, kg, model, games, false, visits)
		refB, _, spentB, timeB = review(b, kg, model, games, false, visits)
		adaptive, quick, spentAdaptive, timeAdaptive = review(b, kg, model, games, true, visits)
		even, _, spentEven, timeEven = review(b, kg, model, games, false, evenVisits)
	}

	var vsB, vsAdaptive, vsQuick, vsEven agreement
	var perGame []string // logged after the totals: without -v, a benchmark's log keeps its first 10 lines
	for i, g := range games {
		var gB, gAdaptive, gEven agreement
		gB.add(g, refA[i], refB[i])
		gAdaptive.add(g, refA[i], adaptive[i])
		gEven.add(g, refA[i], even[i])
		perGame = append(perGame, fmt.Sprintf("%s: %d moves, A's mistakes %d; B recall %.2f precision %.2f; adaptive recall %.2f precision %.2f; C recall %.2f precision %.2f",
			filepath.Base(files[i]), len(g.Moves), gB.refMistakes, gB.recall(), gB.precision(), gAdaptive.recall(), gAdaptive.precision(),
			gEven.recall(), gEven.precision()))
		vsB.plus(gB)
		vsAdaptive.plus(gAdaptive)
		vsEven.plus(gEven)
		vsQuick.add(g, refA[i], quick[i])
	}
	share := float64(spentAdaptive) / float64(spentA)
	b.ReportMetric(vsB.recall(), "B-recall")
	b.ReportMetric(vsB.precision(), "B-precision")
	b.ReportMetric(vsAdaptive.recall(), "adaptive-recall")
	b.ReportMetric(vsAdaptive.precision(), "adaptive-precision")
	b.ReportMetric(share, "adaptive-visits/A")
	b.ReportMetric(timeAdaptive.Seconds()/timeA.Seconds(), "adaptive-time/A")
	b.ReportMetric(vsEven.recall(), "C-recall")
	b.ReportMetric(vsEven.precision(), "C-precision")
	b.Logf("%d games, %d moves; A's mistakes (>= 3 points): %d", len(games), countMoves(games), vsB.refMistakes)
	b.Logf("A:        visitsSpent %d in %s", spentA, timeA.Round(time.Second))
	b.Logf("B:        recall %.3f (%d/%d) precision %.3f (%d/%d) visitsSpent %d in %s", vsB.recall(), vsB.found, vsB.refMistakes,
		vsB.precision(), vsB.right, vsB.xMistakes, spentB, timeB.Round(time.Second))
	b.Logf("quick pass alone: recall %.3f precision %.3f", vsQuick.recall(), vsQuick.precision())
	b.Logf("adaptive: recall %.3f (%d/%d) precision %.3f (%d/%d) visitsSpent %d = %.3f of A's, in %s = %.3f of A's time",
		vsAdaptive.recall(), vsAdaptive.found, vsAdaptive.refMistakes, vsAdaptive.precision(), vsAdaptive.right,
		vsAdaptive.xMistakes, spentAdaptive, share, timeAdaptive.Round(time.Second), timeAdaptive.Seconds()/timeA.Seconds())
	b.Logf("C, uniform at %d visits: recall %.3f (%d/%d) precision %.3f (%d/%d) visitsSpent %d = %.3f of A's, in %s = %.3f of A's time",
		evenVisits, vsEven.recall(), vsEven.found, vsEven.refMistakes, vsEven.precision(), vsEven.right, vsEven.xMistakes,
		spentEven, float64(spentEven)/float64(spentA), timeEven.Round(time.Second), timeEven.Seconds()/timeA.Seconds())
	for _, l := range perGame {
		b.Log(l)
	}

	if dir := os.Getenv("TESUJI_RECORD_DIR"); dir != "" {
		for i, f := range files {
			rec := recording{Game: filepath.Base(f), Quick: trim(quick[i]), A: trim(refA[i]), B: trim(refB[i]),
				Adaptive: trim(adaptive[i]), Even: trim(even[i])}
			data, err := json.Marshal(rec)
			if err != nil {
				b.Fatal(err)
			}
			name := strings.TrimSuffix(filepath.Base(f), ".sgf") + ".json"
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func countMoves(games []*game.Game) int {
	n := 0
	for _, g := range games {
		n += len(g.Moves)
	}
	return n
}

// review runs one review of every game, adaptive or uniform, all queued at once on a
// worker of its own over a KataGo process of its own: a review sharing another's process
// would find that one's evaluations in KataGo's cache and repeat its searches. It returns
// each game's stored turns, for an adaptive review its quick results, the visits spent and
// the time from the first job queued to the last one done.
func review(b *testing.B, kg, model string, games []*game.Game, adaptive bool, visits int) (got, quick [][]game.Turn, spent int64, took time.Duration) {
	b.Helper()
	ctx := context.Background()
	eng := engine.New(engine.Config{Path: kg, Model: model, AnalysisThreads: 2, SearchThreadsPerAnalysisThread: 1,
		LogDir: b.TempDir()})
	if err := eng.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = eng.Stop(ctx) }()
	q := sqlitetest.Open(b, queue.SQLiteConfig{})
	w := New(q, Config{Engines: []Analyzer{eng}, JobsPerEngine: 2})
	if err := w.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = w.Stop(ctx) }()
	start := time.Now()
	var ids []string
	for _, g := range games {
		turns := make([]int, len(g.Moves)+1)
		for i := range turns {
			turns[i] = i
		}
		spec := &analysis.Spec{Game: g, MaxVisits: visits, Adaptive: adaptive}
		payload, err := spec.Encode()
		if err != nil {
			b.Fatal(err)
		}
		j, _, err := q.Enqueue(ctx, &queue.Job{Priority: queue.PriorityReview, Payload: payload, Turns: turns,
			Positions: spec.PlannedVisits(len(turns))})
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, j.ID)
	}
	evs := make([][]queue.Event, len(ids))
	for i, id := range ids {
		evs[i] = waitDone(b, q, id)
	}
	took = time.Since(start)
	for i, id := range ids {
		res, err := q.Results(ctx, id)
		if err != nil {
			b.Fatal(err)
		}
		var turns []game.Turn
		for _, data := range res {
			var t game.Turn
			if err := json.Unmarshal(data, &t); err != nil {
				b.Fatal(err)
			}
			turns = append(turns, t)
			spent += int64(t.Spent())
		}
		slices.SortFunc(turns, func(x, y game.Turn) int { return x.Turn - y.Turn })
		got = append(got, turns)
		if adaptive {
			quick = append(quick, firstResults(b, evs[i]))
		}
	}
	return got, quick, spent, took
}

// waitDone returns the job's events once it is done.
func waitDone(b *testing.B, q queue.Queue, id string) []queue.Event {
	b.Helper()
	var evs []queue.Event
	after := ""
	for {
		more, err := q.Events(context.Background(), id, after, 0, time.Minute)
		if err != nil {
			b.Fatal(err)
		}
		for _, e := range more {
			evs = append(evs, e)
			after = e.ID
			switch e.Type {
			case queue.EventDone:
				return evs
			case queue.EventFailed, queue.EventCancelled:
				b.Fatalf("job %s ended %s: %s", id, e.Type, e.Data)
			}
		}
	}
}

// firstResults returns the first turn event of each turn: the adaptive review's quick pass.
func firstResults(b *testing.B, evs []queue.Event) []game.Turn {
	b.Helper()
	seen := make(map[int]bool)
	var out []game.Turn
	for _, e := range evs {
		if e.Type != queue.EventTurn {
			continue
		}
		var t game.Turn
		if err := json.Unmarshal(e.Data, &t); err != nil {
			b.Fatal(err)
		}
		if !seen[t.Turn] {
			seen[t.Turn] = true
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(x, y game.Turn) int { return x.Turn - y.Turn })
	return out
}

// recording is one game's results as testdata/adaptive holds them: what the selection and
// the agreement measure read: no principal variations, ownership or candidates but the
// first, and of rootInfo only the values and the spread.
type recording struct {
	Game  string      `json:"game"`
	Quick []game.Turn `json:"quick"`
	// A, B and Adaptive are the benchmark's reviews; a run of a quick pass alone lacks them.
	A        []game.Turn `json:"a,omitempty"`
	B        []game.Turn `json:"b,omitempty"`
	Adaptive []game.Turn `json:"adaptive,omitempty"`
	// Even is the uniform review C at the adaptive review's cost; runs recorded before it
	// was made lack it.
	Even []game.Turn `json:"even,omitempty"`
}

func trim(turns []game.Turn) []game.Turn {
	out := slices.Clone(turns)
	for i := range out {
		out[i].Ownership = nil
		out[i].PointLoss, out[i].Mistake, out[i].BestMove = nil, "", ""
		c := slices.Clone(out[i].Candidates[:min(1, len(out[i].Candidates))])
		for k := range c {
			c[k] = katago.MoveInfo{Move: c[k].Move, Visits: c[k].Visits, Winrate: c[k].Winrate, ScoreLead: c[k].ScoreLead,
				Order: c[k].Order}
		}
		out[i].Candidates = c
		if r := out[i].Root; r != nil {
			out[i].Root = &katago.RootInfo{Winrate: r.Winrate, ScoreLead: r.ScoreLead, ScoreStdev: r.ScoreStdev, Visits: r.Visits}
		}
	}
	return out
}
