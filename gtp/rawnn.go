package gtp

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/tesuji/tesuji/game"
)

// rawNN answers kata-raw-nn [COLOR] SYMMETRY [OPTIMISM] in KataGo's format, from the
// server's network through the analysis protocol: a search of one visit is the root's
// network evaluation, whose raw values come in rootInfo (rawWinrate, rawLead, ...), its
// policy with includePolicy and its ownership with includeOwnership. The server's KataGo
// picks the symmetry of that evaluation, so each block is a separate evaluation labelled
// with the symmetry asked for.
func (s *session) rawNN(ctx context.Context, c *command) (string, error) {
	player, syms, optimism, err := parseRawNNArgs(c.args)
	if err != nil {
		return "", fail("%s for kata-raw-nn (expected an optional color, a symmetry 'all' or index [0-7], and an optional optimism [0-1])", err)
	}
	if player == game.Empty {
		player = s.toMove()
	}
	var b strings.Builder
	for _, sym := range syms {
		req, timeout := s.searchRequest(player)
		req.MaxVisits, req.MaxTime = 1, 0
		req.IncludePolicy, req.IncludeOwnership = true, true
		if optimism >= 0 {
			s.params.setting(req, "rootPolicyOptimism", optimism)
		}
		gctx, cancel := context.WithTimeout(ctx, timeout)
		t, err := s.b.client.Position(gctx, req)
		cancel()
		if err != nil {
			return "", s.serverError("network evaluation", err)
		}
		if err := s.writeRawNN(&b, sym, t); err != nil {
			return "", err
		}
	}
	return strings.TrimSpace(b.String()), nil
}

// parseRawNNArgs reads kata-raw-nn's arguments as KataGo's parseRawNNArgs does; optimism
// is negative when not given.
func parseRawNNArgs(args []string) (player game.Color, syms []int, optimism float64, err error) {
	optimism = -1
	i := 0
	if i < len(args) {
		if p, ok := parsePlayer(strings.TrimSpace(args[i])); ok {
			player = p
			i++
		}
	}
	if i >= len(args) {
		return 0, nil, 0, fail("Expected a symmetry argument 'all' or index [0-7]")
	}
	switch a := strings.ToLower(strings.TrimSpace(args[i])); {
	case a == "all":
		syms = []int{0, 1, 2, 3, 4, 5, 6, 7}
	default:
		n, convErr := strconv.Atoi(a)
		if convErr != nil || n < 0 || n > 7 {
			return 0, nil, 0, fail("Expected a symmetry argument 'all' or index [0-7] but got '%s'", args[i])
		}
		syms = []int{n}
	}
	i++
	if i < len(args) {
		v, convErr := strconv.ParseFloat(args[i], 64)
		if convErr != nil || math.IsNaN(v) || v < 0 || v > 1 {
			return 0, nil, 0, fail("Expected an optimism value in [0,1] but got '%s'", args[i])
		}
		optimism = v
		i++
	}
	if i < len(args) {
		return 0, nil, 0, fail("Unexpected extra argument '%s'", args[i])
	}
	return player, syms, optimism, nil
}

// writeRawNN writes one block of kata-raw-nn from a one-visit result (Black's view):
// White's values, the policy with NAN for illegal points, White's ownership.
func (s *session) writeRawNN(b *strings.Builder, sym int, t *game.Turn) error {
	r := t.Root
	area := s.xsize * s.ysize
	if r == nil || r.RawWinrate == nil || r.RawLead == nil || r.RawScoreSelfplay == nil ||
		r.RawScoreSelfplayStdev == nil || len(t.Policy) != area+1 || len(t.Ownership) != area {
		return fail("tesuji server returned no raw network values for the position")
	}
	noResult := deref(r.RawNoResultProb, 0)
	winLoss := 2*(1-*r.RawWinrate) - 1 // White's win minus loss
	whiteScore := -*r.RawScoreSelfplay
	fmt.Fprintf(b, "symmetry %d\n", sym)
	fmt.Fprintf(b, "whiteWin %.6f\n", (1-noResult+winLoss)/2)
	fmt.Fprintf(b, "whiteLoss %.6f\n", (1-noResult-winLoss)/2)
	fmt.Fprintf(b, "noResult %.6f\n", noResult)
	fmt.Fprintf(b, "whiteLead %.3f\n", -*r.RawLead)
	fmt.Fprintf(b, "whiteScoreSelfplay %.3f\n", whiteScore)
	fmt.Fprintf(b, "whiteScoreSelfplaySq %.3f\n", whiteScore*whiteScore+*r.RawScoreSelfplayStdev**r.RawScoreSelfplayStdev)
	fmt.Fprintf(b, "varTimeLeft %.3f\n", deref(r.RawVarTimeLeft, -1))
	fmt.Fprintf(b, "shorttermWinlossError %.3f\n", deref(r.RawStWrError, -1))
	fmt.Fprintf(b, "shorttermScoreError %.3f\n", deref(r.RawStScoreError, -1))
	prob := func(p float64) string {
		if p < 0 {
			return "    NAN "
		}
		return fmt.Sprintf("%8.6f ", p)
	}
	b.WriteString("policy\n")
	for y := 0; y < s.ysize; y++ {
		for x := 0; x < s.xsize; x++ {
			b.WriteString(prob(t.Policy[y*s.xsize+x]))
		}
		b.WriteByte('\n')
	}
	b.WriteString("policyPass " + prob(t.Policy[area]) + "\n")
	b.WriteString("whiteOwnership\n")
	for y := 0; y < s.ysize; y++ {
		for x := 0; x < s.xsize; x++ {
			fmt.Fprintf(b, "%9.7f ", -t.Ownership[y*s.xsize+x]+0) // +0: no negative zero
		}
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	return nil
}

func deref(p *float64, def float64) float64 {
	if p == nil {
		return def
	}
	return *p
}
