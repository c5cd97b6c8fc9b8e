//go:build webui

package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/tesuji/tesuji/api"
)

// reviewGame is testdata/review.sgf (120 moves on 19x19) with its players and date
// replaced.
func reviewGame(t *testing.T, black, white, date, result string) string {
	t.Helper()
	data, err := os.ReadFile(testdata(t, "review.sgf"))
	if err != nil {
		t.Fatal(err)
	}
	r := strings.NewReplacer("PB[Honinbo Tora]", "PB["+black+"]", "PW[Kuma Sensei]", "PW["+white+"]",
		"DT[2024-05-01]", "DT["+date+"]RE["+result+"]")
	return r.Replace(string(data))
}

// submitGame posts a record to the site's API and returns the review's id.
func submitGame(t *testing.T, s *site, sgf string, visits int) string {
	t.Helper()
	body, err := json.Marshal(map[string]any{"sgf": sgf, "maxVisits": visits})
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.Post(s.url+"/api/v1/analyses", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var c struct{ ID string }
	if err := json.NewDecoder(res.Body).Decode(&c); err != nil || res.StatusCode != http.StatusAccepted {
		t.Fatalf("submit: %s, %v", res.Status, err)
	}
	return c.ID
}

// reviewDone submits records and waits until each review is done.
func reviewDone(t *testing.T, s *site, sgfs ...string) []string {
	t.Helper()
	var ids []string
	for _, sgf := range sgfs {
		id := submitGame(t, s, sgf, 20)
		ids = append(ids, id)
		waitAPI(t, func() bool {
			var a analysis
			getJSON(t, s.url+"/api/v1/analyses/"+id, &a)
			if a.Status == "failed" || a.Status == "cancelled" {
				t.Fatalf("review %s ended %s", id, a.Status)
			}
			return a.Status == "done"
		})
	}
	return ids
}

// waitAPI polls cond until it holds, failing the test after waitLimit.
func waitAPI(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(waitLimit); !cond(); {
		if time.Now().After(deadline) {
			t.Fatal("gave up waiting for the API")
		}
		<-time.After(20 * time.Millisecond) // a poll interval, not a wait for the outcome
	}
}

// TestLibrary: the home page lists the reviews under the upload card with their players,
// date, result and status, follows the progress of one still running, deletes one, stops
// the running one and opens one.
func TestLibrary(t *testing.T) {
	t.Parallel()
	s := startSite(t, api.Config{}, 0, "TESUJI_FAKE_VISITS_PER_SECOND=2000")
	ids := reviewDone(t, s,
		reviewGame(t, "Honinbo Tora", "Kuma Sensei", "2026-11-20", "B+R"),
		reviewGame(t, "Lee Sedol", "Gu Li", "2026-11-21", "W+3.5"),
		reviewGame(t, "Shin Jinseo", "Lee Sedol", "2026-11-22", "W+R"))
	// 8000 visits a position at 2000 a second: a turn every four seconds, so the progress
	// moves within each wait below, and eight minutes for the 121 positions, longer than
	// every wait of this test together (each gives up after waitLimit): the review is
	// still running whatever the machine's speed, as the checks below need.
	live := submitGame(t, s, reviewGame(t, "Ke Jie", "Park Junghwan", "2026-11-23", "B+1.5"), 8000)

	tb := newTab(t, 1280, 1000)
	tb.do(chromedp.Navigate(s.url + "/"))
	tb.waitFor("the library", `document.querySelectorAll('#library-list li').length === 4`)
	rows := eval[[]string](tb, `[...document.querySelectorAll('#library-list li')].map(li => li.dataset.id)`)
	want := []string{live, ids[2], ids[1], ids[0]}
	if strings.Join(rows, " ") != strings.Join(want, " ") {
		t.Errorf("the library lists %v, want newest first %v", rows, want)
	}
	entry := func(id string) string {
		return eval[string](tb, fmt.Sprintf(`document.querySelector('#library-list li[data-id=%q]').innerText`, id))
	}
	for _, w := range []string{"Lee Sedol", "Gu Li", "2026-11-21", "W+3.5", "Done", "120 moves", "19×19"} {
		if !strings.Contains(entry(ids[1]), w) {
			t.Errorf("the entry of %s reads %q, without %q", ids[1], entry(ids[1]), w)
		}
	}
	// The running review shows its progress, and the page follows it.
	tb.waitFor("the live review's progress", fmt.Sprintf(
		`(() => { const li = document.querySelector('#library-list li[data-id=%q]'); return !!li.querySelector('.lib-bar') && /Analyzing|Queued/.test(li.innerText); })()`, live))
	first := eval[string](tb, fmt.Sprintf(`document.querySelector('#library-list li[data-id=%q] .lib-pct').textContent`, live))
	tb.waitFor("the progress to move", fmt.Sprintf(
		`document.querySelector('#library-list li[data-id=%q] .lib-pct').textContent !== %q`, live, first))
	tb.shot("home-library")

	// The filter keeps the reviews of a player.
	tb.do(chromedp.SendKeys(chromedp.ID("library-filter"), "lee sedol"))
	tb.waitFor("the filtered list", fmt.Sprintf(
		`[...document.querySelectorAll('#library-list li')].map(li => li.dataset.id).join(' ') === %q`, ids[2]+" "+ids[1]))
	tb.do(chromedp.Evaluate[chromedp.Void](`(() => { const e = document.querySelector('#library-filter'); e.value = ''; e.dispatchEvent(new Event('input', {bubbles: true})); })()`))
	tb.waitFor("the whole list again", `document.querySelectorAll('#library-list li').length === 4`)

	// Delete asks once more, then the review is gone from the page and the server.
	tb.do(chromedp.Click(chromedp.CSS(fmt.Sprintf(`li[data-id=%q] .lib-delete`, ids[0]))))
	tb.do(chromedp.Click(chromedp.CSS(fmt.Sprintf(`li[data-id=%q] .lib-confirm`, ids[0]))))
	tb.waitFor("the deleted review to leave the list", fmt.Sprintf(`!document.querySelector('#library-list li[data-id=%q]')`, ids[0]))
	res, err := http.Get(s.url + "/api/v1/analyses/" + ids[0])
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("the deleted review answers %s, want 404", res.Status)
	}

	// Stop asks once more, then the running review is cancelled and kept.
	tb.do(chromedp.Click(chromedp.CSS(fmt.Sprintf(`li[data-id=%q] .lib-delete`, live))))
	tb.do(chromedp.Click(chromedp.CSS(fmt.Sprintf(`li[data-id=%q] .lib-confirm`, live))))
	tb.waitFor("the stopped review", fmt.Sprintf(`document.querySelector('li[data-id=%q] .lib-badge').textContent === 'Cancelled'`, live))
	var a analysis
	getJSON(t, s.url+"/api/v1/analyses/"+live, &a)
	if a.Status != "cancelled" {
		t.Errorf("the stopped review is %s, want cancelled", a.Status)
	}

	// Open goes to the review, and back returns to the library.
	tb.do(chromedp.Click(chromedp.CSS(fmt.Sprintf(`li[data-id=%q] .lib-open`, ids[1]))))
	tb.waitFor("the review", fmt.Sprintf(`location.pathname === '/review/%s' && !!document.querySelector('#goban')`, ids[1]))
	tb.do(chromedp.NavigateBack())
	tb.waitFor("the library again", `document.querySelectorAll('#library-list li').length === 3`)

	// A name leads to the player's page.
	tb.do(chromedp.Click(chromedp.CSS(fmt.Sprintf(`li[data-id=%q] .player-link`, ids[1]))))
	tb.waitFor("the player page", `location.pathname === '/player/Lee%20Sedol' && document.querySelector('#player-name').textContent === 'Lee Sedol'`)

	// On a phone the library fits the screen's width.
	tb.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	tb.do(chromedp.Navigate(s.url + "/"))
	tb.waitFor("the library on a phone", `document.querySelectorAll('#library-list li').length === 3`)
	if w := eval[int](tb, `document.documentElement.scrollWidth`); w > 390 {
		t.Errorf("the home page is %d pixels wide on a 390 pixel screen", w)
	}
	tb.do(chromedp.Evaluate[chromedp.Void](`document.querySelector('#library').scrollIntoView()`))
	tb.viewport = true
	tb.shot("home-library-phone")
}

