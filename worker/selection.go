package worker

import (
	"cmp"
	"maps"
	"slices"

	"github.com/tesuji/tesuji/analysis"
	"github.com/tesuji/tesuji/game"
)

// selectDeep picks, from the quick results of a game's turns (any order, any subset), the
// turns an adaptive review at maxVisits searches again, within analysis.DeepBudget. It
// deepens moves, both positions of each, so that a deepened move's point loss is the
// difference of two deep searches, in the order of deepRank: first the moves the quick
// pass finds dubious, losing 1.25 to 2 points; then the moves it calls inaccuracies or
// worse although they were its own first choice; then the moves that lose less than a
// point, where the quick searches saw the widest spread of final scores (rootInfo's
// scoreStdev, summed over the two positions; none when the results do not tell it).
// Within a rank, the widest spread comes first. The other moves keep their quick results.
//
// The ranks are what the recorded real-KataGo reviews of testdata/adaptive taught, where
// each quick pass was compared with many uniform reviews at the full visits. A quick
// search errs most often just below the bound of an inaccuracy (3 points): a loss of 1.25
// to 2 points hides most of the mistakes a deep search finds that the quick one missed. A
// quick inaccuracy is most often false when the played move was the quick search's own
// first choice: its values contradict its choice. Among the moves that look fine, the
// mistakes it missed are where the position is unsettled, in fights and races, which the
// spread tells. The rest gained least: a loss of 2 to 3 points is within a point of the
// bound whichever way a deep search moves it, and deepening an inaccuracy the quick search
// did not expect cleared a false one about as often as it dropped a real one below 2
// points (a deep search is itself noisy).
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
		rank   int
		spread float64
	}
	var moves []move
	for i := range rev {
		after := &rev[i]
		before := byTurn[after.Turn-1]
		if after.PointLoss == nil || before == nil {
			continue
		}
		first := after.BestMove == after.Move // Review's BestMove: the quick search's first choice
		m := move{after: after.Turn, rank: deepRank(*after.PointLoss, first), spread: spread(before) + spread(after)}
		if m.rank > 1 || m.rank == 1 && m.spread > 0 {
			moves = append(moves, m)
		}
	}
	slices.SortFunc(moves, func(a, b move) int {
		if a.rank != b.rank {
			return b.rank - a.rank
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
	order := make([]int, len(moves))
	for i, m := range moves {
		order[i] = m.after
	}
	return deepenMoves(order, chosen, budget)
}

// deepenMoves adds to chosen both positions of each move in order (numbered by the turn
// after it) while the budget of positions allows, and returns the chosen turns in order. A
// move is deepened whole or not at all: one that needs two positions when one is left is
// passed over for a later one that needs only one.
func deepenMoves(order []int, chosen map[int]bool, budget int) []int {
	for _, m := range order {
		if len(chosen) >= budget {
			break
		}
		need := 0
		for _, n := range []int{m - 1, m} {
			if !chosen[n] {
				need++
			}
		}
		if len(chosen)+need <= budget {
			chosen[m-1], chosen[m] = true, true
		}
	}
	out := slices.AppendSeq(make([]int, 0, len(chosen)), maps.Keys(chosen))
	slices.Sort(out)
	return out
}

// deepRank ranks a move for deepening from its quick point loss and whether it was the
// quick search's first choice: the higher the rank, the sooner it is deepened; 0: never.
func deepRank(loss float64, first bool) int {
	switch {
	case loss >= 1.25 && loss < 2:
		return 3
	case loss >= 3 && first:
		return 2
	case loss < 1:
		return 1
	}
	return 0
}

// spread is the quick search's score spread at a turn (KataGo's scoreStdev), 0 when the
// result does not tell it.
func spread(t *game.Turn) float64 {
	if t.Root == nil || t.Root.ScoreStdev == nil {
		return 0
	}
	return *t.Root.ScoreStdev
}
