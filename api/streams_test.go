package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"

	"github.com/tesuji/tesuji/api"
	"github.com/tesuji/tesuji/engine/enginetest"
	"github.com/tesuji/tesuji/queue"
	"github.com/tesuji/tesuji/queue/sqlitetest"
	"github.com/tesuji/tesuji/worker"
)

// openStream starts GET .../events and returns the response once headers arrived.
func (e *env) openStream(t testing.TB, ctx context.Context, token, id, lastEventID string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.url+"/api/v1/analyses/"+id+"/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	resp, err := e.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("events: %d", resp.StatusCode)
	}
	return resp
}

// TestEventsResume: a client that reconnects with Last-Event-ID gets exactly the events
// after it, from the header or the lastEventId query parameter; an id that is no event's
// is refused.
func TestEventsResume(t *testing.T) {
	t.Parallel()
	e := startEnv(t, envOptions{})
	tok := e.token(t, "r")
	id := e.submit(t, tok, game3, nil)
	all := e.follow(t, tok, id)
	if len(all) != 5 || all[4].typ != "done" {
		t.Fatalf("want 4 turn events and done, got %v", all)
	}
	for i := range all[:len(all)-1] {
		resp := e.openStream(t, context.Background(), tok, id, all[i].id)
		got, _, err := readSSE(resp.Body, nil)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(all[i+1:], got, cmp.AllowUnexported(sseEvent{})); diff != "" {
			t.Errorf("resumed after event %d (-want +got):\n%s", i, diff)
		}
	}
	r := e.do(t, "GET", "/api/v1/analyses/"+id+"/events?lastEventId="+all[2].id, tok, nil)
	got, _, _ := readSSE(bytes.NewReader(r.body), nil)
	if diff := cmp.Diff(all[3:], got, cmp.AllowUnexported(sseEvent{})); diff != "" {
		t.Errorf("resumed with lastEventId (-want +got):\n%s", diff)
	}
	// An id no event has is refused, not answered with a stream that reads as broken.
	wantError(t, e.do(t, "GET", "/api/v1/analyses/"+id+"/events?lastEventId=nonsense", tok, nil), http.StatusBadRequest, "invalid_event_id")
}

// slowAPI is an API over a memory queue and a worker with a slow fake engine, served by
// an httptest server whose WriteTimeout is short: a stream must outlive it.
func slowAPI(t *testing.T, cfg api.Config, writeTimeout time.Duration, fakeEnv ...string) (*api.API, *httptest.Server) {
	t.Helper()
	q := sqlitetest.Open(t, queue.SQLiteConfig{})
	t.Cleanup(func() { q.Close() })
	eng := enginetest.Start(t, enginetest.Config(t, fakeEnv...))
	w := worker.New(q, worker.Config{Engines: []worker.Analyzer{eng}, HeartbeatInterval: 50 * time.Millisecond})
	if err := w.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		w.Interrupt(ctx, worker.ErrShutdown)
	})
	cfg.Queue = q
	cfg.Engines = []api.Engine{eng}
	a := api.New(cfg)
	srv := httptest.NewUnstartedServer(a.Handler())
	srv.Config.WriteTimeout = writeTimeout
	srv.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		a.CloseStreams(ctx)
		srv.Close()
	})
	return a, srv
}

// TestStreamOutlivesWriteTimeout: keep-alive comments while nothing happens, and a
// stream that runs past the server's WriteTimeout to its last event.
func TestStreamOutlivesWriteTimeout(t *testing.T) {
	t.Parallel()
	_, srv := slowAPI(t, api.Config{KeepAlive: 50 * time.Millisecond}, 300*time.Millisecond,
		enginetest.EnvVisitsPerSec+"=1000")
	e := &env{url: srv.URL, http: srv.Client()}
	r := e.do(t, "POST", "/api/v1/analyses", "", map[string]any{"sgf": game3, "maxVisits": 400})
	var c struct{ ID string }
	r.decode(t, &c)
	start := time.Now()
	resp := e.openStream(t, context.Background(), "", c.ID, "")
	events, comments, err := readSSE(resp.Body, nil)
	if err != nil {
		t.Fatalf("stream broke after %v: %v", time.Since(start), err)
	}
	if len(events) != 5 || events[4].typ != "done" {
		t.Fatalf("want 4 turns and done, got %v", events)
	}
	if time.Since(start) < 300*time.Millisecond {
		t.Fatalf("the analysis took %v, shorter than the write timeout; the test proves nothing", time.Since(start))
	}
	if !strings.Contains(strings.Join(comments, ","), "keep-alive") {
		t.Errorf("no keep-alive comment in %v", comments)
	}
}

