package gtp

import (
	"bufio"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tesuji/tesuji/engine"
	"github.com/tesuji/tesuji/server"
)

// katagoGTPConfig is the smallest GTP config KataGo starts with (the keys it requires,
// with gtp_example.cfg's values), with two search threads and no pondering.
const katagoGTPConfig = `logAllGTPCommunication = false
logSearchInfo = false
logSearchInfoForChosenMove = false
logToStderr = false
rules = tromp-taylor
allowResignation = false
resignThreshold = -0.90
resignConsecTurns = 3
maxVisits = 500
ponderingEnabled = false
maxTimePondering = 60.0
lagBuffer = 1.0
numSearchThreads = 2
searchFactorAfterOnePass = 0.50
searchFactorAfterTwoPass = 0.25
searchFactorWhenWinning = 0.40
searchFactorWhenWinningThreshold = 0.95
`

// startKataGoGTP runs `katago gtp` as a GUI would.
func startKataGoGTP(t *testing.T, bin, model string) *gui {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "gtp.cfg")
	if err := os.WriteFile(cfg, []byte(katagoGTPConfig+"logDir = "+dir+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	in, out := startProgram(t, bin, "gtp", "-config", cfg, "-model", model)
	g := &gui{tb: t, in: in, lines: make(chan line, 4096), logs: &logBuffer{}}
	go func() {
		defer close(g.lines)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			g.lines <- line{text: sc.Text(), at: time.Now()}
		}
	}()
	return g
}

// shape reduces an answer to what must agree between KataGo and the bridge: info lines
// to the keys of their first and last move, other lines to their words with numbers and
// vertices replaced.
func shape(t *testing.T, lines []string) []string {
	t.Helper()
	num := regexp.MustCompile(`^-?[0-9.]+(e[-+][0-9]+)?$|^NAN$`)
	vertex := regexp.MustCompile(`^[A-HJ-T][0-9]{1,2}$`)
	var out []string
	for _, l := range lines {
		if strings.HasPrefix(l, "info ") {
			k := keysOf(t, l)
			out = append(out, "info "+strings.Join(slicesWithout(k[0], "isSymmetryOf"), ",")+" / "+strings.Join(slicesWithout(k[1], "isSymmetryOf"), ","))
			continue
		}
		var words []string
		for _, w := range strings.Fields(l) {
			switch {
			case num.MatchString(w):
				w = "N"
			case vertex.MatchString(w) || w == "pass":
				w = "V"
			}
			words = append(words, w)
		}
		out = append(out, strings.Join(words, " "))
	}
	return out
}

// TestSameFieldsAsKataGo sends the same commands to `katago gtp` and to the bridge in
// front of a server running the same KataGo, and compares the answers' fields and their
// order (values differ). It runs when TESUJI_KATAGO and TESUJI_MODEL name a KataGo binary
// and a network.
func TestSameFieldsAsKataGo(t *testing.T) {
	t.Parallel()
	bin, model := os.Getenv("TESUJI_KATAGO"), os.Getenv("TESUJI_MODEL")
	if bin == "" || model == "" {
		t.Skip("set TESUJI_KATAGO (the katago binary) and TESUJI_MODEL (a network file) to compare the bridge with KataGo's GTP")
	}
	srv := server.New(server.Config{
		Addr:     "127.0.0.1:0",
		DataFile: filepath.Join(t.TempDir(), "tesuji.db"),
		Engine: engine.Config{Path: bin, Model: model, LogDir: t.TempDir(), AnalysisThreads: 2,
			ReadyTimeout: 5 * time.Minute, TurnTimeout: 5 * time.Minute},
		ShutdownGrace: time.Second,
		Logger:        slog.New(slog.DiscardHandler),
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopServer(t, srv) })
	bridge := startBridge(t, Config{Server: "http://" + srv.Addr()})
	kata := startKataGoGTP(t, bin, model)

	setup := []string{"boardsize 19", "komi 7.5", "clear_board", "play B Q16", "play W D4", "kata-set-param maxVisits 30"}
	analyses := []string{
		"kata-analyze 10 pvVisits true movesOwnership true ownership true",
		"kata-analyze 10 rootInfo true ownershipStdev true pvEdgeVisits true movesOwnershipStdev true",
		"kata-analyze B 10 noResultValue true maxmoves 3",
		"lz-analyze 10 avoid b Q3,R4 1",
		"kata-analyze 10 allow b C3,R3,K10 1",
	}
	commands := []string{
		"kata-get-param maxVisits", "kata-get-param humanSLProfile", "kata-get-param bogus",
		"kata-set-param bogus 1", "kata-set-param maxVisits lots", "kata-set-param playoutDoublingAdvantage 9",
		"kata-set-param playoutDoublingAdvantage 0.5", "kata-get-param playoutDoublingAdvantage",
		"kata-get-param maxTime", "kata-get-param analysisWideRootNoise",
		"kata-list_time_settings", "kata-time_settings fischer 300 5", "kata-time_settings bogus",
		"kata-time_settings none", "kata-search B", "kata-raw-nn 9", "kata-raw-nn 0",
		"final_status_list alive", "final_status_list seki", "final_status_list bogus",
		"kata-search_analyze B pvVisits true", "kata-genmove_analyze B rootInfo true",
	}
	both := func(f func(g *gui) []string) (want, got []string) {
		want, got = shape(t, f(kata)), shape(t, f(bridge))
		t.Logf("%q", want)
		return want, got
	}
	for _, c := range setup {
		want, got := both(func(g *gui) []string { return []string{g.do(c)} })
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("%s (-katago +bridge):\n%s", c, diff)
		}
	}
	for _, c := range analyses {
		want, got := both(func(g *gui) []string { return streamAnalysis(t, g, c, 2)[:2] })
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-katago +bridge):\n%s", c, diff)
		}
	}
	for _, c := range commands {
		want, got := both(func(g *gui) []string { return strings.Split(g.do(c), "\n") })
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-katago +bridge):\n%s", c, diff)
		}
	}
}
