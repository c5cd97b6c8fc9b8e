package game

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// standardProps are the properties of the SGF FF[4] specification for Go and those that
// carry the analysis for KaTrain, Lizzie and Sabaki; Annotate may add no other.
var standardProps = map[string]bool{}

func init() {
	for _, id := range strings.Fields(`AB AE AN AP AR AS AW B BL BM BR BT C CA CP CR DD DM DO DT EV FF FG GC GM GN
		GW HA HO IP IT IY KM KO LB LN MA MN N OB ON OT OW PB PC PL PM PW RE RO RU SE SL SO SQ ST SU SZ TB TE TM TR
		TW UC US V VW W WL WR WT KT KTV LZ SBKV SBKS`) {
		standardProps[id] = true
	}
}

// propIDs returns every property name used anywhere in the trees.
func propIDs(trees []*Node) map[string]bool {
	ids := map[string]bool{}
	stack := slices.Clone(trees)
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, p := range n.Props {
			ids[p.ID] = true
		}
		stack = append(stack, n.Children...)
	}
	return ids
}

// checkAnnotated parses the annotated SGF back and checks what every annotation must keep:
// the same game on the main line, only standard properties added, CA[UTF-8] in every tree.
func checkAnnotated(t *testing.T, rec *Record, out []byte) *Record {
	t.Helper()
	back, err := ParseSGF(out, ParseOptions{MaxBytes: 64 << 20, MaxNodes: 1 << 30, MaxMoves: 1 << 30})
	if err != nil {
		t.Fatalf("the annotated SGF does not parse: %v\n%s", err, out[:min(len(out), 2000)])
	}
	if diff := cmp.Diff(rec.Game, back.Game); diff != "" {
		t.Errorf("the annotated main line changed the game (-want +got):\n%s", diff)
	}
	for i, root := range back.Trees {
		if got := root.Values("CA"); len(got) != 1 || got[0] != "UTF-8" {
			t.Errorf("tree %d has CA%q, want [UTF-8]", i+1, got)
		}
	}
	before := propIDs(rec.Trees)
	for id := range propIDs(back.Trees) {
		if !before[id] && !standardProps[id] {
			t.Errorf("Annotate added the non-standard property %s", id)
		}
	}
	return back
}

// TestAnnotateTranscript annotates a game with KataGo's real answers.
func TestAnnotateTranscript(t *testing.T) {
	t.Parallel()
	q, _ := transcript(t, "01-basic-multi-turn.jsonl", "g1")
	text := strings.Replace(sgfForQuery(t, q), "RU[chinese]", "RU[chinese]PB[alice]PW[bob]C[an old comment]", 1)
	rec, err := ParseSGF([]byte(text), ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, turns, _ := transcriptTurns(t, "01-basic-multi-turn.jsonl", "g1")
	out, err := Annotate(rec, turns, AnnotateOptions{Variations: 2})
	if err != nil {
		t.Fatal(err)
	}
	back := checkAnnotated(t, rec, out)

	root := back.Line[0]
	c, _ := root.Get("C")
	for _, want := range []string{"an old comment\n\nReviewed by KataGo (tesuji)", "Black (alice): 5 moves", "White (bob): 5 moves",
		"KataGo, before the first move: Black 49.7%, even (30 visits)"} {
		if !strings.Contains(c, want) {
			t.Errorf("root comment lacks %q:\n%s", want, c)
		}
	}
	// Move 4 (W D16) was answered at turn 3 with D17 on top.
	c4, _ := back.Line[4].Get("C")
	for _, want := range []string{"KataGo after move 4 (W D16): Black 50.6%, B+0.1 (30 visits)",
		"Point loss: 0.1 (good)", "KataGo's best move: D17"} {
		if !strings.Contains(c4, want) {
			t.Errorf("move 4 comment lacks %q:\n%s", want, c4)
		}
	}
	if ma, _ := back.Line[4].Get("MA"); ma != "dc" {
		t.Errorf("move 4 MA = %q, want dc (D17)", ma)
	}
	// Move 4's parent holds the played move and two of KataGo's lines for turn 3.
	kids := back.Line[3].Children
	if len(kids) != 3 {
		t.Fatalf("move 3 has %d children, want the game and 2 variations", len(kids))
	}
	if v, _ := kids[1].Get("W"); v != "dc" {
		t.Errorf("the first variation starts with W[%s], want W[dc] (D17)", v)
	}
	if c, _ := kids[1].Get("C"); !strings.HasPrefix(c, "KataGo candidate D17: Black ") {
		t.Errorf("variation comment %q", c)
	}
	if v, _ := kids[1].Children[0].Get("B"); v == "" {
		t.Error("the variation should continue with Black's reply")
	}

	// Annotate leaves the record as it was: a second run writes the same bytes.
	again, err := Annotate(rec, turns, AnnotateOptions{Variations: 2})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, again) {
		t.Error("Annotate changed the record it was given")
	}
	if c, _ := rec.Line[0].Get("C"); c != "an old comment" {
		t.Errorf("the record's root comment became %q", c)
	}
}

