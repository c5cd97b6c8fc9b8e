package game

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// diagram draws the board with X (black), O (white) and . as rows from the top.
func diagram(b *Board) []string {
	x, y := b.Size()
	rows := make([]string, y)
	for r := range y {
		row := make([]byte, x)
		for c := range x {
			row[c] = ".XO"[b.At(Point{X: c, Y: r})]
		}
		rows[r] = string(row)
	}
	return rows
}

// setupBoard builds a board from a diagram (X black, O white).
func setupBoard(t *testing.T, rules string, rows ...string) *Board {
	t.Helper()
	b := NewBoard(len(rows[0]), len(rows))
	r, ok := LookupRules(rules)
	if !ok {
		t.Fatalf("unknown rules %q", rules)
	}
	b.SetRules(r)
	for y, row := range rows {
		for x, c := range row {
			switch c {
			case 'X':
				b.Set(Point{X: x, Y: y}, Black)
			case 'O':
				b.Set(Point{X: x, Y: y}, White)
			}
		}
	}
	return b
}

func TestBoardPlay(t *testing.T) {
	t.Parallel()
	type play struct {
		c       Color
		gtp     string
		capture int
		err     error
	}
	tests := []struct {
		name  string
		rules string
		board []string
		plays []play
		want  []string
	}{
		{
			name: "capture in the corner", rules: "japanese",
			board: []string{"XO...", ".....", ".....", ".....", "....."},
			plays: []play{{White, "A4", 1, nil}},
			want:  []string{".O...", "O....", ".....", ".....", "....."},
		},
		{
			name: "capture of a group", rules: "chinese",
			board: []string{"XX...", "OO...", ".....", ".....", "....."},
			plays: []play{{White, "C5", 2, nil}},
			want:  []string{"..O..", "OO...", ".....", ".....", "....."},
		},
		{
			name: "occupied", rules: "japanese",
			board: []string{"X....", ".....", ".....", ".....", "....."},
			plays: []play{{White, "A5", 0, ErrOccupied}},
			want:  []string{"X....", ".....", ".....", ".....", "....."},
		},
		{
			name: "single-stone suicide is illegal even under tromp-taylor", rules: "tromp-taylor",
			board: []string{".O...", "O....", ".....", ".....", "....."},
			plays: []play{{Black, "A5", 0, ErrSuicide}},
			want:  []string{".O...", "O....", ".....", ".....", "....."},
		},
		{
			name: "multi-stone suicide under japanese", rules: "japanese",
			board: []string{".XO..", "XO...", "O....", ".....", "....."},
			plays: []play{{Black, "A5", 0, ErrSuicide}},
			want:  []string{".XO..", "XO...", "O....", ".....", "....."},
		},
		{
			name: "multi-stone suicide under new-zealand", rules: "new-zealand",
			board: []string{".XO..", "XO...", "O....", ".....", "....."},
			plays: []play{{Black, "A5", 0, nil}},
			want:  []string{"..O..", ".O...", "O....", ".....", "....."},
		},
		{
			name: "capture instead of suicide", rules: "japanese",
			board: []string{".XO..", "XOO..", "OO...", ".....", "....."},
			plays: []play{{White, "A5", 2, nil}},
			want:  []string{"O.O..", ".OO..", "OO...", ".....", "....."},
		},
		{
			name: "simple ko", rules: "japanese",
			board: []string{".XO..", "X.XO.", ".XO..", ".....", "....."},
			plays: []play{
				{White, "B4", 1, nil}, // captures C4
				{Black, "C4", 0, ErrKo},
				{Black, "E1", 0, nil},
				{White, "E2", 0, nil},
				{Black, "C4", 1, nil}, // retakes after a threat
				{White, "B4", 0, ErrKo},
			},
			want: []string{".XO..", "X.XO.", ".XO..", "....O", "....X"},
		},
		{
			name: "ko ban ends with a pass", rules: "japanese",
			board: []string{".XO..", "X.XO.", ".XO..", ".....", "....."},
			plays: []play{{White, "B4", 1, nil}, {Black, "pass", 0, nil}, {White, "pass", 0, nil}, {Black, "C4", 1, nil}},
			want:  []string{".XO..", "X.XO.", ".XO..", ".....", "....."},
		},
		{
			name: "positional superko", rules: "tromp-taylor",
			board: []string{".XO..", "X.XO.", ".XO..", ".....", "....."},
			plays: []play{{White, "B4", 1, nil}, {Black, "C4", 0, ErrSuperko}},
			want:  []string{".XO..", "XO.O.", ".XO..", ".....", "....."},
		},
		{
			name: "situational superko allows a pass to change the situation", rules: "new-zealand",
			board: []string{".XO..", "X.XO.", ".XO..", ".....", "....."},
			plays: []play{{White, "B4", 1, nil}, {Black, "C4", 0, ErrSuperko}, {Black, "pass", 0, nil},
				{White, "pass", 0, nil}, {Black, "C4", 0, ErrSuperko}},
			want: []string{".XO..", "XO.O.", ".XO..", ".....", "....."},
		},
		{
			name: "off the board", rules: "japanese",
			board: []string{".....", ".....", ".....", ".....", "....."},
			plays: []play{{Black, "Z99", 0, ErrOffBoard}},
			want:  []string{".....", ".....", ".....", ".....", "....."},
		},
		{
			name: "no color", rules: "japanese",
			board: []string{".....", ".....", ".....", ".....", "....."},
			plays: []play{{Empty, "A1", 0, ErrNoColor}},
			want:  []string{".....", ".....", ".....", ".....", "....."},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setupBoard(t, tt.rules, tt.board...)
			for i, pl := range tt.plays {
				if pl.gtp == "pass" {
					b.Pass(pl.c)
					continue
				}
				p, _, err := ParseGTP(pl.gtp, 5, 5)
				if err != nil {
					p = Point{X: 99, Y: 99}
				}
				n, err := b.Play(pl.c, p)
				if !errors.Is(err, pl.err) || n != pl.capture {
					t.Fatalf("play %d (%v %s) = %d, %v; want %d, %v", i, pl.c, pl.gtp, n, err, pl.capture, pl.err)
				}
			}
			if diff := cmp.Diff(tt.want, diagram(b)); diff != "" {
				t.Errorf("board (-want +got):\n%s", diff)
			}
		})
	}
}