// TestLibraryStopKeepsFinished: Stop on a review the list still shows running, which has
// finished since the list was read, keeps the review and shows it done.
func TestLibraryStopKeepsFinished(t *testing.T) {
	t.Parallel()
	s := startSite(t, api.Config{}, 0, "TESUJI_FAKE_SPEED=500")
	id := reviewDone(t, s, reviewGame(t, "Ke Jie", "Park Junghwan", "2026-11-23", "B+1.5"))[0]
	tb := newTab(t, 1280, 1000)
	// Until the page sends its Stop, every list it reads shows the review half done, as a
	// list read just before the review finished does.
	stale := fmt.Sprintf(`(() => {
		const real = window.fetch;
		let stopped = false;
		window.fetch = async (input, init) => {
			const method = (init && init.method) || 'GET';
			if (method === 'DELETE') stopped = true;
			const res = await real(input, init);
			if (stopped || method !== 'GET' || new URL(String(input), location.href).pathname !== '/api/v1/analyses') return res;
			const list = await res.json();
			for (const a of list.analyses) {
				if (a.id === %q) Object.assign(a, {status: 'running', progress: {...a.progress, done: 60, percent: 50}});
			}
			return new Response(JSON.stringify(list), {status: res.status, headers: res.headers});
		};
	})()`, id)
	ctx, cancel := context.WithTimeout(tb.ctx, waitLimit)
	defer cancel()
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: stale}); err != nil {
		t.Fatal(err)
	}
	tb.do(chromedp.Navigate(s.url + "/"))
	entry := fmt.Sprintf(`#library-list li[data-id=%q]`, id)
	tb.waitFor("the review shown running", fmt.Sprintf(`document.querySelector('%s .lib-delete')?.textContent === 'Stop'`, entry))
	tb.do(chromedp.Click(chromedp.CSS(entry + " .lib-delete")))
	tb.waitFor("the confirmation", fmt.Sprintf(`document.querySelector('%s .lib-confirm')?.textContent === 'Stop it'`, entry))
	tb.do(chromedp.Click(chromedp.CSS(entry + " .lib-confirm")))
	tb.waitFor("the entry after Stop", fmt.Sprintf(`['Done', 'Cancelled'].includes(document.querySelector('%s .lib-badge')?.textContent)`, entry))
	if got := tb.text(entry + " .lib-badge"); got != "Done" {
		t.Errorf("after Stop the finished review reads %q, want Done", got)
	}
	res, err := http.Get(s.url + "/api/v1/analyses/" + id)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("after Stop the finished review answers %s, want 200: Stop deleted it", res.Status)
	}
	if msg := tb.text("#library .error"); msg != "" {
		t.Errorf("the library shows the error %q", msg)
	}
}

