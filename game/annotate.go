package game

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/tesuji/tesuji/katago"
)

// Defaults of AnnotateOptions.
const (
	DefaultVariations      = 3
	DefaultVariationLength = 10
)

// AnnotateOptions tunes Annotate. The zero value means the defaults.
type AnnotateOptions struct {
	// Variations is how many of KataGo's candidate lines are added as SGF variations at
	// each analyzed move (the move played is not repeated). Default DefaultVariations (3);
	// a negative value adds none.
	Variations int
	// VariationLength is the most moves of each added variation. Default
	// DefaultVariationLength (10).
	VariationLength int
	// Own are the variations a player tried on the review, added after the other
	// children of the node they start from.
	Own []OwnVariation
}

func (o AnnotateOptions) withDefaults() AnnotateOptions {
	if o.Variations == 0 {
		o.Variations = DefaultVariations
	}
	if o.Variations < 0 {
		o.Variations = 0
	}
	if o.VariationLength <= 0 {
		o.VariationLength = DefaultVariationLength
	}
	return o
}

// Annotate returns the record as SGF (UTF-8, CA[UTF-8] at the root of every tree) with
// KataGo's analysis added: the original trees, comments and properties are kept, and
// along the analyzed line
//
//   - the root comment gets each player's summary (Summarize), when any turn was analyzed;
//   - every analyzed position gets a comment with Black's winrate and score lead;
//   - every analyzed move gets its point loss, class and KataGo's best move in the comment,
//     BM[2] (blunder), BM[1] (mistake) or DO[] (inaccuracy) unless the node already has a
//     move annotation, and MA on KataGo's best move when it was not played, as KaTrain marks it;
//   - KataGo's top candidate lines for the position before each move become variations
//     after the existing children, the first node of each carrying its evaluation.
//
// A negative point loss (the move did better than KataGo expected) reads "gained".
// Besides standard SGF properties, every analyzed position carries its analysis in the
// forms KaTrain (KT), Lizzie (LZ) and Sabaki (SBKV, SBKS) read back (see exportAnalysis).
// turns may be any subset of the game's turns, in any order; rec is not modified.
func Annotate(rec *Record, turns []Turn, opt AnnotateOptions) ([]byte, error) {
	if rec == nil || rec.Game == nil || len(rec.Line) == 0 || len(rec.Trees) == 0 {
		return nil, errors.New("game: annotate: the record was not parsed by ParseSGF")
	}
	opt = opt.withDefaults()
	g := rec.Game
	turns = slices.Clone(turns)
	Review(g, turns)
	idx := indexTurns(g, turns)
	turnAt := func(t int) *Turn {
		if t < 0 || t >= len(idx) || idx[t] < 0 {
			return nil
		}
		return &turns[idx[t]]
	}

	// Copy the analyzed line so the record stays untouched; other nodes are shared and
	// only read.
	line := make([]*Node, len(rec.Line))
	for i := len(rec.Line) - 1; i >= 0; i-- {
		orig := rec.Line[i]
		n := &Node{Props: slices.Clone(orig.Props), Children: slices.Clone(orig.Children)}
		if i+1 < len(line) {
			for k, c := range n.Children {
				if c == rec.Line[i+1] {
					n.Children[k] = line[i+1]
				}
			}
		}
		line[i] = n
	}
	// Every tree is written as UTF-8, so every root says so; the roots of the other
	// trees are copied too.
	trees := slices.Clone(rec.Trees)
	trees[0] = line[0]
	for i, t := range trees {
		if i > 0 {
			trees[i] = &Node{Props: slices.Clone(t.Props), Children: t.Children}
		}
		// CA comes first: some readers take the first "CA[" in the bytes as the
		// character set, and another property's value may hold that text.
		trees[i].Props = slices.DeleteFunc(trees[i].Props, func(p Property) bool { return p.ID == "CA" })
		trees[i].Props = slices.Insert(trees[i].Props, 0, Property{ID: "CA", Values: []string{"UTF-8"}})
	}

	root := line[0]
	setProp(root, "FF", "4")
	if !root.Has("GM") {
		setProp(root, "GM", "1")
	}
	if len(turns) > 0 {
		addComment(root, summaryComment(g, Summarize(g, turns)))
	}

	if t := turnAt(0); t != nil && rec.startNode >= 0 {
		addComment(line[rec.startNode], "KataGo, before the first move: "+evaluation(t.Winrate, t.ScoreLead, t.Visits))
	}
	for i, li := range rec.moveNode {
		m := g.Moves[i]
		node := line[li]
		after, before := turnAt(i+1), turnAt(i)
		if after != nil {
			annotateMove(node, g, i, after)
		}
		if before != nil && li > 0 && opt.Variations > 0 {
			addVariations(line[li-1], g, m, before, opt)
		}
	}
	exportAnalysis(rec, line, turnAt)
	addOwnVariations(rec, line, turnAt, opt.Own)
	return WriteSGF(trees), nil
}

