package api_test

import (
	"fmt"
	"math"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/tesuji/tesuji/engine/enginetest"
	"github.com/tesuji/tesuji/game"
)

// game9 is a 9x9 record of 4 moves with the given header properties.
func game9(header string) string {
	return `(;GM[1]FF[4]CA[UTF-8]SZ[9]KM[7]RU[Chinese]` + header + `;B[ee];W[cc];B[gg];W[gc])`
}

// entry is an analysis of GET /api/v1/analyses.
type entry struct {
	ID         string    `json:"id"`
	Status     string    `json:"status"`
	Black      string    `json:"black"`
	White      string    `json:"white"`
	BlackRank  string    `json:"blackRank"`
	WhiteRank  string    `json:"whiteRank"`
	Date       string    `json:"date"`
	Result     string    `json:"result"`
	BoardXSize int       `json:"boardXSize"`
	BoardYSize int       `json:"boardYSize"`
	Moves      int       `json:"moves"`
	CreatedAt  time.Time `json:"createdAt"`
	Progress   progress
	Links      map[string]string `json:"links"`
}

// progress is a review's progress as the API shows it.
type progress struct{ Done, Total, DeepDone, DeepTotal, Percent int }

type page struct {
	Analyses []entry `json:"analyses"`
	Next     string  `json:"next"`
}

func (e *env) library(t *testing.T, token, query string) page {
	t.Helper()
	r := e.do(t, http.MethodGet, "/api/v1/analyses?"+query, token, nil)
	if r.status != http.StatusOK {
		t.Fatalf("list %q: %d %s", query, r.status, r.body)
	}
	var p page
	r.decode(t, &p)
	return p
}

func ids(p page) []string {
	out := []string{}
	for _, a := range p.Analyses {
		out = append(out, a.ID)
	}
	return out
}

// reviewed submits each record as token and waits until its review is done.
func (e *env) reviewed(t *testing.T, token string, sgfs ...string) []string {
	t.Helper()
	var out []string
	for _, s := range sgfs {
		id := e.submit(t, token, s, map[string]string{"maxVisits": "10"})
		if evs := e.follow(t, token, id); evs[len(evs)-1].typ != "done" {
			t.Fatalf("review %s ended %s", id, evs[len(evs)-1].typ)
		}
		out = append(out, id)
	}
	return out
}

