package api_test

import (
	"bufio"
	"context"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tesuji/tesuji/engine/enginetest"
)

// scrape returns /metrics as series -> value, series written as Prometheus writes them.
func (e *env) scrape(t testing.TB) map[string]float64 {
	t.Helper()
	r := e.do(t, "GET", "/metrics", "", nil)
	if r.status != 200 {
		t.Fatalf("GET /metrics: %d", r.status)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(string(r.body)))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

// TestMetrics: every series the API promises, moving as the work does.
func TestMetrics(t *testing.T) {
	t.Parallel()
	once := filepath.Join(t.TempDir(), "crashed")
	e := startEnv(t, envOptions{fakeEnv: []string{enginetest.EnvCrashOnce + "=" + once, enginetest.EnvVisitsPerSec + "=5000"}})
	tok := e.token(t, "m")

	before := e.scrape(t)
	for _, s := range []string{
		`tesuji_queue_depth{priority="interactive"}`, `tesuji_queue_depth{priority="review"}`,
		`tesuji_jobs{state="queued"}`, `tesuji_jobs{state="running"}`,
		`tesuji_positions_analyzed_total`, `tesuji_engine_restarts_total`, `tesuji_engines_ready`,
		`tesuji_sse_clients`, `tesuji_websocket_clients`, `tesuji_queue_up`,
		`tesuji_jobs_submitted_total{kind="analysis"}`, `tesuji_limited_requests_total{limit="quota"}`,
		`tesuji_jobs_finished_total{state="done"}`, `tesuji_jobs_finished_total{state="failed"}`,
		`tesuji_jobs_finished_total{state="cancelled"}`,
	} {
		if _, ok := before[s]; !ok {
			t.Errorf("no series %s", s)
		}
	}
	if before[`tesuji_engines_ready`] != 1 || before[`tesuji_queue_up`] != 1 {
		t.Errorf("engines ready %v, queue up %v; want 1 and 1", before[`tesuji_engines_ready`], before[`tesuji_queue_up`])
	}

	// The first analysis crashes the engine once; the worker runs it again.
	id := e.submit(t, tok, game3, nil)
	events := e.follow(t, tok, id)
	if last := events[len(events)-1].typ; last != "done" {
		t.Fatalf("analysis ended with %s", last)
	}
	e.do(t, "GET", "/api/v1/analyses/nope", tok, nil)

	// Open one SSE stream and one websocket, and watch the gauges count them.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	slow := e.submit(t, tok, game3, map[string]string{"maxVisits": "100000"}) // 20s a turn
	req, _ := http.NewRequestWithContext(ctx, "GET", e.url+"/api/v1/analyses/"+slow+"/events?token="+tok, nil)
	resp, err := e.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	k, _, err := dialKaTrain(t, e.url, tok)
	if err != nil {
		t.Fatal(err)
	}
	_ = k
	waitFor(t, "the gauges to count one SSE stream and one websocket", func() bool {
		m := e.scrape(t)
		return m[`tesuji_sse_clients`] >= 1 && m[`tesuji_websocket_clients`] == 1
	})

	m := e.scrape(t)
	checks := []struct {
		series string
		min    float64
	}{
		{`tesuji_http_requests_total{method="POST",route="/api/v1/analyses",status="202"}`, 2},
		{`tesuji_http_requests_total{method="GET",route="/api/v1/analyses/:id",status="404"}`, 1},
		{`tesuji_http_requests_total{method="GET",route="/metrics",status="200"}`, 1},
		{`tesuji_http_requests_total{method="GET",route="/api/v1/analyses/:id/events",status="200"}`, 1},
		{`tesuji_jobs_submitted_total{kind="analysis"}`, 2},
		{`tesuji_positions_analyzed_total`, 4},
		{`tesuji_engine_restarts_total`, 1},
		{`tesuji_jobs_finished_total{state="done"}`, 1},
	}
	for _, c := range checks {
		if m[c.series] < c.min {
			t.Errorf("%s = %v, want at least %v", c.series, m[c.series], c.min)
		}
	}
	if _, ok := m[`tesuji_http_requests_total{method="GET",route="/api/v1/analyses/nope",status="404"}`]; ok {
		t.Error("a request's path, not its route, became a label")
	}
}
