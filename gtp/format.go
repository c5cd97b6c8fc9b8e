package gtp

import (
	"math"
	"strconv"
	"strings"

	"github.com/tesuji/tesuji/game"
	"github.com/tesuji/tesuji/katago"
)

// cfloat formats a number as C++'s ostream does by default (six significant digits,
// %g), which is how KataGo prints every float in its GTP output. Negative zero prints
// as 0.
func cfloat(x float64) string {
	if x == 0 {
		return "0"
	}
	return strconv.FormatFloat(x, 'g', 6, 64)
}

// lzInt formats a 0..1 value as lz-analyze does: rounded, times 10000.
func lzInt(x float64) string {
	// math.Round rounds halves away from zero, as C's round does.
	return cfloat(math.Round(x * 10000))
}

// infoFormat turns the server's reports (Black's point of view) into info lines for one
// analysis command, from the point of view of the player to move, as KataGo's GTP
// engine reports them.
type infoFormat struct {
	kata  bool
	white bool // the player to move is White: flip every value
	args  analyzeArgs
}

// line returns the info line of one report, "" when it has no candidate (KataGo prints
// nothing then).
func (f *infoFormat) line(t *game.Turn) string {
	cands := t.Candidates
	if len(cands) > f.args.maxMoves {
		cands = cands[:f.args.maxMoves]
	}
	if len(cands) == 0 {
		return ""
	}
	var b strings.Builder
	for i := range cands {
		if i > 0 {
			b.WriteByte(' ')
		}
		if f.kata {
			f.kataMove(&b, &cands[i])
		} else {
			f.lzMove(&b, &cands[i])
		}
	}
	if f.kata && f.args.rootInfo {
		f.rootInfo(&b, t)
	}
	if f.kata && f.args.ownership && len(t.Ownership) > 0 {
		b.WriteString(" ownership")
		for _, o := range t.Ownership {
			b.WriteByte(' ')
			b.WriteString(cfloat(f.signed(o)))
		}
	}
	return b.String()
}

// winrate returns a Black-view winrate (or lcb) from the side to move.
func (f *infoFormat) winrate(w float64) float64 {
	if f.white {
		return 1 - w
	}
	return w
}

// signed returns a Black-view score, utility or ownership from the side to move.
func (f *infoFormat) signed(v float64) float64 {
	if f.white {
		return -v
	}
	return v
}

// kataMove writes one move as kata-analyze does, fields in KataGo's order. KataGo's GTP
// scoreMean is the score lead (kept for old tools), and its scoreSelfplay is the analysis
// engine's scoreSelfplay.
func (f *infoFormat) kataMove(b *strings.Builder, c *katago.MoveInfo) {
	edgeVisits := c.Visits
	if c.EdgeVisits != nil {
		edgeVisits = *c.EdgeVisits
	}
	weight := float64(c.Visits)
	if c.Weight != nil {
		weight = *c.Weight
	}
	lead := cfloat(f.signed(c.ScoreLead))
	b.WriteString("info move ")
	b.WriteString(c.Move)
	b.WriteString(" visits ")
	b.WriteString(strconv.Itoa(c.Visits))
	b.WriteString(" edgeVisits ")
	b.WriteString(strconv.Itoa(edgeVisits))
	b.WriteString(" utility ")
	b.WriteString(cfloat(f.signed(c.Utility)))
	b.WriteString(" winrate ")
	b.WriteString(cfloat(f.winrate(c.Winrate)))
	b.WriteString(" scoreMean ")
	b.WriteString(lead)
	b.WriteString(" scoreStdev ")
	b.WriteString(cfloat(c.ScoreStdev))
	b.WriteString(" scoreLead ")
	b.WriteString(lead)
	b.WriteString(" scoreSelfplay ")
	b.WriteString(cfloat(f.signed(c.ScoreSelfplay)))
	b.WriteString(" prior ")
	b.WriteString(cfloat(c.Prior))
	b.WriteString(" lcb ")
	b.WriteString(cfloat(f.winrate(c.Lcb)))
	b.WriteString(" utilityLcb ")
	b.WriteString(cfloat(f.signed(c.UtilityLcb)))
	b.WriteString(" weight ")
	b.WriteString(cfloat(weight))
	if c.IsSymmetryOf != "" {
		b.WriteString(" isSymmetryOf ")
		b.WriteString(c.IsSymmetryOf)
	}
	b.WriteString(" order ")
	b.WriteString(strconv.Itoa(c.Order))
	b.WriteString(" pv ")
	b.WriteString(strings.Join(c.PV, " "))
}

// lzMove writes one move as lz-analyze does: winrate, prior and lcb as integers x10000.
func (f *infoFormat) lzMove(b *strings.Builder, c *katago.MoveInfo) {
	b.WriteString("info move ")
	b.WriteString(c.Move)
	b.WriteString(" visits ")
	b.WriteString(strconv.Itoa(c.Visits))
	b.WriteString(" winrate ")
	b.WriteString(lzInt(f.winrate(c.Winrate)))
	b.WriteString(" prior ")
	b.WriteString(lzInt(c.Prior))
	b.WriteString(" lcb ")
	b.WriteString(lzInt(f.winrate(c.Lcb)))
	b.WriteString(" order ")
	b.WriteString(strconv.Itoa(c.Order))
	b.WriteString(" pv ")
	b.WriteString(strings.Join(c.PV, " "))
}

// rootInfo writes the root's values that the server reports (visits, winrate and score
// lead), in KataGo's order; KataGo's other root fields are not part of the server's
// answer and are left out rather than invented.
func (f *infoFormat) rootInfo(b *strings.Builder, t *game.Turn) {
	lead := cfloat(f.signed(t.ScoreLead))
	b.WriteString(" rootInfo visits ")
	b.WriteString(strconv.Itoa(t.Visits))
	b.WriteString(" winrate ")
	b.WriteString(cfloat(f.winrate(t.Winrate)))
	b.WriteString(" scoreMean ")
	b.WriteString(lead)
	b.WriteString(" scoreLead ")
	b.WriteString(lead)
}
