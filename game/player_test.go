package game

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/tesuji/tesuji/katago"
)

func TestPhaseOf(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		size, move int
		want       string
	}{
		{19, 1, PhaseOpening}, {19, 40, PhaseOpening}, {19, 41, PhaseMiddle}, {19, 180, PhaseMiddle}, {19, 181, PhaseEndgame},
		{13, 19, PhaseOpening}, {13, 20, PhaseMiddle}, {13, 84, PhaseMiddle}, {13, 85, PhaseEndgame},
		{9, 9, PhaseOpening}, {9, 10, PhaseMiddle}, {9, 40, PhaseMiddle}, {9, 41, PhaseEndgame},
	} {
		if got := PhaseOf(c.size, c.size, c.move); got != c.want {
			t.Errorf("PhaseOf(%d, %d, %d) = %s, want %s", c.size, c.size, c.move, got, c.want)
		}
	}
}

func TestAccuracy(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ loss, want float64 }{{0, 100}, {1, 75}, {2, 56.25}, {-3, 100}} {
		if got := Accuracy(c.loss); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("Accuracy(%v) = %v, want %v", c.loss, got, c.want)
		}
	}
}

// TestPlayerMoves: point losses from the mover's side, the position's weight from its
// candidates, and the figures of a tally, on a hand-made review of a 9x9 game.
func TestPlayerMoves(t *testing.T) {
	t.Parallel()
	mv := func(c Color, s string) Move {
		p, _, err := ParseGTP(s, 9, 9)
		if err != nil {
			t.Fatal(err)
		}
		return Move{Color: c, Point: p}
	}
	g := NewGame(9, 9, "chinese", 7, mv(Black, "E5"), mv(White, "C3"), mv(Black, "G7"), mv(White, "C7"), mv(Black, "G3"))
	cand := func(move string, lead, prior float64) katago.MoveInfo {
		return katago.MoveInfo{Move: move, ScoreLead: lead, Prior: prior}
	}
	// Score leads from Black's side after each move: B loses 1, W loses 4, B loses 13,
	// W gains 1 (a negative loss), B's last move has no analysis after it.
	turns := []Turn{
		{Turn: 0, ScoreLead: 0, Candidates: []katago.MoveInfo{cand("E5", 0, 0.5), cand("D4", -2, 0.5)}},
		{Turn: 1, ScoreLead: -1, Candidates: []katago.MoveInfo{cand("C3", -1, 1)}},
		{Turn: 2, ScoreLead: 3},
		{Turn: 3, ScoreLead: -10, Candidates: []katago.MoveInfo{cand("D3", -10, 0.2), cand("C7", -30, 0.8)}},
		{Turn: 4, ScoreLead: -11},
	}
	black := PlayerMoves(g, turns, Black)
	want := []MoveLoss{
		// complexity: (0.5*0 + 0.5*2) / 1 = 1; loss 1.
		{Turn: 1, Move: "E5", BestMove: "E5", PointLoss: 1, Mistake: ClassMinor, Phase: PhaseOpening, Weight: 1},
		// no candidates at turn 2: weight 1; loss 13.
		{Turn: 3, Move: "G7", PointLoss: 13, Mistake: ClassBlunder, Phase: PhaseOpening, Weight: 1},
	}
	if diff := cmp.Diff(want, black); diff != "" {
		t.Errorf("black's moves (-want +got):\n%s", diff)
	}
	white := PlayerMoves(g, turns, White)
	want = []MoveLoss{
		// one candidate, no loss among them: complexity 0, a quarter of 4 is 1.
		{Turn: 2, Move: "C3", BestMove: "C3", PointLoss: 4, Mistake: ClassInaccuracy, Phase: PhaseOpening, Weight: 1},
		// White's view: the second candidate is 20 points better for White, not worse:
		// complexity 0, and the move gained: weight 0.05.
		{Turn: 4, Move: "C7", BestMove: "D3", PointLoss: -1, Mistake: ClassGood, Phase: PhaseOpening, Weight: 0.05},
	}
	if diff := cmp.Diff(want, white, cmpopts.EquateApprox(0, 1e-12)); diff != "" {
		t.Errorf("white's moves (-want +got):\n%s", diff)
	}

	var tally Tally
	for _, m := range white {
		tally.Add(m)
	}
	got := tally.Figures()
	wantFig := Figures{
		Moves: 2,
		// (1*4 + 0.05*0) / 1.05
		Accuracy:     Accuracy(4 / 1.05),
		AvgPointLoss: 2,
		Classes:      map[string]int{ClassBlunder: 0, ClassMistake: 0, ClassInaccuracy: 1, ClassDubious: 0, ClassMinor: 0, ClassGood: 1},
		PerHundred:   map[string]float64{ClassBlunder: 0, ClassMistake: 0, ClassInaccuracy: 50, ClassDubious: 0, ClassMinor: 0, ClassGood: 50},
	}
	if diff := cmp.Diff(wantFig, got, cmpopts.EquateApprox(0, 1e-9)); diff != "" {
		t.Errorf("white's figures (-want +got):\n%s", diff)
	}
	phases := tally.PhaseFigures()
	if len(phases) != 3 || phases[0].Phase != PhaseOpening || phases[0].Moves != 2 || phases[1].Moves != 0 || phases[2].Moves != 0 {
		t.Errorf("phases: %+v", phases)
	}
	if phases[1].Accuracy != 0 || phases[1].Classes[ClassGood] != 0 {
		t.Errorf("an empty phase: %+v", phases[1])
	}
}
