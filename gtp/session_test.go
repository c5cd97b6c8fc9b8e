package gtp

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tesuji/tesuji/analysis"
	"github.com/tesuji/tesuji/client"
	"github.com/tesuji/tesuji/game"
	"github.com/tesuji/tesuji/katago"
	"github.com/tesuji/tesuji/queue"
)

// TestSideToMove checks, against a real server, that the bridge analyzes for the player
// it is asked about and turns the server's Black-view values into that player's view:
// the GTP info line of a genmove_analyze must be the server's own result for the same
// request (the fake KataGo answers a position and a visit count always alike), flipped
// for White.
func TestSideToMove(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "127.0.0.1:0")
	url := "http://" + srv.Addr()
	g := startBridge(t, Config{Server: url, GenmoveVisits: 40})
	c := client.New(url, "")
	komi := 7.5
	direct := func(moves ...katago.Move) *game.Turn {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		turn, err := c.Position(ctx, &client.PositionRequest{Position: analysis.Position{Moves: moves, BoardXSize: 9, BoardYSize: 9,
			Komi: &komi, Rules: "tromp-taylor"}, MaxVisits: 40})
		if err != nil {
			t.Fatal(err)
		}
		return turn
	}
	run(t, g, []exchange{{"boardsize 9", "= "}, {"play B E5", "= "}})

	tests := []struct {
		name  string
		cmd   string
		moves []katago.Move
		white bool
	}{
		{"white to move", "kata-genmove_analyze W", []katago.Move{{"B", "E5"}}, true},
		{"black after white", "kata-genmove_analyze", nil, false}, // moves filled in below
		{"black out of turn", "kata-genmove_analyze B", nil, false},
	}
	var played []katago.Move
	played = append(played, katago.Move{"B", "E5"})
	for i, tt := range tests {
		// Not parallel: each step plays on the same board.
		moves := append([]katago.Move(nil), played...)
		if i == 2 {
			moves = append(moves, katago.Move{"W", "pass"}) // B out of turn: White passes
		}
		want := direct(moves...)
		g.send(tt.cmd)
		lines := g.answer(30 * time.Second)
		if len(lines) != 3 || lines[0] != "=" || !strings.HasPrefix(lines[1], "info move ") || !strings.HasPrefix(lines[2], "play ") {
			t.Fatalf("%s: answer %q", tt.name, lines)
		}
		f := parseInfo(t, lines[1])
		first := map[string]string{}
		for _, fl := range f.moves[0] {
			first[fl.key] = strings.Join(fl.values, " ")
		}
		c0 := want.Candidates[0]
		wr, lead, lcb := c0.Winrate, c0.ScoreLead, c0.Lcb
		if tt.white {
			wr, lead, lcb = 1-wr, -lead, 1-lcb
		}
		for k, v := range map[string]string{"move": c0.Move, "winrate": cfloat(wr), "scoreLead": cfloat(lead),
			"scoreMean": cfloat(lead), "lcb": cfloat(lcb), "pv": strings.Join(c0.PV, " ")} {
			if first[k] != v {
				t.Errorf("%s: %s is %q, the server's answer gives %q", tt.name, k, first[k], v)
			}
		}
		if got := strings.TrimPrefix(lines[2], "play "); got != c0.Move {
			t.Errorf("%s: played %s, KataGo's best move is %s", tt.name, got, c0.Move)
		}
		color := "B"
		if tt.white {
			color = "W"
		}
		played = append(played, katago.Move{color, c0.Move})
	}
	board := g.do("showboard")
	if !strings.Contains(board, "MoveNum: 4 ") || !strings.Contains(board, "Next player: White") {
		t.Errorf("after B, W, B, B the board is:\n%s", board)
	}
}

