package game

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tesuji/tesuji/katago"
)

func TestRecordText(t *testing.T) {
	t.Parallel()
	rec, err := ParseSGF([]byte(`(;GM[1]FF[4]SZ[9]KM[7]RU[Chinese]C[A friendly game]
		;B[ee]C[center first](;W[cc]C[solid];C[a note];B[gg])
		(;W[gc]C[the other corner];B[ee]C[illegal: occupied];W[cg]))`), ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"A friendly game", "center first", "solid\na note", ""}, rec.Comments()); diff != "" {
		t.Errorf("comments (-want +got):\n%s", diff)
	}
	want := []RecordVariation{{At: 1, Moves: []katago.Move{{"W", "G7"}}, Comments: []string{"the other corner"}}}
	if diff := cmp.Diff(want, rec.RecordVariations()); diff != "" {
		t.Errorf("variations (-want +got):\n%s", diff)
	}
}

// branchedRecord writes the SGF record of a game (root properties, then main) with, at
// each turn t of branches (t < len(main)), the variations branches[t] as siblings of the
// node of main[t]. comment, when not nil, gives the comment of move j of a variation.
func branchedRecord(root string, main []Move, branches map[int][][]Move, comment func(j int) string) string {
	write := func(b *strings.Builder, m Move) {
		v := ""
		if !m.Pass {
			v = m.Point.SGF()
		}
		fmt.Fprintf(b, ";%s[%s]", m.Color, v)
	}
	var b strings.Builder
	b.WriteString("(;" + root)
	for i, m := range main {
		if branches[i] != nil {
			b.WriteString("(")
		}
		b.WriteString("\n")
		write(&b, m)
	}
	for i := len(main) - 1; i >= 0; i-- {
		if branches[i] == nil {
			continue
		}
		b.WriteString(")")
		for _, v := range branches[i] {
			b.WriteString("\n(")
			for j, m := range v {
				write(&b, m)
				if comment != nil && comment(j) != "" {
					b.WriteString("C[" + comment(j) + "]")
				}
			}
			b.WriteString(")")
		}
	}
	b.WriteString(")\n")
	return b.String()
}

// TestRecordVariationsLegalStart checks on random branches, illegal moves among them,
// that each variation keeps the moves before the first one Game.Branch refuses.
func TestRecordVariationsLegalStart(t *testing.T) {
	t.Parallel()
	for seed := range uint64(24) {
		rules := []string{"japanese", "chinese", "tromp-taylor"}[seed%3]
		size := []int{5, 9, 19}[seed%3]
		t.Run(fmt.Sprintf("seed %d %s %dx%d", seed, rules, size, size), func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(seed, 1))
			main := randomGame(t, seed, size, 3*size, rules)
			g := NewGame(size, size, rules, 7.5, main...)
			branches := map[int][][]Move{}
			for range 40 {
				at := rng.IntN(len(main))
				c := g.ToMove(at)
				var v []Move
				for range 1 + rng.IntN(2*size) {
					m := Move{Color: c, Point: Point{X: rng.IntN(size), Y: rng.IntN(size)}, Pass: rng.IntN(10) == 0}
					if m.Pass {
						m.Point = Point{}
					}
					v = append(v, m)
					if rng.IntN(10) > 0 { // now and then a player moves twice
						c = c.Opponent()
					}
				}
				branches[at] = append(branches[at], v)
			}
			comment := func(j int) string {
				if j%3 == 1 {
					return fmt.Sprintf("note %d", j)
				}
				return ""
			}
			rec, err := ParseSGF([]byte(branchedRecord("SZ["+fmt.Sprint(size)+"]KM[7.5]RU["+rules+"]", main, branches, comment)),
				ParseOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var want []RecordVariation
			for at := range main {
				for _, v := range branches[at] {
					rv := RecordVariation{At: at}
					for j, m := range v {
						rv.Moves = append(rv.Moves, katago.Move{m.Color.String(), m.GTP(size)})
						if _, err := g.Branch(at, rv.Moves); err != nil {
							rv.Moves = rv.Moves[:j]
							break
						}
						rv.Comments = append(rv.Comments, comment(j))
					}
					if strings.Join(rv.Comments, "") == "" {
						rv.Comments = nil
					}
					if len(rv.Moves) > 0 {
						want = append(want, rv)
					}
				}
			}
			if diff := cmp.Diff(want, rec.RecordVariations()); diff != "" {
				t.Errorf("variations (-want +got):\n%s", diff)
			}
		})
	}
}

// passesThenOccupied returns a record of a 19x19 game of n moves with the given number of
// variations from its last move, each m passes and then a move on an occupied point.
func passesThenOccupied(tb testing.TB, n, variations, m int) *Record {
	tb.Helper()
	main := randomGame(tb, 1, 19, n, "tromp-taylor")
	b, err := NewGame(19, 19, "tromp-taylor", 7.5, main...).Board(n)
	if err != nil {
		tb.Fatal(err)
	}
	occupied := Point{}
	for i := 0; i < 19*19 && b.At(occupied) == Empty; i++ {
		occupied = Point{X: i % 19, Y: i / 19}
	}
	var v []Move
	c := main[n-1].Color
	for range m {
		v = append(v, Move{Color: c, Pass: true})
		c = c.Opponent()
	}
	v = append(v, Move{Color: c, Point: occupied})
	branches := map[int][][]Move{n - 1: slices.Repeat([][]Move{v}, variations)}
	rec, err := ParseSGF([]byte(branchedRecord("SZ[19]KM[7.5]RU[tromp-taylor]", main, branches, nil)), ParseOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	return rec
}

// TestRecordVariationsReplayOnce checks that RecordVariations replays the game once, not
// once for every move of a branch: its allocations grow with the moves of the branches,
// not with their square or with the game's length. Not parallel: AllocsPerRun counts the
// allocations of every goroutine.
func TestRecordVariationsReplayOnce(t *testing.T) {
	const variations, moves = 100, maxRecordVariationMoves - 1
	rec := passesThenOccupied(t, 1000, variations, moves)
	var got []RecordVariation
	allocs := testing.AllocsPerRun(1, func() { got = rec.RecordVariations() })
	if len(got) != variations || len(got[0].Moves) != moves {
		t.Fatalf("%d variations of %d moves, want %d of %d", len(got), len(got[0].Moves), variations, moves)
	}
	if perMove := allocs / (variations * moves); perMove > 10 {
		t.Errorf("RecordVariations made %.0f allocations, %.1f for each move of a branch; want at most 10", allocs, perMove)
	}
}
