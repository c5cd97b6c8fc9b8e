package game

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tesuji/tesuji/katago"
)

func TestBranch(t *testing.T) {
	t.Parallel()
	rec, err := ParseSGF([]byte("(;GM[1]FF[4]SZ[9]KM[7]RU[Chinese];B[ee];W[cc];B[gg])"), ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	g := rec.Game
	tests := []struct {
		name    string
		at      int
		moves   []katago.Move
		wantErr string // in the error; "" for a legal branch
		want    []string
	}{
		{name: "from the start", at: 0, moves: []katago.Move{{"B", "C3"}, {"W", "G7"}}, want: []string{"C3", "G7"}},
		{name: "from the end", at: 3, moves: []katago.Move{{"W", "pass"}}, want: []string{"E5", "C7", "G3", "pass"}},
		{name: "mid game", at: 1, moves: []katago.Move{{"W", "D4"}}, want: []string{"E5", "D4"}},
		{name: "occupied", at: 2, moves: []katago.Move{{"B", "E5"}}, wantErr: "occupied"},
		{name: "off the board", at: 1, moves: []katago.Move{{"W", "Q16"}}, wantErr: "not a point of the board"},
		{name: "bad color", at: 1, moves: []katago.Move{{"X", "D4"}}, wantErr: "not a color"},
		{name: "turn past the end", at: 4, moves: []katago.Move{{"W", "D4"}}, wantErr: "not a turn"},
		{name: "negative turn", at: -1, wantErr: "not a turn"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, err := g.Branch(tt.at, tt.moves)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Branch = %v, want an error with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range b.Moves {
				got = append(got, m.GTP(b.BoardYSize))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("moves (-want +got):\n%s", diff)
			}
			if len(g.Moves) != 3 {
				t.Errorf("Branch changed the game: %d moves", len(g.Moves))
			}
		})
	}
}

// TestAnnotateOwnVariations: a player's variation becomes an SGF variation from the node
// it branches at, each move with KataGo's evaluation and its point loss against the
// position before it.
func TestAnnotateOwnVariations(t *testing.T) {
	t.Parallel()
	rec, err := ParseSGF([]byte("(;GM[1]FF[4]SZ[9]KM[7]RU[Chinese];B[ee];W[cc];B[gg])"), ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	turns := []Turn{
		{Turn: 0, Player: "B", ScoreLead: 7, Winrate: 0.8, Visits: 10},
		{Turn: 1, Player: "W", Move: "E5", ScoreLead: 6, Winrate: 0.75, Visits: 10,
			Candidates: []katago.MoveInfo{{Move: "G3", ScoreLead: 6}}},
		{Turn: 2, Player: "B", Move: "C7", ScoreLead: 5, Winrate: 0.7, Visits: 10},
	}
	b, err := rec.Game.Branch(1, []katago.Move{{"W", "D4"}, {"B", "F6"}})
	if err != nil {
		t.Fatal(err)
	}
	own := []OwnVariation{{At: 1, Moves: b.Moves[1:], Turns: []*Turn{
		{Player: "B", Move: "D4", ScoreLead: 12.96, Winrate: 0.9, Visits: 20}, // W lost 6.96, shown 7.0
		nil,
	}}}
	out, err := Annotate(rec, turns, AnnotateOptions{Variations: -1, Own: own})
	if err != nil {
		t.Fatal(err)
	}
	back := checkAnnotated(t, rec, out)
	after1 := back.Line[1]
	if len(after1.Children) != 2 {
		t.Fatalf("the node of move 1 has %d children, want the game's and the variation", len(after1.Children))
	}
	v := after1.Children[1]
	if got := v.Values("W"); len(got) != 1 || got[0] != "df" {
		t.Errorf("the variation starts with W%v, want W[df]", got)
	}
	c, _ := v.Get("C")
	for _, want := range []string{"Variation 1, tried on the review from move 1", "KataGo after W D4: Black 90.0%, B+13.0 (20 visits)",
		"Point loss: 7.0 (mistake)", "KataGo's best move: G3"} {
		if !strings.Contains(c, want) {
			t.Errorf("the variation's comment %q lacks %q", c, want)
		}
	}
	if len(v.Children) != 1 {
		t.Fatalf("the variation has %d second moves, want 1", len(v.Children))
	}
	if c, _ := v.Children[0].Get("C"); c != "B F6 (not analyzed)" {
		t.Errorf("the unanalyzed move's comment = %q", c)
	}
}

func TestClassifyShownLoss(t *testing.T) {
	t.Parallel()
	tests := []struct {
		loss float64
		want string
	}{
		{5.96, ClassMistake}, // shown as 6.0
		{5.94, ClassInaccuracy},
		{11.95, ClassBlunder},
		{0.44, ClassGood},
		{0.46, ClassMinor}, // shown as 0.5
	}
	for _, tt := range tests {
		if got := Classify(tt.loss); got != tt.want {
			t.Errorf("Classify(%v) = %s, want %s", tt.loss, got, tt.want)
		}
	}
}