func TestAnalysisEndings(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "127.0.0.1:0")
	g := startBridge(t, Config{Server: "http://" + srv.Addr()})
	run(t, g, []exchange{{"boardsize 13", "= "}, {"play B D4", "= "}})

	tests := []struct {
		name    string
		cmd     string
		end     string // the line that ends the analysis
		infos   bool   // info lines are expected before it
		perInfo int    // moves per info line, 0: any
	}{
		{"stop", "3 kata-analyze 10", "4 stop", true, 0},
		{"empty line", "5 lz-analyze W 10 maxmoves 1", "", true, 1},
		{"no interval", "6 kata-analyze", "7 name", false, 0},
	}
	for _, tt := range tests {
		g.send(tt.cmd)
		id := parseCommand(tt.cmd).id
		if h := g.next(10 * time.Second).text; h != "="+id {
			t.Fatalf("%s: header %q", tt.name, h)
		}
		if tt.infos {
			l := g.next(10 * time.Second).text
			if !strings.HasPrefix(l, "info move ") {
				t.Fatalf("%s: %q", tt.name, l)
			}
			if n := strings.Count(l, "info move "); tt.perInfo > 0 && n != tt.perInfo {
				t.Errorf("%s: %d moves in %q", tt.name, n, l)
			}
			if st, err := srv.Queue().Stats(context.Background()); err != nil || st.Running != 1 {
				t.Fatalf("%s: while the analysis streams the server runs %d jobs (%v)", tt.name, st.Running, err)
			}
		}
		g.send(tt.end)
		for {
			l := g.next(10 * time.Second).text
			if l == "" {
				break
			}
			if !tt.infos || !strings.HasPrefix(l, "info move ") {
				t.Fatalf("%s: before the blank line: %q", tt.name, l)
			}
		}
		// The request is closed, and the server stops KataGo's search at once (it would
		// run for 100s otherwise).
		waitFor(t, 10*time.Second, "the server to stop the search", func() bool {
			st, err := srv.Queue().Stats(context.Background())
			return err == nil && st.Running == 0 && st.Queued[queue.PriorityInteractive] == 0
		})
		if tt.end != "" {
			want := map[string]string{"4 stop": "=4 ", "7 name": "=7 KataGo"}[tt.end]
			if got := strings.Join(g.answer(10*time.Second), "\n"); got != want {
				t.Errorf("%s: %q answered %q", tt.name, tt.end, got)
			}
		}
	}
	run(t, g, []exchange{{"8 name", "=8 KataGo"}})
}

func TestFreeHandicapFromServer(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "127.0.0.1:0")
	g := startBridge(t, Config{Server: "http://" + srv.Addr(), GenmoveVisits: 10})
	run(t, g, []exchange{{"boardsize 5", "= "}})
	// No fixed placement on a 5x5 board: KataGo chooses the stones.
	got := g.do("place_free_handicap 3")
	vs := strings.Fields(strings.TrimPrefix(got, "= "))
	if !strings.HasPrefix(got, "= ") || len(vs) != 3 {
		t.Fatalf("place_free_handicap 3 answered %q", got)
	}
	board := g.do("showboard")
	if n := strings.Count(board, "X"); n != 3 || !strings.Contains(board, "Next player: White") {
		t.Errorf("after the handicap the board is:\n%s", board)
	}
	// The stones are setup, not moves: nothing to undo.
	run(t, g, []exchange{{"undo", "? cannot undo"}})
}

func TestLoadSGFRules(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	plain := write("plain.sgf", "(;GM[1]SZ[9];B[ee];W[cc])")
	chinese := write("chinese.sgf", "(;GM[1]SZ[9]RU[Chinese]KM[7];B[ee];W[cc])")
	g := offline(t)
	run(t, g, []exchange{
		{"kata-set-rules aga", "= "},
		{"komi 5.5", "= "},
		{"loadsgf " + plain, "= "},
		// No RU and no KM: the session's rules and komi stay.
		{"kata-get-rules", `= {"friendlyPassOk":true,"hasButton":false,"ko":"SITUATIONAL","scoring":"AREA","suicide":false,"tax":"NONE","whiteHandicapBonus":"N-1"}`},
		{"get_komi", "= 5.5"},
		{"loadsgf " + chinese, "= "},
		{"kata-get-rules", `= {"friendlyPassOk":true,"hasButton":false,"ko":"SIMPLE","scoring":"AREA","suicide":false,"tax":"NONE","whiteHandicapBonus":"N"}`},
		{"get_komi", "= 7"},
		{"loadsgf " + chinese + " 0", "? Invalid value for moveNumber for loadsgf"},
	})
}

func TestClockBudget(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		c    clock
		want float64
	}{
		{"no limit", clock{}, 0},
		{"no limit from time_settings", newClock(0, 30, 0), 0},
		// 100 points, no moves: 35 own moves to come, 1s kept for lag.
		{"absolute", newClock(350, 0, 0), 9},
		{"canadian in main time", newClock(350, 100, 10), 14},
		{"canadian in overtime", clock{limited: true, period: 100, stones: 10, overtime: true, periodLeft: 50, stonesLeft: 5}, 8},
		{"nearly out of time", clock{limited: true, overtime: true, periodLeft: 1, stonesLeft: 1, stones: 1, period: 10}, 0.1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := tt.c
			if got := c.budget(100, 0); got < tt.want-1e-9 || got > tt.want+1e-9 {
				t.Errorf("budget = %v, want %v", got, tt.want)
			}
		})
	}
	// Spending main time runs into overtime.
	c := newClock(10, 30, 5)
	c.spend(12 * time.Second)
	if !c.overtime || c.stonesLeft != 5 || c.periodLeft != 28 {
		t.Errorf("after spending past the main time: %+v", c)
	}
	for range 5 {
		c.spend(time.Second)
	}
	if c.stonesLeft != 5 || c.periodLeft != 30 {
		t.Errorf("after a whole period: %+v", c)
	}
}

