package enginetest

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
)

// This file is the little Go the fake needs: KataGo's location syntax, stones, captures,
// and the position hashes KataGo reports. It is deliberately small; the game package owns
// the rules tesuji itself enforces.

type color int8

const (
	empty color = iota
	black
	white
)

func (c color) opp() color { return 3 - c }

func (c color) String() string {
	if c == white {
		return "W"
	}
	return "B"
}

// parsePlayer accepts what KataGo's PlayerIO::tryParsePlayer accepts.
func parsePlayer(s string) (color, bool) {
	switch strings.ToLower(s) {
	case "b", "black":
		return black, true
	case "w", "white":
		return white, true
	}
	return empty, false
}

const passLoc = -1

// parseLoc reads a location as KataGo's Location::tryOfString does: GTP letters without
// I (extended to two letters past Z), "(x,y)", or pass. It returns the point index, or
// passLoc.
func parseLoc(str string, w, h int) (int, bool) {
	s := strings.TrimSpace(str)
	if len(s) < 2 {
		return 0, false
	}
	if strings.EqualFold(s, "pass") || strings.EqualFold(s, "pss") {
		return passLoc, true
	}
	if s[0] == '(' {
		if s[len(s)-1] != ')' {
			return 0, false
		}
		parts := strings.Split(s[1:len(s)-1], ",")
		if len(parts) != 2 {
			return 0, false
		}
		x, err1 := strconv.Atoi(strings.TrimSpace(parts[0]))
		y, err2 := strconv.Atoi(strings.TrimSpace(parts[1]))
		if err1 != nil || err2 != nil || x < 0 || y < 0 || x >= w || y >= h {
			return 0, false
		}
		return y*w + x, true
	}
	x, ok := letterCoord(s[0])
	if !ok {
		return 0, false
	}
	rest := s[1:]
	if c := s[1]; 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' {
		x1, ok := letterCoord(c)
		if !ok {
			return 0, false
		}
		x = (x+1)*25 + x1
		rest = s[2:]
	}
	row, err := strconv.Atoi(strings.TrimSpace(rest))
	if err != nil {
		return 0, false
	}
	y := h - row
	if x < 0 || y < 0 || x >= w || y >= h {
		return 0, false
	}
	return y*w + x, true
}

func letterCoord(c byte) (int, bool) {
	switch {
	case 'A' <= c && c <= 'H':
		return int(c - 'A'), true
	case 'a' <= c && c <= 'h':
		return int(c - 'a'), true
	case 'J' <= c && c <= 'Z':
		return int(c-'A') - 1, true
	case 'j' <= c && c <= 'z':
		return int(c-'a') - 1, true
	}
	return 0, false
}

const columns = "ABCDEFGHJKLMNOPQRSTUVWXYZ"

// locString writes a point as KataGo's Location::toString does.
func locString(loc, w, h int) string {
	if loc == passLoc {
		return "pass"
	}
	x, y := loc%w, loc/w
	if x <= 24 {
		return fmt.Sprintf("%c%d", columns[x], h-y)
	}
	return fmt.Sprintf("%c%c%d", columns[x/25-1], columns[x%25], h-y)
}

// board is a position: w*h points, row-major from the top-left (A19 on 19x19).
type board struct {
	w, h   int
	pts    []color
	toMove color
	// captures counts stones each color has captured, by color index.
	captures [3]int
}

func newBoard(w, h int) *board {
	return &board{w: w, h: h, pts: make([]color, w*h), toMove: black}
}

func (b *board) clone() *board {
	c := *b
	c.pts = append([]color(nil), b.pts...)
	return &c
}

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

// group returns the stones connected to loc and whether they have a liberty.
func (b *board) group(loc int) ([]int, bool) {
	c := b.pts[loc]
	seen := make([]bool, len(b.pts))
	seen[loc] = true
	stack := []int{loc}
	var stones []int
	libs := false
	for len(stack) > 0 {
		p := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		stones = append(stones, p)
		b.neighbors(p, func(n int) {
			switch {
			case b.pts[n] == empty:
				libs = true
			case b.pts[n] == c && !seen[n]:
				seen[n] = true
				stack = append(stack, n)
			}
		})
	}
	return stones, libs
}

// play makes a move the way KataGo replays a query's moves (makeBoardMoveTolerant): an
// occupied point is illegal; ko and suicide are allowed, suicide removing the group.
func (b *board) play(loc int, c color) bool {
	if loc == passLoc {
		b.toMove = c.opp()
		return true
	}
	if b.pts[loc] != empty {
		return false
	}
	b.pts[loc] = c
	b.neighbors(loc, func(n int) {
		if b.pts[n] == c.opp() {
			if stones, libs := b.group(n); !libs {
				for _, s := range stones {
					b.pts[s] = empty
				}
				b.captures[c] += len(stones)
			}
		}
	})
	if stones, libs := b.group(loc); !libs {
		for _, s := range stones {
			b.pts[s] = empty
		}
		b.captures[c.opp()] += len(stones)
	}
	b.toMove = c.opp()
	return true
}

// legal reports whether c may play loc: empty and not suicide.
func (b *board) legal(loc int, c color) bool {
	if b.pts[loc] != empty {
		return false
	}
	libs := false
	b.neighbors(loc, func(n int) {
		if b.pts[n] == empty {
			libs = true
		}
	})
	if libs {
		return true
	}
	t := b.clone()
	t.play(loc, c)
	return t.pts[loc] == c
}

func (b *board) count(c color) int {
	n := 0
	for _, p := range b.pts {
		if p == c {
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
	buf := make([]byte, len(b.pts)+3)
	for i, p := range b.pts {
		buf[m[i]] = byte(p)
	}
	buf[len(b.pts)] = byte(b.w)
	buf[len(b.pts)+1] = byte(b.h)
	buf[len(b.pts)+2] = byte(b.toMove)
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
		for i, p := range b.pts {
			if b.pts[m[i]] != p {
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
