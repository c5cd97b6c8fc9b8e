package worker

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/tesuji/tesuji/analysis"
	"github.com/tesuji/tesuji/game"
	"github.com/tesuji/tesuji/queue"
)

// analyzeAdaptive runs an adaptive review: one query for the turns still missing at the
// quick visits, each result stored as it arrives, then one query at MaxVisits for the turns
// selectDeep picks from all stored results that were not searched deeply yet, each result
// replacing the quick one. A job resumed after a crash therefore finishes the quick pass,
// selects from what is stored, the turns it deepened before counting against the budget,
// and deepens only what is still shallow.
func (w *Worker) analyzeAdaptive(ctx context.Context, job *queue.Job, lease *queue.Lease, eng Analyzer,
	spec *analysis.Spec, done map[int][]byte) (stored int, err error) {
	turns := make(map[int]game.Turn, len(job.Turns))
	for n, data := range done {
		var t game.Turn
		if err := json.Unmarshal(data, &t); err != nil {
			return 0, permanent(fmt.Errorf("worker: stored turn %d: %w", n, err))
		}
		turns[n] = t
	}
	if missing := missingTurns(job.Turns, done); len(missing) > 0 {
		err := w.search(ctx, job, lease, eng, spec, missing, analysis.QuickVisits(spec.MaxVisits), nil, nil, func(t *game.Turn, data []byte) error {
			ok, err := w.store(ctx, lease, t.Turn, data, int64(t.Visits))
			if ok {
				stored++
				turns[t.Turn] = *t
			}
			return err
		})
		if err != nil {
			return stored, err
		}
	}

	all := make([]game.Turn, 0, len(turns))
	for _, t := range turns {
		all = append(all, t)
	}
	slices.SortFunc(all, func(a, b game.Turn) int { return a.Turn - b.Turn })
	var deep []int
	spent := make(map[int]int)
	for _, n := range selectDeep(spec.Game, all, spec.MaxVisits) {
		if t := turns[n]; !t.Deepened() {
			deep = append(deep, n)
			spent[n] = t.Spent()
		}
	}
	if len(deep) == 0 {
		return stored, nil
	}
	return stored, w.search(ctx, job, lease, eng, spec, deep, spec.MaxVisits, spent, nil, func(t *game.Turn, data []byte) error {
		if err := w.q.ReplaceResult(ctx, lease, t.Turn, data); err != nil {
			return err
		}
		w.work.Add(int64(t.Visits))
		return nil
	})
}
