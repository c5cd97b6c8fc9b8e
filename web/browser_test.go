//go:build webui

package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto"
	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/device"
	"github.com/chromedp/chromedp/kb"
	"github.com/google/go-cmp/cmp"

	"github.com/tesuji/tesuji/api"
	"github.com/tesuji/tesuji/engine/enginetest"
	"github.com/tesuji/tesuji/game"
	"github.com/tesuji/tesuji/queue/sqlitetest"
	"github.com/tesuji/tesuji/server"
	"github.com/tesuji/tesuji/web"
)

// The browser tests drive Debian's Chromium against a real tesuji server (a SQLite
// store in a temporary directory, one worker, the fake KataGo) that serves the built UI. Each test has its own
// server and its own browser, so they run in parallel.

const waitLimit = 60 * time.Second

// chromiumPath is the browser the tests drive: $TESUJI_CHROMIUM, or Debian's chromium.
func chromiumPath(t *testing.T) string {
	t.Helper()
	p := os.Getenv("TESUJI_CHROMIUM")
	if p == "" {
		p = "/usr/bin/chromium"
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("the browser tests need Chromium at %s (Debian: apt-get install chromium; or set TESUJI_CHROMIUM): %v", p, err)
	}
	return p
}

// artifacts is where screenshots and downloads go: $TESUJI_ARTIFACTS/<test>, or a temp dir.
func artifacts(t *testing.T) string {
	t.Helper()
	root := os.Getenv("TESUJI_ARTIFACTS")
	if root == "" {
		return t.TempDir()
	}
	dir := filepath.Join(root, strings.ReplaceAll(t.Name(), "/", "_"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// syncBuffer collects the server's log, shown when a test fails.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type site struct {
	url string
	srv *server.Server
	cfg server.Config
}

// startSite starts a tesuji server with the UI and the fake engine (env configures it),
// or with no engine at all when engines is -1. A fake made to go silent is not restarted
// while the test runs, so that the review stays where the silence left it.
func startSite(t *testing.T, acfg api.Config, engines int, env ...string) *site {
	t.Helper()
	logs := &syncBuffer{}
	acfg.Web = web.Handler()
	cfg := server.Config{
		Addr:     "127.0.0.1:0",
		DataFile: filepath.Join(t.TempDir(), "tesuji.db"),
		Engines:  engines,
		API:      acfg,
		Logger:   slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo})),
	}
	if engines >= 0 {
		cfg.Engine = enginetest.Config(t, env...)
		if slices.ContainsFunc(env, func(e string) bool { return strings.HasPrefix(e, enginetest.EnvHangAfter+"=") }) {
			cfg.Engine.TurnTimeout = time.Hour
		}
	}
	st := &site{cfg: cfg}
	st.start(t)
	t.Cleanup(func() {
		if err := st.stop(); err != nil && engines >= 0 {
			t.Errorf("stop server: %v", err)
		}
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	return st
}

// start starts the site's server; after a stop, again on the same address and store.
func (st *site) start(t *testing.T) {
	t.Helper()
	s := server.New(st.cfg)
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if err := s.Start(ctx); err != nil {
		t.Fatalf("start server: %v", err)
	}
	st.srv, st.url, st.cfg.Addr = s, "http://"+s.Addr(), s.Addr()
}

// stop stops the site's server.
func (st *site) stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return st.srv.Stop(ctx)
}

// tab is one browser tab, and the test that drives it.
type tab struct {
	ctx context.Context
	t   *testing.T
	dir string
	rec *record
	// viewport makes screenshots of what is on screen rather than of the whole page,
	// which on a phone is several screens tall.
	viewport bool
}

// record is what the page did: every request, and any uncaught exception.
type record struct {
	mu         sync.Mutex
	requests   []string
	exceptions []string
}

// with returns the tab driven by a subtest.
func (tb *tab) with(t *testing.T) *tab {
	return &tab{ctx: tb.ctx, t: t, dir: tb.dir, rec: tb.rec, viewport: tb.viewport}
}

// newTab starts a headless Chromium with a fresh profile and opens a tab of the given
// size; a zero size leaves the device emulation to the caller.
func newTab(t *testing.T, width, height int) *tab {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
	}
	if width > 0 {
		opts = append(opts, chromedp.WindowSize(width, height))
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
	})
	tb := &tab{ctx: ctx, t: t, dir: artifacts(t), rec: &record{}}
	rec := tb.rec
	// The first Do starts the browser; an empty one has no deadline to inherit.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	if width > 0 {
		tb.do(chromedp.EmulateViewport(int64(width), int64(height)))
	}
	err := chromedp.Listen(ctx, func(ev any) {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			rec.requests = append(rec.requests, ev.Request.URL)
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			msg := d.Text
			if d.Exception != nil && d.Exception.Description != "" {
				msg = d.Exception.Description
			}
			rec.exceptions = append(rec.exceptions, msg)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		for _, e := range rec.exceptions {
			t.Errorf("uncaught exception in the page: %s", e)
		}
	})
	return tb
}

