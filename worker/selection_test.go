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

// spreads sets the quick pass's score spread (scoreStdev) of every turn: 10 plus a tenth
// of the turn number, so that no two tie, and the given spreads for some turns.
func spreads(turns []game.Turn, set map[int]float64) {
	for i := range turns {
		sd := 10 + float64(turns[i].Turn)/10
		if v, ok := set[turns[i].Turn]; ok {
			sd = v
		}
		turns[i].Root = &katago.RootInfo{Winrate: turns[i].Winrate, ScoreLead: turns[i].ScoreLead, Visits: turns[i].Visits, ScoreStdev: &sd}
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
		{"a winrate swing", func(g *game.Game, turns []game.Turn) {
			for i := 12; i < len(turns); i++ {
				turns[i].Winrate = 0.2
			}
		}, []int{11, 12}},
		{"point losses alone choose nothing", func(g *game.Game, turns []game.Turn) {
			lose(g, turns, 4, 2.5)
			lose(g, turns, 9, 14)
		}, []int{}},
		{"the widest spreads", func(g *game.Game, turns []game.Turn) {
			spreads(turns, map[int]float64{14: 30, 15: 31, 16: 30})
		}, []int{13, 14, 15, 16, 17}},
		{"a blunder of narrow spreads after the widest", func(g *game.Game, turns []game.Turn) {
			spreads(turns, map[int]float64{14: 30, 15: 31, 16: 30})
			lose(g, turns, 9, 14)
		}, []int{13, 14, 15, 16, 17}},
		{"a swing before the widest spreads", func(g *game.Game, turns []game.Turn) {
			spreads(turns, map[int]float64{14: 30, 15: 31, 16: 30})
			for i := 4; i < len(turns); i++ {
				turns[i].Winrate = 0.7
			}
		}, []int{3, 4, 14, 15, 16}},
		{"a wide position brings both its moves", func(g *game.Game, turns []game.Turn) {
			spreads(turns, map[int]float64{5: 40})
		}, []int{4, 5, 6, 19, 20}},
		{"turns searched deeply before count against the budget", func(g *game.Game, turns []game.Turn) {
			spreads(turns, map[int]float64{14: 30, 15: 31, 16: 30})
			for _, n := range []int{4, 5} { // a resumed job's deep results: narrow, ranked last
				turns[n].Visits, turns[n].VisitsSpent = 200, 225
			}
		}, []int{4, 5, 14, 15, 16}},
		{"only the turns given", func(g *game.Game, turns []game.Turn) {
			spreads(turns, map[int]float64{14: 30, 15: 31, 16: 30})
			turns[15] = turns[0] // turn 15 not analyzed; turn 0 twice
		}, []int{13, 14, 16, 17, 19}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g, turns := quietGame(t)
			tt.change(g, turns)
			got := selectDeep(g, turns, 200)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("selectDeep (-want +got):\n%s", diff)
			}
			if budget := analysis.DeepBudget(len(turns), 200); len(got) > budget {
				t.Errorf("%d turns selected, over the budget of %d", len(got), budget)
			}
		})
	}
}

// recordedRuns reads the results the adaptive benchmark recorded with the real KataGo
// (testdata/adaptive, a folder per run, a file per game of testdata/games), with the
// games. Every run holds the same games in the same order.
func recordedRuns(t *testing.T) (games []*game.Game, runs [][]recording) {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join("testdata", "adaptive", "*"))
	if err != nil || len(dirs) < 2 {
		t.Fatalf("want 2 recorded runs or more in testdata/adaptive: %v %v", dirs, err)
	}
	for _, dir := range dirs {
		files, err := filepath.Glob(filepath.Join(dir, "*.json"))
		if err != nil || len(files) < 3 {
			t.Fatalf("want recorded results of 3 games or more in %s: %v %v", dir, files, err)
		}
		var run []recording
		for i, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var rec recording
			if err := json.Unmarshal(data, &rec); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			run = append(run, rec)
			if len(runs) > 0 {
				if i >= len(runs[0]) || runs[0][i].Game != rec.Game {
					t.Fatalf("%s: not the games of %s", dir, dirs[0])
				}
				continue
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
		}
		if len(run) != len(games) {
			t.Fatalf("%s: %d games, want %d", dir, len(run), len(games))
		}
		runs = append(runs, run)
	}
	return games, runs
}

