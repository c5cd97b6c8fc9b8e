package gtp

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tesuji/tesuji/katago/transcript"
)

// infoKeyRE matches the keys of an info line; every value (numbers, vertices, "pass") is
// something else.
var infoKeyRE = regexp.MustCompile(`^[a-zA-Z]+$`)

// infoMove is one move of an info line: its keys in order and each key's values.
type infoMove struct {
	keys   []string
	values map[string][]string
}

// parseInfoLine splits an info line into its moves; the keys after the last move's pv
// (rootInfo's, ownership) belong to the last move.
func parseInfoLine(t *testing.T, line string) []infoMove {
	t.Helper()
	if !strings.HasPrefix(line, "info ") {
		t.Fatalf("not an info line: %q", line)
	}
	var moves []infoMove
	var key string
	for _, tok := range strings.Fields(line) {
		switch {
		case tok == "info":
			moves = append(moves, infoMove{values: map[string][]string{}})
			key = ""
		case infoKeyRE.MatchString(tok) && tok != "pass":
			m := &moves[len(moves)-1]
			m.keys = append(m.keys, tok)
			key = tok
			if _, dup := m.values[key]; dup && key != "visits" && key != "winrate" && key != "scoreMean" &&
				key != "scoreLead" && key != "scoreStdev" && key != "scoreSelfplay" && key != "utility" && key != "weight" {
				t.Fatalf("key %s twice in one move of %q", key, line)
			}
			m.values[key] = nil
		default:
			if key == "" {
				t.Fatalf("value %q before any key in %q", tok, line)
			}
			m := &moves[len(moves)-1]
			m.values[key] = append(m.values[key], tok)
		}
	}
	return moves
}

// streamAnalysis sends an analysis command, checks its "=" header, reads n info lines,
// ends the analysis with an empty line and reads the rest of its answer.
func streamAnalysis(t *testing.T, g *gui, cmd string, n int) []string {
	t.Helper()
	g.send(cmd)
	if h := g.next(30 * time.Second).text; h != "=" {
		t.Fatalf("%s: header %q, want =", cmd, h)
	}
	var lines []string
	for len(lines) < n {
		l := g.next(30 * time.Second).text
		if l == "" {
			t.Fatalf("%s: the analysis ended after %d lines", cmd, len(lines))
		}
		lines = append(lines, l)
	}
	g.send("")
	for {
		l := g.next(30 * time.Second).text
		if l == "" {
			return lines
		}
		lines = append(lines, l)
	}
}

// transcriptReply returns the first line of the answer KataGo gave to cmd in the recorded
// Lizzie session.
func transcriptReply(t *testing.T, cmd string) string {
	t.Helper()
	lines := transcript.Load(t, "07-gtp-lizzie-session")
	for i, l := range lines {
		if l.Dir != "in" || !strings.HasSuffix(l.Line, " "+cmd) {
			continue
		}
		for _, o := range lines[i+1:] {
			if o.Dir == "out" && strings.HasPrefix(o.Line, "info ") {
				return o.Line
			}
		}
	}
	t.Fatalf("the transcript has no answer to %q", cmd)
	return ""
}

// keysOf returns the keys of the first and the last move of an info line.
func keysOf(t *testing.T, line string) [2][]string {
	t.Helper()
	ms := parseInfoLine(t, line)
	return [2][]string{ms[0].keys, ms[len(ms)-1].keys}
}

var kataMoveKeys = []string{"move", "visits", "edgeVisits", "utility", "winrate", "scoreMean", "scoreStdev",
	"scoreLead", "scoreSelfplay", "prior", "lcb", "utilityLcb", "weight", "order", "pv"}

var rootInfoKeys = []string{"rootInfo", "visits", "utility", "winrate", "scoreMean", "scoreStdev", "scoreLead",
	"scoreSelfplay", "weight", "rawStWrError", "rawStScoreError", "rawVarTimeLeft"}