// TestCloseStreams: shutting down ends every SSE stream and websocket promptly, with a
// going-away close for the websocket.
func TestCloseStreams(t *testing.T) {
	t.Parallel()
	a, srv := slowAPI(t, api.Config{}, 0, enginetest.EnvVisitsPerSec+"=100")
	e := &env{url: srv.URL, http: srv.Client()}
	k, _, err := dialKaTrain(t, srv.URL, "")
	if err != nil {
		t.Fatal(err)
	}
	k.send(katrainQuery(opening, 100000, map[string]any{"reportDuringSearchEvery": 0.05}))
	k.read() // searching
	r := e.do(t, "POST", "/api/v1/analyses", "", map[string]any{"sgf": game3, "maxVisits": 5000})
	var c struct{ ID string }
	r.decode(t, &c)
	var bodies []io.ReadCloser
	for range 5 {
		bodies = append(bodies, e.openStream(t, context.Background(), "", c.ID, "").Body)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.CloseStreams(ctx); err != nil {
		t.Fatalf("CloseStreams: %v", err)
	}
	for i, b := range bodies {
		if _, err := io.ReadAll(b); err != nil {
			t.Errorf("stream %d: %v", i, err)
		}
	}
	for range k.lines {
	}
	if got := websocket.CloseStatus(k.readErr); got != websocket.StatusGoingAway {
		t.Errorf("websocket closed with %v (%v), want going away", got, k.readErr)
	}
	// New streams are refused while the server shuts down.
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/analyses/"+c.ID+"/events", nil)
	if r := e.send(t, req); r.status != http.StatusServiceUnavailable {
		t.Errorf("a stream opened after CloseStreams: %d", r.status)
	}
}

// TestPositionStream: a streamed position sends partial reports, then the final turn and
// done; a client that goes away has KataGo's search terminated.
func TestPositionStream(t *testing.T) {
	t.Parallel()
	trace := filepath.Join(t.TempDir(), "katago-stdin.jsonl")
	e := startEnv(t, envOptions{fakeEnv: []string{enginetest.EnvVisitsPerSec + "=2000", enginetest.EnvTrace + "=" + trace}})
	tok := e.token(t, "p")

	// A search of more than a second, so that reports every 50ms come before its end
	// even when the machine is busy.
	r := e.do(t, "POST", "/api/v1/positions", tok, position(map[string]any{"stream": true, "maxVisits": 4000, "reportEvery": 0.05}))
	events, _, err := readSSE(bytes.NewReader(r.body), nil)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, ev := range events {
		if len(types) == 0 || types[len(types)-1] != ev.typ {
			types = append(types, ev.typ)
		}
	}
	if diff := cmp.Diff([]string{"partial", "turn", "done"}, types); diff != "" {
		t.Errorf("event types (-want +got):\n%s", diff)
	}
	var final struct {
		Turn, Visits int
		Player       string
	}
	if err := json.Unmarshal([]byte(events[len(events)-2].data), &final); err != nil {
		t.Fatal(err)
	}
	if final.Turn != 2 || final.Visits != 4000 || final.Player != "B" {
		t.Errorf("final turn %+v, want turn 2, 4000 visits, B to move", final)
	}

	// A long search, abandoned by its client after the first partial report.
	ctx, cancel := context.WithCancel(context.Background())
	body, _ := json.Marshal(position(map[string]any{"stream": true, "maxVisits": 90000, "reportEvery": 0.05}))
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.url+"/api/v1/positions", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := e.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	id := resp.Header.Get("X-Analysis-Id")
	readSSE(resp.Body, func(ev sseEvent) bool { return ev.typ == "partial" })
	cancel()
	resp.Body.Close()
	waitFor(t, "KataGo to read a terminate", func() bool {
		data, _ := os.ReadFile(trace)
		return strings.Contains(string(data), `"action":"terminate"`)
	})
	a := e.do(t, "GET", "/api/v1/analyses/"+id, tok, nil)
	var st struct{ Status string }
	a.decode(t, &st)
	if st.Status != "cancelled" {
		t.Errorf("abandoned position is %s, want cancelled", st.Status)
	}
}

// TestRequestIDs: every answer carries X-Request-Id (the client's when sensible), and
// every log line of a request names it.
func TestRequestIDs(t *testing.T) {
	t.Parallel()
	e := startEnv(t, envOptions{})
	tok := e.token(t, "rid")
	send := func(id, method, path string, body io.Reader) string {
		req, _ := http.NewRequest(method, e.url+path, body)
		if id != "" {
			req.Header.Set("X-Request-Id", id)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/x-go-sgf")
		return e.send(t, req).header.Get("X-Request-Id")
	}
	if got := send("client-id-1", "POST", "/api/v1/analyses", strings.NewReader(game3)); got != "client-id-1" {
		t.Errorf("X-Request-Id %q, want the client's", got)
	}
	if got := send("has spaces", "GET", "/nowhere", nil); got == "" || got == "has spaces" {
		t.Errorf("X-Request-Id %q for an unusable client id", got)
	}
	if got := send("client-id-2", "GET", "/api/v1/analyses/none", nil); got != "client-id-2" {
		t.Errorf("X-Request-Id %q on a 404", got)
	}
	k, resp, err := dialKaTrain(t, e.url, tok)
	if err != nil {
		t.Fatal(err)
	}
	wsID := resp.Header.Get("X-Request-Id")
	k.send(katrainQuery(opening[:1], 10, nil))
	k.read()
	k.conn.Close(websocket.StatusNormalClosure, "")
	waitFor(t, "the websocket's close to be logged", func() bool {
		return strings.Contains(e.logs.String(), "katago websocket closed")
	})

	perRequest := map[string]bool{"request": true, "analysis queued": true, "request rejected": true,
		"katago websocket opened": true, "katago websocket closed": true}
	seen := map[string]bool{}
	for _, l := range e.logs.lines(t) {
		msg, _ := l["msg"].(string)
		if !perRequest[msg] {
			continue
		}
		rid, _ := l["request_id"].(string)
		if rid == "" {
			t.Errorf("log line of a request without request_id: %v", l)
		}
		seen[rid+" "+msg] = true
	}
	for _, want := range []string{"client-id-1 analysis queued", "client-id-1 request", "client-id-2 request rejected",
		wsID + " katago websocket opened", wsID + " katago websocket closed"} {
		if !seen[want] {
			t.Errorf("no log line %q", want)
		}
	}
}
