package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"

	"github.com/tesuji/tesuji/api"
	"github.com/tesuji/tesuji/engine"
	"github.com/tesuji/tesuji/engine/enginetest"
	"github.com/tesuji/tesuji/katago"
	"github.com/tesuji/tesuji/queue"
	"github.com/tesuji/tesuji/queue/sqlitetest"
	"github.com/tesuji/tesuji/worker"
)

// katrain replays what KaTrain's RemoteKataGoEngine (katrain/core/remote_engine.py) does
// on its websocket: JSON queries with ids "QUERY:n" it assigns itself, one query per
// message, and a reader that splits every message into lines and dispatches each line
// as _dispatch_response_line does. Every line goes through read, which fails the test on
// anything KaTrain would choke on.
type katrain struct {
	t       testing.TB
	conn    *websocket.Conn
	lines   chan []byte
	counter int
	sent    map[string]map[string]any // id -> payload, for resending after a reconnect
	readErr error                     // why reading ended; set before lines is closed
}

// dialKaTrain connects as KaTrain does: the URL is all it has (remote_url), so the token
// travels as a query parameter.
func dialKaTrain(t testing.TB, base, token string) (*katrain, *http.Response, error) {
	t.Helper()
	url := "ws" + strings.TrimPrefix(base, "http") + "/api/v1/katago"
	if token != "" {
		url += "?token=" + token
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		return nil, resp, err
	}
	conn.SetReadLimit(4 << 20)
	k := &katrain{t: t, conn: conn, lines: make(chan []byte, 1024), sent: map[string]map[string]any{}}
	go func() {
		defer close(k.lines)
		for {
			_, data, err := conn.Read(context.Background())
			if err != nil {
				k.readErr = err
				return
			}
			for line := range strings.SplitSeq(string(data), "\n") {
				if line = strings.TrimSpace(line); line != "" {
					k.lines <- []byte(line)
				}
			}
		}
	}()
	t.Cleanup(func() { conn.CloseNow() })
	return k, resp, nil
}

// send writes a query as KaTrain's write thread does, assigning "QUERY:n" when it has no
// id, and returns the id.
func (k *katrain) send(q map[string]any) string {
	k.t.Helper()
	if _, ok := q["id"]; !ok {
		k.counter++
		q["id"] = fmt.Sprintf("QUERY:%d", k.counter)
	}
	id := q["id"].(string)
	if q["action"] != "terminate" {
		k.sent[id] = q
	}
	k.sendRaw(q)
	return id
}

