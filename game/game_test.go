package game

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tesuji/tesuji/katago"
)

// sgfForQuery writes a record of the game a recorded KataGo query describes, the way a
// player's client would.
func sgfForQuery(t *testing.T, q katago.Query) string {
	t.Helper()
	g, err := GameFromQuery(q)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "(;GM[1]FF[4]SZ[%d:%d]KM[%g]RU[%s]", g.BoardXSize, g.BoardYSize, g.Komi, g.Rules)
	if g.BoardXSize == g.BoardYSize {
		b.Reset()
		fmt.Fprintf(&b, "(;GM[1]FF[4]SZ[%d]KM[%g]RU[%s]", g.BoardXSize, g.Komi, g.Rules)
	}
	for _, s := range g.InitialStones {
		fmt.Fprintf(&b, "A%s[%s]", s.Color, s.Point.SGF())
	}
	if len(g.InitialStones) > 0 {
		fmt.Fprintf(&b, "PL[%s]", g.InitialPlayer)
	}
	b.WriteString(sgfText("", g.Moves, nil)[2:])
	return b.String()
}

// TestQueryMatchesTranscripts converts records into queries and compares them with the
// queries real KataGo answered in the recorded sessions of package katago/transcript.
func TestQueryMatchesTranscripts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file, id string
		turns    []int
	}{
		{"01-basic-multi-turn.jsonl", "g1", nil},
		{"06-handicap-pass-small.jsonl", "h2", nil},
		{"06-handicap-pass-small.jsonl", "nine", []int{0, 3}},
		{"06-handicap-pass-small.jsonl", "rect", []int{1}},
		{"03-ownership-policy.jsonl", "own", []int{6}},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			t.Parallel()
			want, _ := transcript(t, tt.file, tt.id)
			rec, err := ParseSGF([]byte(sgfForQuery(t, want)), ParseOptions{})
			if err != nil {
				t.Fatal(err)
			}
			got := rec.Game.Query(tt.turns)
			// The search settings and the id are the caller's.
			got.ID, got.MaxVisits, got.IncludeOwnership, got.IncludePolicy = want.ID, want.MaxVisits, want.IncludeOwnership, want.IncludePolicy
			got.IncludeMovesOwnership, got.IncludePVVisits, got.Priority = want.IncludeMovesOwnership, want.IncludePVVisits, want.Priority
			if want.AnalyzeTurns == nil {
				want.AnalyzeTurns = []int{len(want.Moves)} // what KataGo analyzes without analyzeTurns
			}
			if want.InitialPlayer == "" {
				want.InitialPlayer = got.InitialPlayer // KataGo takes the first move's player
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("query mismatch (-transcript +got):\n%s", diff)
			}
			back, err := GameFromQuery(got)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(rec.Game.Moves, back.Moves); diff != "" {
				t.Errorf("GameFromQuery moves (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(rec.Game.InitialStones, back.InitialStones); diff != "" {
				t.Errorf("GameFromQuery initial stones (-want +got):\n%s", diff)
			}
		})
	}
}

