package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tesuji/tesuji/game"
)

// game30 is a 30-move game, enough turns for an adaptive review to deepen some.
const game30 = `(;GM[1]FF[4]SZ[19]KM[7.5]RU[Chinese];B[pd];W[dp];B[pq];W[dd];B[fq];W[cn];B[jp];W[qo];B[qm];W[pm]` +
	`;B[pl];W[om];B[ql];W[mq];B[op];W[oq];B[nq];W[np];B[pp];W[mp];B[lq];W[lp];B[kq];W[kp];B[jq];W[ip];B[iq];W[ho];B[qc];W[qd])`

func TestAdaptiveAnalysis(t *testing.T) {
	t.Parallel()
	e := startEnv(t, envOptions{noTokens: true})
	tests := []struct {
		name   string
		submit func(t *testing.T) reply
	}{
		{"multipart", func(t *testing.T) reply {
			return e.upload(t, "", game30, map[string]string{"adaptive": "true", "maxVisits": "64"})
		}},
		{"json", func(t *testing.T) reply {
			return e.do(t, "POST", "/api/v1/analyses", "", map[string]any{"sgf": game30, "maxVisits": 64, "adaptive": true})
		}},
		{"sgf body", func(t *testing.T) reply {
			return e.do(t, "POST", "/api/v1/analyses?maxVisits=64&adaptive=true", "", game30)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := tt.submit(t)
			if r.status != http.StatusAccepted {
				t.Fatalf("submit: %d %s", r.status, r.body)
			}
			var c struct{ ID string }
			r.decode(t, &c)

			// Every turn streams; the deepened ones a second time, with more visits.
			events := map[int][]int{} // turn -> visits of each of its events
			for _, ev := range e.follow(t, "", c.ID) {
				if ev.typ != "turn" {
					continue
				}
				var turn game.Turn
				if err := json.Unmarshal([]byte(ev.data), &turn); err != nil {
					t.Fatal(err)
				}
				events[turn.Turn] = append(events[turn.Turn], turn.Visits)
			}
			deepened := 0
			for n := 0; n <= 30; n++ {
				switch v := events[n]; {
				case len(v) == 1 && v[0] == 19:
				case len(v) == 2 && v[0] == 19 && v[1] == 64:
					deepened++
				default:
					t.Errorf("turn %d streamed with visits %v, want [19] or [19 64]", n, v)
				}
			}
			if deepened == 0 {
				t.Error("no turn was deepened")
			}

			var a struct {
				Adaptive    bool
				MaxVisits   int
				VisitsSpent int
				Turns       []game.Turn
				Progress    progress
			}
			e.do(t, "GET", "/api/v1/analyses/"+c.ID, "", nil).decode(t, &a)
			if want := (progress{Done: 31, Total: 31, DeepDone: deepened, DeepTotal: 3, Percent: 100}); a.Progress != want {
				t.Errorf("progress %+v, want %+v", a.Progress, want)
			}
			if !a.Adaptive || a.MaxVisits != 64 || len(a.Turns) != 31 {
				t.Errorf("analysis: adaptive %v maxVisits %d turns %d, want true, 64, 31", a.Adaptive, a.MaxVisits, len(a.Turns))
			}
			if want := 31*19 + deepened*64; a.VisitsSpent != want {
				t.Errorf("visitsSpent %d, want %d (31 turns at 19 visits, %d again at 64)", a.VisitsSpent, want, deepened)
			}
		})
	}
}

// TestAdaptiveProgress: the submission answers the depth the review runs at, and the
// review's progress, in the review and in the library, counts its deeper searches apart
// and weighs both passes by their visits: past the quick pass it is not yet done.
func TestAdaptiveProgress(t *testing.T) {
	t.Parallel()
	// The engine stops answering after the quick pass of 31 turns and two deeper searches,
	// and is not restarted while the test runs: the review stays where it is.
	e := startEnv(t, envOptions{noTokens: true, fakeEnv: []string{"TESUJI_FAKE_HANG_AFTER=33"}, turnTimeout: time.Hour})
	r := e.upload(t, "", game30, map[string]string{"adaptive": "true", "maxVisits": "64"})
	var c struct {
		ID        string
		Turns     int
		MaxVisits int
		Adaptive  bool
	}
	r.decode(t, &c)
	if c.Turns != 31 || c.MaxVisits != 64 || !c.Adaptive {
		t.Errorf("the submission answers %d turns, maxVisits %d, adaptive %v; want 31, 64, true", c.Turns, c.MaxVisits, c.Adaptive)
	}
	var a struct {
		Status   string
		Progress progress
	}
	waitFor(t, "two deeper searches", func() bool {
		e.do(t, http.MethodGet, "/api/v1/analyses/"+c.ID, "", nil).decode(t, &a)
		return a.Progress.DeepDone == 2
	})
	// 31 turns at 19 visits and at most 3 again at 64 plan 781 visits; 589 + 2 × 64 are spent.
	want := progress{Done: 31, Total: 31, DeepDone: 2, DeepTotal: 3, Percent: 91}
	if a.Status != "running" || a.Progress != want {
		t.Errorf("the review: %s, progress %+v; want running, %+v", a.Status, a.Progress, want)
	}
	l := e.library(t, "", "status=running")
	if len(l.Analyses) != 1 || l.Analyses[0].Progress != want {
		t.Errorf("the library: %+v; want the review with progress %+v", l.Analyses, want)
	}
}