func (k *katrain) sendRaw(q any) {
	k.t.Helper()
	data, err := json.Marshal(q)
	if err != nil {
		k.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := k.conn.Write(ctx, websocket.MessageText, data); err != nil {
		k.t.Fatalf("send: %v", err)
	}
}

// kline is a response line as KaTrain reads it.
type kline struct {
	raw  string
	m    map[string]any
	id   string
	kind string // error, terminate, partial, final, noResults, action
}

// read returns the next line, checked the way KaTrain's dispatcher uses it.
func (k *katrain) read() kline {
	k.t.Helper()
	select {
	case line, ok := <-k.lines:
		if !ok {
			k.t.Fatal("the server closed the websocket")
		}
		return checkKaTrainLine(k.t, line)
	case <-time.After(30 * time.Second):
		k.t.Fatal("no response line within 30s")
	}
	panic("unreachable")
}

// readUntil reads lines until one matches, returning all of them.
func (k *katrain) readUntil(match func(kline) bool) []kline {
	k.t.Helper()
	var out []kline
	for {
		l := k.read()
		out = append(out, l)
		if match(l) {
			return out
		}
	}
}

// finals reads lines until query id has n final results, and fails on its error line.
func (k *katrain) finals(id string, n int) {
	k.t.Helper()
	for n > 0 {
		switch l := k.read(); {
		case l.id == id && l.kind == "error":
			k.t.Fatalf("query %s failed: %s", id, l.raw)
		case l.id == id && l.kind == "final":
			n--
		}
	}
}

// checkKaTrainLine fails the test for a line KaTrain's _dispatch_response_line cannot
// take: not JSON, no id (KaTrain logs "Error without ID" and drops it), a result without
// rootInfo.visits (KaTrain logs it and then raises), moveInfos without the fields
// game_node.set_analysis and candidate_moves read.
func checkKaTrainLine(t testing.TB, line []byte) kline {
	t.Helper()
	l := kline{raw: string(line)}
	if err := json.Unmarshal(line, &l.m); err != nil {
		t.Fatalf("line is not a JSON object: %s", line)
	}
	id, ok := l.m["id"].(string)
	if !ok {
		// KataGo's answer to a line without an id has none either; KaTrain logs it.
		if _, isErr := l.m["error"]; !isErr {
			t.Fatalf("line without an id that is not an error: %s", line)
		}
		l.kind = "error"
		return l
	}
	l.id = id
	switch {
	case l.m["error"] != nil:
		l.kind = "error"
		if _, ok := l.m["error"].(string); !ok {
			t.Fatalf("error is not a string: %s", line)
		}
	case l.m["terminateId"] != nil:
		l.kind = "terminate"
	case l.m["action"] != nil:
		l.kind = "action"
	default:
		partial, _ := l.m["isDuringSearch"].(bool)
		if _, ok := l.m["isDuringSearch"]; !ok {
			t.Fatalf("result without isDuringSearch: %s", line)
		}
		if _, ok := l.m["turnNumber"].(float64); !ok {
			t.Fatalf("result without turnNumber: %s", line)
		}
		if l.m["noResults"] == true {
			l.kind = "noResults"
			return l
		}
		l.kind = "final"
		if partial {
			l.kind = "partial"
		}
		root, ok := l.m["rootInfo"].(map[string]any)
		if !ok {
			t.Fatalf("result without rootInfo: %s", line)
		}
		for _, f := range []string{"visits", "winrate", "scoreLead"} {
			if _, ok := root[f].(float64); !ok {
				t.Fatalf("rootInfo without %s: %s", f, line)
			}
		}
		infos, ok := l.m["moveInfos"].([]any)
		if !ok {
			t.Fatalf("result without moveInfos: %s", line)
		}
		for _, mi := range infos {
			m := mi.(map[string]any)
			for _, f := range []string{"move", "visits", "order", "pv", "scoreLead", "winrate", "prior"} {
				if _, ok := m[f]; !ok {
					t.Fatalf("moveInfo without %s: %s", f, line)
				}
			}
		}
	}
	return l
}

func (l kline) turn() int { return int(l.m["turnNumber"].(float64)) }

func (l kline) visits() int {
	return int(l.m["rootInfo"].(map[string]any)["visits"].(float64))
}

// katrainQuery is a query as KaTrain's request_analysis builds it.
func katrainQuery(moves [][2]string, visits int, extra map[string]any) map[string]any {
	ms := make([][]string, len(moves))
	for i, m := range moves {
		ms[i] = []string{m[0], m[1]}
	}
	q := map[string]any{
		"rules": "japanese", "priority": 0, "analyzeTurns": []int{len(moves)}, "maxVisits": visits,
		"komi": 6.5, "boardXSize": 19, "boardYSize": 19,
		"includeOwnership": true, "includeMovesOwnership": true, "includePolicy": true,
		"initialStones": [][]string{}, "initialPlayer": "B", "moves": ms,
		"overrideSettings": map[string]any{"reportAnalysisWinratesAs": "BLACK", "wideRootNoise": 0.04, "maxTime": 8.0},
	}
	for k, v := range extra {
		q[k] = v
	}
	return q
}

var opening = [][2]string{{"B", "Q16"}, {"W", "D4"}, {"B", "Q3"}, {"W", "D16"}}

// TestKaTrainSession replays a KaTrain session against the server with the fake engine:
// analysis of the current move, a whole game, pondering stopped with a terminate, an
// illegal move, malformed lines, priorities, and a dropped connection with KaTrain's
// reconnect and resend.
func TestKaTrainSession(t *testing.T) {
	t.Parallel()
	trace := filepath.Join(t.TempDir(), "katago-stdin.jsonl")
	e := startEnv(t, envOptions{
		fakeEnv: []string{enginetest.EnvVisitsPerSec + "=4000", enginetest.EnvTrace + "=" + trace},
		api:     api.Config{MaxVisits: 100000, KeepAlive: time.Second},
	})
	token := e.token(t, "katrain")
	// terminates counts the terminate actions KataGo has read.
	terminates := func() int {
		data, _ := os.ReadFile(trace)
		return strings.Count(string(data), `"action":"terminate"`)
	}

	t.Run("token", func(t *testing.T) {
		for name, tok := range map[string]string{"none": "", "wrong": "tesuji_0123456789abcdef_" + strings.Repeat("00", 32)} {
			_, resp, err := dialKaTrain(t, e.url, tok)
			if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s token: dial err %v, response %v; want 401", name, err, resp)
			}
		}
	})

	k, _, err := dialKaTrain(t, e.url, token)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("query_version", func(t *testing.T) {
		id := k.send(map[string]any{"action": "query_version"})
		l := k.read()
		want := map[string]any{"action": "query_version", "git_hash": "<omitted>", "id": id, "version": "1.17.2"}
		if diff := cmp.Diff(want, l.m); diff != "" {
			t.Errorf("query_version answer (-want +got):\n%s", diff)
		}
	})

	t.Run("current move", func(t *testing.T) {
		id := k.send(katrainQuery(opening[:3], 100, nil))
		l := k.read()
		if l.id != id || l.kind != "final" || l.turn() != 3 || l.visits() != 100 {
			t.Fatalf("want the final result of %s at turn 3 with 100 visits, got %s", id, l.raw)
		}
		var r struct {
			Ownership []float64
			Policy    []float64
			MoveInfos []struct{ Ownership []float64 }
			RootInfo  struct{ CurrentPlayer string }
		}
		if err := json.Unmarshal([]byte(l.raw), &r); err != nil {
			t.Fatal(err)
		}
		if len(r.Ownership) != 361 || len(r.Policy) != 362 || len(r.MoveInfos) == 0 || len(r.MoveInfos[0].Ownership) != 361 {
			t.Errorf("ownership %d, policy %d, moveInfos %d (first with ownership %v): want 361, 362, some with 361",
				len(r.Ownership), len(r.Policy), len(r.MoveInfos), len(r.MoveInfos) > 0 && len(r.MoveInfos[0].Ownership) == 361)
		}
		if r.RootInfo.CurrentPlayer != "W" {
			t.Errorf("currentPlayer %q, want W", r.RootInfo.CurrentPlayer)
		}
		if strings.Contains(l.raw, `"warning"`) {
			t.Errorf("a warning for a query KataGo takes as it is: %s", l.raw)
		}
	})

	t.Run("whole game", func(t *testing.T) {
		want := map[string]int{}
		for n := 0; n <= len(opening); n++ {
			want[k.send(katrainQuery(opening[:n], 50, map[string]any{"priority": -100}))] = n
		}
		got := map[string]int{}
		for len(got) < len(want) {
			l := k.read()
			if l.kind != "final" {
				t.Fatalf("unexpected line %s", l.raw)
			}
			got[l.id] = l.turn()
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("finals by id (-want +got):\n%s", diff)
		}
	})

	t.Run("ponder and stop", func(t *testing.T) {
		// KaTrain's pondering: ten million visits and reports every PONDERING_REPORT_DT.
		id := k.send(katrainQuery(opening, 10_000_000, map[string]any{"reportDuringSearchEvery": 0.1}))
		first := k.read()
		if first.id != id || first.kind != "partial" {
			t.Fatalf("want a partial report of %s first, got %s", id, first.raw)
		}
		// Pondering is not held to the cap on visits, so KaTrain shows no warning.
		if strings.Contains(first.raw, "warning") {
			t.Errorf("a warning for KaTrain's pondering: %s", first.raw)
		}
		second := k.read()
		if second.id != id || second.kind != "partial" || strings.Contains(second.raw, "warning") {
			t.Fatalf("want a second partial report without warning, got %s", second.raw)
		}
		// stop_pondering: terminate_query(id, ignore_further_results=False), so KaTrain
		// keeps waiting for the final result.
		before := terminates()
		term := k.send(map[string]any{"action": "terminate", "terminateId": id})
		lines := k.readUntil(func(l kline) bool { return l.id == id && l.kind == "final" })
		waitFor(t, "KataGo to read the terminate", func() bool { return terminates() > before })
		var kinds []string
		for _, l := range lines {
			kinds = append(kinds, l.kind+" "+l.id)
		}
		ack := slices.Index(kinds, "terminate "+term)
		if ack < 0 {
			t.Fatalf("no acknowledgement of the terminate; lines %v", kinds)
		}
		want := map[string]any{"action": "terminate", "id": term, "terminateId": id}
		if diff := cmp.Diff(want, lines[ack].m); diff != "" {
			t.Errorf("terminate answer (-want +got):\n%s", diff)
		}
		final := lines[len(lines)-1]
		if final.visits() < second.visits() || final.visits() >= 100000 {
			t.Errorf("final after terminate has %d visits; want at least the %d reported, far from the cap", final.visits(), second.visits())
		}
	})

	t.Run("cap on reviews, not on pondering", func(t *testing.T) {
		// The pondering query above reached KataGo with its ten million visits.
		data, _ := os.ReadFile(trace)
		if !strings.Contains(string(data), `"maxVisits":10000000`) {
			t.Errorf("the pondering query did not reach KataGo uncapped:\n%s", data)
		}
		// A query without reports during the search is held to the cap, with a warning.
		id := k.send(katrainQuery(opening, 10_000_000, map[string]any{"overrideSettings": map[string]any{"maxTime": 0.05}}))
		l := k.read()
		if l.id != id || l.kind != "final" {
			t.Fatalf("want the final result of %s, got %s", id, l.raw)
		}
		if w, _ := l.m["warning"].(string); !strings.Contains(w, "capped at 100000") {
			t.Errorf("the result does not carry the cap as a warning: %s", l.raw)
		}
		// KataGo reads a setting given as text as the number it holds: the cap applies.
		id = k.send(katrainQuery(opening, 10, map[string]any{"overrideSettings": map[string]any{"maxVisits": "10000000", "maxTime": 0.05}}))
		if l := k.read(); l.id != id || l.kind != "final" || !strings.Contains(l.raw, "capped at 100000") {
			t.Fatalf("want the final result of %s with the cap as a warning, got %s", id, l.raw)
		}
		if data, _ := os.ReadFile(trace); strings.Contains(string(data), `"maxVisits":"10000000"`) {
			t.Errorf("overrideSettings maxVisits as text reached KataGo uncapped:\n%s", data)
		}
	})

	t.Run("illegal move", func(t *testing.T) {
		id := k.send(katrainQuery([][2]string{{"B", "Q16"}, {"W", "Q16"}}, 10, nil))
		l := k.read()
		if l.id != id || l.kind != "error" || !strings.Contains(l.m["error"].(string), "Illegal move") || l.m["field"] != "moves" {
			t.Fatalf("want KataGo's illegal-move error for %s, got %s", id, l.raw)
		}
	})

	t.Run("malformed lines", func(t *testing.T) {
		if err := k.conn.Write(context.Background(), websocket.MessageText, []byte("this is not json\n{\"moves\":[]}")); err != nil {
			t.Fatal(err)
		}
		a, b := k.read(), k.read()
		if a.kind != "error" || a.id != "" || b.kind != "error" || b.m["error"] != `Request must have a string "id" field` {
			t.Fatalf("want two errors without id, got %s and %s", a.raw, b.raw)
		}
	})

	t.Run("terminate_all", func(t *testing.T) {
		a := k.send(katrainQuery(opening, 10_000_000, map[string]any{"reportDuringSearchEvery": 0.1}))
		b := k.send(katrainQuery(opening[:2], 10_000_000, map[string]any{"reportDuringSearchEvery": 0.1}))
		k.readUntil(func(l kline) bool { return l.kind == "partial" })
		all := k.send(map[string]any{"action": "terminate_all"})
		finals := map[string]bool{}
		acked := false
		for !acked || len(finals) < 2 {
			l := k.read()
			switch {
			case l.kind == "action" && l.id == all:
				acked = true
			case l.kind == "final" || l.kind == "noResults":
				finals[l.id] = true
			}
		}
		if !finals[a] || !finals[b] {
			t.Errorf("finals for %v, want %s and %s", finals, a, b)
		}
	})

	t.Run("reconnect and resend", func(t *testing.T) {
		id := k.send(katrainQuery(opening, 8000, nil)) // two seconds of search
		payload := k.sent[id]
		before := terminates()
		waitFor(t, "KataGo to read the query", func() bool {
			data, _ := os.ReadFile(trace)
			return strings.Contains(string(data), `"maxVisits":8000`)
		})
		k.conn.CloseNow() // the connection drops with the query unanswered
		waitFor(t, "KataGo to read a terminate for the dropped connection's query", func() bool {
			return terminates() > before
		})
		k2, _, err := dialKaTrain(t, e.url, token)
		if err != nil {
			t.Fatal(err)
		}
		k2.sendRaw(payload) // _resend_outstanding
		l := k2.read()
		if l.id != id || l.kind != "final" || l.visits() != 8000 {
			t.Fatalf("want the final result of the resent %s, got %s", id, l.raw)
		}
	})
}

