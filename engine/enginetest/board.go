package enginetest

import (
	"fmt"
	"hash/fnv"
	"strings"

	"github.com/tesuji/tesuji/game"
)

// This file adapts the game package's board, coordinates and colors to what the fake
// needs: point indexes, KataGo's tolerant replay of a query's moves, and the position
// hashes KataGo reports.

type color = game.Color

const (
	empty = game.Empty
	black = game.Black
	white = game.White
)

// parsePlayer accepts what KataGo's PlayerIO::tryParsePlayer accepts.
func parsePlayer(s string) (color, bool) {
	if t := strings.TrimSpace(s); t == "1" || t == "2" {
		return empty, false // game reads old SGF's digits too; KataGo does not
	}
	c, err := game.ParseColor(s)
	return c, err == nil
}

const passLoc = -1

// parseLoc reads a location as KataGo does and returns its point index, or passLoc.
func parseLoc(s string, w, h int) (int, bool) {
	p, pass, err := game.ParseGTP(s, w, h)
	switch {
	case err != nil:
		return 0, false
	case pass:
		return passLoc, true
	}
	return p.Y*w + p.X, true
}

// locString writes a point index as KataGo does.
func locString(loc, w, h int) string {
	if loc == passLoc {
		return "pass"
	}
	return game.Point{X: loc % w, Y: loc / w}.GTP(h)
}

// board is a position: w*h points, indexed row-major from the top-left (A19 on 19x19).
type board struct {
	g      *game.Board
	w, h   int
	toMove color
	// captures counts stones each color has captured, by color index.
	captures [3]int
}

func newBoard(w, h int) *board {
	return &board{g: game.NewBoard(w, h), w: w, h: h, toMove: black}
}

func (b *board) clone() *board {
	c := *b
	c.g = b.g.Clone()
	return &c
}

func (b *board) point(loc int) game.Point { return game.Point{X: loc % b.w, Y: loc / b.w} }

// at returns the stone at loc.
func (b *board) at(loc int) color { return b.g.At(b.point(loc)) }

// set puts a stone without captures, for initial stones.
func (b *board) set(loc int, c color) { _ = b.g.Set(b.point(loc), c) } // loc is on the board

func (b *board) neighbors(loc int, f func(int)) {
	x, y := loc%b.w, loc/b.w
	if x > 0 {
		f(loc - 1)
	}
	if x < b.w-1 {
		f(loc + 1)
	}
	if y > 0 {
		f(loc - b.w)
	}
	if y < b.h-1 {
		f(loc + b.w)
	}
}

// group returns the stones connected to loc and their number of liberties.
func (b *board) group(loc int) ([]int, int) {
	pts, libs := b.g.Group(b.point(loc))
	stones := make([]int, len(pts))
	for i, p := range pts {
		stones[i] = p.Y*b.w + p.X
	}
	return stones, libs
}

// play makes a move the way KataGo replays a query's moves: an occupied point is illegal;
// ko and suicide are allowed, suicide removing the group.
func (b *board) play(loc int, c color) bool {
	b.toMove = c.Opponent()
	if loc == passLoc {
		b.g.Pass(c)
		return true
	}
	captured, lost, err := b.g.PlayTolerant(c, b.point(loc))
	if err != nil {
		b.toMove = c
		return false
	}
	b.captures[c] += captured
	b.captures[c.Opponent()] += lost
	return true
}

// legal reports whether c may play loc: the candidates KataGo's search considers.
func (b *board) legal(loc int, c color) bool { return b.g.Legal(c, b.point(loc)) }

func (b *board) count(c color) int {
	n := 0
	for loc := range b.w * b.h {
		if b.at(loc) == c {
			n++
		}
	}
	return n
}

// symmetries returns the point maps of the board's symmetries (identity first): eight on
// a square board, four on a rectangle.
func (b *board) symmetries() [][]int {
	var out [][]int
	for s := 0; s < 8; s++ {
		transpose := s&4 != 0
		if transpose && b.w != b.h {
			continue
		}
		m := make([]int, b.w*b.h)
		for y := 0; y < b.h; y++ {
			for x := 0; x < b.w; x++ {
				nx, ny := x, y
				if s&1 != 0 {
					ny = b.h - 1 - ny
				}
				if s&2 != 0 {
					nx = b.w - 1 - nx
				}
				if transpose {
					nx, ny = ny, nx
				}
				m[y*b.w+x] = ny*b.w + nx
			}
		}
		out = append(out, m)
	}
	return out
}

// hashUnder returns a 128-bit hash of the position seen through symmetry m.
func (b *board) hashUnder(m []int) [16]byte {
	n := b.w * b.h
	buf := make([]byte, n+3)
	for i := range n {
		buf[m[i]] = byte(b.at(i))
	}
	buf[n] = byte(b.w)
	buf[n+1] = byte(b.h)
	buf[n+2] = byte(b.toMove)
	h := fnv.New128a()
	h.Write(buf)
	var out [16]byte
	copy(out[:], h.Sum(nil))
	return out
}

// hashes returns KataGo-style thisHash and symHash: symHash is the same for positions
// that are symmetric to each other.
func (b *board) hashes() (this, sym string) {
	syms := b.symmetries()
	th := b.hashUnder(syms[0])
	min := th
	for _, m := range syms[1:] {
		h := b.hashUnder(m)
		if string(h[:]) < string(min[:]) {
			min = h
		}
	}
	return fmt.Sprintf("%X", th), fmt.Sprintf("%X", min)
}

// invariants returns the non-identity symmetries that leave the stones in place.
func (b *board) invariants() [][]int {
	var out [][]int
	for _, m := range b.symmetries()[1:] {
		same := true
		for i := range b.w * b.h {
			if b.at(m[i]) != b.at(i) {
				same = false
				break
			}
		}
		if same {
			out = append(out, m)
		}
	}
	return out
}
