package gtp

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tesuji/tesuji/analysis"
	"github.com/tesuji/tesuji/client"
	"github.com/tesuji/tesuji/game"
	"github.com/tesuji/tesuji/katago"
)

func TestCFloat(t *testing.T) {
	t.Parallel()
	// Each printed by C++'s ostream << double, as KataGo's GTP output shows.
	tests := []struct {
		in   float64
		want string
	}{
		{0.492726, "0.492726"},
		{-0.0156101, "-0.0156101"},
		{16, "16"},
		{30.6773, "30.6773"},
		{-3.54217e-05, "-3.54217e-05"},
		{0.4927261234, "0.492726"},
		{1234567, "1.23457e+06"},
		{100000, "100000"},
		{0, "0"},
		{-0.0 * 1, "0"},
		{7.5, "7.5"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			if got := cfloat(tt.in); got != tt.want {
				t.Errorf("cfloat(%v) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestLzInt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   float64
		want string
	}{
		{0.49626, "4963"},
		{0.20875, "2088"}, // halves away from zero, as C's round
		{-0.0494, "-494"},
		{1, "10000"},
		{0, "0"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			if got := lzInt(tt.in); got != tt.want {
				t.Errorf("lzInt(%v) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestInfoPerspective checks that values reported from Black's point of view come out
// from the side to move, as KataGo's GTP engine reports them.
func TestInfoPerspective(t *testing.T) {
	t.Parallel()
	ev, w := 12, 3.5
	turn := &game.Turn{
		Player: "W", Winrate: 0.7, ScoreLead: 4.5, Visits: 20,
		Candidates: []katago.MoveInfo{{
			Move: "Q3", Visits: 12, EdgeVisits: &ev, Utility: 0.25, Winrate: 0.75,
			ScoreMean: 5, ScoreStdev: 30.5, ScoreLead: 5.5, ScoreSelfplay: 6.25, Prior: 0.125,
			Lcb: 0.625, UtilityLcb: 0.125, Weight: &w, Order: 0, PV: []string{"Q3", "C16"},
		}, {
			Move: "C16", Visits: 8, Winrate: 0.5, Prior: 0.5, Lcb: 0.375, Order: 1,
			IsSymmetryOf: "Q3", PV: []string{"C16"},
		}},
		Ownership: []float64{0.5, -0.25, 0, 1},
	}
	tests := []struct {
		name string
		f    infoFormat
		want string
	}{
		{"kata black to move", infoFormat{kata: true, args: analyzeArgs{maxMoves: 100, ownership: true}},
			"info move Q3 visits 12 edgeVisits 12 utility 0.25 winrate 0.75 scoreMean 5.5 scoreStdev 30.5 " +
				"scoreLead 5.5 scoreSelfplay 6.25 prior 0.125 lcb 0.625 utilityLcb 0.125 weight 3.5 order 0 pv Q3 C16 " +
				"info move C16 visits 8 edgeVisits 8 utility 0 winrate 0.5 scoreMean 0 scoreStdev 0 scoreLead 0 " +
				"scoreSelfplay 0 prior 0.5 lcb 0.375 utilityLcb 0 weight 8 isSymmetryOf Q3 order 1 pv C16 " +
				"ownership 0.5 -0.25 0 1"},
		{"kata white to move", infoFormat{kata: true, white: true, args: analyzeArgs{maxMoves: 1, ownership: true, rootInfo: true}},
			"info move Q3 visits 12 edgeVisits 12 utility -0.25 winrate 0.25 scoreMean -5.5 scoreStdev 30.5 " +
				"scoreLead -5.5 scoreSelfplay -6.25 prior 0.125 lcb 0.375 utilityLcb -0.125 weight 3.5 order 0 pv Q3 C16 " +
				"rootInfo visits 20 winrate 0.3 scoreMean -4.5 scoreLead -4.5 " +
				"ownership -0.5 0.25 0 -1"},
		{"lz white to move", infoFormat{white: true, args: analyzeArgs{maxMoves: 100, ownership: true}},
			"info move Q3 visits 12 winrate 2500 prior 1250 lcb 3750 order 0 pv Q3 C16 " +
				"info move C16 visits 8 winrate 5000 prior 5000 lcb 6250 order 1 pv C16"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, tt.f.line(turn)); diff != "" {
				t.Errorf("info line (-want +got):\n%s", diff)
			}
		})
	}
	if got := (&infoFormat{kata: true, args: analyzeArgs{maxMoves: 10}}).line(&game.Turn{}); got != "" {
		t.Errorf("a report without candidates gave %q, want nothing", got)
	}
}

func TestParseAnalyzeArgs(t *testing.T) {
	t.Parallel()
	const none = 10000000
	vertex := func(v string) string {
		if v == "Z99" {
			return ""
		}
		return strings.ToUpper(v)
	}
	avoidD4 := katago.MoveRestriction{Player: "B", Moves: []string{"D4", "Q16"}, UntilDepth: 1}
	tests := []struct {
		name string
		kata bool
		args []string
		want analyzeArgs
		ok   bool
	}{
		{"interval only", true, []string{"50"}, analyzeArgs{interval: 0.5, maxMoves: none}, true},
		{"player and keys", true, []string{"B", "50", "ownership", "true", "maxmoves", "5"},
			analyzeArgs{player: game.Black, interval: 0.5, maxMoves: 5, ownership: true}, true},
		{"interval key", false, []string{"white", "interval", "25", "minmoves", "2"},
			analyzeArgs{player: game.White, interval: 0.25, minMoves: 2, maxMoves: none}, true},
		{"nothing", false, nil, analyzeArgs{interval: -1, maxMoves: none}, true},
		{"ownership is kata only", false, []string{"50", "ownership", "true"}, analyzeArgs{}, false},
		{"pvVisits is kata only", false, []string{"50", "pvVisits", "true"}, analyzeArgs{}, false},
		{"missing value", true, []string{"50", "ownership"}, analyzeArgs{}, false},
		{"unknown key", true, []string{"50", "bogus", "1"}, analyzeArgs{}, false},
		{"bad bool", true, []string{"50", "pvVisits", "maybe"}, analyzeArgs{}, false},
		{"lizzieyzy", true, []string{"B", "10", "pvVisits", "true", "movesOwnership", "true", "ownership", "true"},
			analyzeArgs{player: game.Black, interval: 0.1, maxMoves: none, pvVisits: true, movesOwnership: true, ownership: true}, true},
		{"every flag", true, []string{"10", "rootInfo", "true", "ownershipStdev", "true", "movesOwnershipStdev", "true",
			"pvEdgeVisits", "true", "noResultValue", "true"},
			analyzeArgs{interval: 0.1, maxMoves: none, rootInfo: true, ownershipStdev: true, movesOwnershipStdev: true,
				pvEdgeVisits: true, noResultValue: true}, true},
		{"avoid", false, []string{"10", "avoid", "b", "d4,q16", "1"},
			analyzeArgs{interval: 0.1, maxMoves: none, avoid: []katago.MoveRestriction{avoidD4}}, true},
		{"avoid for both", true, []string{"avoid", "b", "d4,q16", "1", "avoid", "white", "c3", "2"},
			analyzeArgs{interval: -1, maxMoves: none, avoid: []katago.MoveRestriction{avoidD4,
				{Player: "W", Moves: []string{"C3"}, UntilDepth: 2}}}, true},
		{"allow", true, []string{"10", "allow", "w", "c3,,r3", "5"},
			analyzeArgs{interval: 0.1, maxMoves: none, allow: []katago.MoveRestriction{{Player: "W", Moves: []string{"C3", "R3"}, UntilDepth: 5}}}, true},
		{"avoid and allow for one player", true, []string{"avoid", "b", "d4", "1", "allow", "b", "c3", "1"}, analyzeArgs{}, false},
		{"avoid for one player, allow for the other", true, []string{"avoid", "b", "d4,q16", "1", "allow", "w", "c3", "1"},
			analyzeArgs{interval: -1, maxMoves: none, avoid: []katago.MoveRestriction{avoidD4},
				allow: []katago.MoveRestriction{{Player: "W", Moves: []string{"C3"}, UntilDepth: 1}}}, true},
		// One allowMoves entry has one depth for every move it does not allow.
		{"avoids at two depths and an allow", true, []string{"avoid", "b", "d4", "1", "avoid", "b", "q16", "2", "allow", "w", "c3", "1"},
			analyzeArgs{}, false},
		{"allow twice", true, []string{"allow", "b", "d4", "1", "allow", "b", "c3", "1"}, analyzeArgs{}, false},
		{"avoid bad vertex", true, []string{"avoid", "b", "Z99", "1"}, analyzeArgs{}, false},
		{"avoid bad depth", true, []string{"avoid", "b", "d4", "0"}, analyzeArgs{}, false},
		{"avoid short", true, []string{"avoid", "b", "d4"}, analyzeArgs{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := parseAnalyzeArgs(tt.kata, tt.args, vertex)
			if ok != tt.ok {
				t.Fatalf("ok %v, want %v", ok, tt.ok)
			}
			if ok {
				if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(analyzeArgs{})); diff != "" {
					t.Errorf("args (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// TestAnalyzeRestrictions: avoid and allow reach the query as avoidMoves and allowMoves,
// and a command with both (for different players, as KataGo's GTP takes them) sends the
// avoided moves as an allow of every other move and pass, since KataGo's analysis refuses
// a query with both fields.
func TestAnalyzeRestrictions(t *testing.T) {
	t.Parallel()
	vertex := func(v string) string {
		if strings.EqualFold(v, "pass") {
			return "pass"
		}
		return strings.ToUpper(v)
	}
	r := func(player string, depth int, moves ...string) katago.MoveRestriction {
		return katago.MoveRestriction{Player: player, Moves: moves, UntilDepth: depth}
	}
	tests := []struct {
		name         string
		args         string
		avoid, allow []katago.MoveRestriction
	}{
		{"avoid", "avoid b b2 1 avoid w a1 2", []katago.MoveRestriction{r("B", 1, "B2"), r("W", 2, "A1")}, nil},
		{"allow", "allow w c3,pass 3", nil, []katago.MoveRestriction{r("W", 3, "C3", "pass")}},
		{"avoid and allow", "avoid b b2 1 allow w c3 1",
			nil, []katago.MoveRestriction{r("W", 1, "C3"), r("B", 1, "A3", "B3", "C3", "A2", "C2", "A1", "B1", "C1", "pass")}},
		{"avoids merged, pass among them", "avoid b b2 2 allow w c3 2 avoid b pass,a1 2",
			nil, []katago.MoveRestriction{r("W", 2, "C3"), r("B", 2, "A3", "B3", "C3", "A2", "C2", "B1", "C1")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, ok := parseAnalyzeArgs(true, strings.Fields(tt.args), vertex)
			if !ok {
				t.Fatalf("%q does not parse", tt.args)
			}
			req := &client.PositionRequest{Position: analysis.Position{BoardXSize: 3, BoardYSize: 3}}
			a.apply(req)
			if diff := cmp.Diff(tt.avoid, req.AvoidMoves); diff != "" {
				t.Errorf("avoidMoves (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.allow, req.AllowMoves); diff != "" {
				t.Errorf("allowMoves (-want +got):\n%s", diff)
			}
		})
	}
}
