package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/tesuji/tesuji/api"
	"github.com/tesuji/tesuji/engine"
	"github.com/tesuji/tesuji/engine/enginetest"
	"github.com/tesuji/tesuji/queue/sqlitetest"
	"github.com/tesuji/tesuji/server"
)

// TestMain fails the package when any test leaves a goroutine behind.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// env is a running tesuji server with the fake KataGo, for tests through real HTTP.
type env struct {
	srv    *server.Server
	url    string
	tokens api.TokenStore
	logs   *logBuffer
	http   *http.Client
}

type envOptions struct {
	api       api.Config // Queue, Ready, Engines are filled in by the server
	fakeEnv   []string   // TESUJI_FAKE_... settings
	noTokens  bool       // open mode
	engines   int        // server.Config.Engines; 0: one
	jobsPerEn int        // worker.Config.JobsPerEngine
	threads   int        // KataGo's analysis threads; 0: enginetest's
	// turnTimeout, when set, is how long a silent KataGo may run before it is restarted.
	turnTimeout time.Duration
	// fitted, when set, leaves KataGo's threads to the engine's fit for this hardware.
	fitted *engine.Hardware
}

// startEnv starts a server on a free loopback port, with a token store in the test's
// temp dir unless open mode is asked for, and stops it when the test ends.
func startEnv(t testing.TB, o envOptions) *env {
	t.Helper()
	logs := &logBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := &env{logs: logs, http: &http.Client{Transport: &http.Transport{}}}
	cfg := o.api
	if !o.noTokens {
		e.tokens = api.NewSQLiteTokens(sqlitetest.DB(t))
		cfg.Tokens = e.tokens
	}
	ecfg := enginetest.Config(t, o.fakeEnv...)
	if o.threads > 0 {
		ecfg.AnalysisThreads = o.threads
	}
	if o.turnTimeout > 0 {
		ecfg.TurnTimeout = o.turnTimeout
	}
	if o.fitted != nil {
		ecfg.AnalysisThreads, ecfg.Hardware = 0, o.fitted
	}
	scfg := server.Config{Addr: "127.0.0.1:0", Engine: ecfg, API: cfg, Logger: log, Engines: o.engines,
		ShutdownGrace: time.Second, DataFile: filepath.Join(t.TempDir(), "tesuji.db")}
	scfg.Worker.JobsPerEngine = o.jobsPerEn
	scfg.Worker.HeartbeatInterval = 100 * time.Millisecond
	e.srv = server.New(scfg)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := e.srv.Start(ctx); err != nil {
		t.Fatalf("start server: %v", err)
	}
	e.url = "http://" + e.srv.Addr()
	t.Cleanup(func() {
		// Connections the client dialed but never used count as busy for 5s in
		// http.Server.Shutdown; the client closes them first, as a real one would.
		e.http.CloseIdleConnections()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := e.srv.Stop(ctx); err != nil {
			t.Errorf("stop server: %v", err)
		}
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	return e
}

// token makes a token named name.
func (e *env) token(t testing.TB, name string) string {
	t.Helper()
	tok, _, err := e.tokens.Create(context.Background(), name)
	if err != nil {
		t.Fatalf("create token: %v", err)
	}
	return tok
}

// reply is an HTTP answer, read whole.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// errCode returns the code of a JSON error body.
func (r reply) errCode() string {
	var b struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	_ = json.Unmarshal(r.body, &b)
	return b.Error.Code
}

func (r reply) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// do sends a request with an optional bearer token; body is a string, []byte, or any
// value sent as JSON.
func (e *env) do(t testing.TB, method, path, token string, body any) reply {
	t.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case string:
		rd, ct = strings.NewReader(b), "application/x-go-sgf"
	case []byte:
		rd, ct = bytes.NewReader(b), "application/x-go-sgf"
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd, ct = bytes.NewReader(data), "application/json"
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return e.send(t, req)
}

func (e *env) send(t testing.TB, req *http.Request) reply {
	t.Helper()
	resp, err := e.http.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", req.Method, req.URL.Path, err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: data}
}

// upload posts an SGF as a multipart file.
func (e *env) upload(t testing.TB, token, sgf string, fields map[string]string) reply {
	t.Helper()
	return e.uploadFile(t, token, "game.sgf", sgf, fields)
}

// uploadFile posts a game record as the multipart file name.
func (e *env) uploadFile(t testing.TB, token, name, record string, fields map[string]string) reply {
	t.Helper()
	return e.uploadFiles(t, token, [][2]string{{name, record}}, fields)
}

// submit uploads sgf and returns the new analysis id, failing unless the answer is 202.
func (e *env) submit(t testing.TB, token, sgf string, fields map[string]string) string {
	t.Helper()
	r := e.upload(t, token, sgf, fields)
	if r.status != http.StatusAccepted {
		t.Fatalf("submit: %d %s", r.status, r.body)
	}
	var c struct{ ID string }
	r.decode(t, &c)
	return c.ID
}

// follow reads the analysis's event stream to its end and returns its events.
func (e *env) follow(t testing.TB, token, id string) []sseEvent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.url+"/api/v1/analyses/"+id+"/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := e.http.Do(req)
	if err != nil {
		t.Fatalf("follow %s: %v", id, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("follow %s: %d %s", id, resp.StatusCode, body)
	}
	events, _, err := readSSE(resp.Body, nil)
	if err != nil {
		t.Fatalf("follow %s: %v", id, err)
	}
	return events
}

// sseEvent is one Server-Sent Event.
type sseEvent struct{ id, typ, data string }

// readSSE reads events from r until a terminal event (done, failed, cancelled), the end
// of the stream, or stop returns true for an event.
func readSSE(r io.Reader, stop func(sseEvent) bool) ([]sseEvent, []string, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4<<10), 1<<20)
	var events []sseEvent
	var comments []string
	var cur sseEvent
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if cur.typ == "" && cur.data == "" {
				continue
			}
			events = append(events, cur)
			if stop != nil && stop(cur) {
				return events, comments, nil
			}
			switch cur.typ {
			case "done", "failed", "cancelled":
				return events, comments, nil
			}
			cur = sseEvent{}
		case strings.HasPrefix(line, ":"):
			comments = append(comments, strings.TrimSpace(line[1:]))
		case strings.HasPrefix(line, "id: "):
			cur.id = line[4:]
		case strings.HasPrefix(line, "event: "):
			cur.typ = line[7:]
		case strings.HasPrefix(line, "data: "):
			cur.data += line[6:]
		}
	}
	return events, comments, sc.Err()
}

// logBuffer collects log output safely across goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// lines returns the JSON log lines decoded.
func (b *logBuffer) lines(t testing.TB) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.SplitSeq(b.String(), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// A short game: 20 moves, 21 positions.
const game20 = `(;GM[1]FF[4]CA[UTF-8]SZ[19]KM[6.5]RU[Japanese]PB[Black]PW[White]
;B[pd];W[dp];B[pq];W[dd];B[fq];W[cn];B[jp];W[qo];B[qm];W[pm]
;B[pl];W[om];B[ql];W[mq];B[op];W[oq];B[nq];W[np];B[pp];W[mp])`

// A 9x9 game of 3 moves, 4 positions.
const game3 = `(;GM[1]FF[4]SZ[9]KM[7]RU[Chinese];B[ee];W[cc];B[gg])`

// waitFor polls cond until it holds, failing the test after 30s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		<-tick.C
	}
}