// TestErrorAnswersOnOneLine: an error answer whose reason has line breaks (a proxy's error
// page, a value quoted from a record) is one answer on one line, so the next command is
// answered in step; a page that is not the API's answer is not shown at all.
func TestErrorAnswersOnOneLine(t *testing.T) {
	t.Parallel()
	record := filepath.Join(t.TempDir(), "komi.sgf")
	if err := os.WriteFile(record, []byte("(;FF[4]SZ[19]KM[a\n\nb];B[dd])"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		status      int
		contentType string
		body        string
		cmd         string
		want        string // %s: the server's URL
	}{
		{"proxy page", http.StatusBadGateway, "text/html",
			"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n\r\n<body>502 Bad Gateway</body>\r\n</html>\r\n",
			"1 genmove b", "?1 tesuji server unavailable at %s (HTTP 502)"},
		{"server unavailable", http.StatusServiceUnavailable, "application/json",
			`{"error":{"code":"unavailable","message":"the server is shutting down;\n\nask again"}}`,
			"1 genmove b", "?1 tesuji server unavailable at %s (HTTP 503): the server is shutting down; ask again"},
		{"request refused", http.StatusBadRequest, "application/json",
			`{"error":{"code":"invalid_request","message":"bad\r\nrequest"}}`,
			"1 final_score", "?1 tesuji server refused the final score: bad request"},
		{"record quoted", 0, "", "", "1 loadsgf " + record, "?1 Could not load sgf: the komi KM[a b] is not a number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := startScriptedServer(t, func(w http.ResponseWriter, _ *http.Request, _ analysis.PositionRequest, _ bool) {
				w.Header().Set("Content-Type", tt.contentType)
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			})
			g := startBridge(t, Config{Server: srv.URL})
			want := tt.want
			if strings.Contains(want, "%s") {
				want = fmt.Sprintf(want, srv.URL)
			}
			run(t, g, []exchange{{tt.cmd, want}, {"2 name", "=2 KataGo"}})
		})
	}
}

// TestSearchWithoutCandidates: a result without candidates (KataGo's analysis of a
// one-visit search) makes genmove and its relatives play the legal move of the highest
// policy, which the bridge asks for with one visit, as KataGo's genmove plays the
// network's choice; a pass only when the policy says so or there is none.
func TestSearchWithoutCandidates(t *testing.T) {
	t.Parallel()
	// policy lays values out as KataGo does on a 5x5 board: row by row from the top,
	// then pass; every other point gets 0.01.
	policy := func(pass float64, points map[string]float64) []float64 {
		out := make([]float64, 26)
		for i := range 25 {
			out[i] = 0.01
			if v, ok := points[game.Point{X: i % 5, Y: i / 5}.GTP(5)]; ok {
				out[i] = v
			}
		}
		out[25] = pass
		return out
	}
	top := policy(0.001, map[string]float64{"C3": 0.5, "B2": 0.3})
	tests := []struct {
		name   string
		policy []float64 // nil: the server sends none
		setup  []exchange
		cmd    string
		want   string
	}{
		{"genmove", top, nil, "genmove b", "= C3"},
		{"occupied point skipped", top, []exchange{{"play b c3", "= "}}, "genmove w", "= B2"},
		{"pass first", policy(0.9, nil), nil, "genmove b", "= pass"},
		{"no policy", nil, nil, "genmove b", "= pass"},
		{"search without playing", top, nil, "kata-search w", "= C3"},
		{"genmove_analyze", top, nil, "kata-genmove_analyze b 10", "=\nplay C3"},
		{"avoided move skipped", top, nil, "kata-genmove_analyze b 10 avoid b c3 1", "=\nplay B2"},
		{"free handicap", top, nil, "place_free_handicap 2", "= C3 B2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := startScriptedServer(t, func(w http.ResponseWriter, _ *http.Request, req analysis.PositionRequest, stream bool) {
				turn := scriptedTurn()
				if req.IncludePolicy {
					turn.Policy = tt.policy
				}
				if !stream {
					writeJSON(w, turn)
					return
				}
				w.Header().Set("Content-Type", "text/event-stream")
				writeEvent(w, "turn", turn)
				writeEvent(w, "done", struct{}{})
			})
			g := startBridge(t, Config{Server: srv.URL})
			run(t, g, append(append([]exchange{{"boardsize 5", "= "}, {"kata-set-param maxVisits 1", "= "}}, tt.setup...),
				exchange{tt.cmd, tt.want}))
			if last := srv.last(t); !last.IncludePolicy || last.MaxVisits != 1 {
				t.Errorf("the policy was asked for with includePolicy %v and maxVisits %d", last.IncludePolicy, last.MaxVisits)
			}
		})
	}
}