// do runs actions with a deadline, failing the test on error.
func (tb *tab) do(actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, waitLimit)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		tb.t.Fatalf("browser: %v", err)
	}
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](tb *tab, expr string) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, waitLimit)
	defer cancel()
	v, err := inPage(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		tb.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// waitFor polls a JavaScript condition until it holds.
func (tb *tab) waitFor(what, expr string) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, waitLimit+5*time.Second)
	defer cancel()
	_, err := inPage(ctx, chromedp.Poll[bool](expr,
		chromedp.WithPollingInterval(25*time.Millisecond), chromedp.WithPollingTimeout(waitLimit)))
	if err != nil {
		tb.shot("failed")
		tb.t.Fatalf("waiting for %s (%s): %v\npage text:\n%s", what, expr, err, eval[string](tb, "document.body.innerText"))
	}
}

// inPage runs a script action in the page's current document. Just after a navigation
// chromedp can still hold the JavaScript context of the document before, and the browser
// answers that it has no such context; the action runs again once chromedp has the new
// one, however long a busy machine takes to tell it.
func inPage[T any](ctx context.Context, action chromedp.Action[T]) (T, error) {
	for {
		v, err := chromedp.Run(ctx, action)
		var cdpErr *cdproto.Error
		if !errors.As(err, &cdpErr) || !staleContext(cdpErr.Message) {
			return v, err
		}
		select {
		case <-ctx.Done():
			return v, err
		case <-time.After(25 * time.Millisecond):
		}
	}
}

// staleContext tells the browser's answers to a script sent to a document that is gone.
func staleContext(msg string) bool {
	return msg == "Cannot find context with specified id" || msg == "Execution context was destroyed."
}

