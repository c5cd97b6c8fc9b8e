package game

import (
	"fmt"
	"sync"
)

// MaxBoardSize is the largest board side KataGo analyzes.
const MaxBoardSize = 19

// Board is a Go position that plays moves by the rules of one ruleset: captures, occupied
// points, suicide (multi-stone suicide only where the ruleset allows it, single-stone suicide
// never, as in KataGo) and ko (simple ko, or positional or situational superko). It is
// meant to be kept by a long-lived caller (the GTP bridge keeps one per session): once its
// scratch buffers have grown, Play allocates only to grow the superko history, and undo is
// done with Clone or by replaying. A Board is not safe for concurrent use.
type Board struct {
	xsize, ysize int
	cells        []Color
	adj          *adjacency
	rules        Ruleset

	// koPoint is the point the player koColor may not play at once (-1: none), for simple ko.
	koPoint int
	koColor Color

	hash    uint64
	history map[uint64]struct{} // earlier positions (superko rules only)

	// Scratch space for flood fills: mark[i] == gen means visited in this fill.
	mark  []uint32
	gen   uint32
	stack []int
	group []int
	caps  []int
}

// adjacency lists the neighbours of each point of one board size (-1 pads edges).
type adjacency struct {
	n [][4]int
}

var adjacencies sync.Map // [2]int{x, y} -> *adjacency

func adjacencyFor(x, y int) *adjacency {
	key := [2]int{x, y}
	if a, ok := adjacencies.Load(key); ok {
		return a.(*adjacency)
	}
	a := &adjacency{n: make([][4]int, x*y)}
	for i := range a.n {
		px, py := i%x, i/x
		nb := [4]int{-1, -1, -1, -1}
		if px > 0 {
			nb[0] = i - 1
		}
		if px < x-1 {
			nb[1] = i + 1
		}
		if py > 0 {
			nb[2] = i - x
		}
		if py < y-1 {
			nb[3] = i + x
		}
		a.n[i] = nb
	}
	actual, _ := adjacencies.LoadOrStore(key, a)
	return actual.(*adjacency)
}

// zobrist holds the random keys of the position hash: one per color and point of the
// largest board, and one for "White to move" used by situational superko.
var zobrist = func() (z struct {
	stone [3][MaxBoardSize * MaxBoardSize]uint64
	white uint64
}) {
	// splitmix64 with a fixed seed: hashes are stable across runs and processes.
	s := uint64(0x7e5a1c0d3b9f2468)
	next := func() uint64 {
		s += 0x9e3779b97f4a7c15
		v := s
		v = (v ^ (v >> 30)) * 0xbf58476d1ce4e5b9
		v = (v ^ (v >> 27)) * 0x94d049bb133111eb
		return v ^ (v >> 31)
	}
	for c := 1; c <= 2; c++ {
		for i := range z.stone[c] {
			z.stone[c][i] = next()
		}
	}
	z.white = next()
	return z
}()

// NewBoard returns an empty board of x columns and y rows under DefaultRules (simple ko, no
// suicide); SetRules changes that. Sizes outside 1..MaxBoardSize are a programming error
// and panic, as make does for a negative length: validate them first (Game.Validate does).
func NewBoard(x, y int) *Board {
	if x < 1 || y < 1 || x > MaxBoardSize || y > MaxBoardSize {
		panic(fmt.Sprintf("game: NewBoard(%d, %d): sizes must be 1..%d", x, y, MaxBoardSize))
	}
	r, _ := LookupRules(DefaultRules)
	return &Board{
		xsize:   x,
		ysize:   y,
		cells:   make([]Color, x*y),
		adj:     adjacencyFor(x, y),
		rules:   r,
		koPoint: -1,
		mark:    make([]uint32, x*y),
	}
}

// SetRules sets the ruleset that Play follows from now on.
func (b *Board) SetRules(r Ruleset) {
	b.rules = r
	if r.Ko != KoSimple && b.history == nil {
		b.history = make(map[uint64]struct{})
	}
}

