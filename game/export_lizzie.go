package game

import (
	"math"
	"math/big"
	"strconv"
	"strings"
)

// lizzieVersion is the Lizzie version whose LZ format lizzieData writes.
const lizzieVersion = "0.7.4"

// lizzieData writes a turn as Lizzie 0.7.4 writes LZ (SGFParser.formatNodeData, with a
// KataGo engine): a first line "VERSION WINRATE PLAYOUTS", then the candidates as Lizzie's
// BoardData.bestMovesToString writes them,
//
//	0.7.4 45.7 1.3k
//	move Q16 visits 800 winrate 5432 scoreMean 1.25 pv Q16 D4 info move D4 ...
//
// where, as Lizzie keeps them, the candidates' winrates (in hundredths of a percent,
// truncated) and scoreMean are the side to move's, PLAYOUTS is the sum of their visits,
// and WINRATE is 100 minus the side to move's winrate, the mean of the candidates'
// weighted by visits. ok is false when no candidate has a line, as Lizzie then has
// nothing to show.
func lizzieData(t *Turn) (lz string, ok bool) {
	var moves strings.Builder
	playouts, weighted := 0, 0.0
	for _, c := range t.Candidates {
		if len(c.PV) == 0 {
			continue // Lizzie cannot write a candidate without a line
		}
		wr := 100 * winrateToMove(t, c.Winrate)
		playouts += c.Visits
		weighted += wr * float64(c.Visits)
		moves.WriteString("move " + c.Move)
		moves.WriteString(" visits " + strconv.Itoa(c.Visits))
		moves.WriteString(" winrate " + strconv.Itoa(int(wr*100)))
		moves.WriteString(" scoreMean " + javaDouble(sideToMove(t, c.ScoreLead)))
		moves.WriteString(" pv " + strings.Join(c.PV, " "))
		moves.WriteString(" info ")
	}
	if playouts == 0 {
		return "", false
	}
	winrate := weighted / float64(playouts)
	return lizzieVersion + " " + javaFixed1(100-winrate) + " " + lizziePlayouts(playouts) + "\n" + moves.String(), true
}

// winrateToMove returns a winrate given from Black's view from the view of the side to move.
func winrateToMove(t *Turn, black float64) float64 {
	if t.Player == White.String() {
		return 1 - black
	}
	return black
}

// lizziePlayouts writes a visit count as Lizzie's Utils.getPlayoutsString: 950, 1.3k,
// 13k, 1.2m.
func lizziePlayouts(n int) string {
	round := func(x float64) float64 { return math.Floor(x + 0.5) } // Java's Math.round
	switch {
	case n >= 1_000_000:
		return javaDouble(round(float64(n)/100_000)/10) + "m"
	case n >= 10_000:
		return strconv.FormatInt(int64(round(float64(n)/1_000)), 10) + "k"
	case n >= 1_000:
		return javaDouble(round(float64(n)/100)/10) + "k"
	}
	return strconv.Itoa(n)
}

// javaDouble writes v as Java's Double.toString does: the shortest digits that read back
// as v, at least one digit after the point, in computerized scientific notation below
// 10^-3 and from 10^7 ("1.0E-4").
func javaDouble(v float64) string {
	switch a := math.Abs(v); {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "Infinity"
	case math.IsInf(v, -1):
		return "-Infinity"
	case a == 0 || a >= 1e-3 && a < 1e7:
		s := strconv.FormatFloat(v, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		if a == 0 && math.Signbit(v) {
			return "-0.0"
		}
		return s
	}
	s := strconv.FormatFloat(v, 'E', -1, 64) // 1.2345E-04
	mant, exp, _ := strings.Cut(s, "E")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	e, _ := strconv.Atoi(exp)
	return mant + "E" + strconv.Itoa(e)
}

// javaFixed1 writes v as Java's String.format("%.1f", v): Java rounds the shortest
// decimal digits of v half up, so 0.25 is "0.3" where Go's "%.1f" writes "0.2".
func javaFixed1(v float64) string {
	r, ok := new(big.Rat).SetString(strconv.FormatFloat(v, 'f', -1, 64))
	if !ok {
		return strconv.FormatFloat(v, 'f', 1, 64) // NaN or infinite
	}
	neg := r.Sign() < 0
	r.Abs(r)
	r.Mul(r, big.NewRat(10, 1))
	r.Add(r, big.NewRat(1, 2))
	tenths := new(big.Int).Quo(r.Num(), r.Denom()).String()
	if len(tenths) < 2 {
		tenths = "0" + tenths
	}
	s := tenths[:len(tenths)-1] + "." + tenths[len(tenths)-1:]
	if neg {
		s = "-" + s
	}
	return s
}