// TestLibraryRidesOutARestart: the library keeps its list through a server restart and
// follows its live review again once the server is back.
func TestLibraryRidesOutARestart(t *testing.T) {
	t.Parallel()
	// No engine: the review stays queued across the restart until the test cancels it.
	s := startSite(t, api.Config{}, -1)
	id := submitFile(t, s, "review.sgf", 20)
	tb := newTab(t, 1280, 900)
	tb.do(chromedp.Navigate(s.url + "/"))
	entry := fmt.Sprintf(`document.querySelector('#library-list li[data-id="%s"]')`, id)
	tb.waitFor("the queued review in the library", entry+`?.classList.contains('s-queued')`)

	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	tb.waitFor("the library to notice", `!!document.querySelector('#library .error')`)
	if !eval[bool](tb, entry+`?.classList.contains('s-queued')`) {
		t.Error("with the server down the library no longer shows the queued review")
	}
	s.start(t)
	tb.waitFor("the server again", `!document.querySelector('#library .error')`)
	cancelReview(t, s, id)
	tb.waitFor("the review cancelled after the restart", entry+`?.classList.contains('s-cancelled')`)
}

// cancelReview stops review id through the site's API, as a client that only means to
// stop it does.
func cancelReview(t *testing.T, s *site, id string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodDelete, s.url+"/api/v1/analyses/"+id+"?cancel=true", nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNoContent && res.StatusCode != http.StatusOK {
		t.Fatalf("cancel %s: %s", id, res.Status)
	}
}

