package worker

import (
	"cmp"
	"math"
	"slices"

	"github.com/tesuji/tesuji/analysis"
	"github.com/tesuji/tesuji/game"
)

// swingFloor: a move whose quick results move Black's winrate this much decided something,
// whatever its point loss, and is searched again before any other.
const swingFloor = 0.10

// selectDeep picks, from the quick results of a game's turns (any order, any subset), the
// turns an adaptive review at maxVisits searches again, within analysis.DeepBudget. It
// deepens moves, both positions of each, so that a deepened move's point loss is the
// difference of two deep searches: first the moves that swing the winrate, then the rest
// by the spread of final scores their quick searches saw (rootInfo's scoreStdev, summed
// over the two positions), widest first.
//
// The spread is where a quick search errs: it is wide while groups are unsettled, in
// fights, races and the endgame of a close game, and there a search of a few visits is
// furthest from a deep one. On the recorded real-KataGo reviews of testdata/adaptive it
// found more of the deep review's mistakes than ranking by the quick point loss (near a
// class bound, or large), by the closeness of the top candidates or by the game's phase:
// a quick loss near zero says nothing of a mistake the quick search missed, and most
// missed mistakes look like that.
//
// Turns already searched deeply (those of a job resumed after a crash) are chosen first
// and count against the budget: their deep results rank differently from the quick ones
// they replaced, and a review resumed in its deep pass must not deepen more turns than
// one that ran through.
func selectDeep(g *game.Game, turns []game.Turn, maxVisits int) []int {
	rev := slices.Clone(turns)
	game.Review(g, rev)
	byTurn := make(map[int]*game.Turn, len(rev))
	for i := range rev {
		byTurn[rev[i].Turn] = &rev[i]
	}
	type move struct {
		after  int
		swing  bool
		spread float64
	}
	var moves []move
	for i := range rev {
		after := &rev[i]
		before := byTurn[after.Turn-1]
		if after.PointLoss == nil || before == nil {
			continue
		}
		m := move{after: after.Turn, swing: math.Abs(after.Winrate-before.Winrate) >= swingFloor,
			spread: spread(before) + spread(after)}
		if m.swing || m.spread > 0 {
			moves = append(moves, m)
		}
	}
	slices.SortFunc(moves, func(a, b move) int {
		if a.swing != b.swing {
			if a.swing {
				return -1
			}
			return 1
		}
		if c := cmp.Compare(b.spread, a.spread); c != 0 {
			return c
		}
		return a.after - b.after
	})
	budget := analysis.DeepBudget(len(turns), maxVisits)
	chosen := make(map[int]bool, budget)
	for i := range turns {
		if turns[i].Deepened() && len(chosen) < budget {
			chosen[turns[i].Turn] = true
		}
	}
	for _, m := range moves {
		for _, n := range []int{m.after - 1, m.after} {
			if len(chosen) < budget {
				chosen[n] = true
			}
		}
	}
	out := make([]int, 0, len(chosen))
	for n := range chosen {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// spread is the quick search's score spread at a turn (KataGo's scoreStdev), 0 when the
// result does not tell it.
func spread(t *game.Turn) float64 {
	if t.Root == nil || t.Root.ScoreStdev == nil {
		return 0
	}
	return *t.Root.ScoreStdev
}