// TestInteractiveThreadsOnTheSharedEngine: on one CPU engine tuned for reviews, whose
// positions search with one thread each, KataGo reads the latency settings' search
// threads on every KaTrain turn and single position, beside the client's own settings,
// and not on a review's turns; a KaTrain turn at priority 0 and a single position have the
// same KataGo priority, above the review's.
func TestInteractiveThreadsOnTheSharedEngine(t *testing.T) {
	t.Parallel()
	trace := filepath.Join(t.TempDir(), "katago-stdin.jsonl")
	cpu := &engine.Hardware{Backend: engine.BackendEigen, Cores: 2}
	e := startEnv(t, envOptions{
		fakeEnv: []string{enginetest.EnvVisitsPerSec + "=4000", enginetest.EnvTrace + "=" + trace},
		fitted:  cpu, noTokens: true,
	})
	threads := engine.Fit(*cpu).Interactive.SearchThreadsPerAnalysisThread
	k, _, err := dialKaTrain(t, e.url, "")
	if err != nil {
		t.Fatal(err)
	}
	k.send(katrainQuery(opening[:3], 50, map[string]any{"overrideSettings": map[string]any{"wideRootNoise": 0.04}}))
	if l := k.read(); l.kind != "final" {
		t.Fatalf("KaTrain query: %s", l.raw)
	}
	if r := e.do(t, "POST", "/api/v1/positions", "", position(map[string]any{"maxVisits": 60})); r.status != http.StatusOK {
		t.Fatalf("position: %d %s", r.status, r.body)
	}
	e.follow(t, "", e.submit(t, "", game3, map[string]string{"maxVisits": "70"}))

	data, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]int{}
	priority := map[int]int{} // KataGo priority by maxVisits
	for line := range strings.SplitSeq(string(data), "\n") {
		var q katago.Query
		if json.Unmarshal([]byte(line), &q) != nil || q.MaxVisits == nil || q.Action != "" {
			continue
		}
		if q.Priority != nil {
			priority[*q.MaxVisits] = *q.Priority
		}
		got := q.OverrideSettings["numSearchThreads"]
		switch *q.MaxVisits {
		case 50:
			if got != float64(threads) || q.OverrideSettings["wideRootNoise"] != 0.04 {
				t.Errorf("KaTrain's turn: overrideSettings %v, want numSearchThreads %d and wideRootNoise 0.04", q.OverrideSettings, threads)
			}
		case 60:
			if got != float64(threads) {
				t.Errorf("single position: overrideSettings %v, want numSearchThreads %d", q.OverrideSettings, threads)
			}
		case 70:
			if got != nil {
				t.Errorf("review: overrideSettings %v, want the engine's own threads", q.OverrideSettings)
			}
		}
		seen[*q.MaxVisits]++
	}
	for _, v := range []int{50, 60, 70} {
		if seen[v] == 0 {
			t.Errorf("KataGo read no query at %d visits: %v", v, seen)
		}
	}
	if priority[50] != priority[60] || priority[70] >= priority[60] {
		t.Errorf("KataGo priorities: KaTrain's turn %d, single position %d, review %d; want the first two level, above the review",
			priority[50], priority[60], priority[70])
	}
}