// TestAnalysisOptionsAsKataGo replays each analysis command and option: where the
// recorded session with KataGo has the exchange, the keys of the info lines must be
// KataGo's, in its order; otherwise the format of GTP_Extensions.md (gtp.cpp's order).
func TestAnalysisOptionsAsKataGo(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "127.0.0.1:0")
	g := startBridge(t, Config{Server: "http://" + srv.Addr()})
	setup := []exchange{{"boardsize 19", "= "}, {"komi 7.5", "= "}, {"clear_board", "= "},
		{"play B Q16", "= "}, {"play W D4", "= "}}
	run(t, g, setup)

	withoutIsSymmetryOf := func(keys []string) []string {
		out := keys[:0:0]
		for i := 0; i < len(keys); i++ {
			if keys[i] != "isSymmetryOf" {
				out = append(out, keys[i])
			}
		}
		return out
	}
	cat := func(parts ...[]string) []string {
		var out []string
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	tests := []struct {
		name string
		cmd  string
		// want is the keys of the first and the last move; from the transcript when
		// transcript names the recorded command.
		transcript string
		want       [2][]string
		check      func(t *testing.T, moves []infoMove)
	}{
		{name: "kata-analyze", cmd: "kata-analyze 50", transcript: "kata-analyze 50"},
		{name: "lz-analyze", cmd: "lz-analyze 50", transcript: "lz-analyze 50"},
		{name: "ownership", cmd: "kata-analyze B 50 ownership true", transcript: "kata-analyze B 50 ownership true",
			check: func(t *testing.T, ms []infoMove) {
				if n := len(ms[len(ms)-1].values["ownership"]); n != 361 {
					t.Errorf("%d ownership values", n)
				}
			}},
		{name: "interval key", cmd: "kata-analyze interval 20", want: [2][]string{kataMoveKeys, kataMoveKeys}},
		{name: "pvVisits and pvEdgeVisits", cmd: "kata-analyze 20 pvVisits true pvEdgeVisits true",
			want: [2][]string{cat(kataMoveKeys, []string{"pvVisits", "pvEdgeVisits"}), cat(kataMoveKeys, []string{"pvVisits", "pvEdgeVisits"})},
			check: func(t *testing.T, ms []infoMove) {
				for _, m := range ms {
					if len(m.values["pvVisits"]) != len(m.values["pv"]) || len(m.values["pvEdgeVisits"]) != len(m.values["pv"]) {
						t.Errorf("pv %v, pvVisits %v, pvEdgeVisits %v", m.values["pv"], m.values["pvVisits"], m.values["pvEdgeVisits"])
					}
				}
			}},
		{name: "movesOwnership with stdev", cmd: "kata-analyze 20 movesOwnership true movesOwnershipStdev true maxmoves 3",
			want: [2][]string{cat(kataMoveKeys, []string{"movesOwnership", "movesOwnershipStdev"}), cat(kataMoveKeys, []string{"movesOwnership", "movesOwnershipStdev"})},
			check: func(t *testing.T, ms []infoMove) {
				if len(ms) > 3 {
					t.Errorf("%d moves with maxmoves 3", len(ms))
				}
				for _, m := range ms {
					if len(m.values["movesOwnership"]) != 361 || len(m.values["movesOwnershipStdev"]) != 361 {
						t.Errorf("%d movesOwnership and %d movesOwnershipStdev values", len(m.values["movesOwnership"]), len(m.values["movesOwnershipStdev"]))
					}
				}
			}},
		{name: "rootInfo, ownership and ownershipStdev", cmd: "kata-analyze 20 rootInfo true ownership true ownershipStdev true",
			want: [2][]string{kataMoveKeys, cat(kataMoveKeys, rootInfoKeys, []string{"ownership", "ownershipStdev"})},
			check: func(t *testing.T, ms []infoMove) {
				last := ms[len(ms)-1]
				if len(last.values["ownership"]) != 361 || len(last.values["ownershipStdev"]) != 361 {
					t.Errorf("%d ownership and %d ownershipStdev values", len(last.values["ownership"]), len(last.values["ownershipStdev"]))
				}
			}},
		{name: "noResultValue", cmd: "kata-analyze 20 noResultValue true",
			want: [2][]string{cat(kataMoveKeys[:9], []string{"noResultValue"}, kataMoveKeys[9:]), cat(kataMoveKeys[:9], []string{"noResultValue"}, kataMoveKeys[9:])}},
		{name: "avoid", cmd: "kata-analyze 20 avoid b R4,C16,Q3,D17 1 avoid w R16 1", want: [2][]string{kataMoveKeys, kataMoveKeys},
			check: func(t *testing.T, ms []infoMove) {
				for _, m := range ms {
					if v := m.values["move"][0]; v == "R4" || v == "C16" || v == "Q3" || v == "D17" {
						t.Errorf("avoided move %s searched", v)
					}
				}
			}},
		{name: "avoid and allow", cmd: "kata-analyze 20 avoid b R4,C16,Q3 1 allow w R16 1", want: [2][]string{kataMoveKeys, kataMoveKeys},
			check: func(t *testing.T, ms []infoMove) {
				for _, m := range ms {
					if v := m.values["move"][0]; v == "R4" || v == "C16" || v == "Q3" {
						t.Errorf("avoided move %s searched", v)
					}
				}
			}},
		{name: "allow", cmd: "lz-analyze 20 allow black C3,R3,K10 1", want: [2][]string{{"move", "visits", "winrate", "prior", "lcb", "order", "pv"}, {"move", "visits", "winrate", "prior", "lcb", "order", "pv"}},
			check: func(t *testing.T, ms []infoMove) {
				for _, m := range ms {
					if v := m.values["move"][0]; v != "C3" && v != "R3" && v != "K10" {
						t.Errorf("move %s searched, not allowed", v)
					}
				}
			}},
	}
	for _, tt := range tests {
		// Not parallel: one bridge, one analysis at a time.
		t.Run(tt.name, func(t *testing.T) {
			lines := streamAnalysis(t, g, tt.cmd, 2)
			want := tt.want
			if tt.transcript != "" {
				want = keysOf(t, transcriptReply(t, tt.transcript))
				want[0], want[1] = withoutIsSymmetryOf(want[0]), withoutIsSymmetryOf(want[1])
			}
			for _, l := range lines {
				got := keysOf(t, l)
				got[0], got[1] = withoutIsSymmetryOf(got[0]), withoutIsSymmetryOf(got[1])
				if diff := cmp.Diff(want, got); diff != "" {
					t.Fatalf("%s: keys of the first and last move (-want +got):\n%s\nline: %s", tt.cmd, diff, l)
				}
				if tt.check != nil {
					tt.check(t, parseInfoLine(t, l))
				}
			}
		})
	}
}