// TestInPageRunsAgainInTheNewContext sends a script first to a JavaScript context the
// page does not have, as chromedp does for a moment after a navigation: the browser's
// answer is one inPage knows, and the script runs again in the page's own context.
func TestInPageRunsAgainInTheNewContext(t *testing.T) {
	t.Parallel()
	tb := newTab(t, 0, 0)
	tb.do(chromedp.Navigate("data:text/html,<p>now</p>"))
	const gone = runtime.ExecutionContextID(1 << 30)
	ctx, cancel := context.WithTimeout(tb.ctx, waitLimit)
	defer cancel()

	_, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.textContent`,
		func(p *runtime.EvaluateParams) { p.ContextID = gone }))
	var cdpErr *cdproto.Error
	if !errors.As(err, &cdpErr) || !staleContext(cdpErr.Message) {
		t.Fatalf("a script sent to a context the page does not have: %v; inPage does not know this answer", err)
	}

	tries := 0
	got, err := inPage(ctx, chromedp.Evaluate[string](`document.body.textContent`,
		func(p *runtime.EvaluateParams) {
			if tries++; tries == 1 {
				p.ContextID = gone
			}
		}))
	if err != nil || got != "now" || tries != 2 {
		t.Errorf("inPage gave %q, %v after %d tries; want %q after 2", got, err, tries, "now")
	}
}

// shot saves a screenshot of the page as an artifact.
func (tb *tab) shot(name string) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, waitLimit)
	defer cancel()
	capture := chromedp.FullScreenshot(100)
	if tb.viewport {
		capture = chromedp.CaptureScreenshot()
	}
	buf, err := chromedp.Run(ctx, capture)
	if err != nil {
		tb.t.Errorf("screenshot %s: %v", name, err)
		return
	}
	path := filepath.Join(tb.dir, name+".png")
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		tb.t.Errorf("screenshot %s: %v", name, err)
	}
	tb.t.Logf("screenshot: %s", path)
}

func (tb *tab) text(sel string) string {
	tb.t.Helper()
	return eval[string](tb, fmt.Sprintf(`(document.querySelector(%q) || {}).textContent || ""`, sel))
}

// center returns the centre of the first element that sel matches, in viewport pixels.
func (tb *tab) center(sel string) (x, y float64) {
	tb.t.Helper()
	p := eval[[]float64](tb, fmt.Sprintf(`(() => { const e = document.querySelector(%q); e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; })()`, sel))
	return p[0], p[1]
}

// key presses a key with the focus on the page itself.
func (tb *tab) key(k string) {
	tb.t.Helper()
	tb.do(chromedp.KeyEvent(k))
}

// paste puts text into a textarea as a player's paste would, firing its input event.
func (tb *tab) paste(sel, text string) {
	tb.t.Helper()
	data, _ := json.Marshal(text)
	eval[chromedp.Void](tb, fmt.Sprintf(`(() => { const e = document.querySelector(%q); e.value = %s; e.dispatchEvent(new Event('input', {bubbles: true})); })()`, sel, data))
}

// analysis is what the tests read back from the API to compare with the page.
type analysis struct {
	Status string      `json:"status"`
	Turns  []game.Turn `json:"turns"`
	Game   struct {
		Moves [][2]string `json:"moves"`
	} `json:"game"`
	Summary *game.Summary `json:"summary"`
}

func turnOf(t *testing.T, a analysis, n int) game.Turn {
	t.Helper()
	for _, turn := range a.Turns {
		if turn.Turn == n {
			return turn
		}
	}
	t.Fatalf("the API has no turn %d", n)
	return game.Turn{}
}

func getJSON(t *testing.T, u string, v any) {
	t.Helper()
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(res.Body)
		t.Fatalf("GET %s: %s: %s", u, res.Status, body)
	}
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
}

func testdata(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// dropFile drops a file on an element the way a player drags it from the desktop.
func (tb *tab) dropFile(sel, path string) {
	tb.t.Helper()
	x, y := tb.center(sel)
	data := &input.DragData{Items: []*input.DragDataItem{}, Files: []string{path}, DragOperationsMask: 1}
	for _, typ := range []input.DispatchDragEventType{input.DispatchDragEventTypeDragEnter, input.DispatchDragEventTypeDragOver, input.DispatchDragEventTypeDrop} {
		ctx, cancel := context.WithTimeout(tb.ctx, waitLimit)
		_, err := chromedp.Call(ctx, input.DispatchDragEvent, input.DispatchDragEventParams{Type: typ, X: x, Y: y, Data: data})
		cancel()
		if err != nil {
			tb.t.Fatalf("drop %s: %s: %v", path, typ, err)
		}
	}
}

// stones counts the black and white stones on the board.
func (tb *tab) stones() [2]int {
	tb.t.Helper()
	n := eval[[]int](tb, `[document.querySelectorAll('#goban .shudan-vertex.shudan-sign_1').length, document.querySelectorAll('#goban .shudan-vertex.shudan-sign_-1').length]`)
	return [2]int{n[0], n[1]}
}

func reviewID(t *testing.T, tb *tab) string {
	t.Helper()
	p := eval[string](tb, `location.pathname`)
	id, ok := strings.CutPrefix(p, "/review/")
	if !ok || id == "" {
		t.Fatalf("the page is at %s, not at a review", p)
	}
	return id
}

// shownCandidate is a candidate drawn on the board: its point, heat strength and label.
type shownCandidate struct {
	Move     string `json:"move"`
	Strength int    `json:"strength"`
	Label    string `json:"label"`
}

// checkCandidates compares the candidates on the board with the API's turn: which are
// drawn (KataGo's top move, and those with at least 2% of its visits, 12 at most), the
// colour of each (its mistake class by point loss; the top move its own), and its label
// (winrate or score lead for the side to move, then visits).
func checkCandidates(t *testing.T, tb *tab, turn game.Turn, mode string) {
	t.Helper()
	got := eval[[]shownCandidate](tb, `[...document.querySelectorAll('#goban .shudan-vertex[class*="shudan-heat_"]')].map(v => ({
		move: 'ABCDEFGHJKLMNOPQRST'[Number(v.dataset.x)] + (19 - Number(v.dataset.y)),
		strength: Number([...v.classList].find(c => c.startsWith('shudan-heat_')).slice(12)),
		label: v.querySelector('.shudan-heatlabel').textContent,
	}))`)
	me := 1.0
	if turn.Player == "W" {
		me = -1
	}
	top := 0
	for _, c := range turn.Candidates {
		top = max(top, c.Visits)
	}
	var want []shownCandidate
	for i, c := range turn.Candidates {
		if len(want) == 12 {
			break
		}
		if (i > 0 && float64(c.Visits) < max(1, float64(top)*0.02)) || c.Move == "pass" {
			continue
		}
		strength := 9
		if i > 0 {
			class := game.Classify(me * (turn.ScoreLead - c.ScoreLead))
			for k, th := range game.Thresholds {
				if th.Class == class {
					strength = k + 1
				}
			}
		}
		winrate := c.Winrate // the side to move's, computed as the page does
		if me < 0 {
			winrate = 1 - c.Winrate
		}
		label := fmt.Sprintf("%.1f", winrate*100)
		if mode == "score" {
			label = fmt.Sprintf("%+.1f", me*c.ScoreLead)
		}
		want = append(want, shownCandidate{Move: c.Move, Strength: strength, Label: fmt.Sprintf("%s\n%d", label, c.Visits)})
	}
	less := func(a, b shownCandidate) int { return strings.Compare(a.Move, b.Move) }
	slices.SortFunc(got, less)
	slices.SortFunc(want, less)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("candidates on the board at turn %d (-API +page):\n%s", turn.Turn, diff)
	}
}

// checkReview compares the move list's mistake classes and the summary on the page with
// the API's review a.
func checkReview(t *testing.T, tb *tab, a analysis) {
	t.Helper()
	want := make([]string, 0, len(a.Turns)-1)
	for _, turn := range a.Turns[1:] {
		want = append(want, "m-"+turn.Mistake)
	}
	got := eval[[]string](tb, `[...document.querySelectorAll('#move-list li')].map(li => [...li.classList].find(c => c.startsWith('m-')) || 'none')`)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mistake classes in the move list (-API +page):\n%s", diff)
	}
	sum := map[string]string{
		"#avg-loss-black": fmt.Sprintf("%.2f", a.Summary.Black.AvgPointLoss),
		"#avg-loss-white": fmt.Sprintf("%.2f", a.Summary.White.AvgPointLoss),
		"#agree-black":    fmt.Sprintf("%.1f%%", a.Summary.Black.TopMoveAgreement*100),
		"#agree-white":    fmt.Sprintf("%.1f%%", a.Summary.White.TopMoveAgreement*100),
	}
	for sel, want := range sum {
		if got := tb.text(sel); got != want {
			t.Errorf("summary %s = %q, want %q", sel, got, want)
		}
	}
	classRows := eval[[][]string](tb, `[...document.querySelectorAll('#summary tbody tr[class^="m-"]')].map(tr => [tr.className, ...[...tr.cells].slice(1).map(c => c.textContent)])`)
	var wantRows [][]string
	for _, th := range game.Thresholds {
		wantRows = append(wantRows, []string{"m-" + th.Class,
			fmt.Sprint(a.Summary.Black.Classes[th.Class]), fmt.Sprint(a.Summary.White.Classes[th.Class])})
	}
	if diff := cmp.Diff(wantRows, classRows); diff != "" {
		t.Errorf("summary rows per mistake class (-API +page):\n%s", diff)
	}
}

// TestReviewLive is the whole journey on a laptop screen: drop a game, watch the review
// fill in, step through it with the keyboard and the graph, look at a candidate's
// variation, read the summary, download the SGF and open the stable link.
func TestReviewLive(t *testing.T) {
	t.Parallel()
	// 15 positions a second makes the 121 positions of the game take about 8 seconds,
	// long enough to watch the turns arrive.
	s := startSite(t, api.Config{}, 0, "TESUJI_FAKE_SPEED=15")
	tb := newTab(t, 1280, 900)
	const total = 121

	tb.do(chromedp.Navigate(s.url + "/"))
	tb.waitFor("the upload form", `!!document.querySelector('#drop')`)
	tb.shot("01-upload")

	tb.dropFile("#drop", testdata(t, "review.sgf"))
	tb.waitFor("the dropped file", `document.querySelector('#file-name')?.textContent === 'review.sgf'`)
	tb.do(
		chromedp.Click(chromedp.CSS(`input[name=preset][value=exact]`)),
		chromedp.SendKeys(chromedp.ID("visits"), "50"),
		chromedp.Click(chromedp.ID("submit")),
	)
	tb.waitFor("the review page", `location.pathname.startsWith('/review/') && !!document.querySelector('#progress-text')`)
	id := reviewID(t, tb)

	// The turns arrive over SSE while the page is open: the progress bar and the move
	// list fill in.
	// progress is the turns analyzed that the page shows: 0 while queued, all of them once
	// the review is complete.
	progress := fmt.Sprintf(`(t => t.startsWith('Review complete') ? %d : Number((t.match(/^KataGo is reading: (\d+) of /) || [0, 0])[1]))(document.querySelector('#progress-text')?.textContent || '')`, total)
	tb.waitFor("the first turns", progress+` > 2`)
	first := eval[int](tb, progress)
	if first >= total {
		t.Fatalf("the review was complete (%d turns) before the page could watch it fill in", first)
	}
	if got := eval[int](tb, `document.querySelectorAll('#move-list li.pending').length`); got == 0 {
		t.Errorf("no move is waiting for analysis at %d of %d turns", first, total)
	}
	tb.shot("02-live")
	tb.waitFor("more turns", fmt.Sprintf(`%s > %d`, progress, first))
	if !strings.Contains(tb.text("#progress-text"), "KataGo is reading") && eval[int](tb, progress) < total {
		t.Errorf("progress text while running = %q", tb.text("#progress-text"))
	}

	// Arrow keys step through the game.
	for range 3 {
		tb.key(kb.ArrowRight)
	}
	tb.waitFor("move 3", `document.querySelector('#counter').textContent === '3 / 120'`)
	if diff := cmp.Diff([2]int{2, 1}, tb.stones()); diff != "" {
		t.Errorf("stones at move 3 (-want +got):\n%s", diff)
	}
	tb.key(kb.ArrowLeft)
	tb.waitFor("move 2", `document.querySelector('#counter').textContent === '2 / 120'`)
	if diff := cmp.Diff([2]int{1, 1}, tb.stones()); diff != "" {
		t.Errorf("stones at move 2 (-want +got):\n%s", diff)
	}
	if got := eval[string](tb, `location.hash`); got != "#2" {
		t.Errorf("the address names move %q, want #2", got)
	}

	// Hovering KataGo's top move plays its variation on the board.
	tb.waitFor("the candidates of move 2", `!!document.querySelector('#goban .shudan-vertex.shudan-heat_9')`)
	if n := eval[int](tb, `document.querySelectorAll('#goban .shudan-vertex[class*="shudan-heat_"]').length`); n < 2 {
		t.Errorf("%d candidates drawn on the board, want several", n)
	}
	vx := eval[[]int](tb, `(() => { const v = document.querySelector('#goban .shudan-vertex.shudan-heat_9'); return [Number(v.dataset.x), Number(v.dataset.y)]; })()`)
	var a analysis
	getJSON(t, s.url+"/api/v1/analyses/"+id, &a)
	top := turnOf(t, a, 2).Candidates[0].PV
	if len(top) < 2 {
		t.Fatalf("the API's top move at turn 2 has the variation %v; the test needs a longer one", top)
	}
	checkCandidates(t, tb, turnOf(t, a, 2), "winrate")
	x, y := tb.center(fmt.Sprintf(`#goban .shudan-vertex[data-x="%d"][data-y="%d"]`, vx[0], vx[1]))
	tb.do(chromedp.MouseEvent(chromedp.MouseMoved, x, y))
	tb.waitFor("the variation", `!!document.querySelector('#pv') && document.querySelector('.board').classList.contains('pv-on')`)
	if diff := cmp.Diff(top, strings.Fields(tb.text("#pv"))); diff != "" {
		t.Errorf("variation shown (-API +page):\n%s", diff)
	}
	if got := tb.text(fmt.Sprintf(`#goban .shudan-vertex[data-x="%d"][data-y="%d"] .shudan-marker`, vx[0], vx[1])); got != "1" {
		t.Errorf("the hovered point is labelled %q, want 1 (the first move of the variation)", got)
	}
	st := tb.stones()
	if st[0]+st[1] <= 2 {
		t.Errorf("the board shows %d stones with the variation, want more than the 2 of the game", st[0]+st[1])
	}
	tb.shot("03-variation")
	tb.do(chromedp.MouseEvent(chromedp.MouseMoved, 2, 2))
	tb.waitFor("the variation to go", `!document.querySelector('#pv')`)

	// The review completes; the page then shows what the API reports.
	tb.waitFor("the end of the review", `document.querySelector('#progress-text').textContent.startsWith('Review complete')`)
	tb.waitFor("the server's review", `document.querySelectorAll('#move-list li.pending').length === 0`)
	getJSON(t, s.url+"/api/v1/analyses/"+id, &a)
	if a.Status != "done" || len(a.Turns) != total || a.Summary == nil {
		t.Fatalf("the API reports %s with %d turns, want done with %d", a.Status, len(a.Turns), total)
	}
	checkReview(t, tb, a)

	// Clicking the graph a quarter of the way along goes to move 30.
	gx := eval[[]float64](tb, `(() => { const e = document.querySelector('#graph .u-over'); e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect(); return [r.left + r.width * 0.25, r.top + r.height / 2]; })()`)
	tb.do(chromedp.MouseClickXY(gx[0], gx[1]))
	tb.waitFor("move 30 from the graph", `document.querySelector('#counter').textContent === '30 / 120'`)
	tb.key(kb.End)
	tb.waitFor("the last move", `document.querySelector('#counter').textContent === '120 / 120'`)
	tb.key(kb.Home)
	tb.waitFor("the first position", `document.querySelector('#counter').textContent === '0 / 120'`)
	tb.do(chromedp.Click(chromedp.ID("nav-next")), chromedp.Click(chromedp.ID("nav-next")))
	tb.waitFor("move 2 by the buttons", `document.querySelector('#counter').textContent === '2 / 120'`)
	tb.do(chromedp.Click(chromedp.CSS(`#move-list li[data-move="57"]`)))
	tb.waitFor("move 57 from the list", `document.querySelector('#counter').textContent === '57 / 120'`)

	// The ownership overlay paints the board.
	tb.do(chromedp.Click(chromedp.ID("ownership")))
	tb.waitFor("the ownership overlay", `document.querySelectorAll('#goban .shudan-vertex[class*="shudan-paint_"]').length > 100`)
	tb.do(chromedp.Click(chromedp.ID("label-score")))
	tb.waitFor("score labels", `document.querySelector('#label-score').classList.contains('on')`)
	checkCandidates(t, tb, turnOf(t, a, 57), "score")
	tb.shot("04-done-ownership")
	tb.do(chromedp.Click(chromedp.ID("ownership")))
	tb.waitFor("the overlay to go", `document.querySelectorAll('#goban .shudan-vertex[class*="shudan-paint_"]').length === 0`)

	// The download is the API's annotated SGF.
	checkDownload(t, tb, s, id, "")

	// The stable link opens the same review at the same move in a new tab.
	link := eval[string](tb, `document.querySelector('#share-link').value`)
	if link != s.url+"/review/"+id {
		t.Errorf("the link to share is %q, want %q", link, s.url+"/review/"+id)
	}
	tb.do(chromedp.Navigate(link + "#57"))
	tb.waitFor("the review from its link", `document.querySelector('#progress-text')?.textContent.startsWith('Review complete') && document.querySelector('#counter').textContent === '57 / 120'`)

	// Nothing the page did reached another host.
	host := strings.TrimPrefix(s.url, "http://")
	tb.rec.mu.Lock()
	defer tb.rec.mu.Unlock()
	for _, r := range tb.rec.requests {
		u, err := url.Parse(r)
		if err != nil || (u.Scheme != "data" && u.Host != host) {
			t.Errorf("the page requested %s, outside %s", r, s.url)
		}
	}
}