// oneAtATime dials a server that searches one turn at a time: over the engine path
// ("engine"), one KataGo search thread, which orders the turns waiting for it; over the
// queue path ("queue"), an API server without engines whose connection keeps one turn in
// the queue (SocketQueries 1) and its other turns in its window. settled(n, visits)
// returns once the n queries with visits maxVisits sent last have reached what orders
// them: KataGo reads its input in its own time, the window takes a turn as the query
// arrives.
func oneAtATime(t *testing.T, path string) (k *katrain, settled func(n, visits int)) {
	t.Helper()
	return oneAtATimeWith(t, path, api.Config{})
}

// oneAtATimeWith is oneAtATime for a server with cfg's limits.
func oneAtATimeWith(t *testing.T, path string, cfg api.Config) (k *katrain, settled func(n, visits int)) {
	t.Helper()
	switch path {
	case "engine":
		trace := filepath.Join(t.TempDir(), "katago-stdin.jsonl")
		e := startEnv(t, envOptions{
			fakeEnv: []string{enginetest.EnvVisitsPerSec + "=4000", enginetest.EnvTrace + "=" + trace},
			threads: 1, noTokens: true, api: cfg,
		})
		k, _, err := dialKaTrain(t, e.url, "")
		if err != nil {
			t.Fatal(err)
		}
		return k, func(n, visits int) {
			t.Helper()
			waitFor(t, fmt.Sprintf("KataGo to read %d queries", n), func() bool {
				data, _ := os.ReadFile(trace)
				return strings.Count(string(data), fmt.Sprintf(`"maxVisits":%d`, visits)) >= n
			})
		}
	case "queue":
		cfg.SocketQueries = 1
		url, _ := queueServer(t, cfg)
		k, _, err := dialKaTrain(t, url, "")
		if err != nil {
			t.Fatal(err)
		}
		return k, func(int, int) {}
	}
	t.Fatalf("no path %q", path)
	return nil, nil
}

// queueServer serves cfg with a queue and one worker with the fake engine and no engines
// of its own, as an API server of a Redis deployment; it returns the server's URL and
// the KataGo version the worker reports.
func queueServer(t *testing.T, cfg api.Config) (string, string) {
	t.Helper()
	q := sqlitetest.Open(t, queue.SQLiteConfig{})
	t.Cleanup(func() { q.Close() })
	eng := enginetest.Start(t, enginetest.Config(t, enginetest.EnvVisitsPerSec+"=4000"))
	v, err := eng.Version(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	w := worker.New(q, worker.Config{Engines: []worker.Analyzer{eng}, HeartbeatInterval: 50 * time.Millisecond,
		Info: queue.WorkerInfo{KataGoVersion: v.Version, Model: "fake-model"}})
	if err := w.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		w.Stop(ctx)
	})
	cfg.Queue = q
	return serveQueue(t, cfg, nil), v.Version
}

