package client_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tesuji/tesuji/client"
	"github.com/tesuji/tesuji/game"
	"github.com/tesuji/tesuji/katago"
)

// answer is what the test server sends for one path.
type answer struct {
	status int
	body   string
}

func serve(t *testing.T, answers map[string]answer) *client.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer secret" {
			http.Error(w, "no token", http.StatusUnauthorized)
			return
		}
		a, ok := answers[r.Method+" "+r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(a.status)
		w.Write([]byte(a.body))
	}))
	t.Cleanup(srv.Close)
	return client.New(srv.URL, "secret")
}

func TestDecodedAnswers(t *testing.T) {
	t.Parallel()
	c := serve(t, map[string]answer{
		"GET /api/v1/info":      {200, `{"visitsPerSecond":512.5,"workers":2,"defaultVisits":100,"maxVisits":1000,"maxMoves":600}`},
		"GET /api/v1/models":    {200, `{"models":[{"internalName":"b18c384nbt","maxBatchSize":16,"name":"kata1.bin.gz","usesHumanSLProfile":false,"usingFP16":"auto","version":15}]}`},
		"POST /api/v1/analyses": {202, `{"id":"a1","status":"queued","turns":3,"warnings":["komi defaulted"]}`},
	})
	tests := []struct {
		name string
		call func(context.Context) (any, error)
		want any
	}{
		{
			name: "info",
			call: func(ctx context.Context) (any, error) { return c.Info(ctx) },
			want: &client.Info{VisitsPerSecond: 512.5, Workers: 2, DefaultVisits: 100, MaxVisits: 1000, MaxMoves: 600},
		},
		{
			name: "models",
			call: func(ctx context.Context) (any, error) { return c.Models(ctx) },
			want: []katago.ModelInfo{{InternalName: "b18c384nbt", MaxBatchSize: 16, Name: "kata1.bin.gz", UsingFP16: "auto", Version: 15}},
		},
		{
			name: "submit",
			call: func(ctx context.Context) (any, error) {
				return c.Submit(ctx, "g.sgf", []byte("(;SZ[19];B[pd];W[dp])"), client.AnalysisOptions{MaxVisits: 10})
			},
			want: &client.Created{ID: "a1", Status: "queued", Turns: 3, Warnings: []string{"komi defaulted"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.call(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAnswerErrors(t *testing.T) {
	t.Parallel()
	c := serve(t, map[string]answer{
		"GET /api/v1/info":   {200, `{"maxVisits":`},
		"GET /api/v1/models": {503, `{"error":{"code":"no_engine","message":"no engine is ready"}}`},
	})
	tests := []struct {
		name     string
		call     func(context.Context) error
		wantText string           // a part of the error's text
		wantAPI  *client.APIError // the error answer, when the server sent one
	}{
		{
			name: "malformed info",
			call: func(ctx context.Context) error {
				_, err := c.Info(ctx)
				return err
			},
			wantText: "client: decode info: ",
		},
		{
			name: "models refused",
			call: func(ctx context.Context) error {
				_, err := c.Models(ctx)
				return err
			},
			wantText: "no engine is ready",
			wantAPI:  &client.APIError{Status: 503, Code: "no_engine", Message: "no engine is ready"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.call(t.Context())
			if err == nil || !strings.Contains(err.Error(), tt.wantText) {
				t.Fatalf("error %v, want one containing %q", err, tt.wantText)
			}
			var ae *client.APIError
			if !errors.As(err, &ae) {
				ae = nil
			}
			if diff := cmp.Diff(tt.wantAPI, ae); diff != "" {
				t.Errorf("API error (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSubmitRefusesZip: a zip, which the server would queue as a batch of games, is
// refused before anything is sent.
func TestSubmitRefusesZip(t *testing.T) {
	t.Parallel()
	c := serve(t, nil) // any request would get 404, not the refusal
	for _, name := range []string{"games.zip", "GAMES.ZIP"} {
		_, err := c.Submit(context.Background(), name, []byte("PK\x03\x04"), client.AnalysisOptions{})
		var ae *client.APIError
		if err == nil || errors.As(err, &ae) || !strings.Contains(err.Error(), "zip") {
			t.Errorf("Submit(%s): %v, want a refusal naming the zip, made without asking the server", name, err)
		}
	}
}

// TestStreamPositionEnds: how each way a position's stream ends comes back from
// StreamPosition; a worker's shutdown before the first report is ErrInterrupted, which
// a caller asks again after, not ErrAnalysisFailed.
func TestStreamPositionEnds(t *testing.T) {
	t.Parallel()
	turn := "id: 1\nevent: turn\ndata: {\"turn\":0,\"visits\":10}\n\n"
	tests := []struct {
		name   string
		events string
		want   error // nil: no error
		not    error
	}{
		{name: "done", events: turn + "id: 2\nevent: done\ndata: {\"state\":\"done\"}\n\n"},
		{
			name:   "interrupted",
			events: "id: 1\nevent: failed\ndata: {\"state\":\"failed\",\"attempts\":1,\"error\":\"the worker shut down before the analysis reported\",\"code\":\"interrupted\"}\n\n",
			want:   client.ErrInterrupted, not: client.ErrAnalysisFailed,
		},
		{
			name:   "failed",
			events: "id: 1\nevent: failed\ndata: {\"state\":\"failed\",\"attempts\":3,\"error\":\"katago crashed\",\"code\":\"worker_error\"}\n\n",
			want:   client.ErrAnalysisFailed, not: client.ErrInterrupted,
		},
		{
			name:   "cancelled",
			events: "id: 1\nevent: cancelled\ndata: {\"state\":\"cancelled\"}\n\n",
			want:   client.ErrAnalysisFailed, not: client.ErrInterrupted,
		},
		{name: "cut short", events: turn, want: client.ErrStreamEnded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := serve(t, map[string]answer{"POST /api/v1/positions": {200, tt.events}})
			err := c.StreamPosition(t.Context(), &client.PositionRequest{MaxVisits: 10},
				func(*game.Turn, bool) error { return nil })
			switch {
			case tt.want == nil && err != nil:
				t.Fatalf("err = %v, want none", err)
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Fatalf("err = %v, want %v", err, tt.want)
			case tt.not != nil && errors.Is(err, tt.not):
				t.Fatalf("err = %v matches %v", err, tt.not)
			}
		})
	}
}

// cutEvents serves an analysis of n turns whose event stream is cut after each event
// (a flaky network, a proxy, a server restart); Last-Event-ID resumes it.
func cutEvents(t *testing.T, n int) *client.Client {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		after, _ := strconv.Atoi(r.Header.Get("Last-Event-ID"))
		w.Header().Set("Content-Type", "text/event-stream")
		if next := after + 1; next <= n {
			fmt.Fprintf(w, "id: %d\nevent: turn\ndata: {\"turn\":%d}\n\n", next, next-1)
		} else {
			fmt.Fprintf(w, "id: %d\nevent: done\ndata: {}\n\n", next)
		}
	}))
	t.Cleanup(srv.Close)
	return client.New(srv.URL, "")
}

// TestFollowResumesEveryBreak: Follow resumes a stream however often it breaks over a
// long review, as long as each stream brings something new, and sees every event once.
func TestFollowResumesEveryBreak(t *testing.T) {
	t.Parallel()
	var turns []string
	err := cutEvents(t, 12).Follow(t.Context(), "a1", func(e client.Event) error {
		if e.Type == "turn" {
			turns = append(turns, string(e.Data))
		}
		return nil
	})
	if err != nil || len(turns) != 12 {
		t.Fatalf("Follow over 13 streams: %v after %d turns, want none after 12", err, len(turns))
	}
	if turns[0] != `{"turn":0}` || turns[11] != `{"turn":11}` {
		t.Errorf("turns %v", turns)
	}
}

// TestFollowReturnsTheCallbacksError: an error of fn ends Follow with that error, and no
// event comes after it.
func TestFollowReturnsTheCallbacksError(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	calls := 0
	err := cutEvents(t, 3).Follow(t.Context(), "a1", func(e client.Event) error {
		calls++
		return boom
	})
	if !errors.Is(err, boom) || calls != 1 {
		t.Errorf("Follow = %v after fn failed once with %v (fn called %d times)", err, boom, calls)
	}
}