// TestAnnotateMarks checks the mistake marks, a negative loss and the variation setting on
// synthetic analyses of the Sabaki record (which has variations of its own).
func TestAnnotateMarks(t *testing.T) {
	t.Parallel()
	rec, err := ParseSGF(readTestdata(t, "sabaki.sgf"), ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	g := rec.Game // B ee W cg B gc W cc B dc W cd B gg W ge B he
	leads := []float64{0, 0, 13, 7, 7, 4, 2.5, 2.5, 2.5, 2.5}
	top := []string{"E5", "D5", "A9", "A1", "G7", "G7", "A1", "A2", "A3", "A4"}
	turns := syntheticTurns(g, leads, top)
	for i := range turns {
		turns[i].Candidates[0].PV = []string{top[i], "J9", "J8"}
	}
	tests := []struct {
		name   string
		opt    AnnotateOptions
		kidsAt int // children of the node before move 3 (the game, Sabaki's, ours)
	}{
		{"default variations", AnnotateOptions{}, 2},
		{"no variations", AnnotateOptions{Variations: -1}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, err := Annotate(rec, turns, tt.opt)
			if err != nil {
				t.Fatal(err)
			}
			back := checkAnnotated(t, rec, out)
			// Move 2 (W C3) lost 13: a blunder.
			if bm, _ := back.Line[2].Get("BM"); bm != "2" {
				t.Errorf("move 2 BM = %q, want 2", bm)
			}
			// Move 3 (B G7) lost 6: a mistake.
			if bm, _ := back.Line[3].Get("BM"); bm != "1" {
				t.Errorf("move 3 BM = %q, want 1", bm)
			}
			// Move 5 (B D7) lost 3: an inaccuracy.
			if !back.Line[5].Has("DO") {
				t.Error("move 5 has no DO")
			}
			// Move 6 (W C6) gained 1.5.
			if c, _ := back.Line[6].Get("C"); !strings.Contains(c, "Point loss: none, gained 1.5 on KataGo's estimate (good)") {
				t.Errorf("move 6 comment:\n%s", c)
			}
			// Sabaki's own variations stay after the main line at move 4's parent.
			if n := len(back.Line[3].Children); n != 3+tt.kidsAt-1 {
				t.Errorf("the node before move 4 has %d children, want %d", n, 3+tt.kidsAt-1)
			}
			if c, _ := back.Line[3].Children[1].Get("C"); c != "first variation" {
				t.Errorf("Sabaki's first variation moved: %q", c)
			}
			if c, _ := back.Line[4].Get("C"); !strings.HasPrefix(c, "main line\n\nKataGo after move 4") {
				t.Errorf("move 4 comment does not keep the original first:\n%s", c)
			}
		})
	}
}

