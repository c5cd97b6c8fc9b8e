package gtp

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tesuji/tesuji/katago/transcript"
)

// reply is one GTP answer: its lines up to (not including) the blank line that ends it.
type reply struct {
	lines []string
}

func (r reply) head() string { return r.lines[0] }

// splitReplies cuts GTP output into answers. Lines outside an answer are what KataGo
// wrote on stderr (the transcript merges stderr into stdout, as Lizzie reads them) and
// are returned apart.
func splitReplies(lines []string) (replies []reply, stray []string) {
	var cur *reply
	for _, l := range lines {
		switch {
		case cur != nil && l == "":
			replies = append(replies, *cur)
			cur = nil
		case cur != nil:
			cur.lines = append(cur.lines, l)
		case strings.HasPrefix(l, "=") || strings.HasPrefix(l, "?"):
			cur = &reply{lines: []string{l}}
		case l != "":
			stray = append(stray, l)
		}
	}
	if cur != nil {
		replies = append(replies, *cur)
	}
	return replies, stray
}

// TestLizzieSession replays the commands Lizzie 0.7.4 sent to KataGo against the bridge
// and a server with the fake KataGo, and checks every answer line by line against the
// format of KataGo's own answers in the transcript.
func TestLizzieSession(t *testing.T) {
	t.Parallel()
	tr := transcript.Load(t, "07-gtp-lizzie-session")
	var ins, outs []string
	for _, l := range tr {
		if l.Dir == "in" {
			ins = append(ins, l.Line)
		} else {
			outs = append(outs, l.Line)
		}
	}
	want, stray := splitReplies(outs)
	// KataGo's stderr: its start-up lines and the rules notice. The bridge logs these.
	if len(stray) != 8 || stray[7] != "Changed rules to Japanese" {
		t.Fatalf("unexpected stderr lines in the transcript: %q", stray)
	}

	srv := startServer(t, "127.0.0.1:0")
	g := startBridge(t, Config{Server: "http://" + srv.Addr(), GenmoveVisits: 1500})

	var got []string
	readUntil := func(what string, done func(l string) bool) {
		t.Helper()
		for {
			l := g.next(30 * time.Second).text
			got = append(got, l)
			if done(l) {
				return
			}
		}
	}
	for _, in := range ins {
		g.send(in)
		c := parseCommand(cleanLine(in))
		switch c.name {
		case "kata-analyze", "lz-analyze":
			// Lizzie sends its next command while the analysis streams; wait for the
			// stream to have begun, as it had in the session recorded.
			readUntil("an info line", func(l string) bool { return strings.HasPrefix(l, "info ") })
		}
	}
	// After quit the bridge ends its output.
	for l := range g.lines {
		got = append(got, l.text)
	}
	if err := <-g.done; err != nil {
		t.Fatalf("Serve after quit: %v", err)
	}
	g.done <- nil // for the cleanup

	have, strayOut := splitReplies(got)
	if len(strayOut) > 0 {
		t.Errorf("the bridge wrote lines outside GTP answers: %q", strayOut)
	}
	if len(have) != len(want) {
		t.Fatalf("the bridge gave %d answers, KataGo %d\nbridge: %q", len(have), len(want), got)
	}
	for i := range want {
		cmd := parseCommand(cleanLine(ins[i]))
		t.Run(fmt.Sprintf("%s_%s", cmd.id, cmd.name), func(t *testing.T) {
			checkReply(t, cmd, want[i], have[i])
		})
	}
}

var (
	versionRE = regexp.MustCompile(`^=2 \d+\.\d+\.\d+\+\S+$`)
	genmoveRE = regexp.MustCompile(`^=17 ([A-HJ-T](1[0-9]|[1-9])|pass)$`)
	playRE    = regexp.MustCompile(`^play ([A-HJ-T](1[0-9]|[1-9])|pass)$`)
)

