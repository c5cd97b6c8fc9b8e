package game

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/tesuji/tesuji/katago"
)

// transcriptTurns builds the game of a recorded query and its turns from KataGo's real
// responses.
func transcriptTurns(t *testing.T, file, id string) (*Game, []Turn, []*katago.Response) {
	t.Helper()
	q, resps := transcript(t, file, id)
	g, err := GameFromQuery(q)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Validate(); err != nil {
		t.Fatal(err)
	}
	var turns []Turn
	for _, r := range resps {
		turn, err := NewTurn(g, r)
		if err != nil {
			t.Fatal(err)
		}
		turns = append(turns, turn)
	}
	return g, turns, resps
}

func TestNewTurnFromTranscripts(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ file, id string }{
		{"01-basic-multi-turn.jsonl", "g1"},
		{"06-handicap-pass-small.jsonl", "h2"},
		{"06-handicap-pass-small.jsonl", "rect"},
		{"03-ownership-policy.jsonl", "own"},
	} {
		t.Run(c.id, func(t *testing.T) {
			t.Parallel()
			g, turns, resps := transcriptTurns(t, c.file, c.id)
			for i, turn := range turns {
				r := resps[i]
				if turn.Turn != *r.TurnNumber || turn.Winrate != r.RootInfo.Winrate ||
					turn.ScoreLead != r.RootInfo.ScoreLead || turn.Visits != r.RootInfo.Visits {
					t.Errorf("turn %d does not carry KataGo's root values", turn.Turn)
				}
				if turn.Player != r.RootInfo.CurrentPlayer || turn.Player != g.ToMove(turn.Turn).String() {
					t.Errorf("turn %d player %q, KataGo says %q, the game %q", turn.Turn, turn.Player,
						r.RootInfo.CurrentPlayer, g.ToMove(turn.Turn))
				}
				wantMove := ""
				if turn.Turn > 0 {
					q := g.Query(nil)
					wantMove = q.Moves[turn.Turn-1][1]
				}
				if turn.Move != wantMove {
					t.Errorf("turn %d move %q, want %q", turn.Turn, turn.Move, wantMove)
				}
				if len(turn.Candidates) != len(r.MoveInfos) {
					t.Errorf("turn %d has %d candidates, KataGo gave %d", turn.Turn, len(turn.Candidates), len(r.MoveInfos))
				}
				for k, m := range turn.Candidates {
					if m.Order != k {
						t.Errorf("turn %d candidate %d has order %d", turn.Turn, k, m.Order)
					}
				}
				if diff := cmp.Diff(r.Ownership, turn.Ownership); diff != "" {
					t.Errorf("turn %d ownership (-want +got):\n%s", turn.Turn, diff)
				}
			}
		})
	}
}

func TestNewTurnErrors(t *testing.T) {
	t.Parallel()
	g := NewGame(9, 9, "chinese", 7, seq(t, 9, 9, "B ee")...)
	two, zero := 2, 0
	tests := []struct {
		name string
		r    *katago.Response
	}{
		{"nil", nil},
		{"error line", &katago.Response{Error: "Illegal move 1: Q16"}},
		{"no turn", &katago.Response{RootInfo: &katago.RootInfo{}}},
		{"turn out of the game", &katago.Response{TurnNumber: &two, RootInfo: &katago.RootInfo{}}},
		{"no root info", &katago.Response{TurnNumber: &zero}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := NewTurn(g, tt.r); err == nil {
				t.Error("NewTurn should fail")
			}
		})
	}
}

// TestReviewTranscript checks point loss, class and best move on KataGo's real answers
// (01-basic-multi-turn), in any order and with a turn missing.
func TestReviewTranscript(t *testing.T) {
	t.Parallel()
	g, turns, _ := transcriptTurns(t, "01-basic-multi-turn.jsonl", "g1")
	rand.New(rand.NewPCG(3, 4)).Shuffle(len(turns), func(i, j int) { turns[i], turns[j] = turns[j], turns[i] })
	// Leave turn 5 out: turns 5 and 6 cannot have a point loss then.
	kept := turns[:0]
	for _, turn := range turns {
		if turn.Turn != 5 {
			kept = append(kept, turn)
		}
	}
	Review(g, kept)
	byTurn := map[int]Turn{}
	for _, turn := range kept {
		byTurn[turn.Turn] = turn
	}
	// Score leads of the recorded root infos, Black's view.
	lead := map[int]float64{0: 0.0491661449, 1: 0.0498734748, 2: -0.00291138573, 3: 0.0632369685, 4: 0.138758936,
		6: 0.0168273216, 7: -0.0581320922, 8: -0.0172495875, 9: -0.0120120215, 10: -0.284845171}
	best := map[int]string{0: "R16", 1: "C16", 2: "R4", 3: "D17", 4: "Q5", 6: "C4", 7: "D5", 8: "B6", 9: "R5"}
	for tn := 1; tn <= 10; tn++ {
		turn := byTurn[tn]
		if tn == 5 || tn == 6 {
			if turn.PointLoss != nil || turn.Mistake != "" || turn.BestMove != "" {
				t.Errorf("turn %d should not be reviewed without turn %d", tn, tn-1)
			}
			continue
		}
		want := lead[tn-1] - lead[tn]
		if tn%2 == 0 { // White moved
			want = -want
		}
		if turn.PointLoss == nil || math.Abs(*turn.PointLoss-want) > 1e-12 {
			t.Errorf("turn %d point loss = %v, want %v", tn, turn.PointLoss, want)
			continue
		}
		if turn.Mistake != Classify(want) || turn.BestMove != best[tn-1] {
			t.Errorf("turn %d: class %q best %q; want %q %q", tn, turn.Mistake, turn.BestMove, Classify(want), best[tn-1])
		}
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		loss float64
		want string
	}{
		{40, ClassBlunder}, {12, ClassBlunder}, {11.94, ClassMistake}, {6, ClassMistake}, {5.9, ClassInaccuracy},
		{3, ClassInaccuracy}, {2.9, ClassDubious}, {1.5, ClassDubious}, {1.44, ClassMinor}, {0.5, ClassMinor},
		{0.44, ClassGood}, {0, ClassGood}, {-4, ClassGood}, {math.NaN(), ClassGood},
	}
	for _, tt := range tests {
		if got := Classify(tt.loss); got != tt.want {
			t.Errorf("Classify(%v) = %q, want %q", tt.loss, got, tt.want)
		}
	}
}

