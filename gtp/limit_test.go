package gtp

import (
	"strings"
	"testing"

	"github.com/tesuji/tesuji/api"
)

// TestSearchAboveServerLimit: a genmove asking for more visits than the server allows is
// searched at the server's limit, which the bridge reads from GET /api/v1/info, as KataGo
// searches with the visits it was given.
func TestSearchAboveServerLimit(t *testing.T) {
	t.Parallel()
	srv := startServerWith(t, "127.0.0.1:0", api.Config{MaxVisits: 20})
	g := startBridge(t, Config{Server: "http://" + srv.Addr(), GenmoveVisits: 5000})
	got := g.do("genmove b")
	if !strings.HasPrefix(got, "= ") || len(got) < 3 {
		t.Fatalf("genmove answered %q, want a move", got)
	}
	if !strings.Contains(g.logs.String(), "max_visits=20") {
		t.Errorf("the bridge did not search at the server's limit:\n%s", g.logs.String())
	}
}
