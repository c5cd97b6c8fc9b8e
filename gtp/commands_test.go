package gtp

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// offline starts a bridge whose server does not exist: board commands must not need it.
func offline(t *testing.T) *gui {
	t.Helper()
	return startBridge(t, Config{Server: "http://" + freeAddr(t)})
}

// exchange is one command and the answer expected for it.
type exchange struct{ cmd, want string }

func run(t *testing.T, g *gui, script []exchange) {
	t.Helper()
	for _, e := range script {
		if got := g.do(e.cmd); got != e.want {
			t.Fatalf("%s: got %q, want %q", e.cmd, got, e.want)
		}
	}
}

func TestBoardCommands(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		script []exchange
	}{
		{"protocol", []exchange{
			{"protocol_version", "= 2"},
			{"7 name", "=7 KataGo"},
			{"  8   known_command  play ", "=8 true"},
			{"known_command kata-raw-nn", "= true"},
			{"known_command kata-debug-print-tc", "= false"},
			{"9 frobnicate", "?9 unknown command"},
			{"10 # a comment only", "?10 empty command"},
			{"11 name # and a comment", "=11 KataGo"},
			{"12\tname\r", "=12 KataGo"},
		}},
		{"board size and komi", []exchange{
			{"boardsize 13", "= "},
			{"rectangular_boardsize 13 9", "= "},
			{"boardsize 9:7", "= "},
			{"boardsize 25", "? unacceptable size"},
			{"boardsize x", "? Expected int argument for boardsize or pair of ints but got 'x'"},
			{"komi 6.5", "= "},
			{"get_komi", "= 6.5"},
			{"komi 6.3", "? komi must be an integer or half-integer"},
			{"komi 1000", "? unacceptable komi"},
			{"komi -7", "= "},
			{"get_komi", "= -7"},
		}},
		{"play, captures and undo", []exchange{
			{"boardsize 9", "= "},
			{"play B C3", "= "},
			{"play B C3", "? illegal move"},
			{"play W Z99", "? Could not parse vertex: 'Z99'"},
			{"play purple C4", "? Could not parse color: 'purple'"},
			{"play W A1", "= "},
			{"play B B1", "= "},
			{"play W pass", "= "},
			{"play B A2", "= "},             // captures W A1
			{"play W A1", "? illegal move"}, // suicide
			{"undo", "= "},
			{"play W A1", "? illegal move"}, // occupied again
			{"play B A2", "= "},
			{"undo", "= "}, {"undo", "= "}, {"undo", "= "}, {"undo", "= "}, {"undo", "= "},
			{"undo", "? cannot undo"},
		}},
		{"ko", []exchange{
			{"boardsize 9", "= "},
			{"kata-set-rules chinese", "= "},
			{"play B D5", "= "}, {"play W E5", "= "},
			{"play B C4", "= "}, {"play W F4", "= "},
			{"play B D3", "= "}, {"play W E3", "= "},
			{"play B E4", "= "}, // the ko stone
			{"play W D4", "= "}, // White takes the ko, capturing E4
			{"play B E4", "? illegal move"},
			{"play B A1", "= "}, {"play W A9", "= "},
			{"play B E4", "= "}, // now Black may take back
		}},
		{"handicap", []exchange{
			{"fixed_handicap 4", "= D16 Q16 D4 Q4"},
			{"fixed_handicap 2", "? Board is not empty"},
			{"clear_board", "= "},
			{"boardsize 9", "= "},
			{"fixed_handicap 5", "= C7 G7 E5 C3 G3"},
			{"clear_board", "= "},
			{"fixed_handicap 1", "? Number of handicap stones less than 2: '1'"},
			{"fixed_handicap 10", "? Fixed handicap > 9 is not allowed, try place_free_handicap"},
			{"place_free_handicap 3", "= C7 G7 C3"},
			{"clear_board", "= "},
			{"set_free_handicap C3 C3", "? Handicap placement is invalid"},
			{"set_free_handicap C3 Z3", "? Invalid handicap location: Z3"},
			{"set_free_handicap C3 G7", "= "},
			{"play W E5", "= "},
		}},
		{"rules", []exchange{
			{"kata-get-rules", `= {"friendlyPassOk":false,"hasButton":false,"ko":"POSITIONAL","scoring":"AREA","suicide":true,"tax":"NONE","whiteHandicapBonus":"0"}`},
			{"kata-set-rules japanese", "= "},
			{"kata-get-rules", `= {"friendlyPassOk":false,"hasButton":false,"ko":"SIMPLE","scoring":"TERRITORY","suicide":false,"tax":"SEKI","whiteHandicapBonus":"0"}`},
			{"kata-set-rule ko POSITIONAL", "= "},
			{"kata-set-rule tax bogus", "? Invalid tax rule: BOGUS"},
			{"kata-set-rules bogus", "? Unknown rules 'bogus', Could not parse rules: bogus"},
			{"kgs-rules chinese", "= "},
			{"kata-get-rules", `= {"friendlyPassOk":true,"hasButton":false,"ko":"POSITIONAL","scoring":"AREA","suicide":false,"tax":"NONE","whiteHandicapBonus":"N"}`},
		}},
		{"time", []exchange{
			{"time_settings 300 30 5", "= "},
			{"time_left b 250 0", "= "},
			{"time_left w 20 3", "= "},
			{"time_left w x 3", "? Expected player and float time and int stones for time_left but got 'w x 3'"},
			{"time_settings 300", "? Expected float for byo-yomi per-period time as argument 1"},
			{"kgs-time_settings byoyomi 600 30 5", "= "},
			{"kgs-time_settings none", "= "},
			{"time_left b 20 3", "? stones left in period is > 0 but the time control used does not have any overtime periods"},
		}},
		{"analysis arguments", []exchange{
			{"kata-analyze 50 bogus 1", "? Could not parse analyze arguments or arguments out of range: '50 bogus 1'"},
			{"kata-analyze 50 pvVisits maybe", "? Could not parse analyze arguments or arguments out of range: '50 pvVisits maybe'"},
			{"lz-analyze 50 allow b D4,C3 1 allow b Q16 1", "? Could not parse analyze arguments or arguments out of range: '50 allow b D4,C3 1 allow b Q16 1'"},
			{"kata-search_analyze 50 ownership", "? Could not parse genmove_analyze arguments or arguments out of range: '50 ownership'"},
			{"kata-search", "? Expected one argument for kata-search but got ''"},
			{"kata-search_cancellable purple", "? Could not parse color: 'purple'"},
			{"lz-genmove_analyze B 50 ownership true", "? Could not parse genmove_analyze arguments or arguments out of range: 'B 50 ownership true'"},
			{"genmove", "? Expected one argument for genmove but got ''"},
			{"genmove purple", "? Could not parse color: 'purple'"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			run(t, offline(t), tt.script)
		})
	}
}