// TestFlagsMustBeBooleans: adaptive and includeOwnership are refused alike, as a form
// field, in the query of an SGF body and for a batch, when they are not true or false.
func TestFlagsMustBeBooleans(t *testing.T) {
	t.Parallel()
	e := startEnv(t, envOptions{noTokens: true})
	for _, flag := range []string{"adaptive", "includeOwnership"} {
		for _, r := range []reply{
			e.upload(t, "", game3, map[string]string{flag: "perhaps"}),
			e.do(t, "POST", "/api/v1/analyses?"+flag+"=perhaps", "", game3),
			e.uploadFiles(t, "", [][2]string{{"a.sgf", game3}, {"b.sgf", game3}}, map[string]string{flag: "perhaps"}),
		} {
			if r.status != http.StatusBadRequest || r.errCode() != "invalid_request" || !strings.Contains(string(r.body), flag) {
				t.Errorf("%s=perhaps: %d %s, want 400 invalid_request naming %s", flag, r.status, r.body, flag)
			}
		}
	}
}

// TestIncludeOwnershipEveryWay: includeOwnership is honoured from a form, from JSON and
// from the query of an SGF body.
func TestIncludeOwnershipEveryWay(t *testing.T) {
	t.Parallel()
	e := startEnv(t, envOptions{noTokens: true})
	for name, r := range map[string]reply{
		"multipart": e.upload(t, "", game3, map[string]string{"includeOwnership": "true", "maxVisits": "5"}),
		"json":      e.do(t, "POST", "/api/v1/analyses", "", map[string]any{"sgf": game3, "includeOwnership": true, "maxVisits": 6}),
		"sgf body":  e.do(t, "POST", "/api/v1/analyses?includeOwnership=true&maxVisits=7", "", game3),
	} {
		if r.status != http.StatusAccepted {
			t.Fatalf("%s: %d %s", name, r.status, r.body)
		}
		var c struct{ ID string }
		r.decode(t, &c)
		e.follow(t, "", c.ID)
		var a struct{ Turns []game.Turn }
		e.do(t, http.MethodGet, "/api/v1/analyses/"+c.ID, "", nil).decode(t, &a)
		if len(a.Turns) != 4 {
			t.Fatalf("%s: %d turns, want 4", name, len(a.Turns))
		}
		for _, turn := range a.Turns {
			if len(turn.Ownership) != 9*9 {
				t.Errorf("%s: turn %d has %d ownership values, want %d", name, turn.Turn, len(turn.Ownership), 9*9)
			}
		}
	}
}

// TestAdaptiveBelowItsDepth: a review asked for as adaptive at fewer visits than an
// adaptive review needs is a uniform one, and says so: in the submission's answer, with a
// warning, and in the review.
func TestAdaptiveBelowItsDepth(t *testing.T) {
	t.Parallel()
	e := startEnv(t, envOptions{noTokens: true})
	r := e.do(t, "POST", "/api/v1/analyses", "", map[string]any{"sgf": game30, "maxVisits": 32, "adaptive": true})
	if r.status != http.StatusAccepted {
		t.Fatalf("submit: %d %s", r.status, r.body)
	}
	var c struct {
		ID       string
		Adaptive bool
		Warnings []string
	}
	r.decode(t, &c)
	if c.Adaptive || len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "maxVisits of 64 or more") {
		t.Errorf("the submission answers adaptive %v, warnings %q; want false and a warning naming maxVisits of 64", c.Adaptive, c.Warnings)
	}
	e.follow(t, "", c.ID)
	var a struct {
		Adaptive    bool
		VisitsSpent int
		Progress    progress
	}
	e.do(t, http.MethodGet, "/api/v1/analyses/"+c.ID, "", nil).decode(t, &a)
	if want := (progress{Done: 31, Total: 31, Percent: 100}); a.Adaptive || a.VisitsSpent != 31*32 || a.Progress != want {
		t.Errorf("the review: adaptive %v, visitsSpent %d, progress %+v; want false, %d, %+v", a.Adaptive, a.VisitsSpent, a.Progress, 31*32, want)
	}
}

// TestBatchAdaptive: every game of a batch asked for as adaptive is reviewed adaptively,
// from a multipart form and from a zip body.
func TestBatchAdaptive(t *testing.T) {
	t.Parallel()
	e := startEnv(t, envOptions{noTokens: true})
	files := [][2]string{{"a.sgf", game30}, {"b.sgf", strings.Replace(game30, "B[qc];W[qd]", "B[qd];W[qc]", 1)}}
	req, err := http.NewRequest(http.MethodPost, e.url+"/api/v1/analyses?maxVisits=64&adaptive=true", strings.NewReader(zipOf(t, files)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/zip")
	replies := map[string]reply{
		"multipart": e.uploadFiles(t, "", files, map[string]string{"adaptive": "true", "maxVisits": "64"}),
		"zip body":  e.send(t, req),
	}
	for name, r := range replies {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if r.status != http.StatusAccepted {
				t.Fatalf("submit: %d %s", r.status, r.body)
			}
			var got batchAnswer
			r.decode(t, &got)
			if got.Queued != 2 {
				t.Fatalf("queued %d games, want 2: %s", got.Queued, r.body)
			}
			for _, g := range got.Batch {
				e.follow(t, "", g.ID)
				var a struct {
					Adaptive    bool
					VisitsSpent int
				}
				e.do(t, "GET", "/api/v1/analyses/"+g.ID, "", nil).decode(t, &a)
				if !a.Adaptive || a.VisitsSpent >= 31*64 {
					t.Errorf("%s: adaptive %v, visitsSpent %d; want an adaptive review spending less than %d", g.Name, a.Adaptive, a.VisitsSpent, 31*64)
				}
			}
		})
	}
}
