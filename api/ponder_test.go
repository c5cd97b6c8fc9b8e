package api_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tesuji/tesuji/analysis"
	"github.com/tesuji/tesuji/api"
	"github.com/tesuji/tesuji/client"
	"github.com/tesuji/tesuji/engine/enginetest"
	"github.com/tesuji/tesuji/game"
	"github.com/tesuji/tesuji/katago"
)

// TestPositionPondering: a single result is held to MaxVisits, but a streamed position
// asking for more is pondering and reaches KataGo uncapped, with PonderTime as its
// maxTime; the KataGo fields of the request reach KataGo too.
func TestPositionPondering(t *testing.T) {
	t.Parallel()
	trace := filepath.Join(t.TempDir(), "katago-stdin.jsonl")
	e := startEnv(t, envOptions{
		fakeEnv: []string{enginetest.EnvVisitsPerSec + "=1000", enginetest.EnvTrace + "=" + trace},
		api:     api.Config{MaxVisits: 1000, PonderTime: 90 * time.Second},
	})
	token := e.token(t, "lizzie")
	wantError(t, e.do(t, "POST", "/api/v1/positions", token, position(map[string]any{"maxVisits": 5000000})),
		http.StatusBadRequest, "invalid_visits")
	wantError(t, e.do(t, "POST", "/api/v1/positions", token, position(map[string]any{"overrideSettings": map[string]any{"numSearchThreads": 64}})),
		http.StatusBadRequest, "invalid_request")

	c := client.New(e.url, token)
	komi := 7.0
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	errSeen := errors.New("seen a report")
	var report *game.Turn
	err := c.StreamPosition(ctx, &client.PositionRequest{Position: analysis.Position{Moves: []katago.Move{{"B", "E5"}}, BoardXSize: 9, BoardYSize: 9,
		Komi: &komi, Rules: "chinese"}, MaxVisits: 5000000, ReportEvery: 0.05,
		SearchOptions: analysis.SearchOptions{IncludePVVisits: true, IncludeMovesOwnership: true, IncludePolicy: true,
			AvoidMoves: []katago.MoveRestriction{{Player: "W", Moves: []string{"C3"}, UntilDepth: 1}}},
		OverrideSettings: map[string]any{"playoutDoublingAdvantage": 0.5}},
		func(t *game.Turn, _ bool) error {
			report = t
			return errSeen
		})
	if !errors.Is(err, errSeen) {
		t.Fatalf("stream: %v", err)
	}
	if len(report.Policy) != 82 || len(report.Candidates) == 0 || len(report.Candidates[0].PVVisits) == 0 ||
		len(report.Candidates[0].Ownership) != 81 || report.Root == nil {
		t.Errorf("the report lacks the fields asked for: %+v", report)
	}
	waitFor(t, "KataGo to read the query", func() bool {
		data, _ := os.ReadFile(trace)
		return strings.Contains(string(data), `"maxVisits":5000000`)
	})
	data, _ := os.ReadFile(trace)
	for _, want := range []string{`"maxTime":90`, `"playoutDoublingAdvantage":0.5`, `"includePVVisits":true`,
		`"includeMovesOwnership":true`, `"avoidMoves":[{"player":"W","moves":["C3"],"untilDepth":1}]`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("KataGo's query lacks %s:\n%s", want, data)
		}
	}

	// The networks, as query_models names them.
	r := e.do(t, "GET", "/api/v1/models", token, nil)
	var models struct {
		Models []map[string]any `json:"models"`
	}
	r.decode(t, &models)
	if r.status != http.StatusOK || len(models.Models) != 1 || models.Models[0]["name"] == "" {
		t.Errorf("models: %d %s", r.status, r.body)
	}
}