// syntheticTurns gives each turn of g the score lead leads[t] and one candidate, top.
func syntheticTurns(g *Game, leads []float64, top []string) []Turn {
	turns := make([]Turn, len(leads))
	for i, l := range leads {
		turns[i] = Turn{Turn: i, Player: g.ToMove(i).String(), Winrate: 0.5, ScoreLead: l, Visits: 100,
			Candidates: []katago.MoveInfo{{Move: top[i], Order: 0, PV: []string{top[i]}, ScoreLead: l, Winrate: 0.5, Visits: 50}}}
		if i > 0 {
			turns[i].Move = g.Moves[i-1].GTP(g.BoardYSize)
		}
	}
	return turns
}

func TestSummarize(t *testing.T) {
	t.Parallel()
	g := NewGame(9, 9, "chinese", 7, seq(t, 9, 9, "B ee W cc B gg W cg B gc W ge")...)
	g.BlackName, g.WhiteName = "alice", "bob"
	// Losses: B 0 (top move), W 13, B 6, W 0, B 3 (top move), W -1.5.
	leads := []float64{0, 0, 13, 7, 7, 4, 2.5}
	top := []string{"E5", "D5", "A9", "A1", "G7", "G7", "A1"}
	turns := syntheticTurns(g, leads, top)
	got := Summarize(g, turns)
	classes := func(m map[string]int) map[string]int {
		out := map[string]int{}
		for _, th := range Thresholds {
			out[th.Class] = m[th.Class]
		}
		return out
	}
	want := Summary{
		Black: PlayerSummary{Name: "alice", Moves: 3, AvgPointLoss: 3, TopMoves: 2, TopMoveAgreement: 2.0 / 3,
			Classes: classes(map[string]int{ClassGood: 1, ClassMistake: 1, ClassInaccuracy: 1})},
		White: PlayerSummary{Name: "bob", Moves: 3, AvgPointLoss: 13.0 / 3, TopMoves: 0,
			Classes: classes(map[string]int{ClassBlunder: 1, ClassGood: 2})},
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateApprox(0, 1e-12)); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(Summary{
		Black: PlayerSummary{Name: "alice", Classes: classes(nil)},
		White: PlayerSummary{Name: "bob", Classes: classes(nil)},
	}, Summarize(g, turns[:1])); diff != "" {
		t.Errorf("summary of one turn (-want +got):\n%s", diff)
	}
}

// TestTurnJSON checks the JSON shape the API serves and that it reads back.
func TestTurnJSON(t *testing.T) {
	t.Parallel()
	g, turns, _ := transcriptTurns(t, "06-handicap-pass-small.jsonl", "h2")
	Review(g, turns)
	for _, turn := range turns {
		data, err := json.Marshal(turn)
		if err != nil {
			t.Fatal(err)
		}
		var keys map[string]json.RawMessage
		if err := json.Unmarshal(data, &keys); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"turn", "player", "winrate", "scoreLead", "visits", "candidates"} {
			if _, ok := keys[k]; !ok {
				t.Errorf("turn %d JSON lacks %q: %s", turn.Turn, k, data[:min(len(data), 200)])
			}
		}
		if _, ok := keys["pointLoss"]; ok != (turn.Turn > 0) {
			t.Errorf("turn %d: pointLoss present = %v", turn.Turn, ok)
		}
		var back Turn
		if err := json.Unmarshal(data, &back); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(turn, back); diff != "" {
			t.Errorf("turn %d JSON round trip (-want +got):\n%s", turn.Turn, diff)
		}
	}
}
