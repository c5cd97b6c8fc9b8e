package api_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/tesuji/tesuji/api"
	"github.com/tesuji/tesuji/engine/enginetest"
)

// TestStreamsPerToken: a token with StreamsPerToken streams open gets 429 for one more
// event stream, websocket or position, without a job being queued; other tokens are not
// affected, and a closed stream frees its slot.
func TestStreamsPerToken(t *testing.T) {
	t.Parallel()
	e := startEnv(t, envOptions{
		api:     api.Config{StreamsPerToken: 2},
		fakeEnv: []string{enginetest.EnvVisitsPerSec + "=1000"},
	})
	alice, bob := e.token(t, "alice"), e.token(t, "bob")
	job := e.submit(t, alice, game3, map[string]string{"maxVisits": "100000"})
	bobJob := e.submit(t, bob, game3, map[string]string{"maxVisits": "99999"})

	first, cancelFirst := context.WithCancel(context.Background())
	defer cancelFirst()
	e.openStream(t, first, alice, job, "")
	k, _, err := dialKaTrain(t, e.url, alice)
	if err != nil {
		t.Fatal(err)
	}
	_ = k
	submitted := e.scrape(t)[`tesuji_jobs_submitted_total{kind="position"}`]

	r := e.do(t, "GET", "/api/v1/analyses/"+job+"/events", alice, nil)
	wantError(t, r, http.StatusTooManyRequests, "too_many_streams")
	if n := retryAfter(t, r); n < 1 {
		t.Errorf("Retry-After %d", n)
	}
	wantError(t, e.do(t, "POST", "/api/v1/positions", alice, position(map[string]any{"stream": true})),
		http.StatusTooManyRequests, "too_many_streams")
	wantError(t, e.do(t, "POST", "/api/v1/positions", alice, position(nil)), http.StatusTooManyRequests, "too_many_streams")
	if _, resp, err := dialKaTrain(t, e.url, alice); err == nil || resp == nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("a third stream as a websocket: %v %v, want 429", resp, err)
	}
	m := e.scrape(t)
	if got := m[`tesuji_jobs_submitted_total{kind="position"}`]; got != submitted {
		t.Errorf("positions refused for streams were queued: %v submitted, want %v", got, submitted)
	}
	if m[`tesuji_limited_requests_total{limit="streams"}`] < 4 {
		t.Errorf("limited streams counted %v, want 4", m[`tesuji_limited_requests_total{limit="streams"}`])
	}

	// Another token has slots of its own.
	e.openStream(t, context.Background(), bob, bobJob, "")

	// Alice closes a stream; its slot frees once the server has seen it go.
	cancelFirst()
	waitFor(t, "alice's closed stream to free its slot", func() bool {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", e.url+"/api/v1/analyses/"+job+"/events", nil)
		req.Header.Set("Authorization", "Bearer "+alice)
		resp, err := e.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}