func TestQueryTurns(t *testing.T) {
	t.Parallel()
	g := NewGame(9, 9, "chinese", 7, seq(t, 9, 9, "B ee W cc B pass")...)
	if diff := cmp.Diff([]int{0, 1, 2, 3}, g.Query(nil).AnalyzeTurns); diff != "" {
		t.Errorf("nil turns (-want +got):\n%s", diff)
	}
	if got := g.Query([]int{}).AnalyzeTurns; got == nil || len(got) != 0 {
		t.Errorf("empty turns = %#v, want an empty non-nil slice", got)
	}
	q := g.Query([]int{2})
	if diff := cmp.Diff([]katago.Move{{"B", "E5"}, {"W", "C7"}, {"B", "pass"}}, q.Moves); diff != "" {
		t.Errorf("moves (-want +got):\n%s", diff)
	}
	if string(q.Rules) != `"chinese"` || *q.Komi != 7 || q.InitialPlayer != "B" {
		t.Errorf("rules %s komi %v player %q", q.Rules, *q.Komi, q.InitialPlayer)
	}
	if empty := NewGame(19, 19, "", 6.5).Query(nil); empty.Moves == nil || len(empty.Moves) != 0 {
		t.Errorf("an empty game's moves = %#v, want an empty list (KataGo requires moves)", empty.Moves)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		game  *Game
		code  string
		err   string
		rule  error
		field string // the query field the error names
	}{
		{name: "plain move list", game: NewGame(19, 19, "japanese", 6.5, seq(t, 19, 19, "B pd W dd B pp W dp")...)},
		{name: "default rules", game: NewGame(9, 9, "", 7, seq(t, 9, 9, "B ee")...)},
		{name: "occupied", game: NewGame(19, 19, "chinese", 7.5, seq(t, 19, 19, "B pd W pd")...),
			code: CodeIllegalMove, err: "move 2 (W Q16): the point is occupied", rule: ErrOccupied},
		{name: "superko under tromp-taylor",
			game: &Game{BoardXSize: 5, BoardYSize: 5, Komi: 7.5, Rules: "tromp-taylor", InitialPlayer: White,
				InitialStones: stones(t, 5, 5, "B ba W ca B ab B cb W db B bc W cc"),
				Moves:         seq(t, 5, 5, "W bb B cb")},
			code: CodeIllegalMove, err: "move 2 (B C4): the move repeats an earlier position, which superko forbids under tromp-taylor rules",
			rule: ErrSuperko},
		{name: "same ko legal under simple ko",
			game: &Game{BoardXSize: 5, BoardYSize: 5, Komi: 7.5, Rules: "chinese", InitialPlayer: White,
				InitialStones: stones(t, 5, 5, "B ba W ca B ab B cb W db B bc W cc"),
				Moves:         seq(t, 5, 5, "W bb B ee W ed B cb")}},
		{name: "board too large", game: NewGame(25, 25, "chinese", 7.5), code: CodeUnsupported,
			err: "the board is 25x25; KataGo analyzes boards from 2x2 to 19x19", field: "boardXSize"},
		// The size that is wrong is the field named.
		{name: "board too tall", game: NewGame(19, 25, "chinese", 7.5), code: CodeUnsupported,
			err: "the board is 19x25; KataGo analyzes boards from 2x2 to 19x19", field: "boardYSize"},
		{name: "unknown rules", game: NewGame(19, 19, "calvinball", 7.5), code: CodeInvalidGame,
			err: `KataGo does not know the rules "calvinball"`, field: "rules"},
		{name: "komi", game: NewGame(19, 19, "chinese", 7.25), code: CodeUnsupported,
			err: "komi 7.25 is not an integer or half-integer from -400 to 400, as KataGo needs", field: "komi"},
		{name: "no color", game: NewGame(19, 19, "chinese", 7.5, Move{Point: Point{X: 3, Y: 3}}), code: CodeInvalidGame,
			err: "move 1: the move has no color", rule: ErrNoColor},
		{name: "off the board", game: NewGame(9, 9, "chinese", 7.5, Move{Color: Black, Point: Point{X: 9, Y: 0}}),
			code: CodeIllegalMove, err: "move 1 (B ja): the point is not on the 9x9 board", rule: ErrOffBoard},
		{name: "no first player", game: &Game{BoardXSize: 9, BoardYSize: 9, Komi: 7, Rules: "chinese"},
			code: CodeInvalidGame, err: "the first player must be black or white"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.game.Validate()
			if tt.err == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Code != tt.code || e.Error() != tt.err {
				t.Fatalf("Validate = %v, want %q (%s)", err, tt.err, tt.code)
			}
			if e.Field != tt.field {
				t.Errorf("Validate's error names field %q, want %q", e.Field, tt.field)
			}
			if tt.rule != nil && !errors.Is(err, tt.rule) {
				t.Errorf("errors.Is(err, %v) = false", tt.rule)
			}
		})
	}
}

func TestGameBoard(t *testing.T) {
	t.Parallel()
	g := NewGame(5, 5, "japanese", 0.5, seq(t, 5, 5, "B ba W aa B ab")...)
	b, err := g.Board(3)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{".X...", "X....", ".....", ".....", "....."}, diagram(b)); diff != "" {
		t.Errorf("after 3 moves (-want +got):\n%s", diff)
	}
	if g.ToMove(3) != White || g.ToMove(0) != Black || g.ToMove(1) != White {
		t.Errorf("ToMove = %v %v %v", g.ToMove(0), g.ToMove(1), g.ToMove(3))
	}
}

func TestGameFromQueryErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		q     katago.Query
		err   string
		field string // the query field the error names
	}{
		{"no rules", katago.Query{}, "the query has no rules", "rules"},
		{"bad player", katago.Query{Rules: katago.RulesString("chinese"), Moves: []katago.Move{{"X", "Q16"}}},
			`move 1: "X" is not a color`, ""},
		{"bad location", katago.Query{Rules: katago.RulesString("chinese"), Moves: []katago.Move{{"B", "Z99"}}},
			"move 1 (B Z99): not a point of the board", ""},
		{"big board", katago.Query{Rules: katago.RulesString("chinese"), BoardXSize: 25, BoardYSize: 25},
			"the board is 25x25; KataGo analyzes boards from 2x2 to 19x19", "boardXSize"},
		// A board too short names boardYSize.
		{"short board", katago.Query{Rules: katago.RulesString("chinese"), BoardXSize: 9, BoardYSize: 1},
			"the board is 9x1; KataGo analyzes boards from 2x2 to 19x19", "boardYSize"},
		// Rules KataGo does not know name the rules.
		{"unknown rules", katago.Query{Rules: katago.RulesString("calvinball")}, `KataGo does not know the rules "calvinball"`, "rules"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := GameFromQuery(tt.q)
			var e *Error
			if !errors.As(err, &e) || err.Error() != tt.err || e.Field != tt.field {
				t.Errorf("GameFromQuery = %v (field %q), want %q (field %q)", err, fieldOf(err), tt.err, tt.field)
			}
		})
	}
}

// fieldOf returns the query field err names, if it is an *Error.
func fieldOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}
