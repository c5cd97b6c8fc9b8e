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
	if f.kata && f.args.ownership {
		f.floats(&b, "ownership", t.Ownership, true)
	}
	if f.kata && f.args.ownershipStdev {
		f.floats(&b, "ownershipStdev", t.OwnershipStdev, false)
	}
	return b.String()
}

// floats writes " key v v v ...", the values flipped to the side to move when signed;
// nothing when there are none (a server that did not send them).
func (f *infoFormat) floats(b *strings.Builder, key string, vs []float64, signed bool) {
	if len(vs) == 0 {
		return
	}
	b.WriteByte(' ')
	b.WriteString(key)
	for _, v := range vs {
		if signed {
			v = f.signed(v)
		}
		b.WriteByte(' ')
		b.WriteString(cfloat(v))
	}
}

// ints writes " key n n n ..." (pvVisits, pvEdgeVisits).
func ints(b *strings.Builder, key string, ns []int) {
	b.WriteByte(' ')
	b.WriteString(key)
	b.WriteByte(' ')
	for i, n := range ns {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.Itoa(n))
	}
}

// moveTail writes what ends a move in both formats, in KataGo's order: order, pv,
// pvVisits, pvEdgeVisits, then for kata- lines movesOwnership and movesOwnershipStdev.
func (f *infoFormat) moveTail(b *strings.Builder, c *katago.MoveInfo) {
	b.WriteString(" order ")
	b.WriteString(strconv.Itoa(c.Order))
	b.WriteString(" pv ")
	b.WriteString(strings.Join(c.PV, " "))
	if f.args.pvVisits {
		ints(b, "pvVisits", c.PVVisits)
	}
	if f.args.pvEdgeVisits {
		edge := c.PVEdgeVisits
		if edge == nil {
			edge = c.PVVisits
		}
		ints(b, "pvEdgeVisits", edge)
	}
	if f.kata && f.args.movesOwnership {
		f.floats(b, "movesOwnership", c.Ownership, true)
	}
	if f.kata && f.args.movesOwnershipStdev {
		f.floats(b, "movesOwnershipStdev", c.OwnershipStdev, false)
	}
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
	if f.args.noResultValue && c.NoResultValue != nil {
		b.WriteString(" noResultValue ")
		b.WriteString(cfloat(*c.NoResultValue))
	}
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
	f.moveTail(b, c)
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
	f.moveTail(b, c)
}

// rootInfo writes rootInfo's fields in KataGo's order: visits, utility, winrate,
// scoreMean (the lead, as in the moves), scoreStdev, scoreLead, scoreSelfplay, weight, and
// the network's rawStWrError, rawStScoreError and rawVarTimeLeft. A server that sends no
// rootInfo (an older one) gives the four values every result has.
func (f *infoFormat) rootInfo(b *strings.Builder, t *game.Turn) {
	r := t.Root
	if r == nil {
		lead := cfloat(f.signed(t.ScoreLead))
		b.WriteString(" rootInfo visits " + strconv.Itoa(t.Visits) + " winrate " + cfloat(f.winrate(t.Winrate)) +
			" scoreMean " + lead + " scoreLead " + lead)
		return
	}
	lead := cfloat(f.signed(r.ScoreLead))
	b.WriteString(" rootInfo visits ")
	b.WriteString(strconv.Itoa(r.Visits))
	b.WriteString(" utility ")
	b.WriteString(cfloat(f.signed(r.Utility)))
	b.WriteString(" winrate ")
	b.WriteString(cfloat(f.winrate(r.Winrate)))
	b.WriteString(" scoreMean ")
	b.WriteString(lead)
	b.WriteString(" scoreStdev ")
	b.WriteString(cfloat(deref(r.ScoreStdev, 0)))
	b.WriteString(" scoreLead ")
	b.WriteString(lead)
	b.WriteString(" scoreSelfplay ")
	b.WriteString(cfloat(f.signed(r.ScoreSelfplay)))
	b.WriteString(" weight ")
	b.WriteString(cfloat(deref(r.Weight, float64(r.Visits))))
	for _, raw := range []struct {
		key string
		v   *float64
	}{{"rawStWrError", r.RawStWrError}, {"rawStScoreError", r.RawStScoreError}, {"rawVarTimeLeft", r.RawVarTimeLeft}} {
		if raw.v != nil {
			b.WriteString(" " + raw.key + " " + cfloat(*raw.v))
		}
	}
}
