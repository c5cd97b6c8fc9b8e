package game

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/tesuji/tesuji/katago"
)

// Mistake classes of a move, by the points it lost (PointLoss). Thresholds lists them with
// their bounds; it is the only place the bounds live.
const (
	ClassBlunder    = "blunder"    // lost 12 points or more
	ClassMistake    = "mistake"    // lost 6 to 12 points
	ClassInaccuracy = "inaccuracy" // lost 3 to 6 points
	ClassDubious    = "dubious"    // lost 1.5 to 3 points
	ClassMinor      = "minor"      // lost 0.5 to 1.5 points
	ClassGood       = "good"       // lost less than 0.5 points, or gained on KataGo's estimate
)

// Threshold is one mistake class and the least point loss that puts a move in it.
type Threshold struct {
	Class   string
	MinLoss float64
}

// Thresholds are the mistake classes from the worst, as KaTrain draws them (12, 6, 3, 1.5
// and 0.5 points). The last one catches everything else, negative losses included.
var Thresholds = []Threshold{
	{ClassBlunder, 12},
	{ClassMistake, 6},
	{ClassInaccuracy, 3},
	{ClassDubious, 1.5},
	{ClassMinor, 0.5},
	{ClassGood, -1e308},
}

// Classify returns the mistake class of a move that lost the given points, rounded to the
// tenth of a point that reviews show: a loss shown as 6.0 is a mistake, whatever the
// hundredths said.
func Classify(pointLoss float64) string {
	pointLoss = math.Round(pointLoss*10) / 10
	for _, t := range Thresholds {
		if pointLoss >= t.MinLoss {
			return t.Class
		}
	}
	return ClassGood // NaN
}

// Turn is KataGo's analysis of one position of a game, as workers store it and the API
// serves it. Every value is from Black's point of view except PointLoss, which is from the
// side of the player who made Move.
//
// PointLoss follows KaTrain: the score lead before Move minus the score lead after it, from
// the mover's side. It is negative when the move did better than KataGo expected at turn-1
// (a search with few visits can be surprised); it is stored as it is, never clamped, and its
// class is ClassGood.
type Turn struct {
	Turn       int               `json:"turn"`                // the position after this many moves (KataGo's turnNumber)
	Player     string            `json:"player"`              // "B" or "W": the side to move at this position
	Move       string            `json:"move,omitempty"`      // GTP coordinate of the move that led here ("pass"); empty at turn 0
	Winrate    float64           `json:"winrate"`             // 0..1, Black's point of view
	ScoreLead  float64           `json:"scoreLead"`           // points, Black's point of view
	Visits     int               `json:"visits"`              // visits of the search
	Candidates []katago.MoveInfo `json:"candidates"`          // KataGo's moveInfos for this position, Black's view, in order
	Ownership  []float64         `json:"ownership,omitempty"` // Black's view, as KataGo lays it out
	// OwnershipStdev, Policy and HumanPolicy are KataGo's arrays of those names, present
	// when the request asked for them (includeOwnershipStdev, includePolicy).
	OwnershipStdev []float64 `json:"ownershipStdev,omitempty"`
	Policy         []float64 `json:"policy,omitempty"`
	HumanPolicy    []float64 `json:"humanPolicy,omitempty"`
	// Root is KataGo's rootInfo as it wrote it (Black's view), with the raw network
	// values; nil in results stored before it was kept.
	Root *katago.RootInfo `json:"rootInfo,omitempty"`
	// Interrupted marks the result of an open-ended search that the server ended (a worker
	// shutting down) rather than its client: a client that still wants it asks again.
	Interrupted bool     `json:"interrupted,omitempty"`
	PointLoss   *float64 `json:"pointLoss,omitempty"` // of Move, from the mover's side; set once turn-1 is known
	Mistake     string   `json:"mistake,omitempty"`   // class of Move by point loss
	BestMove    string   `json:"bestMove,omitempty"`  // KataGo's top move at turn-1, the alternative to Move

	// VisitsSpent is the visits of every search made for this turn: Visits, plus the quick
	// search an adaptive review made before it searched the turn again. 0 in results stored
	// before it was recorded, which spent Visits.
	VisitsSpent int `json:"visitsSpent,omitempty"`
}

// Spent returns the visits of every search made for the turn: VisitsSpent, or Visits for a
// result stored before VisitsSpent was recorded.
func (t *Turn) Spent() int {
	if t.VisitsSpent > 0 {
		return t.VisitsSpent
	}
	return t.Visits
}

// Deepened reports whether an adaptive review searched the turn again after its quick
// search: it spent more than its final search's visits.
func (t *Turn) Deepened() bool { return t.Spent() > t.Visits }