// annotateMove comments the node of move i with the analysis of the position after it.
func annotateMove(node *Node, g *Game, i int, t *Turn) {
	m := g.Moves[i]
	var b strings.Builder
	fmt.Fprintf(&b, "KataGo after move %d (%s %s): %s", i+1, m.Color, m.GTP(g.BoardYSize),
		evaluation(t.Winrate, t.ScoreLead, t.Visits))
	b.WriteString(lossText(t))
	if t.PointLoss != nil {
		if !node.Has("BM") && !node.Has("TE") && !node.Has("DO") && !node.Has("IT") {
			switch t.Mistake {
			case ClassBlunder:
				setProp(node, "BM", "2")
			case ClassMistake:
				setProp(node, "BM", "1")
			case ClassInaccuracy:
				setProp(node, "DO", "")
			}
		}
		if t.BestMove != "" && !strings.EqualFold(t.BestMove, t.Move) && !node.Has("MA") {
			if p, pass, err := ParseGTP(t.BestMove, g.BoardXSize, g.BoardYSize); err == nil && !pass {
				setProp(node, "MA", p.SGF())
			}
		}
	}
	addComment(node, b.String())
}

// lossText words a move's point loss, class and KataGo's best move for a comment. KataGo's
// top move is named as such and never also said to lose points: what it "loses" is only
// the search changing its mind.
func lossText(t *Turn) string {
	if t.PointLoss == nil {
		return ""
	}
	loss := *t.PointLoss
	switch {
	case t.BestMove != "" && strings.EqualFold(t.BestMove, t.Move):
		return "\nThis was KataGo's top move."
	case loss >= 0:
		s := fmt.Sprintf("\nPoint loss: %.1f (%s)", loss, t.Mistake)
		if t.BestMove != "" {
			s += "\nKataGo's best move: " + t.BestMove
		}
		return s
	}
	s := fmt.Sprintf("\nPoint loss: none, gained %.1f on KataGo's estimate (%s)", -loss, t.Mistake)
	if t.BestMove != "" {
		s += "\nKataGo's best move: " + t.BestMove
	}
	return s
}

// addVariations adds KataGo's candidate lines for the position before move m as children
// of parent, after the existing ones.
func addVariations(parent *Node, g *Game, m Move, before *Turn, opt AnnotateOptions) {
	played := m.GTP(g.BoardYSize)
	added := 0
	for _, c := range before.Candidates {
		if added >= opt.Variations {
			break
		}
		if len(c.PV) == 0 || strings.EqualFold(c.PV[0], played) {
			continue
		}
		v := variation(g, m.Color, c, opt.VariationLength)
		if v == nil {
			continue
		}
		parent.Children = append(parent.Children, v)
		added++
	}
}

// variation builds the nodes of one candidate line, colors alternating from first.
func variation(g *Game, first Color, c katago.MoveInfo, maxLen int) *Node {
	var head, tail *Node
	color := first
	for k, mv := range c.PV {
		if k >= maxLen {
			break
		}
		p, pass, err := ParseGTP(mv, g.BoardXSize, g.BoardYSize)
		if err != nil {
			break
		}
		val := ""
		if !pass {
			val = p.SGF()
		}
		n := &Node{Props: []Property{{ID: color.String(), Values: []string{val}}}}
		if head == nil {
			head = n
			n.Props = append(n.Props, Property{ID: "C", Values: []string{fmt.Sprintf(
				"KataGo candidate %s: %s", c.Move, evaluation(c.Winrate, c.ScoreLead, c.Visits))}})
		} else {
			tail.Children = []*Node{n}
		}
		tail = n
		color = color.Opponent()
	}
	return head
}

// evaluation formats Black's winrate and score lead, such as "Black 54.3%, B+2.1 (400 visits)".
func evaluation(winrate, lead float64, visits int) string {
	return fmt.Sprintf("Black %.1f%%, %s (%d visits)", 100*winrate, formatLead(lead), visits)
}

// formatLead writes a score lead from Black's view as SGF results are written: "B+2.1",
// "W+0.5", "even".
func formatLead(lead float64) string {
	switch r := math.Round(lead*10) / 10; {
	case r > 0:
		return fmt.Sprintf("B+%.1f", r)
	case r < 0:
		return fmt.Sprintf("W+%.1f", -r)
	}
	return "even"
}

func summaryComment(g *Game, s Summary) string {
	var b strings.Builder
	b.WriteString("Reviewed by KataGo (tesuji)")
	for _, p := range []struct {
		color string
		ps    PlayerSummary
	}{{"Black", s.Black}, {"White", s.White}} {
		fmt.Fprintf(&b, "\n%s", p.color)
		if p.ps.Name != "" {
			fmt.Fprintf(&b, " (%s)", p.ps.Name)
		}
		if p.ps.Moves == 0 {
			b.WriteString(": no analyzed moves")
			continue
		}
		fmt.Fprintf(&b, ": %d moves, average point loss %.2f, KataGo's top move %.0f%%\n ",
			p.ps.Moves, p.ps.AvgPointLoss, 100*p.ps.TopMoveAgreement)
		for i, t := range Thresholds {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, " %s %d", t.Class, p.ps.Classes[t.Class])
		}
	}
	return b.String()
}

// setProp sets the property id to a single value, replacing any earlier one.
func setProp(n *Node, id, value string) {
	for i, p := range n.Props {
		if p.ID == id {
			n.Props[i] = Property{ID: id, Values: []string{value}}
			return
		}
	}
	n.Props = append(n.Props, Property{ID: id, Values: []string{value}})
}

// addComment appends text to the node's comment, after a blank line.
func addComment(n *Node, text string) {
	for i, p := range n.Props {
		if p.ID == "C" && len(p.Values) > 0 {
			old := strings.TrimRight(p.Values[0], "\n")
			if old != "" {
				text = old + "\n\n" + text
			}
			n.Props[i] = Property{ID: "C", Values: []string{text}}
			return
		}
	}
	n.Props = append(n.Props, Property{ID: "C", Values: []string{text}})
}
