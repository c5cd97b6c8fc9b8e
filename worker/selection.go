package worker

import (
	"math"
	"slices"

	"github.com/tesuji/tesuji/analysis"
	"github.com/tesuji/tesuji/game"
)

// What makes a move worth a deeper look after the quick pass. A move's point loss is the
// difference of two searches, the positions before and after it, so both are searched
// again, and with them the position before the previous move: on real games mistakes come in
// runs (a blunder, then a failure to punish it).
const (
	// lossFloor: a quick loss from here up may be an inaccuracy (3 points, the class that
	// starts the mistakes a review shows) at full depth, or may vanish there. A quick gain
	// as large counts too: no move gains on perfect play, so the quick search misjudged one
	// of the two positions.
	lossFloor = 1.0
	// swingFloor: a move that moves Black's winrate this much decided something, whatever
	// its point loss (a close endgame turns on a point).
	swingFloor = 0.10
	// closeLead: KataGo's top two candidates before the move within this many points, and
	// the move not the first: the quick search cannot tell the best move, so neither the
	// move's loss.
	closeLead = 0.5
	// window: the turns searched again for a move m are m-1-window to m.
	window = 1
)

// selectDeep picks, from the quick results of a game's turns (any order, any subset), the
// turns an adaptive review searches again: the window of turns around each move that
// matters (window), the most important first, within analysis.DeepBudget(len(turns)). It returns
// them in turn order.
//
// A move matters, in this order, when its quick point loss is large, either way (the larger
// the more: a blunder must be confirmed, a 1-point loss may be an inaccuracy at depth), when
// it swings the winrate, or when KataGo's top candidates before it were too close to tell
// apart and the player chose another.
func selectDeep(g *game.Game, turns []game.Turn) []int {
	rev := slices.Clone(turns)
	game.Review(g, rev)
	byTurn := make(map[int]*game.Turn, len(rev))
	for i := range rev {
		byTurn[rev[i].Turn] = &rev[i]
	}
	type pick struct {
		move  int
		score float64
	}
	var picks []pick
	for i := range rev {
		after := &rev[i]
		before := byTurn[after.Turn-1]
		if after.PointLoss == nil || before == nil {
			continue
		}
		if s := moveScore(*after.PointLoss, before, after); s > 0 {
			picks = append(picks, pick{after.Turn, s})
		}
	}
	slices.SortStableFunc(picks, func(a, b pick) int {
		if a.score != b.score {
			if a.score > b.score {
				return -1
			}
			return 1
		}
		return a.move - b.move
	})
	budget := analysis.DeepBudget(len(turns))
	chosen := make(map[int]bool)
	for _, p := range picks {
		var add []int
		for n := p.move - 1 - window; n <= p.move; n++ {
			if byTurn[n] != nil && !chosen[n] {
				add = append(add, n)
			}
		}
		if len(chosen)+len(add) > budget {
			continue
		}
		for _, n := range add {
			chosen[n] = true
		}
	}
	out := make([]int, 0, len(chosen))
	for n := range chosen {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// moveScore ranks a move for a deeper search; 0 means it needs none.
func moveScore(loss float64, before, after *game.Turn) float64 {
	score := 0.0
	if loss = math.Abs(loss); loss >= lossFloor {
		score = 2 + min(loss, 12)/3
	}
	if swing := math.Abs(after.Winrate - before.Winrate); swing >= swingFloor {
		score = max(score, 1.5+swing*4)
	}
	if c := before.Candidates; len(c) >= 2 && c[0].Move != after.Move && math.Abs(c[0].ScoreLead-c[1].ScoreLead) < closeLead {
		score = max(score, 1)
	}
	return score
}