// checkDownload clicks the review's download button: the browser saves the API's
// annotated SGF under the name the API gives it.
func checkDownload(t *testing.T, tb *tab, s *site, id, token string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.url+"/api/v1/analyses/"+id+"/sgf", nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	fromAPI, _ := io.ReadAll(res.Body)
	res.Body.Close()
	_, params, err := mime.ParseMediaType(res.Header.Get("Content-Disposition"))
	if res.StatusCode != http.StatusOK || err != nil || params["filename"] == "" {
		t.Fatalf("the API's SGF: %s, Content-Disposition %q", res.Status, res.Header.Get("Content-Disposition"))
	}

	downloads := filepath.Join(tb.dir, "downloads")
	ctx, cancel := context.WithTimeout(tb.ctx, waitLimit)
	defer cancel()
	begins := chromedp.BrowserEvents(ctx, browser.DownloadWillBegin)
	progress := chromedp.BrowserEvents(ctx, browser.DownloadProgress)
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: downloads, EventsEnabled: new(true),
	}); err != nil {
		t.Fatal(err)
	}
	tb.do(chromedp.Click(chromedp.ID("download")))
	for ev, err := range begins {
		if err != nil {
			t.Fatalf("waiting for the download: %v", err)
		}
		if ev.SuggestedFilename != params["filename"] {
			t.Errorf("the download is named %q, the API names it %q", ev.SuggestedFilename, params["filename"])
		}
		break
	}
	var file string
	for ev, err := range progress {
		if err != nil {
			t.Fatalf("waiting for the download: %v", err)
		}
		if ev.State == browser.DownloadProgressStateCompleted {
			file = filepath.Join(downloads, ev.GUID)
			break
		}
		if ev.State == browser.DownloadProgressStateCanceled {
			t.Fatal("the download was cancelled")
		}
	}
	downloaded, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(downloaded, fromAPI) || !bytes.HasPrefix(bytes.TrimSpace(downloaded), []byte("(;")) {
		t.Errorf("downloaded %d bytes that differ from the API's %d-byte SGF:\n%.300s", len(downloaded), len(fromAPI), downloaded)
	}
}