// TestLizzieYzyAnalyze: LizzieYzy adds pvVisits and movesOwnership to every kata-analyze;
// each streamed line carries every requested field for every move.
func TestLizzieYzyAnalyze(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "127.0.0.1:0")
	g := startBridge(t, Config{Server: "http://" + srv.Addr()})
	run(t, g, []exchange{{"boardsize 19", "= "}, {"play B Q16", "= "}, {"play W D4", "= "}})
	lines := streamAnalysis(t, g, "kata-analyze 10 pvVisits true movesOwnership true ownership true", 5)
	for _, l := range lines {
		ms := parseInfoLine(t, l)
		for i, m := range ms {
			wantKeys := append(append([]string{}, kataMoveKeys...), "pvVisits", "movesOwnership")
			if i == len(ms)-1 {
				wantKeys = append(wantKeys, "ownership")
			}
			got := slicesWithout(m.keys, "isSymmetryOf")
			if diff := cmp.Diff(wantKeys, got); diff != "" {
				t.Fatalf("move %d keys (-want +got):\n%s\nline: %s", i, diff, l)
			}
			if len(m.values["pvVisits"]) != len(m.values["pv"]) || len(m.values["pv"]) == 0 {
				t.Errorf("move %d: pv %v, pvVisits %v", i, m.values["pv"], m.values["pvVisits"])
			}
			if len(m.values["movesOwnership"]) != 361 {
				t.Errorf("move %d: %d movesOwnership values", i, len(m.values["movesOwnership"]))
			}
		}
		if n := len(ms[len(ms)-1].values["ownership"]); n != 361 {
			t.Errorf("%d ownership values", n)
		}
	}
}

func slicesWithout(s []string, drop string) []string {
	var out []string
	for _, v := range s {
		if v != drop {
			out = append(out, v)
		}
	}
	return out
}

