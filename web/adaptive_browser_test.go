//go:build webui

package web_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	specs "github.com/tesuji/tesuji/analysis"
	"github.com/tesuji/tesuji/api"
	"github.com/tesuji/tesuji/game"
)

// adaptiveAnalysis is what the smart review's tests read back from the API.
type adaptiveAnalysis struct {
	analysis
	Adaptive    bool  `json:"adaptive"`
	MaxVisits   int   `json:"maxVisits"`
	VisitsSpent int64 `json:"visitsSpent"`
}

// deepened returns the turns searched again, and one that was not.
func (a adaptiveAnalysis) deepened() (deep []game.Turn, quick game.Turn) {
	for _, t := range a.Turns {
		if t.VisitsSpent > t.Visits {
			deep = append(deep, t)
		} else {
			quick = t
		}
	}
	return deep, quick
}

// submitDefault uploads review.sgf with the form's default depth and returns the review's id.
func submitDefault(t *testing.T, tb *tab, s *site) string {
	t.Helper()
	tb.do(chromedp.Navigate(s.url + "/"))
	tb.waitFor("the upload form", `!!document.querySelector('#submit')`)
	if got := eval[string](tb, `document.querySelector('input[name=preset]:checked').value`); got != "smart" {
		t.Errorf("the default depth is %q, want smart", got)
	}
	tb.do(chromedp.SetUploadFiles(chromedp.ID("file"), []string{testdata(t, "review.sgf")}))
	tb.waitFor("the chosen file", `document.querySelector('#file-name')?.textContent === 'review.sgf'`)
	tb.shot("01-upload")
	tb.do(chromedp.Click(chromedp.ID("submit")))
	tb.waitFor("the review page", `location.pathname.startsWith('/review/') && !!document.querySelector('#progress-text')`)
	return reviewID(t, tb)
}

// showTurn goes to turn n from the move list (or to the start) and checks what the page
// shows of it: its final search's visits, marked when it was searched again, and its
// candidates.
func showTurn(t *testing.T, tb *tab, turn game.Turn) {
	t.Helper()
	if turn.Turn == 0 {
		tb.do(chromedp.Click(chromedp.ID("nav-first")))
	} else {
		tb.do(chromedp.Click(chromedp.CSS(fmt.Sprintf(`#move-list li[data-move="%d"]`, turn.Turn))))
	}
	tb.waitFor(fmt.Sprintf("turn %d", turn.Turn), fmt.Sprintf(`document.querySelector('#counter').textContent.startsWith('%d / ')`, turn.Turn))
	want := fmt.Sprintf("· %d visits", turn.Visits)
	if turn.VisitsSpent > turn.Visits {
		want += " (searched deeply)"
	}
	if got := strings.TrimSpace(tb.text("#turn-visits")); got != want {
		t.Errorf("turn %d shows %q, want %q", turn.Turn, got, want)
	}
	checkCandidates(t, tb, turn, "winrate")
}

