package game

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tesuji/tesuji/katago"
	katagotranscript "github.com/tesuji/tesuji/katago/transcript"
)

// transcript returns the final responses KataGo wrote for the query with this id in one
// recorded session (named by its file or a prefix of it), and the query itself.
func transcript(t testing.TB, file, id string) (katago.Query, []*katago.Response) {
	t.Helper()
	lines := katagotranscript.Load(t, strings.TrimSuffix(file, ".jsonl"))
	var q katago.Query
	for _, l := range katagotranscript.Select(lines, "in") {
		var in katago.Query
		if json.Unmarshal([]byte(l), &in) == nil && in.ID == id {
			q = in
		}
	}
	var out []*katago.Response
	for _, l := range katagotranscript.Select(lines, "out") {
		var r katago.Response
		if err := json.Unmarshal([]byte(l), &r); err != nil || r.ID != id || r.TurnNumber == nil {
			continue
		}
		if r.IsDuringSearch != nil && *r.IsDuringSearch {
			continue
		}
		out = append(out, &r)
	}
	if q.ID == "" || len(out) == 0 {
		t.Fatalf("%s has no query or result %q", file, id)
	}
	return q, out
}

// seq reads moves written "B pd W dp B pass" (SGF points) on a board of the given size.
func seq(t testing.TB, x, y int, s string) []Move {
	t.Helper()
	f := strings.Fields(s)
	var ms []Move
	for i := 0; i+1 < len(f); i += 2 {
		c, err := ParseColor(f[i])
		if err != nil {
			t.Fatal(err)
		}
		if f[i+1] == "pass" {
			ms = append(ms, Move{Color: c, Pass: true})
			continue
		}
		p, _, err := ParseSGFPoint(f[i+1], x, y)
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, Move{Color: c, Point: p})
	}
	return ms
}

// stones reads setup stones written "B dd B pp W dp".
func stones(t testing.TB, x, y int, s string) []Stone {
	t.Helper()
	var out []Stone
	for _, m := range seq(t, x, y, s) {
		out = append(out, Stone{Color: m.Color, Point: m.Point})
	}
	return out
}

// randomGame plays n legal moves (random, never filling a one-point eye of the mover,
// passing when nothing else is left) on a size x size board under the given rules.
func randomGame(t testing.TB, seed uint64, size, n int, rules string) []Move {
	t.Helper()
	r, ok := LookupRules(rules)
	if !ok {
		t.Fatalf("unknown rules %q", rules)
	}
	b := NewBoard(size, size)
	b.SetRules(r)
	rng := rand.New(rand.NewPCG(seed, 0))
	moves := make([]Move, 0, n)
	c := Black
	order := make([]int, size*size)
	for i := range order {
		order[i] = i
	}
	for len(moves) < n {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		played := false
		for _, i := range order {
			p := Point{X: i % size, Y: i / size}
			if b.At(p) != Empty || ownEye(b, p, c) {
				continue
			}
			if _, err := b.Play(c, p); err == nil {
				moves = append(moves, Move{Color: c, Point: p})
				played = true
				break
			}
		}
		if !played {
			b.Pass(c)
			moves = append(moves, Move{Color: c, Pass: true})
		}
		c = c.Opponent()
	}
	return moves
}

func ownEye(b *Board, p Point, c Color) bool {
	for _, d := range []Point{{-1, 0}, {1, 0}, {0, -1}, {0, 1}} {
		q := Point{X: p.X + d.X, Y: p.Y + d.Y}
		if b.OnBoard(q) && b.At(q) != c {
			return false
		}
	}
	return true
}

// sgfText writes a record of the moves after the given root properties; comment, when
// not nil, gives each move's comment.
func sgfText(root string, moves []Move, comment func(i int) string) string {
	var b strings.Builder
	b.WriteString("(;" + root)
	for i, m := range moves {
		v := ""
		if !m.Pass {
			v = m.Point.SGF()
		}
		fmt.Fprintf(&b, "\n;%s[%s]", m.Color, v)
		if comment != nil {
			fmt.Fprintf(&b, "C[%s]", comment(i))
		}
	}
	b.WriteString(")\n")
	return b.String()
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}