// checkReply compares one of the bridge's answers with KataGo's answer to the same
// command: exactly where the values cannot differ, by format where they come from a
// search.
func checkReply(t *testing.T, cmd *command, want, have reply) {
	t.Helper()
	switch cmd.name {
	case "version":
		if !versionRE.MatchString(have.head()) || len(have.lines) != 1 {
			t.Errorf("version answer %q; KataGo's looks like %q", have.lines, want.lines)
		}
	case "list_commands":
		if have.head() != want.head() {
			t.Errorf("first line %q, KataGo's %q", have.head(), want.head())
		}
		katago := append([]string{"protocol_version"}, want.lines[1:]...)
		mine := append([]string{"protocol_version"}, have.lines[1:]...)
		for _, c := range mine {
			if !slices.Contains(katago, c) {
				t.Errorf("list_commands names %q, which KataGo does not have", c)
			}
		}
		for _, c := range requiredCommands {
			if !slices.Contains(mine, c) {
				t.Errorf("list_commands lacks %q", c)
			}
		}
		if !slices.IsSortedFunc(mine, func(a, b string) int {
			return slices.Index(katago, a) - slices.Index(katago, b)
		}) {
			t.Errorf("list_commands is not in KataGo's order: %q", mine)
		}
	case "genmove":
		if !genmoveRE.MatchString(have.head()) || len(have.lines) != 1 {
			t.Errorf("genmove answer %q; KataGo's %q", have.lines, want.lines)
		}
	case "kata-analyze", "lz-analyze":
		checkAnalysis(t, want, have, false)
	case "lz-genmove_analyze", "kata-genmove_analyze":
		checkAnalysis(t, want, have, true)
	default:
		if diff := cmp.Diff(want.lines, have.lines); diff != "" {
			t.Errorf("answer differs from KataGo's (-katago +bridge):\n%s", diff)
		}
	}
}

// requiredCommands are the commands a GUI may rely on.
var requiredCommands = []string{"protocol_version", "name", "version", "known_command", "list_commands",
	"quit", "boardsize", "rectangular_boardsize", "clear_board", "komi", "get_komi", "play", "undo",
	"fixed_handicap", "place_free_handicap", "set_free_handicap", "genmove", "kata-genmove_analyze",
	"lz-genmove_analyze", "kata-analyze", "lz-analyze", "kata-set-rules", "kata-get-rules",
	"time_settings", "final_score", "showboard", "loadsgf", "printsgf", "stop", "clear_cache"}

// checkAnalysis checks a streamed answer: the bare "=id" header, info lines in KataGo's
// format, and for genmove_analyze the final "play" line.
func checkAnalysis(t *testing.T, want, have reply, genmove bool) {
	t.Helper()
	if have.head() != want.head() {
		t.Errorf("header %q, KataGo's %q", have.head(), want.head())
	}
	wantInfos, haveInfos := want.lines[1:], have.lines[1:]
	if genmove {
		if n := len(have.lines); n < 3 || !playRE.MatchString(have.lines[n-1]) {
			t.Fatalf("genmove_analyze answer does not end with info lines and a play line: %q", have.lines)
		}
		wantInfos, haveInfos = wantInfos[:len(wantInfos)-1], haveInfos[:len(haveInfos)-1]
	}
	if len(haveInfos) == 0 {
		t.Fatalf("no info line in %q", have.lines)
	}
	ref := parseInfo(t, wantInfos[0])
	for _, l := range haveInfos {
		if !strings.HasPrefix(l, "info move ") {
			t.Errorf("line %q is not an info line", l)
			continue
		}
		checkInfoFormat(t, ref, parseInfo(t, l))
	}
}

// infoLine is an info line cut into its moves (each a list of key and value tokens) and
// its trailing ownership values.
type infoLine struct {
	moves     [][]field
	ownership []string
}

type field struct {
	key    string
	values []string
}

