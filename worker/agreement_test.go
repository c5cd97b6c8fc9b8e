package worker

import (
	"slices"

	"github.com/tesuji/tesuji/game"
)

// agreement counts how a review x agrees with a reference review ref of the same game, as
// the adaptive benchmark measures it: recall is the share of ref's moves losing 3 points or
// more that x finds losing 2 or more; precision the share of x's moves losing 3 or more that
// lose 2 or more in ref. Counts add up over games.
type agreement struct {
	refMistakes, found int // recall = found / refMistakes
	xMistakes, right   int // precision = right / xMistakes
}

func (a agreement) recall() float64    { return ratio(a.found, a.refMistakes) }
func (a agreement) precision() float64 { return ratio(a.right, a.xMistakes) }

func ratio(n, d int) float64 {
	if d == 0 {
		return 1
	}
	return float64(n) / float64(d)
}

// mean averages agreements, one per pairing of reviews: their recall and precision.
type mean struct {
	recallSum, precisionSum float64
	n                       int
}

func (m *mean) add(a agreement) {
	m.recallSum += a.recall()
	m.precisionSum += a.precision()
	m.n++
}

func (m mean) recall() float64    { return m.recallSum / float64(m.n) }
func (m mean) precision() float64 { return m.precisionSum / float64(m.n) }
func (m mean) f1() float64        { return 2 * m.recall() * m.precision() / (m.recall() + m.precision()) }

// plus adds o's counts to a's.
func (a *agreement) plus(o agreement) {
	a.refMistakes += o.refMistakes
	a.found += o.found
	a.xMistakes += o.xMistakes
	a.right += o.right
}

func (a *agreement) add(g *game.Game, ref, x []game.Turn) {
	a.addLosses(losses(g, ref), losses(g, x))
}

// addLosses is add for the point losses of the two reviews, as losses gives them.
func (a *agreement) addLosses(rl, xl map[int]float64) {
	for m, r := range rl {
		v, ok := xl[m]
		if !ok {
			continue
		}
		if r >= 3 {
			a.refMistakes++
			if v >= 2 {
				a.found++
			}
		}
		if v >= 3 {
			a.xMistakes++
			if r >= 2 {
				a.right++
			}
		}
	}
}

// losses maps each move of the game whose loss the turns tell to its point loss.
func losses(g *game.Game, turns []game.Turn) map[int]float64 {
	rev := slices.Clone(turns)
	game.Review(g, rev)
	out := make(map[int]float64)
	for _, t := range rev {
		if t.PointLoss != nil {
			out[t.Turn] = *t.PointLoss
		}
	}
	return out
}