// NewTurn reads KataGo's final response for one turn of the game. It expects the engine to
// report from Black's point of view (reportAnalysisWinratesAs = BLACK).
func NewTurn(g *Game, r *katago.Response) (Turn, error) {
	if r == nil {
		return Turn{}, errors.New("game: no response")
	}
	if r.Error != "" {
		return Turn{}, fmt.Errorf("game: katago answered an error: %s", r.Error)
	}
	if r.TurnNumber == nil {
		return Turn{}, errors.New("game: the response has no turnNumber")
	}
	t := *r.TurnNumber
	if t < 0 || t > len(g.Moves) {
		return Turn{}, fmt.Errorf("game: turn %d is not a turn of a %d-move game", t, len(g.Moves))
	}
	if r.RootInfo == nil {
		return Turn{}, fmt.Errorf("game: the response for turn %d has no rootInfo", t)
	}
	turn := Turn{
		Turn:       t,
		Player:     r.RootInfo.CurrentPlayer,
		Winrate:    r.RootInfo.Winrate,
		ScoreLead:  r.RootInfo.ScoreLead,
		Visits:     r.RootInfo.Visits,
		Candidates: slices.Clone(r.MoveInfos),
		Ownership:  r.Ownership,

		OwnershipStdev: r.OwnershipStdev,
		Policy:         r.Policy,
		HumanPolicy:    r.HumanPolicy,
		Root:           r.RootInfo,
	}
	if turn.Candidates == nil {
		turn.Candidates = []katago.MoveInfo{}
	}
	slices.SortStableFunc(turn.Candidates, func(a, b katago.MoveInfo) int { return a.Order - b.Order })
	if turn.Player == "" {
		turn.Player = g.ToMove(t).String()
	}
	if t > 0 {
		turn.Move = g.Moves[t-1].GTP(g.BoardYSize)
	}
	return turn, nil
}

// pointLoss returns the loss of move `after.Turn` from the mover's side.
func pointLoss(g *Game, before, after *Turn) float64 {
	d := before.ScoreLead - after.ScoreLead
	if g.Moves[after.Turn-1].Color == White {
		d = -d
	}
	return d
}

// indexTurns maps each turn number of the game to its first entry in turns (-1: absent).
func indexTurns(g *Game, turns []Turn) []int {
	idx := make([]int, len(g.Moves)+1)
	for i := range idx {
		idx[i] = -1
	}
	for i := range turns {
		if t := turns[i].Turn; t >= 0 && t < len(idx) && idx[t] < 0 {
			idx[t] = i
		}
	}
	return idx
}

// Review fills PointLoss, Mistake and BestMove of every turn whose previous turn is in
// turns too. turns may be in any order and any subset of the game's turns (as they arrive
// from KataGo); call it again as more arrive.
func Review(g *Game, turns []Turn) {
	idx := indexTurns(g, turns)
	for t := 1; t < len(idx); t++ {
		if idx[t] < 0 || idx[t-1] < 0 {
			continue
		}
		after, before := &turns[idx[t]], &turns[idx[t-1]]
		loss := pointLoss(g, before, after)
		after.PointLoss = &loss
		after.Mistake = Classify(loss)
		after.BestMove = ""
		if len(before.Candidates) > 0 {
			after.BestMove = before.Candidates[0].Move
		}
	}
}

// Summary is the per-player review of a game.
type Summary struct {
	Black PlayerSummary `json:"black"`
	White PlayerSummary `json:"white"`
}

// PlayerSummary reviews one player's moves, counting the moves whose point loss is known
// (the turns before and after them were analyzed).
type PlayerSummary struct {
	Name  string `json:"name,omitempty"`
	Moves int    `json:"moves"`
	// Classes counts the moves in each mistake class; every class is present.
	Classes map[string]int `json:"classes"`
	// AvgPointLoss is the mean point loss, counting a negative loss as 0 as KaTrain's
	// game report does (a move cannot gain on perfect play; a negative loss is KataGo's
	// search being surprised, and averaging it in would hide real losses).
	AvgPointLoss float64 `json:"avgPointLoss"`
	// TopMoves counts the moves that were KataGo's top move, over the moves whose previous
	// position had candidates; TopMoveAgreement is that share (0..1).
	TopMoves         int     `json:"topMoves"`
	TopMoveAgreement float64 `json:"topMoveAgreement"`
}

// Summarize reviews each player's moves from the analyzed turns (in any order; they need
// not have gone through Review).
func Summarize(g *Game, turns []Turn) Summary {
	s := Summary{
		Black: PlayerSummary{Name: g.BlackName, Classes: map[string]int{}},
		White: PlayerSummary{Name: g.WhiteName, Classes: map[string]int{}},
	}
	for _, t := range Thresholds {
		s.Black.Classes[t.Class] = 0
		s.White.Classes[t.Class] = 0
	}
	var lossSum [2]float64
	var withCands [2]int
	idx := indexTurns(g, turns)
	for t := 1; t < len(idx); t++ {
		if idx[t] < 0 || idx[t-1] < 0 {
			continue
		}
		after, before := &turns[idx[t]], &turns[idx[t-1]]
		ps, k := &s.Black, 0
		if g.Moves[t-1].Color == White {
			ps, k = &s.White, 1
		}
		loss := pointLoss(g, before, after)
		ps.Moves++
		ps.Classes[Classify(loss)]++
		lossSum[k] += max(0, loss)
		if len(before.Candidates) > 0 {
			withCands[k]++
			if before.Candidates[0].Move == g.Moves[t-1].GTP(g.BoardYSize) {
				ps.TopMoves++
			}
		}
	}
	for k, ps := range []*PlayerSummary{&s.Black, &s.White} {
		if ps.Moves > 0 {
			ps.AvgPointLoss = lossSum[k] / float64(ps.Moves)
		}
		if withCands[k] > 0 {
			ps.TopMoveAgreement = float64(ps.TopMoves) / float64(withCands[k])
		}
	}
	return s
}