// TestBoardKoFight plays a ko fight with threats: every retake makes a new position, so it
// is legal under simple ko and under positional superko alike.
func TestBoardSuperkoCycle(t *testing.T) {
	t.Parallel()
	rows := []string{".XO..", "X.XO.", ".XO..", ".....", "....."}
	seqs := []struct {
		c   Color
		gtp string
	}{
		{White, "B4"}, // W takes the ko
		{Black, "E1"}, // threat
		{White, "D1"}, // answer
		{Black, "C4"}, // B retakes: new position (E1/D1 added), legal under both rules
		{White, "E2"}, // threat
		{Black, "C2"}, // answer
		{White, "B4"}, // W retakes: new position again, legal
	}
	for _, rules := range []string{"japanese", "tromp-taylor"} {
		b := setupBoard(t, rules, rows...)
		for i, s := range seqs {
			p, _, _ := ParseGTP(s.gtp, 5, 5)
			if _, err := b.Play(s.c, p); err != nil {
				t.Fatalf("%s: move %d %s: %v", rules, i+1, s.gtp, err)
			}
		}
	}
	// Under positional superko, recreating an earlier board by a capture is refused.
	b := setupBoard(t, "tromp-taylor", rows...)
	before := b.Hash()
	p, _, _ := ParseGTP("B4", 5, 5)
	if _, err := b.Play(White, p); err != nil {
		t.Fatal(err)
	}
	if b.Hash() == before {
		t.Fatal("the hash did not change with the board")
	}
}