// TestKataGoCommands replays KataGo's other GTP commands a GUI uses, in the formats of
// GTP_Extensions.md and the answers of gtp.cpp.
func TestKataGoCommands(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "127.0.0.1:0")
	g := startBridge(t, Config{Server: "http://" + srv.Addr()})
	run(t, g, []exchange{{"boardsize 19", "= "}, {"play B Q16", "= "}, {"play W D4", "= "}})
	vertex := `(?:[A-HJ-T](?:1[0-9]|[1-9])|pass)`
	tests := []struct {
		cmd  string
		want string // a regular expression for the whole answer
	}{
		{"kata-list-params", `= analysisWideRootNoise humanSLProfile maxPlayouts maxTime maxVisits playoutDoublingAdvantage wideRootNoise`},
		{"kata-get-param maxTime", `= 1e\+20`},
		{"kata-get-param analysisWideRootNoise", `= 0\.04`},
		{"kata-get-param numSearchThreads", `\? Invalid parameter: numSearchThreads`},
		{"kata-get-param", `\? Expected one arguments for kata-get-param but got ''`},
		{"kata-set-param numSearchThreads 4", `\? Could not set params: Unrecognized or non-overridable parameter in kata-set-params: numSearchThreads`},
		{"kata-set-param maxVisits lots", `\? Could not set params: Could not parse 'lots' as int64_t for key 'maxVisits' in config file  and/or command-line and query overrides`},
		{"kata-set-param playoutDoublingAdvantage 9", `\? Could not set params: Key 'playoutDoublingAdvantage' must be in the range -3 to 3 in config file  and/or command-line and query overrides`},
		{"kata-set-param maxVisits 50", `= `},
		{"kata-get-param maxVisits", `= 50`},
		{`kata-set-params {"playoutDoublingAdvantage":0.5,"humanSLProfile":"rank_5k"}`, `= `},
		{"kata-get-param humanSLProfile", `= rank_5k`},
		{"kata-get-params", `= \{"analysisWideRootNoise":"0\.04","humanSLProfile":"rank_5k","maxPlayouts":1125899906842624,"maxTime":1e\+20,"maxVisits":50,"playoutDoublingAdvantage":0\.5,"wideRootNoise":0\.0\}`},
		{"kata-set-param humanSLProfile", `= `},
		{"kata-set-param playoutDoublingAdvantage 0", `= `},
		{"kata-list_time_settings", `= none absolute byoyomi canadian fischer fischer-capped`},
		{"kata-time_settings fischer 300 5", `= `},
		{"kata-time_settings fischer-capped 300 5 600 -1", `= `},
		{"kata-time_settings hourglass 300", `\? Expected 'none', 'absolute', 'byoyomi', 'canadian', 'fischer', or 'fischer-capped' as first argument for kata-time_settings`},
		{"kgs-time_settings fischer 300 5", `\? Expected 'none', 'absolute', 'byoyomi', or 'canadian' as first argument for kgs-time_settings`},
		{"kata-time_settings none", `= `},
		{"final_status_list alive", `= (?:` + vertex + `(?: ` + vertex + `)*)?`},
		{"final_status_list seki", `= `},
		{"final_status_list bogus", `\? Argument to final_status_list must be 'alive' or 'seki' or 'dead'`},
		{"final_status_list", `\? Expected one argument for final_status_list but got ''`},
		{"kata-get-models", `= \[\{"internalName":"[^"]*","maxBatchSize":[0-9]+,"name":"[^"]+","usesHumanSLProfile":(?:true|false),"usingFP16":"[^"]*","version":[0-9]+\}\]`},
		{"kata-search B", `= ` + vertex},
		{"kata-raw-nn 9", `\? Expected a symmetry argument 'all' or index \[0-7\] but got '9' for kata-raw-nn \(expected an optional color, a symmetry 'all' or index \[0-7\], and an optional optimism \[0-1\]\)`},
		{"kata-raw-nn w 0 2", `\? Expected an optimism value in \[0,1\] but got '2' for kata-raw-nn .*`},
		{"kata-raw-nn 0 0.5 x", `\? Unexpected extra argument 'x' for kata-raw-nn .*`},
	}
	for _, tt := range tests {
		// Not parallel: the commands share one session, in order.
		got := g.do(tt.cmd)
		if !regexp.MustCompile(`\A` + tt.want + `\z`).MatchString(got) {
			t.Errorf("%s:\n got %q\nwant %s", tt.cmd, got, tt.want)
		}
	}
	// kata-search did not play its move: Black is still to move.
	if got := g.do("play B C3"); got != "= " {
		t.Errorf("play B C3 after kata-search: %q", got)
	}
	// One evaluation in KataGo's layout: the values, then the policy and White's
	// ownership row by row.
	raw := strings.Split(g.do("kata-raw-nn 3"), "\n")
	head := regexp.MustCompile(`\A= symmetry 3\nwhiteWin [01]\.[0-9]{6}\nwhiteLoss [01]\.[0-9]{6}\nnoResult [01]\.[0-9]{6}\n` +
		`whiteLead -?[0-9]+\.[0-9]{3}\nwhiteScoreSelfplay -?[0-9]+\.[0-9]{3}\nwhiteScoreSelfplaySq [0-9]+\.[0-9]{3}\n` +
		`varTimeLeft -?[0-9]+\.[0-9]{3}\nshorttermWinlossError -?[0-9]+\.[0-9]{3}\nshorttermScoreError -?[0-9]+\.[0-9]{3}\npolicy\z`)
	policyRow := regexp.MustCompile(`\A(?:(?:[01]\.[0-9]{6}|    NAN) ){19}\z`)
	ownRow := regexp.MustCompile(`\A(?:-?[01]\.[0-9]{7} ){18}-?[01]\.[0-9]{7} ?\z`)
	switch {
	case len(raw) != 11+19+2+19 || !head.MatchString(strings.Join(raw[:11], "\n")):
		t.Errorf("kata-raw-nn 3: %d lines, head %q", len(raw), raw[:min(11, len(raw))])
	case !regexp.MustCompile(`\ApolicyPass [01]\.[0-9]{6} \z`).MatchString(raw[30]) || raw[31] != "whiteOwnership":
		t.Errorf("kata-raw-nn 3: %q, %q", raw[30], raw[31])
	default:
		for i := 11; i < 30; i++ {
			if !policyRow.MatchString(raw[i]) {
				t.Errorf("kata-raw-nn 3: policy row %q", raw[i])
			}
		}
		for i := 32; i < 51; i++ {
			if !ownRow.MatchString(raw[i]) {
				t.Errorf("kata-raw-nn 3: ownership row %q", raw[i])
			}
		}
	}
	// "all" gives the eight symmetries in order, each block ending with a blank line as
	// KataGo's do (so a GTP reader sees the blocks after the first as separate lines).
	g.send("kata-raw-nn all")
	var syms []string
	for range 8 {
		block := g.answer(30 * time.Second)
		if len(block) > 0 {
			syms = append(syms, strings.TrimPrefix(strings.TrimPrefix(block[0], "= "), "symmetry "))
		}
	}
	if diff := cmp.Diff([]string{"0", "1", "2", "3", "4", "5", "6", "7"}, syms); diff != "" {
		t.Errorf("kata-raw-nn all: symmetries (-want +got):\n%s", diff)
	}

	// kata-set-param maxVisits reaches the search: KataGo's visits over the candidates
	// sum to maxVisits-1.
	run(t, g, []exchange{{"kata-set-param maxVisits 50", "= "}})
	g.send("kata-search_analyze W")
	if h := g.next(30 * time.Second).text; h != "=" {
		t.Fatalf("kata-search_analyze header %q", h)
	}
	final := g.answer(60 * time.Second)
	if len(final) != 2 || !strings.HasPrefix(final[1], "play ") {
		t.Fatalf("kata-search_analyze answer %q, want the final info line and play MOVE", final)
	}
	sum := 0
	for _, m := range parseInfoLine(t, final[0]) {
		if _, copied := m.values["isSymmetryOf"]; copied {
			continue // a symmetric move's copy of another's visits
		}
		n, _ := strconv.Atoi(m.values["visits"][0])
		sum += n
	}
	if sum != 49 {
		t.Errorf("the search's candidates have %d visits, want 49 after kata-set-param maxVisits 50", sum)
	}

	// The cancellable searches end at the next line with "cancelled"; a search of ten
	// million visits (more than the server allows, so it searches its limit: 100 s for
	// the fake KataGo) cannot have finished.
	run(t, g, []exchange{{"kata-set-param maxVisits 10000000", "= "}})
	g.send("kata-search_cancellable W")
	g.send("")
	if got := strings.Join(g.answer(30*time.Second), "\n"); got != "= cancelled" {
		t.Errorf("kata-search_cancellable interrupted: %q, want = cancelled", got)
	}
	g.send("kata-search_analyze_cancellable W interval 10")
	if h := g.next(30 * time.Second).text; h != "=" {
		t.Fatalf("kata-search_analyze_cancellable header %q", h)
	}
	if l := g.next(30 * time.Second).text; !strings.HasPrefix(l, "info move ") {
		t.Fatalf("kata-search_analyze_cancellable: %q, want an info line", l)
	}
	g.send("name")
	var rest []string
	for {
		l := g.next(30 * time.Second).text
		if l == "" {
			break
		}
		rest = append(rest, l)
	}
	if len(rest) == 0 || rest[len(rest)-1] != "play cancelled" {
		t.Errorf("kata-search_analyze_cancellable interrupted ended with %q, want play cancelled", rest)
	}
	if got := strings.Join(g.answer(30*time.Second), "\n"); got != "= KataGo" {
		t.Errorf("the command that interrupted the search answered %q", got)
	}
	var models []map[string]any
	if err := json.Unmarshal([]byte(strings.TrimPrefix(g.do("kata-get-models"), "= ")), &models); err != nil || len(models) != 1 {
		t.Errorf("kata-get-models: %v %v", models, err)
	}
}
