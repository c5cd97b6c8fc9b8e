//go:build webui

package web_test

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/google/go-cmp/cmp"

	specs "github.com/tesuji/tesuji/analysis" // the name analysis is the tests' type
	"github.com/tesuji/tesuji/api"
	"github.com/tesuji/tesuji/game"
)

// submitFile queues a review of a test record through the API, as the upload form would,
// and returns its id.
func submitFile(t *testing.T, s *site, name string, visits int) string {
	t.Helper()
	data, err := os.ReadFile(testdata(t, name))
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.Post(fmt.Sprintf("%s/api/v1/analyses?maxVisits=%d", s.url, visits), "application/x-go-sgf", strings.NewReader(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var c struct{ ID string }
	if err := json.NewDecoder(res.Body).Decode(&c); err != nil || res.StatusCode != http.StatusAccepted {
		t.Fatalf("submit %s: %s %v", name, res.Status, err)
	}
	return c.ID
}

// openReview opens a review and waits until it is complete.
func openReview(tb *tab, s *site, id string) {
	tb.t.Helper()
	tb.do(chromedp.Navigate(s.url + "/review/" + id))
	tb.waitFor("the complete review", `(document.querySelector('#progress-text')?.textContent || '').startsWith('Review complete') && document.querySelectorAll('#move-list li.pending').length === 0`)
}

// clickEmpty clicks the first empty point of the board that is not a candidate and
// returns its GTP coordinate.
func clickEmpty(tb *tab) string {
	tb.t.Helper()
	v := eval[[]int](tb, `(() => { const v = [...document.querySelectorAll('#goban .shudan-vertex.shudan-sign_0')].find(v => ![...v.classList].some(c => c.startsWith('shudan-heat_')) && Number(v.dataset.x) > 1 && Number(v.dataset.y) > 1); return [Number(v.dataset.x), Number(v.dataset.y)]; })()`)
	x, y := tb.center(fmt.Sprintf(`#goban .shudan-vertex[data-x="%d"][data-y="%d"]`, v[0], v[1]))
	tb.do(chromedp.MouseClickXY(x, y))
	return fmt.Sprintf("%c%d", "ABCDEFGHJKLMNOPQRST"[v[0]], 19-v[1])
}

type savedVariations struct {
	Variations []api.Variation `json:"variations"`
}

// TestOwnMoves plays the player's own moves on the review board: each is analyzed at
// once, the line goes on and takes back a move, Escape returns to the game, and the
// variation is still there, analyzed, after a reload and in the downloaded SGF.
func TestOwnMoves(t *testing.T) {
	t.Parallel()
	s := startSite(t, api.Config{}, 0, "TESUJI_FAKE_SPEED=200")
	tb := newTab(t, 1280, 900)
	id := submitFile(t, s, "commented.sgf", 20)
	openReview(tb, s, id)

	// The record's own text: name, event, date, result and the comment of the position.
	for sel, want := range map[string]string{
		"#game-info":   "The ladder game · Club league, round 3 · 2024-05-01",
		"#game-result": "B+R",
		"#comment":     "Played at the club evening; the ladder decides it.",
	} {
		if got := tb.text(sel); got != want {
			t.Errorf("%s = %q, want %q", sel, got, want)
		}
	}
	tb.key(kb.ArrowDown)
	tb.waitFor("move 10", `document.querySelector('#counter').textContent.startsWith('10 /')`)
	tb.key(kb.ArrowLeft)
	tb.waitFor("move 9's comment", `document.querySelector('#comment')?.textContent === 'Black passes: a slip of the hand.'`)

	// The record's variation from move 11 opens and steps like the game.
	tb.do(chromedp.Click(chromedp.CSS(`#record-variations li button`)))
	tb.waitFor("the record's variation", `document.querySelector('#variation-bar')?.textContent.includes('from move 11 · 1 of 3')`)
	if got := tb.text("#comment"); got != "Tengen was worth a thought." {
		t.Errorf("the variation's comment = %q", got)
	}
	tb.key(kb.ArrowRight)
	tb.waitFor("its second move", `document.querySelector('#variation-bar').textContent.includes('2 of 3')`)
	tb.key(kb.Escape)
	tb.waitFor("the game again", `!document.querySelector('#variation-bar') && document.querySelector('#counter').textContent.startsWith('11 /')`)

	// A click plays a stone; KataGo's analysis of it arrives streamed.
	first := clickEmpty(tb)
	tb.waitFor("the variation", `document.querySelector('#variation-bar')?.textContent.includes('from move 11 · 1 of 1')`)
	tb.waitFor("KataGo's analysis of the move", `!!document.querySelector('#winrate-bar') && !!document.querySelector('#goban .shudan-vertex.shudan-heat_9')`)
	if got := tb.text("#move-label"); !strings.HasSuffix(got, "1: W "+first) {
		t.Errorf("the position is labelled %q, want White's %s", got, first)
	}
	second := clickEmpty(tb)
	tb.waitFor("the second move", `document.querySelector('#variation-bar').textContent.includes('2 of 2')`)
	tb.waitFor("its analysis", `(document.querySelector('#move-label')?.textContent || '').endsWith('2: B `+second+`') && !!document.querySelector('#loss')`)
	clickEmpty(tb)
	tb.waitFor("the third move", `document.querySelector('#variation-bar').textContent.includes('3 of 3')`)
	tb.shot("01-own-variation")
	tb.do(chromedp.Click(chromedp.ID("undo")))
	tb.waitFor("the move taken back", `document.querySelector('#variation-bar').textContent.includes('2 of 2')`)
	tb.key(kb.Escape)
	tb.waitFor("the game again", `!document.querySelector('#variation-bar') && document.querySelector('#counter').textContent.startsWith('11 /')`)

	// The variation is kept with the review, with its analysis.
	tb.waitFor("the saved variation", `fetch('/api/v1/analyses/`+id+`/variations').then(r => r.json()).then(v => v.variations.length === 1 && v.variations[0].moves.length === 2 && v.variations[0].turns.every(t => t))`)
	var saved savedVariations
	getJSON(t, s.url+"/api/v1/analyses/"+id+"/variations", &saved)
	v := saved.Variations[0]
	if diff := cmp.Diff([]string{"W " + first, "B " + second}, []string{v.Moves[0][0] + " " + v.Moves[0][1], v.Moves[1][0] + " " + v.Moves[1][1]}); v.At != 11 || diff != "" {
		t.Errorf("saved variation at %d (-want +got):\n%s", v.At, diff)
	}
	if !slices.ContainsFunc(tb.rec.requests, func(u string) bool { return strings.HasSuffix(u, "/api/v1/positions") }) {
		t.Error("the page never asked /api/v1/positions")
	}

	tb.do(chromedp.Reload())
	tb.waitFor("the review after a reload", `document.querySelectorAll('#own-variations li').length === 1`)
	tb.do(chromedp.Click(chromedp.CSS(`#own-variations li button`)))
	tb.waitFor("the saved variation with its analysis", `document.querySelector('#variation-bar')?.textContent.includes('2 of 2') && !!document.querySelector('#winrate-bar') && !!document.querySelector('#goban .shudan-vertex.shudan-heat_9')`)
	wantLabel := fmt.Sprintf("%.1f%%", v.Turns[1].Winrate*100)
	if got := tb.text("#winrate-bar .b"); got != wantLabel {
		t.Errorf("the winrate bar shows %q, want the saved analysis's %q", got, wantLabel)
	}
	tb.shot("02-own-variation-reloaded")

	res, err := http.Get(s.url + "/api/v1/analyses/" + id + "/sgf")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if !strings.Contains(readAll(t, res), "Variation 1, tried on the review from move 11") {
		t.Errorf("the annotated SGF lacks the variation")
	}
}

// TestMistakeKeys jumps between mistakes with n and p, lists the worst moves, and on a
// mistake shows KataGo's preferred move beside the played one, with its line.
func TestMistakeKeys(t *testing.T) {
	t.Parallel()
	s := startSite(t, api.Config{}, 0, "TESUJI_FAKE_SPEED=200")
	tb := newTab(t, 1280, 900)
	id := submitFile(t, s, "commented.sgf", 20)
	openReview(tb, s, id)
	var a analysis
	getJSON(t, s.url+"/api/v1/analyses/"+id, &a)

	rankOf := func(class string) int {
		return slices.IndexFunc(game.Thresholds, func(th game.Threshold) bool { return th.Class == class })
	}
	mistakes := func(atLeast, who string) []int {
		var out []int
		for _, turn := range a.Turns[1:] {
			mover := a.Game.Moves[turn.Turn-1][0]
			if rankOf(turn.Mistake) <= rankOf(atLeast) && (who == "both" || who == mover) {
				out = append(out, turn.Turn)
			}
		}
		return out
	}
	counter := func() int {
		var n int
		fmt.Sscanf(tb.text("#counter"), "%d", &n)
		return n
	}
	for _, tc := range []struct{ class, who string }{{"blunder", "both"}, {"inaccuracy", "B"}, {"mistake", "W"}} {
		t.Run(tc.class+"-"+tc.who, func(t *testing.T) {
			tb := tb.with(t)
			want := mistakes(tc.class, tc.who)
			if len(want) == 0 {
				t.Fatalf("the review has no %s of %s; the test game needs some", tc.class, tc.who)
			}
			eval[chromedp.Void](tb, fmt.Sprintf(`(() => { for (const [sel, v] of [['#mistake-class', %q], ['#mistake-who', %q]]) { const e = document.querySelector(sel); e.value = v; e.dispatchEvent(new Event('change', {bubbles: true})); } document.activeElement.blur(); })()`, tc.class, tc.who))
			tb.key(kb.Home)
			tb.waitFor("the start", `document.querySelector('#counter').textContent.startsWith('0 /')`)
			var got []int
			for range want {
				before := counter()
				tb.key("n")
				tb.waitFor(fmt.Sprintf("the next of %v after %v", want, got), fmt.Sprintf(`!document.querySelector('#counter').textContent.startsWith('%d /')`, before))
				got = append(got, counter())
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("n visits (-want +got):\n%s", diff)
			}
			tb.key("n")
			tb.waitFor("the note", `(document.querySelector('#jump-note')?.textContent || '').startsWith('No later move')`)
			back := []int{}
			for range want[1:] {
				before := counter()
				tb.key("p")
				tb.waitFor("the previous mistake", fmt.Sprintf(`!document.querySelector('#counter').textContent.startsWith('%d /')`, before))
				back = append(back, counter())
			}
			slices.Reverse(back)
			if diff := cmp.Diff(want[:len(want)-1], back); diff != "" {
				t.Errorf("p visits (-want +got):\n%s", diff)
			}
		})
	}

	// The worst moves, by point loss, both players.
	type worst struct {
		N    int
		Loss string
	}
	var wantWorst []worst
	turns := slices.Clone(a.Turns[1:])
	slices.SortStableFunc(turns, func(x, y game.Turn) int {
		switch {
		case *x.PointLoss > *y.PointLoss:
			return -1
		case *x.PointLoss < *y.PointLoss:
			return 1
		}
		return x.Turn - y.Turn
	})
	for _, turn := range turns {
		if len(wantWorst) == 10 || *turn.PointLoss < 0.05 {
			break
		}
		wantWorst = append(wantWorst, worst{turn.Turn, fmt.Sprintf("−%.1f", *turn.PointLoss)})
	}
	eval[chromedp.Void](tb, `(() => { const e = document.querySelector('#mistake-who'); e.value = 'both'; e.dispatchEvent(new Event('change', {bubbles: true})); })()`)
	gotWorst := eval[[]worst](tb, `[...document.querySelectorAll('#worst-moves li[data-move]')].map(li => ({N: Number(li.dataset.move), Loss: li.querySelector('.pl').textContent}))`)
	if diff := cmp.Diff(wantWorst, gotWorst); diff != "" {
		t.Errorf("worst moves (-API +page):\n%s", diff)
	}

	// On the worst move: the class matches the loss shown, KataGo's move is marked beside
	// the played one, and its line plays on the board.
	worstN := wantWorst[0].N
	tb.do(chromedp.Click(chromedp.CSS(fmt.Sprintf(`#worst-moves li[data-move="%d"]`, worstN))))
	tb.waitFor("the worst move", fmt.Sprintf(`document.querySelector('#counter').textContent.startsWith('%d /')`, worstN))
	tb.do(chromedp.MouseEvent(chromedp.MouseMoved, 2, 2)) // off the candidates, whose lines would cover the board
	turn := turnOf(t, a, worstN)
	prev := turnOf(t, a, worstN-1)
	if got, want := tb.text("#loss"), fmt.Sprintf("Lost %.1f points; KataGo preferred %s", *turn.PointLoss, prev.Candidates[0].Move); got != want {
		t.Errorf("the loss reads %q, want %q", got, want)
	}
	if got := eval[string](tb, `document.querySelector('#position .badge').title`); got != strings.ToUpper(turn.Mistake[:1])+turn.Mistake[1:] {
		t.Errorf("the badge says %q, the API %q", got, turn.Mistake)
	}
	tb.waitFor("KataGo's move on the board", `!!document.querySelector('#goban .shudan-vertex.shudan-ghost_good')`)
	ghost := eval[string](tb, `(() => { const v = document.querySelector('#goban .shudan-vertex.shudan-ghost_good'); return 'ABCDEFGHJKLMNOPQRST'[Number(v.dataset.x)] + (19 - Number(v.dataset.y)); })()`)
	if ghost != prev.Candidates[0].Move {
		t.Errorf("the board marks %q as KataGo's move, want %s", ghost, prev.Candidates[0].Move)
	}
	pv := prev.Candidates[0].PV
	if got := strings.Fields(strings.TrimPrefix(tb.text("#best-line"), "KataGo’s line:")); !cmp.Equal(got, pv[:min(10, len(pv))]) {
		t.Errorf("KataGo's line reads %v, want %v", got, pv)
	}
	tb.do(chromedp.Click(chromedp.ID("best-line")))
	tb.waitFor("the line on the board", `document.querySelector('.board').classList.contains('pv-on')`)
	tb.shot("01-mistake")
}

func readAll(t *testing.T, res *http.Response) string {
	t.Helper()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// wholeReview is the address of a whole review in the API, every turn of it.
var wholeReview = regexp.MustCompile(`^/api/v1/analyses/[^/]+$`)

// TestBatchUpload uploads five files at once, one of them broken: four reviews run and
// finish, followed in the library's list, the broken file is listed with its reason.
func TestBatchUpload(t *testing.T) {
	t.Parallel()
	s := startSite(t, api.Config{}, 0, "TESUJI_FAKE_SPEED=300")
	tb := newTab(t, 1280, 900)
	dir := t.TempDir()
	var paths []string
	for _, f := range []struct{ name, src string }{
		{"review.sgf", "review.sgf"}, {"commented.sgf", "commented.sgf"},
		{"lee-park.gib", "../../game/testdata/tygem_korean.gib"}, {"handicap.ngf", "../../game/testdata/wbaduk_handicap.ngf"},
	} {
		data, err := os.ReadFile(filepath.Join("testdata", f.src))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, f.name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	broken := filepath.Join(dir, "broken.sgf")
	if err := os.WriteFile(broken, []byte("(;GM[1]SZ[19];B[dd];W[dd])"), 0o644); err != nil {
		t.Fatal(err)
	}
	paths = slices.Insert(paths, 2, broken)

	tb.do(chromedp.Navigate(s.url + "/"))
	tb.waitFor("the upload form", `!!document.querySelector('#submit')`)
	if !eval[bool](tb, `document.querySelector('#file').multiple && document.querySelector('#file').accept.includes('.zip')`) {
		t.Error("the file picker takes one file only, or no zip")
	}
	tb.do(chromedp.SetUploadFiles(chromedp.ID("file"), paths))
	tb.waitFor("the chosen files", `document.querySelector('#file-name')?.textContent === '5 files'`)
	tb.do(
		chromedp.Click(chromedp.CSS(`input[name=preset][value=exact]`)),
		chromedp.SendKeys(chromedp.ID("visits"), "20"),
		chromedp.Click(chromedp.ID("submit")),
	)
	tb.waitFor("the batch page", `location.pathname.startsWith('/batch/') && document.querySelectorAll('#batch li').length === 5`)
	names := eval[[]string](tb, `[...document.querySelectorAll('#batch li .name')].map(e => e.textContent)`)
	if diff := cmp.Diff([]string{"review.sgf", "commented.sgf", "broken.sgf", "lee-park.gib", "handicap.ngf"}, names); diff != "" {
		t.Errorf("games (-want +got):\n%s", diff)
	}
	if got := tb.text("#batch li.bad .why"); !strings.Contains(got, "illegal move") || !strings.Contains(got, "occupied") {
		t.Errorf("the broken file's reason reads %q", got)
	}
	tb.waitFor("every review to finish", `document.querySelectorAll('#batch li[data-status="done"]').length === 4`)
	if got := tb.text("#batch-summary"); got != "4 reviews: 4 finished · 1 file could not be read" {
		t.Errorf("summary %q", got)
	}
	// The page follows the reviews in the library's small entries, not in whole reviews.
	tb.rec.mu.Lock()
	for _, r := range tb.rec.requests {
		if u, err := url.Parse(r); err == nil && wholeReview.MatchString(u.Path) {
			t.Errorf("the batch page read the whole review %s", r)
		}
	}
	tb.rec.mu.Unlock()
	tb.shot("01-batch")
	batchPath := eval[string](tb, `location.pathname`)
	tb.do(chromedp.Reload())
	tb.waitFor("the batch after a reload", `document.querySelectorAll('#batch li[data-status="done"]').length === 4`)

	// With the speed the workers measured, each depth tells how long this game takes.
	tb.do(chromedp.Click(chromedp.CSS(`.again a`)))
	tb.waitFor("the upload form", `!!document.querySelector('#submit')`)
	tb.do(chromedp.SetUploadFiles(chromedp.ID("file"), paths[:1]))
	tb.waitFor("the estimates", `fetch('/api/v1/info').then(r => r.json()).then(i => i.visitsPerSecond > 0)`)
	// A worker's speed can change once more after the batch ends, when its next heartbeat
	// counts the last positions; the page is read between two equal readings of it.
	type speed struct {
		VisitsPerSecond float64 `json:"visitsPerSecond"`
	}
	var info speed
	for try := 1; ; try++ {
		var before speed
		getJSON(t, s.url+"/api/v1/info", &before)
		tb.do(chromedp.Reload())
		tb.waitFor("the upload form", `!!document.querySelector('#submit')`)
		tb.do(chromedp.SetUploadFiles(chromedp.ID("file"), paths[:1]))
		tb.waitFor("an estimate per depth", `['smart', 'quick', 'normal', 'deep'].every(p => /^ · about \d+(\.\d)? (s|min|h) for this game$/.test(document.querySelector('#eta-' + p)?.textContent || ''))`)
		getJSON(t, s.url+"/api/v1/info", &info)
		if info == before {
			break
		}
		if try == 5 {
			t.Fatalf("the workers' speed still changes long after the batch: %v, then %v", before.VisitsPerSecond, info.VisitsPerSecond)
		}
	}
	// Each estimate is the visits the worker plans for the depth at the measured speed; the
	// smart review's counts its quick pass and its deeper searches.
	for _, p := range []struct {
		name     string
		visits   int
		adaptive bool
	}{{"smart", 500, true}, {"quick", 100, false}, {"normal", 500, false}, {"deep", 2000, false}} {
		planned := (&specs.Spec{MaxVisits: p.visits, Adaptive: p.adaptive}).PlannedVisits(121)
		want := " · " + etaText(float64(planned)/info.VisitsPerSecond) + " for this game"
		if got := tb.text("#eta-" + p.name); got != want {
			t.Errorf("estimate for %s: %q, want %q (%d visits at %v visits/s)", p.name, got, want, planned, info.VisitsPerSecond)
		}
	}
	tb.shot("02-estimates")
	tb.do(chromedp.Navigate(s.url + "/batch/" + strings.TrimPrefix(batchPath, "/batch/")))
	tb.do(chromedp.Click(chromedp.CSS(`#batch li:nth-child(4) a`)))
	tb.waitFor("the review of the Tygem game", `location.pathname.startsWith('/review/') && document.title === '이세돌 vs 박정환 · tesuji'`)
}

// TestBatchServerRestart: while the server restarts, the batch page keeps its reviews'
// status and says it keeps asking, and it follows them again once the server is back.
func TestBatchServerRestart(t *testing.T) {
	t.Parallel()
	// No engine: the reviews stay queued across the restart until the test cancels them.
	s := startSite(t, api.Config{}, -1)
	tb := newTab(t, 1280, 900)
	tb.do(chromedp.Navigate(s.url + "/"))
	tb.waitFor("the upload form", `!!document.querySelector('#submit')`)
	tb.do(chromedp.SetUploadFiles(chromedp.ID("file"), []string{testdata(t, "review.sgf"), testdata(t, "commented.sgf")}))
	tb.waitFor("the chosen files", `document.querySelector('#file-name')?.textContent === '2 files'`)
	tb.do(chromedp.Click(chromedp.CSS(`input[name=preset][value=quick]`)), chromedp.Click(chromedp.ID("submit")))
	tb.waitFor("the queued reviews", `location.pathname.startsWith('/batch/') && [...document.querySelectorAll('#batch li')].map(li => li.dataset.status).join(' ') === 'queued queued'`)
	ids := eval[[]string](tb, `[...document.querySelectorAll('#batch li a')].map(a => a.getAttribute('href').slice('/review/'.length))`)

	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	tb.waitFor("the page to notice", `!!document.querySelector('#batch-notice') || !!document.querySelector('#batch li:not([data-status="queued"])')`)
	if got := eval[string](tb, `[...document.querySelectorAll('#batch li')].map(li => li.dataset.status).join(' ')`); got != "queued queued" {
		t.Errorf("with the server down the batch reads %q, want the reviews still queued", got)
	}
	tb.shot("server-down")

	s.start(t)
	tb.waitFor("the server again", `!document.querySelector('#batch-notice')`)
	for _, id := range ids {
		cancelReview(t, s, id)
	}
	tb.waitFor("the reviews cancelled after the restart", `[...document.querySelectorAll('#batch li')].map(li => li.dataset.status).join(' ') === 'cancelled cancelled'`)
}

// etaText words a duration in seconds as the upload form does.
func etaText(s float64) string {
	switch {
	case s < 60:
		return fmt.Sprintf("about %d s", max(1, int(math.Round(s))))
	case s < 3600:
		return fmt.Sprintf("about %d min", int(math.Round(s/60)))
	}
	return fmt.Sprintf("about %.1f h", s/3600)
}
