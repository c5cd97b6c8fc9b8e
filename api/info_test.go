package api_test

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tesuji/tesuji/api"
)

// TestInfo: the service's limits and speed are public (the upload page estimates times
// before it has a token), and the speed is what the live workers measured.
func TestInfo(t *testing.T) {
	t.Parallel()
	e := startEnv(t, envOptions{api: api.Config{DefaultVisits: 50, MaxVisits: 800, MaxBatchGames: 7}})
	r := e.do(t, "GET", "/api/v1/info", "", nil)
	if r.status != http.StatusOK {
		t.Fatalf("GET /api/v1/info without a token: %d %s", r.status, r.body)
	}
	var got map[string]any
	r.decode(t, &got)
	speed, ok := got["visitsPerSecond"].(float64)
	if !ok || speed < 0 {
		t.Errorf("visitsPerSecond = %v", got["visitsPerSecond"])
	}
	delete(got, "visitsPerSecond")
	want := map[string]any{"workers": 1.0, "defaultVisits": 50.0, "maxVisits": 800.0, "maxMoves": 1000.0,
		"maxUploadBytes": float64(1 << 20), "maxBatchBytes": float64(16 << 20), "maxBatchGames": 7.0}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("info (-want +got):\n%s", diff)
	}

	// After some work, the heartbeat carries the measured speed.
	tok := e.token(t, "alice")
	id := e.submit(t, tok, game3, map[string]string{"maxVisits": "20"})
	e.follow(t, tok, id)
	waitFor(t, "a measured speed", func() bool {
		var info struct{ VisitsPerSecond float64 }
		e.do(t, "GET", "/api/v1/info", "", nil).decode(t, &info)
		return info.VisitsPerSecond > 0
	})
}
