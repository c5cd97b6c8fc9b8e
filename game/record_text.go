package game

import (
	"strings"

	"github.com/tesuji/tesuji/katago"
)

// Limits of RecordVariations, so a record with thousands of branches (a problem
// collection, a teaching file) stays a page a player can read.
const (
	maxRecordVariations     = 100
	maxRecordVariationMoves = 200
)

// RecordVariation is a variation the record itself holds: a branch off the analyzed line,
// followed along its first children.
type RecordVariation struct {
	At       int           `json:"at"`                 // the branch follows the game's first At moves
	Moves    []katago.Move `json:"moves"`              // legal moves only: the branch stops at the first that is not
	Comments []string      `json:"comments,omitempty"` // Comments[i]: the comment of the node of Moves[i]
}

// Comments returns the record's comment (C) of each turn of the analyzed line: Comments[t]
// is what the nodes from the one of move t up to the next move's say (turn 0: the nodes
// before the first move, the root's game comment among them), "" where none.
func (r *Record) Comments() []string {
	out := make([]string, len(r.moveNode)+1)
	turn := 0
	for li, n := range r.Line {
		if turn < len(r.moveNode) && r.moveNode[turn] == li {
			turn++
		}
		if c, ok := n.Get("C"); ok && strings.TrimSpace(c) != "" {
			if out[turn] != "" {
				out[turn] += "\n"
			}
			out[turn] += strings.TrimSpace(c)
		}
	}
	return out
}

// RecordVariations returns the record's own variations off the analyzed line, in the order
// of the line and of the children (at most 100, each at most 200 moves).
func (r *Record) RecordVariations() []RecordVariation {
	g := r.Game
	var out []RecordVariation
	turn := 0
	fork := lineBoard{g: g}
	for li, n := range r.Line {
		if turn < len(r.moveNode) && r.moveNode[turn] == li {
			turn++
		}
		if li+1 >= len(r.Line) {
			break
		}
		for _, child := range n.Children {
			if child == r.Line[li+1] || len(out) == maxRecordVariations {
				continue
			}
			v := RecordVariation{At: turn}
			for node := child; node != nil && len(v.Moves) < maxRecordVariationMoves; {
				if m, ok := nodeMove(node, g); ok {
					c, _ := node.Get("C")
					v.Moves = append(v.Moves, m)
					v.Comments = append(v.Comments, strings.TrimSpace(c))
				}
				if len(node.Children) == 0 {
					break
				}
				node = node.Children[0]
			}
			// Keep the legal start of the branch.
			k := fork.legalMoves(turn, v.Moves)
			v.Moves, v.Comments = v.Moves[:k], v.Comments[:k]
			if len(v.Moves) > 0 {
				if strings.Join(v.Comments, "") == "" {
					v.Comments = nil
				}
				out = append(out, v)
			}
		}
	}
	return out
}

// lineBoard is the position after the first turn moves of a game, played forward as later
// branches ask for it, so the game is replayed once for all its branches.
type lineBoard struct {
	g     *Game
	board *Board // nil until the first call
	turn  int
	err   error // the game cannot be replayed to turn
}

// legalMoves returns how many of moves, played after the game's first turn moves (turn
// no smaller than at the last call), are legal before the first that is not, as
// Game.Branch would judge them.
func (lb *lineBoard) legalMoves(turn int, moves []katago.Move) int {
	if lb.board == nil && lb.err == nil {
		lb.board, lb.err = lb.g.setup()
	}
	for ; lb.err == nil && lb.turn < turn; lb.turn++ {
		lb.err = lb.g.play(lb.board, lb.turn, lb.g.Moves[lb.turn])
	}
	if lb.err != nil || len(moves) == 0 {
		return 0
	}
	b := lb.board.Clone()
	for k, m := range moves {
		mv, err := lb.g.variationMove(k, m)
		if err != nil || lb.g.play(b, turn+k, mv) != nil {
			return k
		}
	}
	return len(moves)
}

// nodeMove reads a node's move as KataGo takes it.
func nodeMove(n *Node, g *Game) (katago.Move, bool) {
	for _, id := range []string{"B", "W"} {
		v, ok := n.Get(id)
		if !ok {
			continue
		}
		p, pass, err := ParseSGFPoint(v, g.BoardXSize, g.BoardYSize)
		if err != nil {
			return katago.Move{}, false
		}
		gtp := "pass"
		if !pass {
			gtp = p.GTP(g.BoardYSize)
		}
		return katago.Move{id, gtp}, true
	}
	return katago.Move{}, false
}
