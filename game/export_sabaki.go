package game

import (
	"math"
	"strconv"
)

// sabakiValues writes a turn as Sabaki writes SBKV and SBKS while it analyzes (the
// analysis-update handler in Sabaki's src/modules/sabaki.js): Black's winrate in percent
// and Black's score lead, each rounded to two decimals with JavaScript's Math.round and
// written as JavaScript writes a number ("54.32", "50", "-3.5"). As Sabaki, it takes the
// best of the candidates for the side to move; ok is false without candidates, where
// Sabaki writes nothing.
func sabakiValues(t *Turn) (winrate, scoreLead string, ok bool) {
	if len(t.Candidates) == 0 {
		return "", "", false
	}
	wr, lead := math.Inf(-1), math.Inf(-1)
	for _, c := range t.Candidates {
		wr = math.Max(wr, 100*winrateToMove(t, c.Winrate))
		lead = math.Max(lead, sideToMove(t, c.ScoreLead))
	}
	if t.Player == White.String() {
		wr, lead = 100-wr, -lead
	}
	return jsNumber(jsRound(wr*100) / 100), jsNumber(jsRound(lead*100) / 100), true
}

// jsRound rounds as JavaScript's Math.round: to the nearest integer, halves up.
func jsRound(x float64) float64 {
	f := math.Floor(x)
	if x-f >= 0.5 {
		return f + 1
	}
	return f
}

// jsNumber writes a number as JavaScript's Number.prototype.toString does for the values
// sabakiValues makes: the shortest digits that read back, and "0" for -0.
func jsNumber(x float64) string {
	if x == 0 {
		return "0"
	}
	return strconv.FormatFloat(x, 'f', -1, 64)
}
