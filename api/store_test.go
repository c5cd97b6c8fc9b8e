package api_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/tesuji/tesuji/queue"
)

// TestStoreFullAnswers503: when the store cannot write (a full disk), a submission gets
// 503 with Retry-After and a message that says so, and the analyses accepted before are
// all there, results included.
func TestStoreFullAnswers503(t *testing.T) {
	t.Parallel()
	e := startEnv(t, envOptions{noTokens: true})
	id := e.submit(t, "", game20, map[string]string{"maxVisits": "10"})
	if evs := e.follow(t, "", id); evs[len(evs)-1].typ != "done" {
		t.Fatalf("the first analysis ended %s", evs[len(evs)-1].typ)
	}
	db := e.srv.Queue().(*queue.SQLite).DB()
	var pages int
	if err := db.QueryRow("PRAGMA page_count").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	// The store writes through this one connection: the file cannot grow, as on a full disk.
	if _, err := db.Exec("PRAGMA max_page_count = " + strconv.Itoa(pages)); err != nil {
		t.Fatal(err)
	}
	big := strings.Replace(game20, "PB[Black]", "PB[Black]GC["+strings.Repeat("x", 200_000)+"]", 1)
	r := e.upload(t, "", big, map[string]string{"maxVisits": "10"})
	if r.status != http.StatusServiceUnavailable || r.errCode() != "storage_unavailable" || r.header.Get("Retry-After") == "" {
		t.Fatalf("submission on a full store: %d %s (Retry-After %q), want 503 storage_unavailable", r.status, r.body, r.header.Get("Retry-After"))
	}
	got := e.do(t, http.MethodGet, "/api/v1/analyses/"+id, "", nil)
	var res struct {
		Status string `json:"status"`
		Turns  []any  `json:"turns"`
	}
	got.decode(t, &res)
	if got.status != http.StatusOK || res.Status != "done" || len(res.Turns) != 21 {
		t.Errorf("the analysis from before: %d, status %q with %d turns; want done with 21", got.status, res.Status, len(res.Turns))
	}
	if sgf := e.do(t, http.MethodGet, "/api/v1/analyses/"+id+"/sgf", "", nil); sgf.status != http.StatusOK {
		t.Errorf("its SGF: %d %s", sgf.status, sgf.body)
	}
}
