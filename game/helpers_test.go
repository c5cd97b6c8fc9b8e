package game

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tesuji/tesuji/engine"
)

// sharedDir returns ../shared beside the repository root (found by walking up to go.mod);
// CI clones it there, so its absence fails the test.
func sharedDir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
	shared := filepath.Join(filepath.Dir(dir), "shared")
	if _, err := os.Stat(shared); err != nil {
		t.Fatalf("the shared folder beside the repository is missing: %v", err)
	}
	return shared
}

// transcript returns the final responses KataGo wrote for the query with this id in one
// recorded session, and the query itself.
func transcript(t testing.TB, file, id string) (engine.Query, []*engine.Response) {
	t.Helper()
	f, err := os.Open(filepath.Join(sharedDir(t), "katago", "transcripts", file))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	var q engine.Query
	var out []*engine.Response
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), 16<<20)
	for sc.Scan() {
		var rec struct {
			Dir  string `json:"dir"`
			Line string `json:"line"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatal(err)
		}
		if rec.Dir == "in" {
			var in engine.Query
			if json.Unmarshal([]byte(rec.Line), &in) == nil && in.ID == id {
				q = in
			}
			continue
		}
		var r engine.Response
		if err := json.Unmarshal([]byte(rec.Line), &r); err != nil || r.ID != id || r.TurnNumber == nil {
			continue
		}
		if r.IsDuringSearch != nil && *r.IsDuringSearch {
			continue
		}
		out = append(out, &r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
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
