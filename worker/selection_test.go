package worker

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tesuji/tesuji/analysis"
	"github.com/tesuji/tesuji/game"
	"github.com/tesuji/tesuji/katago"
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
			turns[i].Candidates = []katago.MoveInfo{
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
		{"a blunder", func(g *game.Game, turns []game.Turn) { lose(g, turns, 9, 14) }, []int{7, 8, 9}},
		{"a loss near the inaccuracy bound", func(g *game.Game, turns []game.Turn) { lose(g, turns, 4, 2.5) }, []int{2, 3, 4}},
		{"a small loss", func(g *game.Game, turns []game.Turn) { lose(g, turns, 4, 0.4) }, []int{}},
		{"a gain: the quick search misjudged", func(g *game.Game, turns []game.Turn) { lose(g, turns, 4, -5) }, []int{2, 3, 4}},
		{"a winrate swing", func(g *game.Game, turns []game.Turn) {
			for i := 12; i < len(turns); i++ {
				turns[i].Winrate = 0.2
			}
		}, []int{10, 11, 12}},
		{"close candidates, another move played", func(g *game.Game, turns []game.Turn) {
			turns[6].Candidates[1].ScoreLead = turns[6].Candidates[0].ScoreLead + 0.1
			turns[6].Candidates[0].Move, turns[6].Candidates[1].Move = "A1", turns[6].Candidates[0].Move
		}, []int{5, 6, 7}},
		{"close candidates, the first played", func(g *game.Game, turns []game.Turn) {
			turns[6].Candidates[1].ScoreLead = turns[6].Candidates[0].ScoreLead + 0.1
		}, []int{}},
		{"the budget keeps the largest loss", func(g *game.Game, turns []game.Turn) {
			// 21 turns: 5 searched again. Moves 3, 5, 12 and 17 lose; the largest loss takes
			// 3 turns, the next (17) 3 more, which do not fit, and then move 3 two more.
			lose(g, turns, 3, 2)
			lose(g, turns, 5, 20)
			lose(g, turns, 12, 1.5)
			lose(g, turns, 17, 7)
		}, []int{1, 2, 3, 4, 5}},
		{"adjacent moves share a turn", func(g *game.Game, turns []game.Turn) {
			lose(g, turns, 5, 20)
			lose(g, turns, 6, 10)
			lose(g, turns, 12, 2)
		}, []int{3, 4, 5, 6}},
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
			if len(got) > analysis.DeepBudget(len(turns)) {
				t.Errorf("%d turns selected, over the budget of %d", len(got), analysis.DeepBudget(len(turns)))
			}
		})
	}
}

// recordedGames reads the games of testdata/games with the results the adaptive benchmark
// recorded for them with the real KataGo (testdata/adaptive).
func recordedGames(t *testing.T) (games []*game.Game, recs []recording) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "adaptive", "*.json"))
	if err != nil || len(files) < 3 {
		t.Fatalf("want recorded results of 3 games or more in testdata/adaptive: %v %v", files, err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var rec recording
		if err := json.Unmarshal(data, &rec); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		sgf, err := os.ReadFile(filepath.Join("testdata", "games", rec.Game))
		if err != nil {
			t.Fatal(err)
		}
		r, err := game.ParseSGF(sgf, game.ParseOptions{})
		if err != nil {
			t.Fatalf("%s: %v", rec.Game, err)
		}
		games = append(games, r.Game)
		recs = append(recs, rec)
	}
	return games, recs
}

// TestSelectDeepOnRecordedGames replays the selection on the quick passes KataGo made of
// real games. Each selected turn takes its result from B, the second uniform review (an
// independent search at the full visits, as the adaptive review's deep search is): the
// reviews that result must agree with A, the reference, within 0.05 of how well B does,
// while spending at most 40% of A's visits.
func TestSelectDeepOnRecordedGames(t *testing.T) {
	t.Parallel()
	games, recs := recordedGames(t)
	var vsB, vsSim agreement
	var spentA, spentSim int
	for i, g := range games {
		rec := recs[i]
		sel := selectDeep(g, rec.Quick)
		if len(sel) > analysis.DeepBudget(len(rec.Quick)) {
			t.Errorf("%s: %d turns selected, over the budget of %d", rec.Game, len(sel), analysis.DeepBudget(len(rec.Quick)))
		}
		sim := slices.Clone(rec.Quick)
		for k := range sim {
			spentSim += sim[k].Visits
			if slices.Contains(sel, sim[k].Turn) {
				sim[k] = rec.B[k]
				spentSim += rec.B[k].Visits
			}
		}
		for _, a := range rec.A {
			spentA += a.Visits
		}
		// With room left in the budget, every move that lost lossFloor or more in the quick
		// pass is searched again, with the position before it.
		reviewed := slices.Clone(rec.Quick)
		game.Review(g, reviewed)
		for _, turn := range reviewed {
			room := len(sel)+2 <= analysis.DeepBudget(len(rec.Quick))
			if room && turn.PointLoss != nil && *turn.PointLoss >= lossFloor &&
				!(slices.Contains(sel, turn.Turn) && slices.Contains(sel, turn.Turn-1)) {
				t.Errorf("%s: move %d lost %.1f points in the quick pass and was not searched again", rec.Game, turn.Turn, *turn.PointLoss)
			}
		}
		vsB.add(g, rec.A, rec.B)
		vsSim.add(g, rec.A, sim)
	}
	share := float64(spentSim) / float64(spentA)
	t.Logf("B: recall %.3f precision %.3f; adaptive: recall %.3f precision %.3f, %.3f of A's visits",
		vsB.recall(), vsB.precision(), vsSim.recall(), vsSim.precision(), share)
	if vsSim.recall() < vsB.recall()-0.05 || vsSim.precision() < vsB.precision()-0.05 {
		t.Errorf("adaptive recall %.3f precision %.3f, want each at least B's (%.3f, %.3f) less 0.05",
			vsSim.recall(), vsSim.precision(), vsB.recall(), vsB.precision())
	}
	if share > 0.40 {
		t.Errorf("adaptive spent %.3f of A's visits, want at most 0.40", share)
	}
}