// TestAnnotateRecords annotates every testdata record that parses, without analyses and
// with a full synthetic one, and checks the result parses back to the same game.
func TestAnnotateRecords(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"ogs.sgf", "kgs.sgf", "tygem.sgf", "fox.sgf", "fox_handicap.sgf", "handicap.sgf",
		"setup_second_node.sgf", "passes.sgf", "multi.sgf", "ff3_lowercase.sgf", "crlf.sgf", "empty_game.sgf",
		"rect.sgf", "bom_text.sgf", "ko_threat.sgf", "suicide_nz.sgf"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rec, err := ParseSGF(readTestdata(t, name), ParseOptions{})
			if err != nil {
				t.Fatal(err)
			}
			out, err := Annotate(rec, nil, AnnotateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			checkAnnotated(t, rec, out)

			g := rec.Game
			leads := make([]float64, len(g.Moves)+1)
			top := make([]string, len(g.Moves)+1)
			for i := range leads {
				leads[i] = float64(i%5) - 2
				top[i] = "pass"
			}
			out, err = Annotate(rec, syntheticTurns(g, leads, top), AnnotateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			back := checkAnnotated(t, rec, out)
			if len(back.Trees) != len(rec.Trees) {
				t.Errorf("%d game trees written, the record has %d", len(back.Trees), len(rec.Trees))
			}
		})
	}
}

// TestAnnotateCharset checks that a GB2312 collection comes out as UTF-8 with CA[UTF-8] in
// every tree, and that the record keeps its own CA.
func TestAnnotateCharset(t *testing.T) {
	t.Parallel()
	data, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(
		"(;GM[1]FF[4]CA[gb2312]SZ[19]KM[7.5]RU[Chinese]PB[柯洁]C[开局];B[pd]C[好棋];W[dd])" +
			"(;CA[GB2312]SZ[19]PW[古力];B[dd])(;SZ[19];B[pp])"))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := ParseSGF(data, ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := Annotate(rec, nil, AnnotateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"CA[UTF-8]", "PB[柯洁]", "C[好棋]", "PW[古力]"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}
	if bytes.Contains(bytes.ToLower(out), []byte("gb2312")) {
		t.Errorf("output still declares gb2312:\n%s", out)
	}
	checkAnnotated(t, rec, out)
	if got := rec.Trees[1].Values("CA"); len(got) != 1 || got[0] != "GB2312" {
		t.Errorf("the record's second tree has CA%q, want [GB2312] as it was", got)
	}
}

// TestAnnotateDeepVariation writes a 100,000-deep side variation back without recursion.
func TestAnnotateDeepVariation(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("(;GM[1]SZ[19]KM[6.5]RU[Japanese];B[pd](;W[dp])")
	const depth = 100_000
	for i := range depth {
		if i%2 == 0 {
			b.WriteString("(;W[]")
		} else {
			b.WriteString("(;B[]")
		}
	}
	b.WriteString(strings.Repeat(")", depth) + ")")
	rec, err := ParseSGF([]byte(b.String()), ParseOptions{MaxNodes: 200_000})
	if err != nil {
		t.Fatal(err)
	}
	out, err := Annotate(rec, nil, AnnotateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	back := checkAnnotated(t, rec, out)
	_ = back
	deep, err := ParseSGF(out, ParseOptions{MaxNodes: 200_000, MaxMoves: 200_000, Path: []int{1}})
	if err != nil {
		t.Fatal(err)
	}
	if len(deep.Game.Moves) != depth+1 {
		t.Errorf("the deep variation has %d moves after the round trip, want %d", len(deep.Game.Moves), depth+1)
	}
}

func TestWriteSGFEscapes(t *testing.T) {
	t.Parallel()
	trees := []*Node{{Props: []Property{{ID: "C", Values: []string{`a ] b \ c`}}, {ID: "AB", Values: []string{"aa", "bb"}}},
		Children: []*Node{
			{Props: []Property{{ID: "B", Values: []string{"cc"}}}},
			{Props: []Property{{ID: "B", Values: []string{""}}}},
		}}}
	want := "(;C[a \\] b \\\\ c]AB[aa][bb]\n(;B[cc])\n(;B[]))\n"
	if got := string(WriteSGF(trees)); got != want {
		t.Errorf("WriteSGF = %q, want %q", got, want)
	}
}