// Rules returns the ruleset Play follows.
func (b *Board) Rules() Ruleset { return b.rules }

// Size returns the number of columns and rows.
func (b *Board) Size() (x, y int) { return b.xsize, b.ysize }

// Hash returns a hash of the stones on the board (not of the player to move), the key that
// positional superko compares.
func (b *Board) Hash() uint64 { return b.hash }

// OnBoard reports whether p is a point of the board.
func (b *Board) OnBoard(p Point) bool {
	return p.X >= 0 && p.Y >= 0 && p.X < b.xsize && p.Y < b.ysize
}

// At returns the color of the stone at p, Empty when there is none or p is off the board.
func (b *Board) At(p Point) Color {
	if !b.OnBoard(p) {
		return Empty
	}
	return b.cells[p.Y*b.xsize+p.X]
}

// Clone returns an independent copy, for undo and for trying moves.
func (b *Board) Clone() *Board {
	c := *b
	c.cells = append([]Color(nil), b.cells...)
	c.mark = make([]uint32, len(b.mark))
	c.gen = 0
	c.stack, c.group, c.caps = nil, nil, nil
	if b.history != nil {
		c.history = make(map[uint64]struct{}, len(b.history))
		for k := range b.history {
			c.history[k] = struct{}{}
		}
	}
	return &c
}

// Set puts a stone of color c at p, or removes one with Empty, without captures: it builds
// an initial position (SGF's AB, AW and AE; KataGo's initialStones). It clears the ko and
// the superko history, which count from the position set up.
func (b *Board) Set(p Point, c Color) error {
	if !b.OnBoard(p) {
		return ErrOffBoard
	}
	i := p.Y*b.xsize + p.X
	if old := b.cells[i]; old != Empty {
		b.hash ^= zobrist.stone[old][i]
	}
	b.cells[i] = c
	if c != Empty {
		b.hash ^= zobrist.stone[c][i]
	}
	b.koPoint = -1
	if b.history != nil {
		clear(b.history)
	}
	return nil
}

// Pass records a pass by c: it ends a simple-ko ban, and under situational superko the
// position with the other player to move becomes part of the history.
func (b *Board) Pass(c Color) {
	b.koPoint = -1
	if b.history != nil {
		b.remember(b.hash, c)
		b.history[b.situationKey(b.hash, c.Opponent())] = struct{}{}
	}
}

// Play puts a stone of color c at p and removes the opponent stones left without
// liberties; it returns how many it captured. An illegal move (ErrOffBoard, ErrOccupied,
// ErrSuicide, ErrKo, ErrSuperko, ErrNoColor) leaves the board unchanged.
func (b *Board) Play(c Color, p Point) (captured int, err error) {
	if c != Black && c != White {
		return 0, ErrNoColor
	}
	if !b.OnBoard(p) {
		return 0, ErrOffBoard
	}
	i := p.Y*b.xsize + p.X
	if b.cells[i] != Empty {
		return 0, ErrOccupied
	}
	if b.rules.Ko == KoSimple && i == b.koPoint && c == b.koColor {
		return 0, ErrKo
	}
	opp := c.Opponent()

	b.findCaptures(i, opp)

	newHash := b.hash ^ zobrist.stone[c][i]
	for _, s := range b.caps {
		newHash ^= zobrist.stone[opp][s]
	}

	// Without captures, the stone needs a liberty of its own or through a friendly group.
	var suicide []int
	if len(b.caps) == 0 {
		lives, friends := false, false
		b.nextGen()
		b.group = b.group[:0]
		for _, n := range b.adj.n[i] {
			if n < 0 {
				continue
			}
			switch b.cells[n] {
			case Empty:
				lives = true
			case c:
				friends = true
				if b.mark[n] != b.gen {
					b.group, _ = b.collect(n, i, b.group)
				}
			}
		}
		if !lives && !(friends && b.libertyBesides(b.group, i)) {
			if !friends || !b.rules.Suicide {
				return 0, ErrSuicide
			}
			suicide = b.group
			newHash = b.hash
			for _, s := range suicide {
				newHash ^= zobrist.stone[c][s]
			}
		}
	}

	if b.history != nil {
		b.remember(b.hash, c)
		if _, seen := b.history[b.situationKey(newHash, opp)]; seen {
			return 0, ErrSuperko
		}
	}

	// The move is legal: apply it.
	b.cells[i] = c
	for _, s := range b.caps {
		b.cells[s] = Empty
	}
	for _, s := range suicide {
		b.cells[s] = Empty
	}
	if suicide != nil {
		b.cells[i] = Empty
	}
	b.hash = newHash
	b.koPoint = -1
	if len(b.caps) == 1 && suicide == nil && b.isLoneStoneInAtari(i, c) {
		b.koPoint, b.koColor = b.caps[0], opp
	}
	if b.history != nil {
		b.history[b.situationKey(newHash, opp)] = struct{}{}
	}
	return len(b.caps), nil
}