// parseInfo cuts an info line; keys are the words KataGo uses, values what follows them.
func parseInfo(t *testing.T, l string) infoLine {
	t.Helper()
	var out infoLine
	tokens := strings.Fields(l)
	keys := map[string]bool{"move": true, "visits": true, "edgeVisits": true, "utility": true,
		"winrate": true, "scoreMean": true, "scoreStdev": true, "scoreLead": true, "scoreSelfplay": true,
		"prior": true, "lcb": true, "utilityLcb": true, "weight": true, "isSymmetryOf": true, "order": true,
		"pv": true}
	var cur []field
	for i := 0; i < len(tokens); i++ {
		switch tok := tokens[i]; {
		case tok == "info":
			if cur != nil {
				out.moves = append(out.moves, cur)
			}
			cur = []field{}
		case tok == "ownership":
			out.ownership = tokens[i+1:]
			i = len(tokens)
		case keys[tok] && cur != nil:
			cur = append(cur, field{key: tok})
		case cur != nil && len(cur) > 0:
			cur[len(cur)-1].values = append(cur[len(cur)-1].values, tok)
		default:
			t.Fatalf("unexpected token %q in %q", tok, l)
		}
	}
	if cur != nil {
		out.moves = append(out.moves, cur)
	}
	return out
}

var (
	cppFloatRE = regexp.MustCompile(`^-?(\d{1,6}|\d+\.\d+|\d(\.\d+)?e[+-]\d\d\d?)$`)
	intRE      = regexp.MustCompile(`^-?\d+$`)
	vertexRE   = regexp.MustCompile(`^([A-HJ-T](1[0-9]|[1-9])|pass)$`)
)

// checkInfoFormat checks one of the bridge's info lines against one of KataGo's: the same
// keys in the same order for every move (isSymmetryOf where KataGo puts it), numbers
// written as KataGo writes them, and ownership when KataGo gave it.
func checkInfoFormat(t *testing.T, ref, got infoLine) {
	t.Helper()
	keysOf := func(m []field) []string {
		var ks []string
		for _, f := range m {
			if f.key != "isSymmetryOf" {
				ks = append(ks, f.key)
			}
		}
		return ks
	}
	wantKeys := keysOf(ref.moves[0])
	lz := !slices.Contains(wantKeys, "edgeVisits")
	for _, m := range got.moves {
		if diff := cmp.Diff(wantKeys, keysOf(m)); diff != "" {
			t.Errorf("info fields differ from KataGo's (-katago +bridge):\n%s", diff)
			continue
		}
		for i, f := range m {
			switch {
			case f.key == "pv":
				if len(f.values) == 0 {
					t.Errorf("empty pv")
				}
				for _, v := range f.values {
					if !vertexRE.MatchString(v) {
						t.Errorf("pv has %q", v)
					}
				}
			case len(f.values) != 1:
				t.Errorf("%s has %d values", f.key, len(f.values))
			case f.key == "move" || f.key == "isSymmetryOf":
				if !vertexRE.MatchString(f.values[0]) {
					t.Errorf("%s %q is not a vertex", f.key, f.values[0])
				}
				if f.key == "isSymmetryOf" && m[i+1].key != "order" {
					t.Errorf("isSymmetryOf is not just before order")
				}
			case f.key == "visits" || f.key == "edgeVisits" || f.key == "order" ||
				lz && (f.key == "winrate" || f.key == "prior" || f.key == "lcb"):
				if !intRE.MatchString(f.values[0]) {
					t.Errorf("%s %q is not an integer", f.key, f.values[0])
				}
			default:
				if !cppFloatRE.MatchString(f.values[0]) || significant(f.values[0]) > 6 {
					t.Errorf("%s %q is not written as C++ writes a double", f.key, f.values[0])
				}
			}
		}
	}
	if (len(ref.ownership) > 0) != (len(got.ownership) > 0) {
		t.Errorf("ownership: KataGo gave %d values, the bridge %d", len(ref.ownership), len(got.ownership))
	}
	if len(got.ownership) > 0 && len(got.ownership) != len(ref.ownership) {
		t.Errorf("ownership has %d values, KataGo's %d", len(got.ownership), len(ref.ownership))
	}
	for _, v := range got.ownership {
		if !cppFloatRE.MatchString(v) || significant(v) > 6 {
			t.Errorf("ownership value %q is not written as C++ writes a double", v)
			break
		}
	}
}

// significant counts the significant digits of a decimal number.
func significant(s string) int {
	s = strings.TrimPrefix(s, "-")
	if i := strings.IndexByte(s, 'e'); i >= 0 {
		s = s[:i]
	}
	s = strings.Replace(s, ".", "", 1)
	s = strings.TrimLeft(s, "0")
	if strings.Contains(s, ".") {
		return 0
	}
	return len(s)
}