// TestUploadErrors shows the API's errors as messages a player can act on.
func TestUploadErrors(t *testing.T) {
	t.Parallel()
	s := startSite(t, api.Config{MaxUploadBytes: 8 << 10}, 0, "TESUJI_FAKE_SPEED=200")
	occupied, err := os.ReadFile(filepath.Join("..", "game", "testdata", "occupied.sgf"))
	if err != nil {
		t.Fatal(err)
	}
	tb := newTab(t, 1024, 768)
	for _, tc := range []struct {
		name string
		sgf  string
		file string
		want []string
	}{
		{name: "illegal move", sgf: string(occupied), want: []string{"illegal move", "move 5", "occupied"}},
		{name: "broken SGF", sgf: "(;GM[1]FF[4]SZ[19];B[pd];W[dp", want: []string{"cannot be read", "cut off"}},
		{name: "not a game", file: testdata(t, "notes.txt"), want: []string{"cannot be read", "not a game record"}},
		{name: "too large", sgf: "(;GM[1]FF[4]SZ[19]C[" + strings.Repeat("a long comment ", 700) + "];B[pd])", want: []string{"too large"}},
		{name: "nothing", sgf: "", want: []string{"Choose an SGF file"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tb := tb.with(t)
			tb.do(chromedp.Navigate(s.url + "/"))
			tb.waitFor("the upload form", `!!document.querySelector('#submit')`)
			if tc.file != "" {
				tb.do(chromedp.SetUploadFiles(chromedp.ID("file"), []string{tc.file}))
			} else {
				tb.paste("#sgf-text", tc.sgf)
			}
			tb.do(chromedp.Click(chromedp.ID("submit")))
			tb.waitFor("the error message", `!!document.querySelector('#upload-error')`)
			msg := tb.text("#upload-error")
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q does not say %q", msg, w)
				}
			}
			if p := eval[string](tb, `location.pathname`); p != "/" {
				t.Errorf("the page moved to %s after a failed upload", p)
			}
			tb.shot("error-" + strings.ReplaceAll(tc.name, " ", "-"))
		})
	}

	t.Run("unknown review", func(t *testing.T) {
		tb := tb.with(t)
		tb.do(chromedp.Navigate(s.url + "/review/nosuchreview"))
		tb.waitFor("the error message", `!!document.querySelector('#review-error')`)
		if msg := tb.text("#review-error"); !strings.Contains(msg, "no analysis at this address") {
			t.Errorf("message %q does not say the review does not exist", msg)
		}
	})
}

