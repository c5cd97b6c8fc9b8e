package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tesuji/tesuji/analysis"
	"github.com/tesuji/tesuji/api"
	"github.com/tesuji/tesuji/queue"
	"github.com/tesuji/tesuji/queue/sqlitetest"
)

// failingServer is an API server in open mode whose only worker fails every job with f,
// as a worker stores KataGo's refusal or its own error.
func failingServer(t *testing.T, f analysis.Failure) string {
	t.Helper()
	q := sqlitetest.Open(t, queue.SQLiteConfig{})
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		for {
			_, lease, err := q.Claim(ctx, "failing-worker", time.Minute)
			if err != nil {
				done <- err
				return
			}
			if err := q.Fail(ctx, lease, f.Encode(), false); err != nil {
				done <- err
				return
			}
		}
	}()
	return serveQueue(t, api.Config{Queue: q}, func() {
		stop()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("the failing worker ended with %v", err)
		}
	})
}

// serveQueue serves cfg in open mode, without engines of its own, over cfg.Queue, and returns
// its URL; when the test ends it closes the streams and the server, then calls after
// (when set).
func serveQueue(t *testing.T, cfg api.Config, after func()) string {
	t.Helper()
	a := api.New(cfg)
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		a.CloseStreams(ctx)
		srv.Close()
		if after != nil {
			after()
		}
	})
	return srv.URL
}

// TestFailedJobAnswers: a job's typed failure reaches each kind of client in its own
// shape: KataGo's field and words on the websocket, the failure's code and field beside
// its text in the SSE failed event, its text in the HTTP error and the review.
func TestFailedJobAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		failure  analysis.Failure
		text     string // the HTTP error's message, the review's and the SSE event's error
		wsField  string // the websocket error line's field and error
		wsError  string
		sseField string
	}{
		{name: "rejected", failure: analysis.Failure{Code: analysis.FailureRejected, Field: "komi", Message: "Must be a integer"},
			text: "katago rejected the query: field komi: Must be a integer", wsField: "komi", wsError: "Must be a integer", sseField: "komi"},
		{name: "worker error", failure: analysis.Failure{Code: analysis.FailureWorker, Message: "worker: panic: boom at handler.go:12"},
			text: "worker: panic: boom at handler.go:12", wsError: "the analysis failed on the worker"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			url := failingServer(t, tt.failure)
			position := `{"moves":[["B","E5"]],"boardXSize":9,"boardYSize":9,"komi":7,"rules":"chinese","maxVisits":10`

			// A position waited for: 422 with the failure's text.
			resp, err := http.Post(url+"/api/v1/positions", "application/json", strings.NewReader(position+"}"))
			if err != nil {
				t.Fatal(err)
			}
			var body struct {
				Error struct{ Code, Message string }
			}
			err = json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusUnprocessableEntity || body.Error.Code != "analysis_failed" || body.Error.Message != tt.text {
				t.Errorf("position: %d %+v, want 422 analysis_failed %q", resp.StatusCode, body.Error, tt.text)
			}

			// A streamed position: the failed event names the code and the field.
			resp, err = http.Post(url+"/api/v1/positions", "application/json", strings.NewReader(position+`,"stream":true}`))
			if err != nil {
				t.Fatal(err)
			}
			events, _, err := readSSE(resp.Body, nil)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if len(events) == 0 || events[len(events)-1].typ != "failed" {
				t.Fatalf("stream %+v does not end with a failed event", events)
			}
			last := events[len(events)-1]
			var got map[string]any
			if err := json.Unmarshal([]byte(last.data), &got); err != nil {
				t.Fatal(err)
			}
			want := map[string]any{"state": "failed", "attempts": 1.0, "error": tt.text, "code": tt.failure.Code}
			if tt.sseField != "" {
				want["field"] = tt.sseField
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("failed event (-want +got):\n%s", diff)
			}

			// The review of a game: its error in words.
			resp, err = http.Post(url+"/api/v1/analyses", "application/json",
				strings.NewReader(`{"sgf":"(;SZ[9]KM[7];B[ee];W[cc])","maxVisits":10}`))
			if err != nil {
				t.Fatal(err)
			}
			var created struct{ ID string }
			err = json.NewDecoder(resp.Body).Decode(&created)
			resp.Body.Close()
			if err != nil || created.ID == "" {
				t.Fatalf("submit: %d %v", resp.StatusCode, err)
			}
			deadline := time.Now().Add(30 * time.Second)
			for {
				resp, err := http.Get(url + "/api/v1/analyses/" + created.ID)
				if err != nil {
					t.Fatal(err)
				}
				var a struct{ Status, Error string }
				err = json.NewDecoder(resp.Body).Decode(&a)
				resp.Body.Close()
				if err != nil {
					t.Fatal(err)
				}
				if a.Status == "failed" {
					if a.Error != tt.text {
						t.Errorf("review error = %q, want %q", a.Error, tt.text)
					}
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("review is %s after 30s, want failed", a.Status)
				}
				time.Sleep(20 * time.Millisecond)
			}

			// The library: the same words.
			resp, err = http.Get(url + "/api/v1/analyses?status=failed")
			if err != nil {
				t.Fatal(err)
			}
			var lib struct{ Analyses []struct{ ID, Error string } }
			err = json.NewDecoder(resp.Body).Decode(&lib)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if len(lib.Analyses) != 1 || lib.Analyses[0].ID != created.ID || lib.Analyses[0].Error != tt.text {
				t.Errorf("library %+v, want the review with error %q", lib.Analyses, tt.text)
			}

			// The websocket: KataGo's own error line, with its field for a refusal.
			k, _, err := dialKaTrain(t, url, "")
			if err != nil {
				t.Fatal(err)
			}
			id := k.send(katrainQuery(opening[:3], 100, nil))
			l := k.read()
			if l.id != id || l.kind != "error" || l.m["error"] != tt.wsError || (l.m["field"] != nil && l.m["field"] != tt.wsField) ||
				(tt.wsField != "" && l.m["field"] != tt.wsField) {
				t.Errorf("websocket line %s, want error %q in field %q", l.raw, tt.wsError, tt.wsField)
			}
		})
	}
}
