package game

import "math"

// Phases of a game, by move number scaled to the board: the opening is the first ninth of
// the board's points in moves (40 moves on 19x19, 19 on 13x13, 9 on 9x9), the endgame
// starts after half of them (move 181 on 19x19, 85 on 13x13, 41 on 9x9), and the middle
// game lies between.
const (
	PhaseOpening = "opening"
	PhaseMiddle  = "middle"
	PhaseEndgame = "endgame"
)

// Phases lists the phases in the order of a game.
var Phases = []string{PhaseOpening, PhaseMiddle, PhaseEndgame}

// PhaseOf returns the phase of move number move (1 for the first move) on an x by y board.
func PhaseOf(x, y, move int) string {
	area := x * y
	switch {
	case move <= (area+4)/9:
		return PhaseOpening
	case move <= area/2:
		return PhaseMiddle
	}
	return PhaseEndgame
}

// Accuracy maps a weighted mean point loss to a figure from 0 to 100 as KaTrain's game
// report does: 100 * 0.75^loss. A game without a lost point scores 100; each point lost
// per move on average takes a quarter of what is left.
func Accuracy(weightedLoss float64) float64 {
	return 100 * math.Pow(0.75, max(0, weightedLoss))
}

// MoveLoss is one move of a player as the review judged it.
type MoveLoss struct {
	Turn      int     `json:"turn"` // the position after the move; its move number
	Move      string  `json:"move"` // GTP coordinate
	BestMove  string  `json:"bestMove,omitempty"`
	PointLoss float64 `json:"pointLoss"`
	Mistake   string  `json:"mistake"`
	Phase     string  `json:"phase"`
	// Weight is how much the move counts in the accuracy figure: the position's
	// complexity, as KaTrain weighs it (see moveWeight).
	Weight float64 `json:"-"`
}

// PlayerMoves returns the moves of color c whose point loss the analyzed turns give (the
// turns before and after them are present), in game order. turns may be in any order.
func PlayerMoves(g *Game, turns []Turn, c Color) []MoveLoss {
	idx := indexTurns(g, turns)
	var out []MoveLoss
	for t := 1; t < len(idx); t++ {
		if idx[t] < 0 || idx[t-1] < 0 || g.Moves[t-1].Color != c {
			continue
		}
		before, after := &turns[idx[t-1]], &turns[idx[t]]
		loss := pointLoss(g, before, after)
		m := MoveLoss{Turn: t, Move: g.Moves[t-1].GTP(g.BoardYSize), PointLoss: loss, Mistake: Classify(loss),
			Phase: PhaseOf(g.BoardXSize, g.BoardYSize, t), Weight: moveWeight(before, c, loss)}
		if len(before.Candidates) > 0 {
			m.BestMove = before.Candidates[0].Move
		}
		out = append(out, m)
	}
	return out
}

// moveWeight follows KaTrain's game report: a move counts by the complexity of the position
// it was played in, the prior-weighted mean point loss of KataGo's candidates there, but at
// least a quarter of its own loss (a big mistake in a simple position still counts), and
// always between 0.05 and 1. A position without candidates counts fully.
func moveWeight(before *Turn, c Color, loss float64) float64 {
	if len(before.Candidates) == 0 {
		return 1
	}
	sign := 1.0
	if c == White {
		sign = -1
	}
	top := before.Candidates[0].ScoreLead
	var priors, weighted float64
	for _, cand := range before.Candidates {
		priors += cand.Prior
		weighted += cand.Prior * max(0, sign*(top-cand.ScoreLead))
	}
	complexity := 1.0
	if priors > 0 {
		complexity = weighted / priors
	}
	return min(1, max(0.05, complexity, max(0, loss)/4))
}

// Tally sums moves into the figures of a player's review; the zero value is empty.
type Tally struct {
	moves        int
	lossSum      float64
	weightedLoss float64
	weights      float64
	classes      map[string]int
	phaseTallies map[string]*Tally // by phase; nil in the tallies of a phase
}

// Add counts one move.
func (t *Tally) Add(m MoveLoss) {
	t.add(m)
	if t.phaseTallies == nil {
		t.phaseTallies = map[string]*Tally{}
	}
	p := t.phaseTallies[m.Phase]
	if p == nil {
		p = &Tally{}
		t.phaseTallies[m.Phase] = p
	}
	p.add(m)
}

func (t *Tally) add(m MoveLoss) {
	if t.classes == nil {
		t.classes = map[string]int{}
	}
	loss := max(0, m.PointLoss)
	t.moves++
	t.lossSum += loss
	t.weightedLoss += m.Weight * loss
	t.weights += m.Weight
	t.classes[m.Mistake]++
}

// Figures are a player's numbers over some moves. A negative point loss (KataGo's search
// surprised by a move) counts as 0 in every figure, as in the game summary.
type Figures struct {
	Moves int `json:"moves"`
	// Accuracy is Accuracy of the complexity-weighted mean point loss; 0 without moves.
	Accuracy     float64 `json:"accuracy"`
	AvgPointLoss float64 `json:"avgPointLoss"`
	// Classes counts the moves in each mistake class; PerHundred is the same per 100
	// moves. Every class is present in both.
	Classes    map[string]int     `json:"classes"`
	PerHundred map[string]float64 `json:"mistakesPer100"`
}

// PhaseFigures are the figures of one phase of the game.
type PhaseFigures struct {
	Phase string `json:"phase"`
	Figures
}

// Figures returns the numbers of the moves counted so far.
func (t *Tally) Figures() Figures {
	f := Figures{Moves: t.moves, Classes: map[string]int{}, PerHundred: map[string]float64{}}
	for _, th := range Thresholds {
		n := t.classes[th.Class]
		f.Classes[th.Class] = n
		f.PerHundred[th.Class] = 0
		if t.moves > 0 {
			f.PerHundred[th.Class] = 100 * float64(n) / float64(t.moves)
		}
	}
	if t.moves > 0 {
		f.AvgPointLoss = t.lossSum / float64(t.moves)
		f.Accuracy = Accuracy(t.weightedLoss / t.weights)
	}
	return f
}

// PhaseFigures returns the figures of each phase, in game order; every phase is present.
func (t *Tally) PhaseFigures() []PhaseFigures {
	out := make([]PhaseFigures, 0, len(Phases))
	for _, p := range Phases {
		pt := t.phaseTallies[p]
		if pt == nil {
			pt = &Tally{}
		}
		out = append(out, PhaseFigures{Phase: p, Figures: pt.Figures()})
	}
	return out
}
