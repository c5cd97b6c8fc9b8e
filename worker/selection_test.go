package worker

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tesuji/tesuji/engine"
	"github.com/tesuji/tesuji/game"
)

// quietGame is a 20-move game and quick results for its 21 turns in which nothing
// happens: every move is KataGo's first choice, loses nothing and keeps the winrate, and
// the second choice is 3 points worse.
func quietGame(t *testing.T) (*game.Game, []game.Turn) {
	t.Helper()
	coords := []string{"pd", "dp", "pq", "dd", "fq", "cn", "jp", "qo", "qm", "pm", "pl", "om", "ql", "mq", "op", "oq", "nq", "np", "pp", "mp"}
	sgf := "(;SZ[19]KM[7.5]RU[Chinese]"
	for i, c := range coords {
		sgf += ";" + map[bool]string{true: "B", false: "W"}[i%2 == 0] + "[" + c + "]"
	}
	rec, err := game.ParseSGF([]byte(sgf+")"), game.ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	g := rec.Game
	turns := make([]game.Turn, len(g.Moves)+1)
	for i := range turns {
		turns[i] = game.Turn{Turn: i, Winrate: 0.5, ScoreLead: 0.5, Visits: 25}
		if i > 0 {
			turns[i].Move = g.Moves[i-1].GTP(g.BoardYSize)
		}
		if i < len(g.Moves) {
			next := g.Moves[i].GTP(g.BoardYSize)
			sign := 1.0 // the second choice is worse for the side to move
			if g.ToMove(i) == game.White {
				sign = -1
			}
			turns[i].Candidates = []engine.MoveInfo{
				{Move: next, ScoreLead: 0.5, Winrate: 0.5, Order: 0},
				{Move: "A1", ScoreLead: 0.5 - 3*sign, Winrate: 0.5, Order: 1},
			}
		}
	}
	return g, turns
}

// lose makes move m lose loss points for its mover, from then on.
func lose(g *game.Game, turns []game.Turn, m int, loss float64) {
	if g.Moves[m-1].Color == game.White {
		loss = -loss
	}
	for i := m; i < len(turns); i++ {
		turns[i].ScoreLead -= loss
		for k := range turns[i].Candidates {
			turns[i].Candidates[k].ScoreLead -= loss
		}
	}
}

func TestSelectDeep(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(g *game.Game, turns []game.Turn)
		want   []int
	}{
		{"quiet game", func(*game.Game, []game.Turn) {}, []int{}},
		{"a blunder", func(g *game.Game, turns []game.Turn) { lose(g, turns, 9, 14) }, []int{8, 9}},
		{"a loss near the inaccuracy bound", func(g *game.Game, turns []game.Turn) { lose(g, turns, 4, 2.5) }, []int{3, 4}},
		{"a small loss", func(g *game.Game, turns []game.Turn) { lose(g, turns, 4, 0.4) }, []int{}},
		{"a gain", func(g *game.Game, turns []game.Turn) { lose(g, turns, 4, -5) }, []int{}},
		{"a winrate swing", func(g *game.Game, turns []game.Turn) {
			for i := 12; i < len(turns); i++ {
				turns[i].Winrate = 0.2
			}
		}, []int{11, 12}},
		{"close candidates, another move played", func(g *game.Game, turns []game.Turn) {
			turns[6].Candidates[1].ScoreLead = turns[6].Candidates[0].ScoreLead + 0.1
			turns[6].Candidates[0].Move, turns[6].Candidates[1].Move = "A1", turns[6].Candidates[0].Move
		}, []int{6, 7}},
		{"close candidates, the first played", func(g *game.Game, turns []game.Turn) {
			turns[6].Candidates[1].ScoreLead = turns[6].Candidates[0].ScoreLead + 0.1
		}, []int{}},
		{"the budget keeps the largest losses", func(g *game.Game, turns []game.Turn) {
			// 21 turns: 5 searched again. Moves 3, 5, 12 and 17 lose; the two largest
			// losses take 4 turns, and the next pair that fits is none (each needs 2).
			lose(g, turns, 3, 2)
			lose(g, turns, 5, 20)
			lose(g, turns, 12, 1.5)
			lose(g, turns, 17, 7)
		}, []int{4, 5, 16, 17}},
		{"adjacent moves share a turn", func(g *game.Game, turns []game.Turn) {
			lose(g, turns, 5, 20)
			lose(g, turns, 6, 10)
			lose(g, turns, 12, 2)
		}, []int{4, 5, 6, 11, 12}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g, turns := quietGame(t)
			tt.change(g, turns)
			got := selectDeep(g, turns)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("selectDeep (-want +got):\n%s", diff)
			}
			if len(got) > deepBudget(len(turns)) {
				t.Errorf("%d turns selected, over the budget of %d", len(got), deepBudget(len(turns)))
			}
		})
	}
}