// onBothPaths runs test as a subtest on a server of each path (see oneAtATime).
func onBothPaths(t *testing.T, test func(t *testing.T, k *katrain, settled func(n, visits int))) {
	onBothPathsWith(t, api.Config{}, test)
}

// onBothPathsWith is onBothPaths for servers with cfg's limits.
func onBothPathsWith(t *testing.T, cfg api.Config, test func(t *testing.T, k *katrain, settled func(n, visits int))) {
	for _, path := range []string{"engine", "queue"} {
		t.Run(path, func(t *testing.T) {
			t.Parallel()
			k, settled := oneAtATimeWith(t, path, cfg)
			test(t, k, settled)
		})
	}
}

// ponder starts a pondering query and returns its id once it is being searched.
func (k *katrain) ponder(moves [][2]string) string {
	k.t.Helper()
	id := k.send(katrainQuery(moves, 10_000_000, map[string]any{"reportDuringSearchEvery": 0.05}))
	k.readUntil(func(l kline) bool { return l.id == id && l.kind == "partial" })
	return id
}

// TestKaTrainPriority: turns waiting for a search start highest priority first, as
// KataGo orders them, on both paths. Each turn ponders until it is terminated, so the
// one that reports after its predecessor's end is the one that started next.
func TestKaTrainPriority(t *testing.T) {
	t.Parallel()
	onBothPaths(t, func(t *testing.T, k *katrain, settled func(n, visits int)) {
		running := k.ponder(opening)
		byPrio := map[string]int{}
		for _, p := range []int{1, 5, 3, -2} {
			byPrio[k.send(katrainQuery(opening[:2], 9_000_000, map[string]any{"priority": p, "reportDuringSearchEvery": 0.05}))] = p
		}
		settled(4, 9_000_000)
		var order []int
		for len(order) < len(byPrio) {
			k.send(map[string]any{"action": "terminate", "terminateId": running})
			lines := k.readUntil(func(l kline) bool { return l.kind == "partial" && l.id != running })
			l := lines[len(lines)-1]
			running = l.id
			order = append(order, byPrio[l.id])
		}
		if diff := cmp.Diff([]int{5, 3, 1, -2}, order); diff != "" {
			t.Errorf("order of searches by priority (-want +got):\n%s", diff)
		}
	})
}

// TestKaTrainNegativePriorities: KaTrain's sweep (priority -10) queued after a whole-game
// analysis (-100) starts first, on both paths, as KataGo orders them.
func TestKaTrainNegativePriorities(t *testing.T) {
	t.Parallel()
	onBothPaths(t, func(t *testing.T, k *katrain, settled func(n, visits int)) {
		running := k.ponder(opening)
		low := k.send(katrainQuery(opening[:2], 9_000_000, map[string]any{"priority": -100, "reportDuringSearchEvery": 0.05}))
		settled(1, 9_000_000)
		high := k.send(katrainQuery(opening[:2], 8_000_000, map[string]any{"priority": -10, "reportDuringSearchEvery": 0.05}))
		settled(1, 8_000_000)
		k.send(map[string]any{"action": "terminate", "terminateId": running})
		lines := k.readUntil(func(l kline) bool { return l.kind == "partial" && l.id != running })
		if got := lines[len(lines)-1].id; got != high {
			t.Errorf("the search that started next is %s; want %s (priority -10) before %s (priority -100)", got, high, low)
		}
	})
}

