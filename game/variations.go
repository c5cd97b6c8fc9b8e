package game

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tesuji/tesuji/katago"
)

// OwnVariation is a line a player tried on a review: Moves played from the position after
// the game's first At moves, with KataGo's analysis of the position after each of them.
type OwnVariation struct {
	At    int
	Moves []Move
	// Turns[i] is the analysis after Moves[i] (its Turn is At+i+1), nil where there is none.
	Turns []*Turn
}

// Branch returns the game that plays moves (colors and GTP coordinates, as KataGo takes
// them) after the first at moves of g instead of the rest of g: the game of a variation
// from turn at. Every move must be legal under the game's rules; the error is an *Error
// naming the first that is not. g is not modified.
func (g *Game) Branch(at int, moves []katago.Move) (*Game, error) {
	if at < 0 || at > len(g.Moves) {
		return nil, errorf(CodeInvalidGame, "turn %d is not a turn of a %d-move game", at, len(g.Moves))
	}
	b := *g
	b.Moves = slices.Clone(g.Moves[:at])
	for i, m := range moves {
		mv, err := g.variationMove(i, m)
		if err != nil {
			return nil, err
		}
		b.Moves = append(b.Moves, mv)
	}
	if err := b.Validate(); err != nil {
		return nil, err
	}
	return &b, nil
}

// variationMove reads move i (from 0) of a variation, as KataGo takes it, as a move of g.
func (g *Game) variationMove(i int, m katago.Move) (Move, error) {
	c, err := ParseColor(m[0])
	if err != nil || c == Empty {
		return Move{}, errorf(CodeInvalidGame, "move %d of the variation: %q is not a color", i+1, m[0])
	}
	p, pass, err := ParseGTP(m[1], g.BoardXSize, g.BoardYSize)
	if err != nil {
		return Move{}, errorf(CodeInvalidGame, "move %d of the variation: %q is not a point of the board", i+1, m[1])
	}
	return Move{Color: c, Point: p, Pass: pass}, nil
}

// reviewOwn fills the point loss, class and best move of each analyzed move of v, against
// before (the game's analysis at turn v.At) for its first move.
func reviewOwn(g *Game, v OwnVariation, before *Turn) []Turn {
	b := *g
	b.Moves = append(slices.Clone(g.Moves[:v.At]), v.Moves...)
	turns := make([]Turn, 0, len(v.Turns)+1)
	if before != nil {
		turns = append(turns, *before)
	}
	for i, t := range v.Turns {
		if t != nil && i < len(v.Moves) {
			t := *t
			t.Turn = v.At + i + 1
			t.PointLoss, t.Mistake, t.BestMove = nil, "", ""
			turns = append(turns, t)
		}
	}
	Review(&b, turns)
	return turns
}

// addOwnVariations adds each of the player's variations as an SGF variation from the node
// of the position it starts at, each move with its analysis in a comment, as the game's
// own moves have theirs.
func addOwnVariations(rec *Record, line []*Node, turnAt func(int) *Turn, own []OwnVariation) {
	g := rec.Game
	for k, v := range own {
		if v.At < 0 || v.At > len(g.Moves) || len(v.Moves) == 0 {
			continue
		}
		var parent *Node
		switch {
		case v.At > 0:
			parent = line[rec.moveNode[v.At-1]]
		case len(rec.moveNode) > 0 && rec.moveNode[0] > 0:
			parent = line[rec.moveNode[0]-1]
		case len(rec.moveNode) == 0:
			parent = line[len(line)-1]
		default:
			continue // the first move is in the root node: nothing comes before it
		}
		byTurn := map[int]*Turn{}
		for _, t := range reviewOwn(g, v, turnAt(v.At)) {
			byTurn[t.Turn] = &t
		}
		var head, tail *Node
		for i, m := range v.Moves {
			val := ""
			if !m.Pass {
				val = m.Point.SGF()
			}
			n := &Node{Props: []Property{{ID: m.Color.String(), Values: []string{val}}}}
			var b strings.Builder
			if i == 0 {
				fmt.Fprintf(&b, "Variation %d, tried on the review from move %d\n", k+1, v.At)
			}
			if t := byTurn[v.At+i+1]; t != nil {
				fmt.Fprintf(&b, "KataGo after %s %s: %s", m.Color, m.GTP(g.BoardYSize), evaluation(t.Winrate, t.ScoreLead, t.Visits))
				b.WriteString(lossText(t))
			} else {
				fmt.Fprintf(&b, "%s %s (not analyzed)", m.Color, m.GTP(g.BoardYSize))
			}
			addComment(n, b.String())
			if head == nil {
				head = n
			} else {
				tail.Children = []*Node{n}
			}
			tail = n
		}
		parent.Children = append(parent.Children, head)
	}
}