// TestFinalStatusAfterPasses: after two passes under area scoring without friendly passes
// final_status_list counts every stone alive with no search, as final_score counts the
// board; otherwise it judges from the search's ownership, here Black's everywhere.
func TestFinalStatusAfterPasses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		script      []exchange
		dead, alive string
		searched    bool
	}{
		{"tromp-taylor after two passes", []exchange{{"play b pass", "= "}, {"play w pass", "= "}, {"final_score", "= W+7.5"}},
			"= ", "= C3 A1", false},
		{"tromp-taylor after one pass", []exchange{{"play b pass", "= "}}, "= A1", "= C3", true},
		{"friendly passes", []exchange{{"kata-set-rules chinese", "= "}, {"play b pass", "= "}, {"play w pass", "= "}},
			"= A1", "= C3", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := startScriptedServer(t, func(w http.ResponseWriter, _ *http.Request, req analysis.PositionRequest, _ bool) {
				turn := scriptedTurn("pass")
				for range req.BoardXSize * req.BoardYSize {
					turn.Ownership = append(turn.Ownership, 1)
				}
				writeJSON(w, turn)
			})
			g := startBridge(t, Config{Server: srv.URL})
			run(t, g, append([]exchange{{"boardsize 5", "= "}, {"play b c3", "= "}, {"play w a1", "= "}}, tt.script...))
			run(t, g, []exchange{{"final_status_list dead", tt.dead}, {"final_status_list alive", tt.alive}})
			if searched := len(srv.requests()) > 0; searched != tt.searched {
				t.Errorf("searched %v, want %v", searched, tt.searched)
			}
		})
	}
}

// TestScoringWithoutSessionSettings: final_score and final_status_list search with their
// own visits and none of kata-set-param's settings or limits, as KataGo scores with
// playoutDoublingAdvantage 0 and humanSL off whatever it plays with.
func TestScoringWithoutSessionSettings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cmd        string
		wantVisits int
	}{
		{"final_score", 30}, // Config.GenmoveVisits
		{"final_status_list alive", statusVisits},
	}
	for _, tt := range tests {
		t.Run(tt.cmd, func(t *testing.T) {
			t.Parallel()
			srv := startScriptedServer(t, func(w http.ResponseWriter, _ *http.Request, req analysis.PositionRequest, _ bool) {
				turn := scriptedTurn("D4")
				turn.Ownership = make([]float64, req.BoardXSize*req.BoardYSize)
				writeJSON(w, turn)
			})
			g := startBridge(t, Config{Server: srv.URL, GenmoveVisits: 30})
			run(t, g, []exchange{
				{"kata-set-param playoutDoublingAdvantage 2", "= "}, {"kata-set-param humanSLProfile rank_5k", "= "},
				{"kata-set-param wideRootNoise 0.5", "= "}, {"kata-set-param maxPlayouts 10", "= "},
				{"kata-set-param maxVisits 7", "= "}, {"kata-set-param maxTime 5", "= "},
				{"time_settings 60 0 0", "= "}, {"play b d4", "= "},
			})
			g.do(tt.cmd)
			req := srv.last(t)
			if len(req.OverrideSettings) > 0 || req.MaxTime != 0 || req.MaxVisits != tt.wantVisits {
				t.Errorf("%s searched with settings %v, maxTime %v, maxVisits %d; want none, 0, %d",
					tt.cmd, req.OverrideSettings, req.MaxTime, req.MaxVisits, tt.wantVisits)
			}
		})
	}
}

// TestGenmoveOneVisit: through a real server, a genmove of one visit (a search that tries
// no move) plays the network's choice rather than a pass.
func TestGenmoveOneVisit(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "127.0.0.1:0")
	g := startBridge(t, Config{Server: "http://" + srv.Addr()})
	run(t, g, []exchange{{"boardsize 9", "= "}, {"kata-set-param maxVisits 1", "= "}})
	if got := g.do("genmove b"); !strings.HasPrefix(got, "= ") || got == "= pass" {
		t.Errorf("genmove of one visit on an empty board answered %q", got)
	}
}