// refusedQueries are query fields KataGo refuses, each with the field and message of
// KataGo's error line (any message where error is empty: the queue path words its own).
var refusedQueries = []struct {
	name         string
	fields       map[string]any // set on a valid query of one move
	field, error string
}{
	// A field of the wrong type is named, in KataGo's words.
	{"maxVisits a string", map[string]any{"maxVisits": "100"}, "maxVisits", "Must be an integer from 1 to 2^50"},
	// A boolean field of the wrong type.
	{"includeOwnership a string", map[string]any{"includeOwnership": "yes"}, "includeOwnership", "Must be a boolean"},
	// A board size out of KataGo's range is refused, not taken for the default.
	{"board of 0", map[string]any{"boardXSize": 0}, "boardXSize", "Must provide an integer from 2 to 19"},
	{"board of 20", map[string]any{"boardYSize": 20}, "boardYSize", "Must provide an integer from 2 to 19"},
	// A move that is not a pair of strings.
	{"move of a number", map[string]any{"moves": []any{[]any{"B", 1}}}, "moves", `Must be an array of pairs of the form: ["b" or "w", GTP board vertex]`},
	// A priority beyond what an integer holds.
	{"priority past int64", map[string]any{"priority": json.Number("99999999999999999999")}, "priority", "Must be a number between -2^62 and 2^62"},
	// An entry of avoidMoves is named by its own field, as KataGo does.
	{"avoidMoves player a number", map[string]any{"avoidMoves": []any{map[string]any{"player": 1, "moves": []string{"C3"}, "untilDepth": 1}}}, "player", `Must be "b" or "w"`},
	// maxVisits from 1.
	{"maxVisits 0", map[string]any{"maxVisits": 0}, "maxVisits", "Must be an integer from 1 to 2^50"},
	// Reports every so many seconds, from a thousandth.
	{"negative report interval", map[string]any{"reportDuringSearchEvery": -1}, "reportDuringSearchEvery", "Must be number of seconds from 0.001 to 1000000.0"},
	// priority within ±2^62.
	{"priority 2^62", map[string]any{"priority": int64(1 << 62)}, "priority", "Must be a number between -2^62 and 2^62"},
	// A move of three elements.
	{"move of three", map[string]any{"moves": [][]string{{"B", "Q16", "x"}}}, "moves", `Must be an array of pairs of the form: ["b" or "w", GTP board vertex]`},
	// A move of one element.
	{"move of one", map[string]any{"moves": [][]string{{"B"}}}, "moves", `Must be an array of pairs of the form: ["b" or "w", GTP board vertex]`},
	// null is no value of a field.
	{"maxVisits null", map[string]any{"maxVisits": nil}, "maxVisits", "Must be an integer from 1 to 2^50"},
	// An entry of avoidMoves needs its three fields.
	{"avoidMoves null entry", map[string]any{"avoidMoves": []any{nil}}, "avoidMoves", "Must be a list of dicts with subfields 'player', 'moves', 'untilDepth'"},
	// komi out of range.
	{"komi 1000", map[string]any{"komi": 1000}, "komi", ""},
	// A board larger than KataGo's.
	{"board 40 wide", map[string]any{"boardXSize": 40}, "boardXSize", ""},
	// Rules KataGo does not know.
	{"unknown rules", map[string]any{"rules": "nonsense"}, "rules", ""},
	// A turn past the moves refuses the whole query, its valid turns too.
	{"turn past the moves", map[string]any{"analyzeTurns": []int{0, 99}}, "analyzeTurns", "Invalid turn number: 99"},
	// A negative turn refuses the whole query.
	{"negative turn", map[string]any{"analyzeTurns": []int{-1, 1}}, "analyzeTurns", "Invalid turn number: -1"},
	// priorities pairs with analyzeTurns one to one.
	{"priorities longer than analyzeTurns", map[string]any{"analyzeTurns": []int{0}, "priorities": []int{1, 2}}, "priorities", "Must be of matching length to analyzeTurns"},
	// priorities needs analyzeTurns.
	{"priorities without analyzeTurns", map[string]any{"priorities": []int{1}}, "priorities", "Can only specify when also specifying analyzeTurns"},
	// priorities stay within ±2^62.
	{"priorities out of range", map[string]any{"analyzeTurns": []int{0}, "priorities": []int64{1 << 62}}, "priorities", "Invalid priority: 4611686018427387904"},
	// priority and priorities exclude each other.
	{"priority and priorities", map[string]any{"analyzeTurns": []int{0}, "priorities": []int{1}, "priority": 1}, "priority", "Cannot specify both priority and priorities"},
}

// TestKataGoRefusedQueries: a query KataGo refuses gets one error line with KataGo's field
// and message and no result, on both paths. A terminate of the refused query follows its
// first line: a turn of the query in progress would answer it.
func TestKataGoRefusedQueries(t *testing.T) {
	t.Parallel()
	onBothPaths(t, func(t *testing.T, k *katrain, _ func(n, visits int)) {
		for _, c := range refusedQueries {
			q := map[string]any{"id": "refused", "moves": [][]string{{"B", "Q16"}}, "rules": "chinese", "komi": 7,
				"boardXSize": 19, "boardYSize": 19, "maxVisits": 20}
			for f, v := range c.fields {
				q[f] = v
			}
			k.sendRaw(q)
			lines := k.readUntil(func(l kline) bool { return l.id == "refused" })
			k.send(map[string]any{"action": "terminate", "terminateId": "refused"})
			marker := k.send(map[string]any{"action": "query_version"})
			lines = append(lines[len(lines)-1:], k.readUntil(func(l kline) bool { return l.id == marker })...)
			var got []string // the refused query's error lines, and the kinds of its other lines
			for _, l := range lines {
				switch {
				case l.id != "refused":
				case l.kind == "error":
					got = append(got, l.raw)
				default:
					got = append(got, l.kind)
				}
			}
			want := map[string]any{"id": "refused", "field": c.field, "error": c.error}
			var line map[string]any
			if len(got) == 1 && json.Unmarshal([]byte(got[0]), &line) == nil && c.error == "" {
				want["error"] = line["error"]
			}
			if len(got) != 1 || !cmp.Equal(line, want) {
				t.Errorf("%s: lines %v, want only %v", c.name, got, want)
			}
		}
	})
}

// TestKataGoRequestIDs: every line about a request carries its id, an empty one too, and
// a request needs a string id, as in KataGo; a terminate needs a string terminateId and,
// when it has turnNumbers, an array.
func TestKataGoRequestIDs(t *testing.T) {
	t.Parallel()
	k, _ := oneAtATime(t, "engine")
	const query = `"moves":[],"rules":"chinese","komi":7,"boardXSize":9,"boardYSize":9,"maxVisits":5`
	for _, c := range []struct {
		name, line string
		want       map[string]any // keys of the answer's first line (nil: absent); absent keys not listed are not checked
	}{
		// A query with an empty id gets its result under that id.
		{"empty id", `{"id":"",` + query + `}`, map[string]any{"id": "", "turnNumber": 0.0}},
		// An action with an empty id is answered under that id.
		{"empty id action", `{"id":"","action":"query_version"}`, map[string]any{"id": "", "action": "query_version"}},
		// A null id is no string: the error line has no id.
		{"null id", `{"id":null,` + query + `}`, map[string]any{"id": nil, "error": `Request must have a string "id" field`}},
		// A number is no string id either.
		{"number id", `{"id":5,` + query + `}`, map[string]any{"id": nil, "error": `Request must have a string "id" field`}},
		// A query needs the board's size and the moves, as KataGo says.
		{"no moves", `{"id":"m","rules":"chinese","komi":7,"boardXSize":9,"boardYSize":9,"maxVisits":5}`,
			map[string]any{"id": "m", "field": "moves", "error": "Must specify an array of [player,location] pairs"}},
		{"no boardXSize", `{"id":"x","moves":[],"rules":"chinese","komi":7,"boardYSize":9,"maxVisits":5}`,
			map[string]any{"id": "x", "field": "boardXSize", "error": "Must provide an integer from 2 to 19"}},
		{"no boardYSize", `{"id":"y","moves":[],"rules":"chinese","komi":7,"boardXSize":9,"maxVisits":5}`,
			map[string]any{"id": "y", "field": "boardYSize", "error": "Must provide an integer from 2 to 19"}},
		// An action that is no string is ignored: KataGo analyzes the line as a query.
		{"action a number", `{"id":"a","action":5,` + query + `}`, map[string]any{"id": "a", "turnNumber": 0.0}},
		// A null terminateId is no string.
		{"null terminateId", `{"id":"t","action":"terminate","terminateId":null}`,
			map[string]any{"id": "t", "field": "terminateId", "error": `Requests for a terminate action must have a string "terminateId" field`}},
		// Null turnNumbers are no array.
		{"null turnNumbers", `{"id":"t","action":"terminate","terminateId":"x","turnNumbers":null}`,
			map[string]any{"id": "t", "field": "turnNumbers", "error": "If provided, must be an array of integers indicating turns to terminate"}},
	} {
		if err := k.conn.Write(context.Background(), websocket.MessageText, []byte(c.line)); err != nil {
			t.Fatal(err)
		}
		l := k.read()
		got := map[string]any{}
		for key := range c.want {
			got[key] = l.m[key]
		}
		if _, ok := l.m["id"]; c.want["id"] != nil && !ok {
			got["id"] = "(absent)"
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("%s: %.200s (-want +got):\n%s", c.name, l.raw, diff)
		}
	}
}