// TestSmartReview: the form's default depth is the smart (adaptive) review at 500 visits;
// the page says so, counts the visits spent as the API does, and shows a deepened turn's
// deeper search in place of its quick one, while the review runs and once it is complete.
func TestSmartReview(t *testing.T) {
	t.Parallel()
	const total = 121 // positions of review.sgf

	t.Run("live", func(t *testing.T) {
		t.Parallel()
		// The engine stops answering after the quick pass and four deeper searches, so
		// the review stays running with some turns deepened: what the page shows then
		// can only have come over the event stream.
		const deep = 4
		s := startSite(t, api.Config{}, 0, "TESUJI_FAKE_SPEED=40", fmt.Sprintf("TESUJI_FAKE_HANG_AFTER=%d", total+deep))
		tb := newTab(t, 1280, 900)
		id := submitDefault(t, tb, s)

		var a adaptiveAnalysis
		waitAPI(t, func() bool {
			getJSON(t, s.url+"/api/v1/analyses/"+id, &a)
			d, _ := a.deepened()
			return len(d) == deep
		})
		if a.Status != "running" || !a.Adaptive || a.MaxVisits != 500 || len(a.Turns) != total {
			t.Fatalf("the API reports %s, adaptive %v, maxVisits %d, %d turns; want running, true, 500, %d",
				a.Status, a.Adaptive, a.MaxVisits, len(a.Turns), total)
		}
		spent := fmt.Sprintf("%d", a.VisitsSpent)
		tb.waitFor("the visits spent", fmt.Sprintf(`document.querySelector('#visits-spent')?.textContent.replaceAll(',', '') === %q`, spent))
		if got := tb.text("#review-depth"); !strings.Contains(got, "smart review: 150 visits a move, 500 for the moves in doubt") {
			t.Errorf("the page describes the review as %q", got)
		}
		// Past the quick pass the review is not done: the deeper searches are a quarter of it.
		// 121 positions at 150 visits and 4 of 12 again at 500: 20,150 of 24,150 visits.
		const progress = "KataGo is reading: deeper on the moves in doubt, 4 of 12 positions (83%)"
		if got := tb.text("#progress-text"); got != progress {
			t.Errorf("progress %q while the deeper searches run, want %q", got, progress)
		}
		if got := eval[string](tb, `document.querySelector('#progress-fill').style.width`); got != "83%" {
			t.Errorf("the progress bar is %s wide, want 83%%", got)
		}
		var l struct {
			Analyses []struct {
				Progress struct{ Percent int }
			}
		}
		getJSON(t, s.url+"/api/v1/analyses", &l)
		if len(l.Analyses) != 1 || l.Analyses[0].Progress.Percent != 83 {
			t.Errorf("the library shows the review at %+v, want 83%%", l.Analyses)
		}
		d, quick := a.deepened()
		for _, turn := range d {
			showTurn(t, tb, turn)
		}
		showTurn(t, tb, quick)
		checkReview(t, tb, a.analysis)
		showTurn(t, tb, d[len(d)-1])
		tb.shot("02-live-deepened")
	})

	t.Run("quick pass", func(t *testing.T) {
		t.Parallel()
		// The engine stops answering halfway through the quick pass.
		s := startSite(t, api.Config{}, 0, "TESUJI_FAKE_SPEED=40", "TESUJI_FAKE_HANG_AFTER=60")
		tb := newTab(t, 1280, 900)
		submitDefault(t, tb, s)
		// 60 positions at 150 visits of the 24,150 visits planned.
		const progress = "KataGo is reading: a quick look at 60 of 121 positions (37%)"
		tb.waitFor("half the quick pass", fmt.Sprintf(`document.querySelector('#progress-text').textContent === %q`, progress))
		if got := eval[string](tb, `document.querySelector('#progress-fill').style.width`); got != "37%" {
			t.Errorf("the progress bar is %s wide, want 37%%", got)
		}
	})

	t.Run("complete", func(t *testing.T) {
		t.Parallel()
		s := startSite(t, api.Config{}, 0, "TESUJI_FAKE_SPEED=300")
		tb := newTab(t, 1280, 900)
		id := submitDefault(t, tb, s)
		tb.waitFor("the end of the review", `document.querySelector('#progress-text').textContent.startsWith('Review complete')`)
		tb.waitFor("the server's review", `document.querySelectorAll('#move-list li.pending').length === 0`)

		var a adaptiveAnalysis
		getJSON(t, s.url+"/api/v1/analyses/"+id, &a)
		if a.Status != "done" || !a.Adaptive || a.MaxVisits != 500 || len(a.Turns) != total {
			t.Fatalf("the API reports %s, adaptive %v, maxVisits %d, %d turns; want done, true, 500, %d",
				a.Status, a.Adaptive, a.MaxVisits, len(a.Turns), total)
		}
		d, quick := a.deepened()
		if budget := specs.DeepBudget(total, 500); len(d) == 0 || len(d) > budget {
			t.Fatalf("%d turns deepened, want 1 to %d", len(d), budget)
		}
		if plan := (&specs.Spec{MaxVisits: 500, Adaptive: true}).PlannedVisits(total); a.VisitsSpent > plan {
			t.Errorf("visitsSpent %d, more than the adaptive plan's %d", a.VisitsSpent, plan)
		}
		if got := strings.ReplaceAll(tb.text("#visits-spent"), ",", ""); got != fmt.Sprint(a.VisitsSpent) {
			t.Errorf("the page shows %s visits spent, the API %d", got, a.VisitsSpent)
		}
		checkReview(t, tb, a.analysis)
		showTurn(t, tb, quick)
		showTurn(t, tb, d[0])
		tb.shot("03-complete-deepened")
	})
}