// remember records the position before a move by c (with c to move) the first time the
// history is used, so that returning to the starting position also counts.
func (b *Board) remember(hash uint64, toMove Color) {
	if len(b.history) == 0 {
		b.history[b.situationKey(hash, toMove)] = struct{}{}
	}
}

// situationKey is the key superko compares: the board alone for positional superko, the
// board and the player to move for situational superko.
func (b *Board) situationKey(hash uint64, toMove Color) uint64 {
	if (b.rules.Ko == KoSituational || b.rules.Ko == KoSpight) && toMove == White {
		return hash ^ zobrist.white
	}
	return hash
}

// isLoneStoneInAtari reports whether the stone at i (of color c) has no friendly neighbour
// and exactly one liberty, which makes its single capture a ko.
func (b *Board) isLoneStoneInAtari(i int, c Color) bool {
	libs := 0
	for _, n := range b.adj.n[i] {
		if n < 0 {
			continue
		}
		switch b.cells[n] {
		case c:
			return false
		case Empty:
			libs++
		}
	}
	return libs == 1
}

func (b *Board) nextGen() {
	b.gen++
	if b.gen == 0 {
		clear(b.mark)
		b.gen = 1
	}
}

// collect appends to dst the group containing n, marking it with the current generation.
// The point skip is treated as empty (the move being considered).
func (b *Board) collect(n, skip int, dst []int) ([]int, int) {
	color := b.cells[n]
	b.stack = append(b.stack[:0], n)
	b.mark[n] = b.gen
	count := 0
	for len(b.stack) > 0 {
		s := b.stack[len(b.stack)-1]
		b.stack = b.stack[:len(b.stack)-1]
		dst = append(dst, s)
		count++
		for _, m := range b.adj.n[s] {
			if m >= 0 && m != skip && b.mark[m] != b.gen && b.cells[m] == color {
				b.mark[m] = b.gen
				b.stack = append(b.stack, m)
			}
		}
	}
	return dst, count
}

// libertyBesides reports whether the stones have a liberty other than the point skip.
func (b *Board) libertyBesides(stones []int, skip int) bool {
	for _, s := range stones {
		for _, m := range b.adj.n[s] {
			if m >= 0 && m != skip && b.cells[m] == Empty {
				return true
			}
		}
	}
	return false
}

// groupWithoutLiberties returns a point of a group that has no liberty, if any; an initial
// position with such a group is not a legal position.
func (b *Board) groupWithoutLiberties() (Point, bool) {
	b.nextGen()
	for i, c := range b.cells {
		if c == Empty || b.mark[i] == b.gen {
			continue
		}
		b.group = b.group[:0]
		b.group, _ = b.collect(i, -1, b.group)
		if !b.libertyBesides(b.group, -1) {
			return Point{X: i % b.xsize, Y: i / b.xsize}, true
		}
	}
	return Point{}, false
}