// TestKataGoActionsDoNotHoldTheReader: a query_version or query_models that no engine can
// answer yet (a KataGo that stopped answering, as one restarting does) does not hold up the
// lines after it: a terminate_all sent after them is acknowledged, as KataGo answers each
// line as it reads it, while the two actions still wait for an answer.
func TestKataGoActionsDoNotHoldTheReader(t *testing.T) {
	t.Parallel()
	// KataGo answers one search, then nothing more.
	e := startEnv(t, envOptions{fakeEnv: []string{enginetest.EnvHangAfter + "=1"}, noTokens: true, turnTimeout: time.Hour})
	k, _, err := dialKaTrain(t, e.url, "")
	if err != nil {
		t.Fatal(err)
	}
	first := k.send(katrainQuery(opening[:2], 5, nil))
	k.readUntil(func(l kline) bool { return l.id == first && l.kind == "final" })
	k.send(map[string]any{"action": "query_version"})
	k.send(map[string]any{"action": "query_models"})
	term := k.send(map[string]any{"action": "terminate_all"})
	if l := k.read(); l.id != term {
		t.Errorf("first line %.200s, want the acknowledgement of %s", l.raw, term)
	}
}

// TestKaTrainTerminateOrder: a terminated turn that waits for a search answers noResults
// before the acknowledgement, and a running one its final result after it, as KataGo
// does, on both paths.
func TestKaTrainTerminateOrder(t *testing.T) {
	t.Parallel()
	onBothPaths(t, func(t *testing.T, k *katrain, settled func(n, visits int)) {
		blocker := k.ponder(opening)
		waiting := k.send(katrainQuery(opening[:2], 30, nil))
		settled(1, 30)
		kinds := func(lines []kline) []string {
			var out []string
			for _, l := range lines {
				if l.id != blocker || l.kind != "partial" {
					out = append(out, l.kind+" "+l.id)
				}
			}
			return out
		}
		term := k.send(map[string]any{"action": "terminate", "terminateId": waiting})
		got := kinds(k.readUntil(func(l kline) bool { return l.id == term }))
		if diff := cmp.Diff([]string{"noResults " + waiting, "terminate " + term}, got); diff != "" {
			t.Errorf("lines after terminating the waiting query (-want +got):\n%s", diff)
		}
		term = k.send(map[string]any{"action": "terminate", "terminateId": blocker})
		lines := k.readUntil(func(l kline) bool { return l.id == blocker && l.kind != "partial" })
		if diff := cmp.Diff([]string{"terminate " + term, "final " + blocker}, kinds(lines)); diff != "" {
			t.Errorf("lines after terminating the running query (-want +got):\n%s", diff)
		}
		if final := lines[len(lines)-1]; final.visits() == 0 {
			t.Errorf("the running query's final result has no visits: %s", final.raw)
		}
	})
}

// TestKaTrainTerminateSilentSearch: on the engine path, a terminated search under way
// that has not reported yet ends after the acknowledgement with KataGo's final result of
// the search so far, not noResults, as KataGo answers.
func TestKaTrainTerminateSilentSearch(t *testing.T) {
	t.Parallel()
	k, settled := oneAtATime(t, "engine")
	id := k.send(katrainQuery(opening, 40_000, nil)) // seconds at 4000 visits/s, no reports
	settled(1, 40_000)                               // KataGo's one search thread runs it
	term := k.send(map[string]any{"action": "terminate", "terminateId": id})
	var kinds []string
	for _, l := range k.readUntil(func(l kline) bool { return l.id == id && l.kind != "partial" }) {
		kinds = append(kinds, l.kind+" "+l.id)
	}
	if diff := cmp.Diff([]string{"terminate " + term, "final " + id}, kinds); diff != "" {
		t.Errorf("lines after terminating the silent search (-want +got):\n%s", diff)
	}
}

