package game

import (
	"fmt"
	"strconv"
	"strings"
)

// Color is the color of a stone or of a player.
type Color int8

// The colors; Empty is also the zero value.
const (
	Empty Color = iota
	Black
	White
)

// Opponent returns the other player; Empty stays Empty.
func (c Color) Opponent() Color {
	switch c {
	case Black:
		return White
	case White:
		return Black
	}
	return Empty
}

// String returns "B", "W" or "" as KataGo and SGF write them.
func (c Color) String() string {
	switch c {
	case Black:
		return "B"
	case White:
		return "W"
	}
	return ""
}

// ParseColor reads "B", "W", "black", "white" in any case (and "1" / "2" of old SGF files).
func ParseColor(s string) (Color, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "b", "black", "1":
		return Black, nil
	case "w", "white", "2":
		return White, nil
	}
	return Empty, fmt.Errorf("game: %q is not a color", s)
}

// Point is an intersection: X is the column from the left, Y the row from the top (SGF's
// orientation), both from 0.
type Point struct {
	X, Y int
}

// gtpColumns are the GTP column letters: I is skipped.
const gtpColumns = "ABCDEFGHJKLMNOPQRSTUVWXYZ"

// GTP returns the point as GTP and KataGo write it on a board ysize rows high: the column
// letter (I skipped) and the row counted from 1 at the bottom, such as "Q16".
func (p Point) GTP(ysize int) string {
	if p.X < 0 || p.X >= len(gtpColumns) || p.Y < 0 || p.Y >= ysize {
		return fmt.Sprintf("(%d,%d)", p.X, p.Y)
	}
	return gtpColumns[p.X:p.X+1] + strconv.Itoa(ysize-p.Y)
}

// SGF returns the point as SGF writes it: two letters, column then row, "aa" at the top left.
func (p Point) SGF() string {
	return string([]byte{sgfLetter(p.X), sgfLetter(p.Y)})
}

func sgfLetter(i int) byte {
	switch {
	case i >= 0 && i < 26:
		return byte('a' + i)
	case i >= 26 && i < 52:
		return byte('A' + i - 26)
	}
	return '?'
}

func sgfIndex(c byte) int {
	switch {
	case c >= 'a' && c <= 'z':
		return int(c - 'a')
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 26
	}
	return -1
}

// ParseGTP reads a location as GTP and KataGo write it on a board of xsize columns and
// ysize rows: "Q16" (any case), "pass" (and KataGo's "pss"), or KataGo's "(x,y)" counted
// from the top left, which GTP writes for points past its letters.
func ParseGTP(s string, xsize, ysize int) (p Point, pass bool, err error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	if t == "PASS" || t == "PSS" {
		return Point{}, true, nil
	}
	if inner, ok := strings.CutPrefix(t, "("); ok {
		xs, ys, ok2 := strings.Cut(strings.TrimSuffix(inner, ")"), ",")
		x, xerr := strconv.Atoi(strings.TrimSpace(xs))
		y, yerr := strconv.Atoi(strings.TrimSpace(ys))
		if !ok2 || !strings.HasSuffix(inner, ")") || xerr != nil || yerr != nil {
			return Point{}, false, fmt.Errorf("game: %q is not a GTP coordinate", s)
		}
		if x < 0 || y < 0 || x >= xsize || y >= ysize {
			return Point{}, false, fmt.Errorf("game: %q is not on a %dx%d board", s, xsize, ysize)
		}
		return Point{X: x, Y: y}, false, nil
	}
	if len(t) < 2 {
		return Point{}, false, fmt.Errorf("game: %q is not a GTP coordinate", s)
	}
	x := strings.IndexByte(gtpColumns, t[0])
	row, aerr := strconv.Atoi(t[1:])
	if x < 0 || aerr != nil || t[1] == '+' || t[1] == '-' {
		return Point{}, false, fmt.Errorf("game: %q is not a GTP coordinate", s)
	}
	if x >= xsize || row < 1 || row > ysize {
		return Point{}, false, fmt.Errorf("game: %q is not on a %dx%d board", s, xsize, ysize)
	}
	return Point{X: x, Y: ysize - row}, false, nil
}

// ParseSGFPoint reads an SGF point on a board of xsize columns and ysize rows. The empty
// value is a pass, and so is "tt" on boards up to 19x19, as FF[3] wrote it.
func ParseSGFPoint(s string, xsize, ysize int) (p Point, pass bool, err error) {
	if s == "" || (s == "tt" && xsize <= 19 && ysize <= 19) {
		return Point{}, true, nil
	}
	if len(s) != 2 {
		return Point{}, false, fmt.Errorf("game: %q is not an SGF point", s)
	}
	x, y := sgfIndex(s[0]), sgfIndex(s[1])
	if x < 0 || y < 0 {
		return Point{}, false, fmt.Errorf("game: %q is not an SGF point", s)
	}
	if x >= xsize || y >= ysize {
		return Point{}, false, fmt.Errorf("game: %q is not on a %dx%d board: %w", s, xsize, ysize, ErrOffBoard)
	}
	return Point{X: x, Y: y}, false, nil
}

// Move is one move of a game: a stone of Color at Point, or a pass.
type Move struct {
	Color Color
	Point Point
	Pass  bool
}

// GTP returns the move's location as KataGo takes it: "pass" or a GTP coordinate.
func (m Move) GTP(ysize int) string {
	if m.Pass {
		return "pass"
	}
	return m.Point.GTP(ysize)
}

// Stone is one stone of an initial position.
type Stone struct {
	Color Color
	Point Point
}