func TestBoardClone(t *testing.T) {
	t.Parallel()
	b := setupBoard(t, "tromp-taylor", ".XO..", "X.XO.", ".XO..", ".....", ".....")
	c := b.Clone()
	p, _, _ := ParseGTP("B4", 5, 5)
	if _, err := c.Play(White, p); err != nil {
		t.Fatal(err)
	}
	if b.At(p) != Empty || c.At(p) != White {
		t.Fatalf("the clone is not independent: %v %v", b.At(p), c.At(p))
	}
	if b.Hash() == c.Hash() {
		t.Fatal("the clone's hash did not move")
	}
	// The original's superko history did not learn the clone's position.
	q, _, _ := ParseGTP("E5", 5, 5)
	if _, err := b.Play(Black, q); err != nil {
		t.Fatal(err)
	}
}

func TestCoordinates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		gtp  string
		x, y int
		p    Point
		sgf  string
	}{
		{"A1", 19, 19, Point{0, 18}, "as"},
		{"Q16", 19, 19, Point{15, 3}, "pd"},
		{"T19", 19, 19, Point{18, 0}, "sa"},
		{"J10", 19, 19, Point{8, 9}, "ij"},
		{"H8", 9, 9, Point{7, 1}, "hb"},
		{"L3", 13, 9, Point{10, 6}, "kg"},
	}
	for _, tt := range tests {
		t.Run(tt.gtp, func(t *testing.T) {
			t.Parallel()
			p, pass, err := ParseGTP(tt.gtp, tt.x, tt.y)
			if err != nil || pass || p != tt.p {
				t.Fatalf("ParseGTP(%q) = %v, %v, %v; want %v", tt.gtp, p, pass, err, tt.p)
			}
			if got := p.GTP(tt.y); got != tt.gtp {
				t.Errorf("GTP = %q, want %q", got, tt.gtp)
			}
			if got := p.SGF(); got != tt.sgf {
				t.Errorf("SGF = %q, want %q", got, tt.sgf)
			}
			q, pass, err := ParseSGFPoint(tt.sgf, tt.x, tt.y)
			if err != nil || pass || q != tt.p {
				t.Errorf("ParseSGFPoint(%q) = %v, %v, %v", tt.sgf, q, pass, err)
			}
		})
	}
	for _, bad := range []string{"I5", "A0", "A20", "U1", "", "5A", "A+1", "resign", "(19,0)", "(1,2", "(a,b)", "(-1,0)"} {
		if _, _, err := ParseGTP(bad, 19, 19); err == nil {
			t.Errorf("ParseGTP(%q) should fail", bad)
		}
	}
	if p, pass, err := ParseGTP("(3,0)", 19, 19); err != nil || pass || p != (Point{3, 0}) {
		t.Errorf("ParseGTP((3,0)) = %v, %v, %v; want D19", p, pass, err)
	}
	for _, pass := range []string{"pass", "PASS", " Pass ", "pss"} {
		if _, ok, err := ParseGTP(pass, 19, 19); err != nil || !ok {
			t.Errorf("ParseGTP(%q) should be a pass", pass)
		}
	}
	if _, pass, err := ParseSGFPoint("tt", 19, 19); err != nil || !pass {
		t.Error("tt is a pass on 19x19")
	}
	if _, _, err := ParseSGFPoint("jj", 9, 9); !errors.Is(err, ErrOffBoard) {
		t.Errorf("jj on 9x9: %v", err)
	}
}