// TestLibraryList: the owner's reviews newest first with what the library shows of each,
// the filters, the pages, and nothing of another token's or of single positions.
func TestLibraryList(t *testing.T) {
	t.Parallel()
	e := startEnv(t, envOptions{})
	alice, bob := e.token(t, "alice"), e.token(t, "bob")
	a := e.reviewed(t, alice,
		game9(`PB[Lee Sedol]PW[Gu Li]BR[9p]WR[9p]DT[2026-11-21]RE[B+R]`),
		game9(`PB[Ke Jie]PW[lee sedol]DT[2026-11-22]`),
		game9(`PB[Shin Jinseo]PW[Park Junghwan]`))
	b := e.reviewed(t, bob, game9(`PB[Lee Sedol]PW[Bob]`))
	if r := e.do(t, http.MethodPost, "/api/v1/positions", alice, position(nil)); r.status != http.StatusOK && r.status != http.StatusAccepted {
		t.Fatalf("position: %d %s", r.status, r.body)
	}

	all := e.library(t, alice, "")
	if diff := cmp.Diff([]string{a[2], a[1], a[0]}, ids(all)); diff != "" {
		t.Fatalf("alice's library (-want +got):\n%s", diff)
	}
	if all.Next != "" {
		t.Errorf("one page has a next cursor %q", all.Next)
	}
	first := all.Analyses[2]
	want := entry{ID: a[0], Status: "done", Black: "Lee Sedol", White: "Gu Li", BlackRank: "9p", WhiteRank: "9p",
		Date: "2026-11-21", Result: "B+R", BoardXSize: 9, BoardYSize: 9, Moves: 4,
		Links: map[string]string{"self": "/api/v1/analyses/" + a[0], "events": "/api/v1/analyses/" + a[0] + "/events",
			"sgf": "/api/v1/analyses/" + a[0] + "/sgf", "review": "/review/" + a[0]}}
	want.Progress = progress{Done: 5, Total: 5, Percent: 100}
	if diff := cmp.Diff(want, first, cmpopts.IgnoreFields(entry{}, "CreatedAt")); diff != "" {
		t.Errorf("the first review (-want +got):\n%s", diff)
	}
	day := first.CreatedAt.UTC().Format(time.DateOnly)
	next := first.CreatedAt.UTC().AddDate(0, 0, 1).Format(time.DateOnly)

	for _, c := range []struct {
		query string
		want  []string
	}{
		{"player=LEE", []string{a[1], a[0]}},
		{"player=" + url.QueryEscape("gu l"), []string{a[0]}},
		{"player=bob", []string{}},
		{"status=done", []string{a[2], a[1], a[0]}},
		{"status=queued,running", []string{}},
		{"status=failed&status=done", []string{a[2], a[1], a[0]}},
		{"until=" + day, []string{a[2], a[1], a[0]}},
		{"since=" + next, []string{}},
		{"since=" + day + "&player=shin", []string{a[2]}},
		{"until=" + url.QueryEscape(first.CreatedAt.Format(time.RFC3339Nano)), []string{}},
	} {
		t.Run(c.query, func(t *testing.T) {
			if diff := cmp.Diff(c.want, ids(e.library(t, alice, c.query))); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}

	p1 := e.library(t, alice, "limit=2")
	if diff := cmp.Diff([]string{a[2], a[1]}, ids(p1)); diff != "" || p1.Next == "" {
		t.Fatalf("page 1 (next %q) (-want +got):\n%s", p1.Next, diff)
	}
	p2 := e.library(t, alice, "limit=2&cursor="+url.QueryEscape(p1.Next))
	if diff := cmp.Diff([]string{a[0]}, ids(p2)); diff != "" || p2.Next != "" {
		t.Errorf("page 2 (next %q) (-want +got):\n%s", p2.Next, diff)
	}

	if diff := cmp.Diff(b, ids(e.library(t, bob, "player=lee"))); diff != "" {
		t.Errorf("bob's library (-want +got):\n%s", diff)
	}

	for q, code := range map[string]string{
		"status=finished": "invalid_status",
		"limit=0":         "invalid_limit",
		"limit=501":       "invalid_limit",
		"since=yesterday": "invalid_time",
		"cursor=nonsense": "invalid_cursor",
	} {
		wantError(t, e.do(t, http.MethodGet, "/api/v1/analyses?"+q, alice, nil), http.StatusBadRequest, code)
	}
	wantError(t, e.do(t, http.MethodGet, "/api/v1/analyses", "", nil), http.StatusUnauthorized, "unauthorized")

	got := e.do(t, http.MethodGet, "/api/v1/analyses/"+a[0], alice, nil)
	var res struct{ Links map[string]string }
	got.decode(t, &res)
	if res.Links["review"] != "/review/"+a[0] {
		t.Errorf("GET analysis links %v, want review /review/%s", res.Links, a[0])
	}
}

// TestLibraryDelete: DELETE removes a finished review with its data, cancels a live one
// (which a second DELETE then removes), keeps a finished one with cancel=true, refuses a
// cancel flag that is not a boolean, and never touches another token's.
func TestLibraryDelete(t *testing.T) {
	t.Parallel()
	e := startEnv(t, envOptions{fakeEnv: []string{enginetest.EnvVisitsPerSec + "=1000"}})
	alice, bob := e.token(t, "alice"), e.token(t, "bob")
	done := e.reviewed(t, alice, game9(`PB[A]PW[B]`), game9(`PB[C]PW[D]`))

	wantError(t, e.do(t, http.MethodDelete, "/api/v1/analyses/"+done[0], bob, nil), http.StatusNotFound, "not_found")
	// A client that only means to stop a review keeps one that has finished.
	wantError(t, e.do(t, http.MethodDelete, "/api/v1/analyses/"+done[0]+"?cancel=true", alice, nil), http.StatusConflict, "already_finished")
	// A cancel flag that is not a boolean is refused, not read as false (a delete).
	wantError(t, e.do(t, http.MethodDelete, "/api/v1/analyses/"+done[0]+"?cancel=yes", alice, nil), http.StatusBadRequest, "invalid_request")
	if r := e.do(t, http.MethodGet, "/api/v1/analyses/"+done[0], alice, nil); r.status != http.StatusOK {
		t.Fatalf("a finished review after cancel=true and cancel=yes: %d %s", r.status, r.body)
	}
	if r := e.do(t, http.MethodDelete, "/api/v1/analyses/"+done[0], alice, nil); r.status != http.StatusNoContent {
		t.Fatalf("delete a done review: %d %s", r.status, r.body)
	}
	for _, p := range []string{"", "/sgf", "/events"} {
		wantError(t, e.do(t, http.MethodGet, "/api/v1/analyses/"+done[0]+p, alice, nil), http.StatusNotFound, "not_found")
	}
	wantError(t, e.do(t, http.MethodDelete, "/api/v1/analyses/"+done[0], alice, nil), http.StatusNotFound, "not_found")
	if diff := cmp.Diff([]string{done[1]}, ids(e.library(t, alice, ""))); diff != "" {
		t.Errorf("the library after the delete (-want +got):\n%s", diff)
	}

	// 2000 visits at 1000 a second: the review runs for seconds, long enough to be live
	// whatever the machine's speed, as the cancel below never waits for it.
	live := e.submit(t, alice, game9(`PB[E]PW[F]`), map[string]string{"maxVisits": "2000"})
	l := e.library(t, alice, "status=queued,running")
	if len(l.Analyses) != 1 || l.Analyses[0].ID != live || l.Analyses[0].Progress.Total != 5 || l.Analyses[0].Progress.Done > 5 {
		t.Errorf("the live review in the library: %+v", l.Analyses)
	}
	wantError(t, e.do(t, http.MethodDelete, "/api/v1/analyses/"+live, bob, nil), http.StatusNotFound, "not_found")
	r := e.do(t, http.MethodDelete, "/api/v1/analyses/"+live, alice, nil)
	var c struct{ ID, Status string }
	r.decode(t, &c)
	if r.status != http.StatusOK || c.Status != "cancelled" {
		t.Fatalf("delete a live review: %d %s, want 200 cancelled", r.status, r.body)
	}
	if r := e.do(t, http.MethodGet, "/api/v1/analyses/"+live, alice, nil); r.status != http.StatusOK {
		t.Errorf("a cancelled review is kept until deleted: %d %s", r.status, r.body)
	}
	if r := e.do(t, http.MethodDelete, "/api/v1/analyses/"+live, alice, nil); r.status != http.StatusNoContent {
		t.Fatalf("delete the cancelled review: %d %s", r.status, r.body)
	}
	if diff := cmp.Diff([]string{done[1]}, ids(e.library(t, alice, ""))); diff != "" {
		t.Errorf("the library at the end (-want +got):\n%s", diff)
	}
}

// TestDownloadNamedAfterGame: the annotated SGF is an attachment named after the players
// and the date, readable back by a standard parser whatever the names hold.
func TestDownloadNamedAfterGame(t *testing.T) {
	t.Parallel()
	e := startEnv(t, envOptions{noTokens: true})
	for _, c := range []struct{ header, want string }{
		{`PB[Lee Sedol]PW[Gu Li]DT[2026-11-21]`, "Lee_Sedol-vs-Gu_Li-2026-11-21.sgf"},
		{`PB[李世乭]PW[古力]DT[2026-11-21,22]`, "李世乭-vs-古力-2026-11-21.sgf"},
		{`PB[../../etc/passwd]PW[a"b\\c]`, "etcpasswd-vs-abc.sgf"},
		{``, "Black-vs-White.sgf"},
	} {
		t.Run(c.want, func(t *testing.T) {
			id := e.reviewed(t, "", game9(c.header))[0]
			r := e.do(t, http.MethodGet, "/api/v1/analyses/"+id+"/sgf", "", nil)
			if r.status != http.StatusOK {
				t.Fatalf("download: %d %s", r.status, r.body)
			}
			typ, params, err := mime.ParseMediaType(r.header.Get("Content-Disposition"))
			if err != nil || typ != "attachment" || params["filename"] != c.want {
				t.Errorf("Content-Disposition %q: %s %v (%v), want attachment named %q",
					r.header.Get("Content-Disposition"), typ, params, err, c.want)
			}
		})
	}
}

// TestPlayerReport: a player's done reviews under every spelling asked for, with figures
// that match the games' own analysis, the worst moves linked into the reviews, nothing of
// another token's, and a pair's names joined by a slash read as one name.
func TestPlayerReport(t *testing.T) {
	t.Parallel()
	e := startEnv(t, envOptions{})
	alice, bob := e.token(t, "alice"), e.token(t, "bob")
	a := e.reviewed(t, alice,
		game9(`PB[Lee Sedol]PW[Gu Li]DT[2026-11-21]`),
		game9(`PB[Ke Jie]PW[lee sedol]DT[2026-11-22]`),
		game9(`PB[Lee Sedol 9p]PW[Shin Jinseo]DT[2026-11-20]`),
		game9(`PB[Lee Sedolx]PW[Shin Jinseo]DT[2026-11-20]`),
		game9(`PB[Cho U/Iyama Yuta]PW[Kim Jiseok/Choi Jeong]DT[2026-11-23]`))
	e.reviewed(t, bob, game9(`PB[Lee Sedol]PW[Bob]`))

	type report struct {
		Names []string `json:"names"`
		Games []struct {
			ID, Date, Color, Name, Opponent string
			game.Figures
			Phases []struct {
				Phase string `json:"phase"`
				game.Figures
			} `json:"phases"`
		} `json:"games"`
		Totals struct {
			Games int `json:"games"`
			game.Figures
		} `json:"totals"`
		WorstMoves []struct {
			ID        string  `json:"id"`
			Turn      int     `json:"turn"`
			PointLoss float64 `json:"pointLoss"`
			Review    string  `json:"review"`
		} `json:"worstMoves"`
	}
	get := func(t *testing.T, token, path string) report {
		t.Helper()
		r := e.do(t, http.MethodGet, path, token, nil)
		if r.status != http.StatusOK {
			t.Fatalf("%s: %d %s", path, r.status, r.body)
		}
		var rep report
		r.decode(t, &rep)
		return rep
	}

	rep := get(t, alice, "/api/v1/players/"+url.PathEscape("LEE SEDOL")+"?names="+url.QueryEscape("Lee Sedol 9p"))
	if diff := cmp.Diff([]string{"LEE SEDOL", "Lee Sedol 9p"}, rep.Names); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
	type gameKey struct{ ID, Date, Color, Name, Opponent string }
	var got []gameKey
	for _, g := range rep.Games {
		got = append(got, gameKey{g.ID, g.Date, g.Color, g.Name, g.Opponent})
	}
	want := []gameKey{
		{a[1], "2026-11-22", "W", "lee sedol", "Ke Jie"},
		{a[0], "2026-11-21", "B", "Lee Sedol", "Gu Li"},
		{a[2], "2026-11-20", "B", "Lee Sedol 9p", "Shin Jinseo"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("games (-want +got):\n%s", diff)
	}

	// Each game's figures are those of the player's moves in the analysis the API serves.
	var total game.Tally
	var losses []float64
	for _, g := range rep.Games {
		r := e.do(t, http.MethodGet, "/api/v1/analyses/"+g.ID, alice, nil)
		var an struct {
			Turns []game.Turn `json:"turns"`
		}
		r.decode(t, &an)
		rec, err := game.ParseSGF([]byte(game9("")), game.ParseOptions{})
		if err != nil {
			t.Fatal(err)
		}
		color := game.Black
		if g.Color == "W" {
			color = game.White
		}
		var tally game.Tally
		for _, m := range game.PlayerMoves(rec.Game, an.Turns, color) {
			tally.Add(m)
			total.Add(m)
			losses = append(losses, m.PointLoss)
		}
		f := tally.Figures()
		if diff := cmp.Diff(f, g.Figures,
			cmpopts.EquateApprox(0, 1e-9)); diff != "" {
			t.Errorf("game %s figures (-want +got):\n%s", g.ID, diff)
		}
		if g.Moves != 2 {
			t.Errorf("game %s counts %d moves of the player, want 2", g.ID, g.Moves)
		}
		if len(g.Phases) != 3 || g.Phases[0].Phase != "opening" || g.Phases[0].Moves != 2 {
			t.Errorf("game %s phases %+v, want all 2 moves in the opening of 9x9", g.ID, g.Phases)
		}
	}
	f := total.Figures()
	if rep.Totals.Games != 3 || rep.Totals.Moves != 6 || math.Abs(rep.Totals.Accuracy-f.Accuracy) > 1e-9 {
		t.Errorf("totals %+v, want 3 games, 6 moves, accuracy %v", rep.Totals, f.Accuracy)
	}

	slices.Sort(losses)
	slices.Reverse(losses)
	if len(rep.WorstMoves) != 6 {
		t.Fatalf("%d worst moves, want all 6", len(rep.WorstMoves))
	}
	for i, w := range rep.WorstMoves {
		if w.PointLoss != losses[i] {
			t.Errorf("worst move %d loses %v, want %v", i, w.PointLoss, losses[i])
		}
		if w.Review != fmt.Sprintf("/review/%s#%d", w.ID, w.Turn) || !slices.Contains(a[:3], w.ID) {
			t.Errorf("worst move %d: link %q of %s turn %d", i, w.Review, w.ID, w.Turn)
		}
	}

	one := get(t, alice, "/api/v1/players/"+url.PathEscape("Lee Sedol"))
	if len(one.Games) != 2 {
		t.Errorf("one spelling: %d games, want 2", len(one.Games))
	}
	theirs := get(t, bob, "/api/v1/players/"+url.PathEscape("Lee Sedol")+"?names=lee+sedol+9p")
	if len(theirs.Games) != 1 || theirs.Games[0].Opponent != "Bob" {
		t.Errorf("bob's report has %+v, want his one game", theirs.Games)
	}
	// A pair's names joined by a slash are one name, its slash escaped in the path.
	if pair := get(t, alice, "/api/v1/players/"+url.PathEscape("Cho U/Iyama Yuta")); len(pair.Games) != 1 || pair.Games[0].ID != a[4] || pair.Names[0] != "Cho U/Iyama Yuta" {
		t.Errorf("the pair's report has %v with %+v, want their one game %s", pair.Names, pair.Games, a[4])
	}
	if none := get(t, alice, "/api/v1/players/Nobody"); len(none.Games) != 0 || none.Totals.Accuracy != 0 || len(none.WorstMoves) != 0 {
		t.Errorf("a player without games: %+v", none)
	}
}
