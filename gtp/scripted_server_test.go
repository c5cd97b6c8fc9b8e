package gtp

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/tesuji/tesuji/analysis"
	"github.com/tesuji/tesuji/game"
	"github.com/tesuji/tesuji/katago"
)

// scriptedServer is a tesuji server whose answers a test writes: answer handles every
// POST /api/v1/positions, and the requests are kept for the test to read.
type scriptedServer struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []analysis.PositionRequest
}

// scriptedAnswer answers one position request; stream is true for a streamed one.
type scriptedAnswer func(w http.ResponseWriter, r *http.Request, req analysis.PositionRequest, stream bool)

// startScriptedServer starts a scripted server and stops it when the test ends.
func startScriptedServer(t *testing.T, answer scriptedAnswer) *scriptedServer {
	t.Helper()
	s := &scriptedServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			analysis.PositionRequest
			Stream bool `json:"stream"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.reqs = append(s.reqs, body.PositionRequest)
		s.mu.Unlock()
		answer(w, r, body.PositionRequest, body.Stream)
	}))
	t.Cleanup(s.Close)
	return s
}

// requests returns the position requests the server got, in order.
func (s *scriptedServer) requests() []analysis.PositionRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]analysis.PositionRequest(nil), s.reqs...)
}

// last returns the latest position request; the test fails when there is none.
func (s *scriptedServer) last(t *testing.T) analysis.PositionRequest {
	t.Helper()
	reqs := s.requests()
	if len(reqs) == 0 {
		t.Fatal("the server got no position request")
	}
	return reqs[len(reqs)-1]
}

// scriptedTurn is a result with the given candidates, best first.
func scriptedTurn(moves ...string) *game.Turn {
	t := &game.Turn{Winrate: 0.6, ScoreLead: 2, Visits: 10}
	for i, m := range moves {
		t.Candidates = append(t.Candidates, katago.MoveInfo{Move: m, Visits: 10 - i, Winrate: 0.6, Order: i, PV: []string{m}})
	}
	return t
}

// writeJSON answers v as JSON.
func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// writeEvent sends one server-sent event of the given type and flushes it.
func writeEvent(w http.ResponseWriter, typ string, v any) {
	data, _ := json.Marshal(v)
	fmt.Fprintf(w, "event: %s\ndata: %s\n\n", typ, data)
	w.(http.Flusher).Flush()
}