// TestReviewOtherFormats reviews a Tygem .gib and a WBaduk .ngf record chosen in the file
// picker, which offers them.
func TestReviewOtherFormats(t *testing.T) {
	t.Parallel()
	s := startSite(t, api.Config{}, 0, "TESUJI_FAKE_SPEED=200")
	tb := newTab(t, 1280, 900)
	for _, tc := range []struct {
		file, title string
		moves       int
	}{
		{file: "tygem_korean.gib", title: "이세돌 vs 박정환 · tesuji", moves: 20},
		{file: "wbaduk_handicap.ngf", title: "초보기사 vs 바둑왕 · tesuji", moves: 10},
	} {
		t.Run(tc.file, func(t *testing.T) {
			tb := tb.with(t)
			tb.do(chromedp.Navigate(s.url + "/"))
			tb.waitFor("the upload form", `!!document.querySelector('#submit')`)
			accept := eval[string](tb, `document.querySelector('#file').accept`)
			ext := filepath.Ext(tc.file)
			if !strings.Contains(accept, ext) {
				t.Errorf("the file picker offers %q, not %s", accept, ext)
			}
			path, err := filepath.Abs(filepath.Join("..", "game", "testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			tb.do(chromedp.SetUploadFiles(chromedp.ID("file"), []string{path}))
			tb.do(chromedp.Click(chromedp.ID("submit")))
			tb.waitFor("the review page", `location.pathname.startsWith('/review/') && !!document.querySelector('#counter')`)
			tb.waitFor("the game's players", fmt.Sprintf(`document.title === %q`, tc.title))
			tb.waitFor("the whole game", fmt.Sprintf(`document.querySelector('#counter').textContent.endsWith('/ %d')`, tc.moves))
			tb.shot("review-" + strings.TrimPrefix(ext, "."))
		})
	}
}

// TestServerBusy shows the busy message when the server cannot take the game.
func TestServerBusy(t *testing.T) {
	t.Parallel()
	// No engine: the queue is closed below, so nothing would run anyway.
	s := startSite(t, api.Config{}, -1)
	tb := newTab(t, 1024, 768)
	tb.do(chromedp.Navigate(s.url + "/"))
	tb.waitFor("the upload form", `!!document.querySelector('#submit')`)
	if err := s.srv.Queue().Close(); err != nil {
		t.Fatal(err)
	}
	tb.do(chromedp.SetUploadFiles(chromedp.ID("file"), []string{testdata(t, "review.sgf")}))
	tb.waitFor("the chosen file", `document.querySelector('#file-name')?.textContent === 'review.sgf'`)
	tb.do(chromedp.Click(chromedp.ID("submit")))
	tb.waitFor("the error message", `!!document.querySelector('#upload-error')`)
	if msg := tb.text("#upload-error"); !strings.Contains(msg, "busy") {
		t.Errorf("message %q does not say the server is busy", msg)
	}
	tb.shot("busy")
}

// TestPhone reviews a game on a phone: one column, nothing wider than the screen (a long
// unbroken name and an address in a comment wrap, on the review and the player's page),
// and a tap on a candidate shows its variation.
func TestPhone(t *testing.T) {
	t.Parallel()
	s := startSite(t, api.Config{}, 0, "TESUJI_FAKE_SPEED=100")
	data, err := os.ReadFile(testdata(t, "review.sgf"))
	if err != nil {
		t.Fatal(err)
	}
	const long = "Hoshino_Yamamoto_Takahashi_Watanabe_Kobayashi_Nakamura"
	sgf := strings.NewReplacer("PB[Honinbo Tora]", "PB["+long+"]",
		";W[dp]", ";W[dp]C[The game record: https://www.gokgs.com/gameArchives.jsp?user=someplayer&year=2026&month=11&oldAccounts=y]").Replace(string(data))
	tb := newTab(t, 0, 0)
	tb.viewport = true
	tb.do(chromedp.Emulate(device.IPhone13), chromedp.Navigate(s.url+"/"))
	tb.waitFor("the upload form", `!!document.querySelector('#submit')`)
	tb.shot("01-upload")
	tb.paste("#sgf-text", string(sgf))
	tb.do(
		chromedp.Click(chromedp.CSS(`input[name=preset][value=quick]`)),
		chromedp.Click(chromedp.ID("submit")),
	)
	tb.waitFor("the end of the review", `document.querySelector('#progress-text')?.textContent.startsWith('Review complete')`)
	tb.key(kb.ArrowRight)
	tb.key(kb.ArrowRight)
	tb.waitFor("the candidates of move 2", `!!document.querySelector('#goban .shudan-vertex.shudan-heat_9')`)
	tb.waitFor("the comment of move 2", `!!document.querySelector('#comment')`)

	// The screen's width: a page wider than the screen widens innerWidth with it.
	width := eval[float64](tb, `screen.width`)
	fits := func(sels ...string) {
		t.Helper()
		for _, sel := range sels {
			w := eval[float64](tb, fmt.Sprintf(`(() => { const e = document.querySelector(%q); return Math.max(e.scrollWidth, e.getBoundingClientRect().right); })()`, sel))
			if w > width+0.5 {
				t.Errorf("%s reaches %.0f px on a %.0f px screen", sel, w, width)
			}
		}
	}
	fits("html", "#goban", "#graph", "#move-list", "#summary", "#comment", ".head h1", "#mistake-who")
	if got := eval[float64](tb, `document.querySelector('#goban').getBoundingClientRect().width`); got < width*0.8 {
		t.Errorf("the board is %.0f px wide on a %.0f px screen; it should take most of it", got, width)
	}
	eval[chromedp.Void](tb, `scrollTo(0, 0)`)
	tb.shot("02-review")
	tb.do(chromedp.Tap(chromedp.CSS(`#goban .shudan-vertex.shudan-heat_9`)))
	tb.waitFor("the variation after a tap", `!!document.querySelector('#pv')`)
	tb.shot("03-variation")
	for i, sel := range []string{"#graph", "#move-list", "#summary"} {
		eval[chromedp.Void](tb, fmt.Sprintf(`document.querySelector(%q).scrollIntoView({block: 'start'})`, sel))
		tb.shot(fmt.Sprintf("%02d-%s", 4+i, sel[1:]))
	}

	tb.do(chromedp.Navigate(s.url + "/player/" + url.PathEscape(long)))
	tb.waitFor("the player's game", `document.querySelectorAll('#player-games tbody tr').length === 1`)
	fits("html", "#player-name", ".spellings")
	tb.shot("07-player")
}

func TestMain(m *testing.M) {
	if !web.Built() {
		fmt.Fprintln(os.Stderr, "web: these tests need the built UI embedded: run `cd web && npm ci && node build.mjs` first")
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// TestCancel stops a review from the page: the stream ends, the analyzed turns stay.
func TestCancel(t *testing.T) {
	t.Parallel()
	s := startSite(t, api.Config{}, 0, "TESUJI_FAKE_SPEED=5")
	tb := newTab(t, 1024, 768)
	tb.do(chromedp.Navigate(s.url + "/"))
	tb.waitFor("the upload form", `!!document.querySelector('#submit')`)
	tb.do(
		chromedp.SetUploadFiles(chromedp.ID("file"), []string{testdata(t, "review.sgf")}),
		chromedp.Click(chromedp.CSS(`input[name=preset][value=quick]`)),
	)
	tb.waitFor("the chosen file", `document.querySelector('#file-name')?.textContent === 'review.sgf'`)
	tb.do(chromedp.Click(chromedp.ID("submit")))
	tb.waitFor("the first turn", `/^KataGo is reading: [1-9]\d* of /.test(document.querySelector('#progress-text')?.textContent || '')`)
	tb.do(chromedp.Click(chromedp.ID("cancel")))
	tb.waitFor("the cancelled review", `document.querySelector('#progress-text').textContent.startsWith('Cancelled after') && !!document.querySelector('#notice')`)
	if tb.text("#cancel") != "" {
		t.Error("the Cancel button is still there after the review was cancelled")
	}
	var a analysis
	getJSON(t, s.url+"/api/v1/analyses/"+reviewID(t, tb), &a)
	if a.Status != "cancelled" {
		t.Errorf("the API reports %s after Cancel, want cancelled", a.Status)
	}
	if got, want := tb.text("#progress-text"), fmt.Sprintf("Cancelled after %d of 121 positions", len(a.Turns)); got != want {
		t.Errorf("the page says %q, the API has %d turns", got, len(a.Turns))
	}
	tb.shot("cancelled")
}

// TestToken reviews a game on a server that requires API tokens: without one the page
// says how to get in; opened once with ?token=, it takes the token out of the address,
// uploads, follows the events, shows the review and downloads its SGF, the token in no
// link.
func TestToken(t *testing.T) {
	t.Parallel()
	tokens := api.NewSQLiteTokens(sqlitetest.DB(t))
	tok, _, err := tokens.Create(context.Background(), "browser")
	if err != nil {
		t.Fatal(err)
	}
	s := startSite(t, api.Config{Tokens: tokens}, 0, "TESUJI_FAKE_SPEED=200")
	tb := newTab(t, 1024, 768)

	tb.do(chromedp.Navigate(s.url + "/"))
	tb.waitFor("the upload form", `!!document.querySelector('#submit')`)
	tb.do(chromedp.SetUploadFiles(chromedp.ID("file"), []string{testdata(t, "review.sgf")}))
	tb.waitFor("the chosen file", `document.querySelector('#file-name')?.textContent === 'review.sgf'`)
	tb.do(chromedp.Click(chromedp.ID("submit")))
	tb.waitFor("the error message", `!!document.querySelector('#upload-error')`)
	if msg := tb.text("#upload-error"); !strings.Contains(msg, "?token=") {
		t.Errorf("without a token the page says %q, not how to pass one", msg)
	}

	tb.do(chromedp.Navigate(s.url + "/?token=" + url.QueryEscape(tok)))
	tb.waitFor("the upload form", `!!document.querySelector('#submit')`)
	if got := eval[string](tb, `location.href`); got != s.url+"/" {
		t.Errorf("the address bar keeps the token: %s", got)
	}
	tb.do(chromedp.SetUploadFiles(chromedp.ID("file"), []string{testdata(t, "review.sgf")}))
	tb.waitFor("the chosen file", `document.querySelector('#file-name')?.textContent === 'review.sgf'`)
	tb.do(
		chromedp.Click(chromedp.CSS(`input[name=preset][value=quick]`)),
		chromedp.Click(chromedp.ID("submit")),
	)
	tb.waitFor("the end of the review", `document.querySelector('#progress-text')?.textContent.startsWith('Review complete')`)
	tb.shot("token-review")
	if href := eval[string](tb, `document.querySelector('#download').href`); strings.Contains(href, "token") {
		t.Errorf("the download link carries the token: %s", href)
	}
	checkDownload(t, tb, s, reviewID(t, tb), tok)
}