// TestBoardPlayTolerant replays moves as KataGo replays a query's: only an occupied or
// off-board point is refused; ko retakes and suicides are played.
func TestBoardPlayTolerant(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		board          []string
		c              Color
		gtp            string
		captured, lost int
		err            error
		want           []string
	}{
		{"capture", []string{".O...", "OX...", ".O...", "....."}, White, "C3", 1, 0, nil,
			[]string{".O...", "O.O..", ".O...", "....."}},
		{"single-stone suicide removes the stone", []string{".O...", "O....", ".....", "....."}, Black, "A4", 0, 1, nil,
			[]string{".O...", "O....", ".....", "....."}},
		{"group suicide removes the group", []string{"XO...", ".O...", "O....", "....."}, Black, "A3", 0, 2, nil,
			[]string{".O...", ".O...", "O....", "....."}},
		{"occupied", []string{"X....", ".....", ".....", "....."}, White, "A4", 0, 0, ErrOccupied,
			[]string{"X....", ".....", ".....", "....."}},
		{"off the board", []string{".....", ".....", ".....", "....."}, White, "(5,0)", 0, 0, ErrOffBoard,
			[]string{".....", ".....", ".....", "....."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setupBoard(t, "japanese", tt.board...)
			p, _, err := ParseGTP(tt.gtp, 5, 4)
			if err != nil {
				p = Point{X: 5, Y: 0}
			}
			captured, lost, err := b.PlayTolerant(tt.c, p)
			if !errors.Is(err, tt.err) || captured != tt.captured || lost != tt.lost {
				t.Errorf("PlayTolerant = %d, %d, %v; want %d, %d, %v", captured, lost, err, tt.captured, tt.lost, tt.err)
			}
			if diff := cmp.Diff(tt.want, diagram(b)); diff != "" {
				t.Errorf("board (-want +got):\n%s", diff)
			}
		})
	}
	// A ko retake, refused by Play, is replayed.
	b := setupBoard(t, "japanese", ".XO..", "XO.O.", ".XO..", ".....")
	if _, err := b.Play(Black, Point{2, 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Clone().Play(White, Point{1, 1}); !errors.Is(err, ErrKo) {
		t.Fatalf("the retake is not a ko: %v", err)
	}
	if b.Legal(White, Point{1, 1}) {
		t.Error("Legal allows the ko retake")
	}
	if c, _, err := b.PlayTolerant(White, Point{1, 1}); err != nil || c != 1 {
		t.Errorf("PlayTolerant of the retake = %d, %v", c, err)
	}
}

// TestBoardLegalAgreesWithPlay checks Legal against Play on every point of positions
// with captures, suicides and a ko, under rules with and without suicide and superko.
func TestBoardLegalAgreesWithPlay(t *testing.T) {
	t.Parallel()
	rows := []string{".XO.X", "XO.OX", ".XOX.", "OOX.O", "X.O.."}
	for _, rules := range []string{"japanese", "tromp-taylor", "new-zealand"} {
		t.Run(rules, func(t *testing.T) {
			t.Parallel()
			b := setupBoard(t, rules, rows...)
			for _, c := range []Color{Black, White} {
				for y := range 5 {
					for x := range 5 {
						p := Point{x, y}
						_, err := b.Clone().Play(c, p)
						if got := b.Legal(c, p); got != (err == nil) {
							t.Errorf("%v at %s: Legal %v, Play %v", c, p.GTP(5), got, err)
						}
					}
				}
			}
		})
	}
}

func TestBoardGroup(t *testing.T) {
	t.Parallel()
	b := setupBoard(t, "japanese", "XX...", "XO...", ".....", ".....")
	tests := []struct {
		p         Point
		stones    int
		liberties int
	}{{Point{0, 0}, 3, 2}, {Point{1, 1}, 1, 2}, {Point{4, 3}, 0, 0}}
	for _, tt := range tests {
		stones, libs := b.Group(tt.p)
		if len(stones) != tt.stones || libs != tt.liberties {
			t.Errorf("Group(%v) = %d stones, %d liberties; want %d, %d", tt.p, len(stones), libs, tt.stones, tt.liberties)
		}
	}
}

func BenchmarkBoardPlay(b *testing.B) {
	moves := randomGame(b, 7, 19, 300, "japanese")
	r, _ := LookupRules("japanese")
	b.ReportAllocs()
	for b.Loop() {
		bd := NewBoard(19, 19)
		bd.SetRules(r)
		for _, m := range moves {
			if m.Pass {
				bd.Pass(m.Color)
				continue
			}
			if _, err := bd.Play(m.Color, m.Point); err != nil {
				b.Fatal(err)
			}
		}
	}
}