// TestKaTrainJobSlotsThroughQueue: through the queue a websocket turn is a job of the
// token, holding one of its JobsPerToken slots until it ends; a turn without a free slot
// waits for one instead of failing.
func TestKaTrainJobSlotsThroughQueue(t *testing.T) {
	t.Parallel()
	url, _ := queueServer(t, api.Config{JobsPerToken: 1})
	k, _, err := dialKaTrain(t, url, "")
	if err != nil {
		t.Fatal(err)
	}
	blocker := k.ponder(opening)
	body := strings.NewReader(`{"moves":[["B","E5"]],"boardXSize":9,"boardYSize":9,"komi":7,"rules":"chinese","maxVisits":10}`)
	resp, err := http.Post(url+"/api/v1/positions", "application/json", body)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("a position while the websocket turn holds the only slot: %d, want 429", resp.StatusCode)
	}
	waiting := k.send(katrainQuery(opening[:2], 20, nil))
	k.send(map[string]any{"action": "terminate", "terminateId": blocker})
	finals := map[string]bool{}
	for len(finals) < 2 {
		switch l := k.read(); {
		case l.kind == "error":
			t.Fatalf("a turn failed instead of waiting for a slot: %s", l.raw)
		case l.kind == "final":
			finals[l.id] = true
		}
	}
	if !finals[blocker] || !finals[waiting] {
		t.Errorf("finals for %v, want %s and %s", finals, blocker, waiting)
	}
}

// TestKaTrainThroughQueue: an API server without engines of its own runs websocket
// queries as interactive jobs for the workers, and says once which fields they drop.
func TestKaTrainThroughQueue(t *testing.T) {
	t.Parallel()
	url, version := queueServer(t, api.Config{})
	k, _, err := dialKaTrain(t, url, "")
	if err != nil {
		t.Fatal(err)
	}

	id := k.send(map[string]any{"action": "query_version"})
	if l := k.read(); l.id != id || l.m["version"] != version {
		t.Fatalf("query_version: %s", l.raw)
	}
	id = k.send(katrainQuery(opening[:3], 100, nil))
	l := k.read()
	if l.id != id || l.kind != "final" || l.turn() != 3 || l.visits() != 100 {
		t.Fatalf("want the final result of %s, got %s", id, l.raw)
	}
	// A worker's job carries everything KaTrain asks for: no warning, the policy and
	// each move's ownership come back.
	if w1, ok := l.m["warning"]; ok {
		t.Errorf("a warning for KaTrain's query: %v", w1)
	}
	if pol, _ := l.m["policy"].([]any); len(pol) != 362 {
		t.Errorf("policy has %d values, want 362", len(pol))
	}
	if mis, _ := l.m["moveInfos"].([]any); len(mis) == 0 || len(mis[0].(map[string]any)["ownership"].([]any)) != 361 {
		t.Errorf("the moves have no ownership: %s", l.raw)
	}
	if own, _ := l.m["ownership"].([]any); len(own) != 361 {
		t.Errorf("ownership has %d values, want 361", len(own))
	}
	id = k.send(katrainQuery(opening, 10_000_000, map[string]any{"reportDuringSearchEvery": 0.1}))
	first := k.read()
	if first.id != id || first.kind != "partial" || strings.Contains(first.raw, "warning") {
		t.Fatalf("want a partial report of %s without a warning, got %s", id, first.raw)
	}
	term := k.send(map[string]any{"action": "terminate", "terminateId": id})
	lines := k.readUntil(func(l kline) bool { return l.id == id && l.kind == "final" })
	if !slices.ContainsFunc(lines, func(l kline) bool { return l.kind == "terminate" && l.id == term }) {
		t.Errorf("no acknowledgement of the terminate in %v", lines)
	}
}

// TestKaTrainPonderingStoppedBeforeItsReport: through the queue, a pondering turn whose
// worker shuts down before the search's first report answers noResults, as KataGo answers
// a turn that ended before its search, not an error, and without a warning.
func TestKaTrainPonderingStoppedBeforeItsReport(t *testing.T) {
	t.Parallel()
	q := sqlitetest.Open(t, queue.SQLiteConfig{})
	t.Cleanup(func() { q.Close() })
	eng := enginetest.Start(t, enginetest.Config(t, enginetest.EnvVisitsPerSec+"=1000"))
	w := worker.New(q, worker.Config{Engines: []worker.Analyzer{eng}, ShutdownGrace: time.Hour})
	if err := w.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	url := serveQueue(t, api.Config{Queue: q}, nil)
	k, _, err := dialKaTrain(t, url, "")
	if err != nil {
		t.Fatal(err)
	}
	// rootPolicyTemperature is not carried by a job: the turn has a warning to attach.
	id := k.send(katrainQuery(opening, 10_000_000, map[string]any{"reportDuringSearchEvery": 3600,
		"rootPolicyTemperature": 1.1}))
	waitFor(t, "KataGo to get the search", func() bool { return eng.InFlight() > 0 })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.Stop(ctx); err != nil {
		t.Fatalf("stop the worker: %v", err)
	}
	l := k.read()
	if l.id != id || l.kind != "noResults" || l.turn() != len(opening) {
		t.Fatalf("want noResults for turn %d of %s, got %s", len(opening), id, l.raw)
	}
	if _, ok := l.m["warning"]; ok {
		t.Errorf("the noResults line carries a warning: %s", l.raw)
	}
}

// TestKaTrainEngineCrash: a turn whose KataGo crashed runs again once the engine has
// restarted, so the client gets its final result, not an error.
func TestKaTrainEngineCrash(t *testing.T) {
	t.Parallel()
	once := filepath.Join(t.TempDir(), "crashed")
	e := startEnv(t, envOptions{noTokens: true,
		fakeEnv: []string{enginetest.EnvCrashOnce + "=" + once, enginetest.EnvVisitsPerSec + "=4000"}})
	k, _, err := dialKaTrain(t, e.url, "")
	if err != nil {
		t.Fatal(err)
	}
	id := k.send(katrainQuery(opening, 50, nil))
	if l := k.read(); l.id != id || l.kind != "final" || l.visits() != 50 {
		t.Fatalf("want the final result of %s after the crash, got %s", id, l.raw)
	}
	if _, err := os.Stat(once); err != nil {
		t.Errorf("KataGo did not crash: %v", err)
	}
}