// TestPlayerPage: a player's page over three reviewed games, one under another spelling
// merged on the page: the games, accuracy per game and over time, the phases, and the worst
// moves, each a link into its review at the move.
func TestPlayerPage(t *testing.T) {
	t.Parallel()
	s := startSite(t, api.Config{}, 0)
	ids := reviewDone(t, s,
		reviewGame(t, "Lee Sedol", "Gu Li", "2026-10-02", "B+R"),
		reviewGame(t, "Ke Jie", "lee sedol", "2026-10-19", "W+0.5"),
		reviewGame(t, "Lee Sedol 9p", "Shin Jinseo", "2026-11-05", "B+12.5"))

	tb := newTab(t, 1280, 1100)
	tb.do(chromedp.Navigate(s.url + "/player/" + url.PathEscape("Lee Sedol")))
	tb.waitFor("the player's games", `document.querySelectorAll('#player-games tbody tr').length === 2`)

	// Merging the other spelling keeps it in the address, and a reload keeps it.
	tb.waitFor("the suggested spelling", `[...document.querySelectorAll('.suggestion')].some(b => b.textContent === 'Lee Sedol 9p')`)
	tb.do(chromedp.Evaluate[chromedp.Void](`[...document.querySelectorAll('.suggestion')].find(b => b.textContent === 'Lee Sedol 9p').click()`))
	tb.waitFor("three games", `document.querySelectorAll('#player-games tbody tr').length === 3`)
	if got := eval[string](tb, `location.search`); got != "?names=Lee+Sedol+9p" {
		t.Errorf("the address keeps the spellings as %q", got)
	}
	tb.do(chromedp.Reload())
	tb.waitFor("three games after a reload", `document.querySelectorAll('#player-games tbody tr').length === 3`)

	// The page shows what the API computes.
	var rep struct {
		Games []struct {
			ID       string  `json:"id"`
			Accuracy float64 `json:"accuracy"`
		} `json:"games"`
		Totals struct {
			Accuracy float64 `json:"accuracy"`
		} `json:"totals"`
		WorstMoves []struct {
			Review string `json:"review"`
		} `json:"worstMoves"`
	}
	getJSON(t, s.url+"/api/v1/players/"+url.PathEscape("Lee Sedol")+"?names="+url.QueryEscape("Lee Sedol 9p"), &rep)
	rows := eval[[][]string](tb, `[...document.querySelectorAll('#player-games tbody tr')].map(tr => [tr.dataset.id, tr.querySelector('.acc').textContent])`)
	for i, g := range rep.Games {
		if want := []string{g.ID, fmt.Sprintf("%.1f", g.Accuracy)}; strings.Join(rows[i], " ") != strings.Join(want, " ") {
			t.Errorf("game row %d shows %v, want %v", i, rows[i], want)
		}
	}
	if want := []string{ids[2], ids[1], ids[0]}; rep.Games[0].ID != want[0] || rep.Games[2].ID != want[2] {
		t.Errorf("games in the order %+v, want newest first %v", rep.Games, want)
	}
	if got, want := tb.text("#accuracy-total"), fmt.Sprintf("%.1f", rep.Totals.Accuracy); got != want {
		t.Errorf("total accuracy shows %q, want %q", got, want)
	}
	if n := eval[int](tb, `document.querySelectorAll('#trend circle').length`); n != 3 {
		t.Errorf("the trend has %d points, want 3", n)
	}
	if n := eval[int](tb, `document.querySelectorAll('#phases thead th').length`); n != 4 {
		t.Errorf("%d columns of phases, want a label and opening, middle game and endgame", n)
	}
	links := eval[[]string](tb, `[...document.querySelectorAll('#worst-moves a')].map(a => a.getAttribute('href'))`)
	if len(links) == 0 || len(links) != len(rep.WorstMoves) {
		t.Fatalf("%d worst moves shown, the API has %d", len(links), len(rep.WorstMoves))
	}
	for i, w := range rep.WorstMoves {
		if links[i] != w.Review {
			t.Errorf("worst move %d links %q, want %q", i, links[i], w.Review)
		}
	}
	tb.shot("player")
	tb.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	tb.waitFor("the phone layout", `matchMedia('(max-width: 400px)').matches || document.documentElement.scrollWidth > 390`)
	if w := eval[int](tb, `document.documentElement.scrollWidth`); w > 390 {
		t.Errorf("the player page is %d pixels wide on a 390 pixel screen", w)
	}
	tb.shot("player-phone")
	tb.do(chromedp.EmulateViewport(1280, 1100))
	tb.waitFor("the wide layout", `innerWidth === 1280`)

	// The worst move opens its review at that move.
	turn := links[0][strings.Index(links[0], "#")+1:]
	tb.do(chromedp.Click(chromedp.CSS(`#worst-moves a`)))
	tb.waitFor("the review at the worst move", fmt.Sprintf(
		`location.pathname + location.hash === %q && (document.querySelector('#counter')?.textContent || '').startsWith('%s /')`, links[0], turn))
}