// TestSelectDeepOnRecordedGames replays the selection on the quick passes KataGo made of
// real games, in runs of their own. Each selected turn takes its result from a uniform
// review at the full visits (an independent search, as the adaptive review's deep one
// is), and the result is compared with another uniform review, the reference: every
// quick pass with every pair of the uniform reviews of all runs, so that the figures do
// not rest on the noise of one search. The adaptive result must spend at most 40% of a
// uniform review's visits, find clearly more of the reference's mistakes, and more
// rightly, than the quick pass alone, and agree with the reference better (F1, recall and
// precision together) than deepening as many turns evenly spread, every fourth one.
func TestSelectDeepOnRecordedGames(t *testing.T) {
	t.Parallel()
	games, runs := recordedRuns(t)
	var uniform [][][]game.Turn // each uniform review of each run: game -> turns
	for _, run := range runs {
		var a, b [][]game.Turn
		for _, rec := range run {
			a, b = append(a, rec.A), append(b, rec.B)
		}
		uniform = append(uniform, a, b)
	}
	everyFourth := func(_ *game.Game, turns []game.Turn, maxVisits int) []int {
		var sel []int
		for k := 0; k < len(turns) && len(sel) < analysis.DeepBudget(len(turns), maxVisits); k += 4 {
			sel = append(sel, turns[k].Turn)
		}
		return sel
	}
	none := func(*game.Game, []game.Turn, int) []int { return nil }
	selectors := []func(*game.Game, []game.Turn, int) []int{selectDeep, none, everyFourth}
	// chosen[s][r][i]: the turns selector s deepens in game i from run r's quick pass.
	chosen := make([][][][]int, len(selectors))
	spent, spentUniform := 0, 0 // the adaptive result's visits, and a uniform review's
	for s, sel := range selectors {
		for _, run := range runs {
			var byGame [][]int
			for i, g := range games {
				rec := run[i]
				maxVisits := rec.A[0].Visits // the uniform reviews' visits, the adaptive review's full depth
				turns := sel(g, rec.Quick, maxVisits)
				if budget := analysis.DeepBudget(len(rec.Quick), maxVisits); len(turns) > budget {
					t.Fatalf("%s: %d turns selected, over the budget of %d", rec.Game, len(turns), budget)
				}
				byGame = append(byGame, turns)
				if s > 0 {
					continue
				}
				for k := range rec.Quick {
					spent += rec.Quick[k].Visits
					spentUniform += rec.A[k].Visits
					if slices.Contains(turns, rec.Quick[k].Turn) {
						spent += rec.A[k].Visits
					}
				}
			}
			chosen[s] = append(chosen[s], byGame)
		}
	}
	var vsB mean
	vs := make([]mean, len(selectors)) // adaptive, quick pass alone, every fourth turn
	for r, run := range runs {
		for ref := range uniform {
			for deep := range uniform {
				if deep == ref {
					continue
				}
				var b agreement
				x := make([]agreement, len(selectors))
				for i, g := range games {
					quick, want, d := run[i].Quick, uniform[ref][i], uniform[deep][i]
					b.add(g, want, d)
					for s := range selectors {
						sim := slices.Clone(quick)
						for k := range sim {
							if slices.Contains(chosen[s][r][i], sim[k].Turn) {
								sim[k] = d[k]
							}
						}
						x[s].add(g, want, sim)
					}
				}
				vsB.add(b)
				for s := range selectors {
					vs[s].add(x[s])
				}
			}
		}
	}
	vsAdaptive, vsQuick, vsFourth := vs[0], vs[1], vs[2]
	share := float64(spent) / float64(spentUniform)
	t.Logf("%d pairings; uniform B: recall %.3f precision %.3f F1 %.3f", vsB.n, vsB.recall(), vsB.precision(), vsB.f1())
	t.Logf("adaptive: recall %.3f precision %.3f F1 %.3f, %.3f of a uniform review's visits", vsAdaptive.recall(),
		vsAdaptive.precision(), vsAdaptive.f1(), share)
	t.Logf("quick pass alone: recall %.3f precision %.3f F1 %.3f", vsQuick.recall(), vsQuick.precision(), vsQuick.f1())
	t.Logf("every fourth turn deepened: recall %.3f precision %.3f F1 %.3f", vsFourth.recall(), vsFourth.precision(), vsFourth.f1())
	// The runs recorded with a uniform review at the adaptive review's cost (C), against
	// every uniform review at the full visits.
	var vsEven mean
	for _, run := range runs {
		if slices.ContainsFunc(run, func(rec recording) bool { return rec.Even == nil }) {
			continue
		}
		for ref := range uniform {
			var c agreement
			for i, g := range games {
				c.add(g, uniform[ref][i], run[i].Even)
			}
			vsEven.add(c)
		}
	}
	if vsEven.n > 0 {
		t.Logf("uniform at the adaptive review's cost (%d pairings): recall %.3f precision %.3f F1 %.3f", vsEven.n,
			vsEven.recall(), vsEven.precision(), vsEven.f1())
	}
	if vsAdaptive.recall() < vsQuick.recall()+0.05 || vsAdaptive.precision() < vsQuick.precision()+0.05 {
		t.Errorf("adaptive recall %.3f precision %.3f, want each 0.05 above the quick pass's (%.3f, %.3f)",
			vsAdaptive.recall(), vsAdaptive.precision(), vsQuick.recall(), vsQuick.precision())
	}
	if vsAdaptive.f1() < vsFourth.f1()+0.03 {
		t.Errorf("adaptive F1 %.3f, want 0.03 above deepening every fourth turn (%.3f)", vsAdaptive.f1(), vsFourth.f1())
	}
	if share > analysis.AdaptiveShare {
		t.Errorf("adaptive spent %.3f of a uniform review's visits, want at most 0.40", share)
	}
}