func TestShowboard(t *testing.T) {
	t.Parallel()
	g := offline(t)
	run(t, g, []exchange{
		{"boardsize 5", "= "},
		{"play B B2", "= "}, {"play W A2", "= "},
		{"play B B3", "= "}, {"play W B1", "= "},
		{"play B A3", "= "}, // captures nothing yet
		{"play W C1", "= "},
		{"play B A1", "= "}, // captures W A2
	})
	got := g.do("showboard")
	lines := strings.Split(got, "\n")
	if !strings.HasPrefix(lines[0], "= MoveNum: 7 HASH: ") {
		t.Fatalf("first line %q", lines[0])
	}
	want := []string{
		"   A B C D E",
		" 5 . . . . .",
		" 4 . . . . .",
		" 3 X1X . . .",
		" 2 . X . . .",
		" 1 X3O O2. .",
		"Next player: White",
		`Rules: {"friendlyPassOk":false,"hasButton":false,"ko":"POSITIONAL","komi":7.5,"scoring":"AREA","suicide":true,"tax":"NONE","whiteHandicapBonus":"0"}`,
		"B stones captured: 0",
		"W stones captured: 1",
	}
	if diff := cmp.Diff(want, lines[1:]); diff != "" {
		t.Errorf("showboard (-want +got):\n%s", diff)
	}
}