// PlayTolerant plays c at p the way KataGo replays the moves of an analysis query
// (makeBoardMoveTolerant): an occupied or off-board point is refused, but ko and superko
// are not checked, and a suicide removes the suicided group, a single stone too. It
// returns the stones captured and the stones of c lost to suicide.
func (b *Board) PlayTolerant(c Color, p Point) (captured, lost int, err error) {
	if c != Black && c != White {
		return 0, 0, ErrNoColor
	}
	if !b.OnBoard(p) {
		return 0, 0, ErrOffBoard
	}
	i := p.Y*b.xsize + p.X
	if b.cells[i] != Empty {
		return 0, 0, ErrOccupied
	}
	if b.history != nil {
		b.remember(b.hash, c)
	}
	opp := c.Opponent()
	b.findCaptures(i, opp)
	b.put(i, c)
	for _, s := range b.caps {
		b.put(s, Empty)
	}
	b.nextGen()
	b.group, lost = b.collect(i, -1, b.group[:0])
	if b.libertyBesides(b.group, -1) {
		lost = 0
	} else {
		for _, s := range b.group {
			b.put(s, Empty)
		}
	}
	b.koPoint = -1
	if len(b.caps) == 1 && lost == 0 && b.isLoneStoneInAtari(i, c) {
		b.koPoint, b.koColor = b.caps[0], opp
	}
	if b.history != nil {
		b.history[b.situationKey(b.hash, opp)] = struct{}{}
	}
	return len(b.caps), lost, nil
}

// findCaptures sets b.caps to the stones of opp's groups next to the empty point i whose
// last liberty is i: those a stone at i captures.
func (b *Board) findCaptures(i int, opp Color) {
	b.caps = b.caps[:0]
	b.nextGen()
	for _, n := range b.adj.n[i] {
		if n < 0 || b.cells[n] != opp || b.mark[n] == b.gen {
			continue
		}
		start := len(b.caps)
		b.caps, _ = b.collect(n, i, b.caps)
		if b.libertyBesides(b.caps[start:], i) {
			b.caps = b.caps[:start]
		}
	}
}

// put sets the cell i to c, keeping the hash.
func (b *Board) put(i int, c Color) {
	if old := b.cells[i]; old != Empty {
		b.hash ^= zobrist.stone[old][i]
	}
	b.cells[i] = c
	if c != Empty {
		b.hash ^= zobrist.stone[c][i]
	}
}

// Legal reports whether Play would accept c at p, without playing it.
func (b *Board) Legal(c Color, p Point) bool {
	if c != Black && c != White || !b.OnBoard(p) {
		return false
	}
	i := p.Y*b.xsize + p.X
	if b.cells[i] != Empty {
		return false
	}
	if b.rules.Ko == KoSimple && i == b.koPoint && c == b.koColor {
		return false
	}
	if b.history != nil {
		// Superko depends on the position after the captures: try it on a copy.
		_, err := b.Clone().Play(c, p)
		return err == nil
	}
	for _, n := range b.adj.n[i] {
		if n >= 0 && b.cells[n] == Empty {
			return true
		}
	}
	if b.findCaptures(i, c.Opponent()); len(b.caps) > 0 {
		return true
	}
	friends := false
	b.nextGen()
	b.group = b.group[:0]
	for _, n := range b.adj.n[i] {
		if n >= 0 && b.cells[n] == c {
			friends = true
			if b.mark[n] != b.gen {
				b.group, _ = b.collect(n, i, b.group)
			}
		}
	}
	return friends && (b.libertyBesides(b.group, i) || b.rules.Suicide)
}

// Group returns the stones of the group at p and how many liberties it has; nil and 0
// for an empty point.
func (b *Board) Group(p Point) (stones []Point, liberties int) {
	if b.At(p) == Empty {
		return nil, 0
	}
	b.nextGen()
	b.group, _ = b.collect(p.Y*b.xsize+p.X, -1, b.group[:0])
	b.nextGen()
	for _, s := range b.group {
		stones = append(stones, Point{X: s % b.xsize, Y: s / b.xsize})
		for _, m := range b.adj.n[s] {
			if m >= 0 && b.cells[m] == Empty && b.mark[m] != b.gen {
				b.mark[m] = b.gen
				liberties++
			}
		}
	}
	return stones, liberties
}