func TestSGFRoundTrip(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	g := offline(t)
	run(t, g, []exchange{
		{"boardsize 9", "= "},
		{"komi 6", "= "},
		{"kata-set-rules japanese", "= "},
		{"set_free_handicap C3 G7", "= "},
		{"play W E5", "= "}, {"play B pass", "= "}, {"play W C7", "= "},
	})
	sgf := g.do("printsgf")
	want := "= (;FF[4]GM[1]CA[UTF-8]SZ[9]KM[6]RU[japanese]HA[2]AB[cg][gc]PL[W]\n;W[ee]\n;B[]\n;W[cc])"
	if sgf != want {
		t.Fatalf("printsgf = %q, want %q", sgf, want)
	}
	path := filepath.Join(dir, "game.sgf")
	run(t, g, []exchange{{"printsgf " + path, "= "}})
	board := g.do("showboard")

	h := offline(t)
	run(t, h, []exchange{
		{"loadsgf " + path, "= "},
		{"get_komi", "= 6"},
		{"kata-get-rules", `= {"friendlyPassOk":false,"hasButton":false,"ko":"SIMPLE","scoring":"TERRITORY","suicide":false,"tax":"SEKI","whiteHandicapBonus":"0"}`},
	})
	if got := h.do("showboard"); got != board {
		t.Errorf("the loaded game's board differs:\n%s\nwant\n%s", got, board)
	}
	run(t, h, []exchange{
		{"loadsgf " + path + " 2", "= "},
		{"showboard", offlineBoardAfterOneMove(t)},
		{"loadsgf " + filepath.Join(dir, "missing.sgf"), "? Cannot load file"},
	})
	if err := os.WriteFile(filepath.Join(dir, "bad.sgf"), []byte("(;SZ[9];B[ee];W[ee])"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := h.do("loadsgf " + filepath.Join(dir, "bad.sgf")); !strings.HasPrefix(got, "? Could not load sgf: move 2") {
		t.Errorf("loading an illegal record answered %q", got)
	}
}

// offlineBoardAfterOneMove is the showboard of TestSGFRoundTrip's record after its first
// move, built with play commands.
func offlineBoardAfterOneMove(t *testing.T) string {
	t.Helper()
	g := offline(t)
	run(t, g, []exchange{
		{"boardsize 9", "= "},
		{"komi 6", "= "},
		{"kata-set-rules japanese", "= "},
		{"set_free_handicap C3 G7", "= "},
		{"play W E5", "= "},
	})
	return g.do("showboard")
}

func TestFinalScoreCounted(t *testing.T) {
	t.Parallel()
	g := offline(t)
	// Black walls off the left two columns of a 5x5 board, White the rest; two passes
	// end the game, so the score is counted on the board without the server.
	run(t, g, []exchange{
		{"boardsize 5", "= "},
		{"komi 0.5", "= "},
		{"play B B1", "= "}, {"play W C1", "= "},
		{"play B B2", "= "}, {"play W C2", "= "},
		{"play B B3", "= "}, {"play W C3", "= "},
		{"play B B4", "= "}, {"play W C4", "= "},
		{"play B B5", "= "}, {"play W C5", "= "},
		{"play B pass", "= "}, {"play W pass", "= "},
		// Black 10 points, White 15 and komi.
		{"final_score", "= W+5.5"},
		// Stone scoring: five stones each, and komi.
		{"kata-set-rule tax ALL", "= "},
		{"final_score", "= W+0.5"},
		{"undo", "= "},
		// Not finished: the estimate needs the server, which is down.
	})
	if got := g.do("final_score"); !strings.HasPrefix(got, "? tesuji server unreachable at http://") {
		t.Errorf("final_score with the server down answered %q", got)
	}
}

// TestOneLine: an error message is joined onto one line without blank ones, and a message
// already on one line keeps its spacing (KataGo's wording has double spaces).
func TestOneLine(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"Key 'maxVisits' in config file  and/or command-line", "Key 'maxVisits' in config file  and/or command-line"},
		{"<html>\r\n<head>\r\n\r\n</head>\r\n", "<html> <head> </head>"},
		{"a\n\n  b  \n", "a b"},
		{"\n", ""},
	}
	for _, tt := range tests {
		if got := oneLine(tt.in); got != tt.want {
			t.Errorf("oneLine(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
