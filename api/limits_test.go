package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tesuji/tesuji/api"
	"github.com/tesuji/tesuji/engine/enginetest"
)

// position is a single-position request on the 9x9 board of game3.
func position(extra map[string]any) map[string]any {
	p := map[string]any{"moves": [][]string{{"B", "E5"}, {"W", "C7"}}, "boardXSize": 9, "boardYSize": 9,
		"komi": 7, "rules": "chinese", "maxVisits": 10}
	for k, v := range extra {
		p[k] = v
	}
	return p
}

func wantError(t *testing.T, r reply, status int, code string) {
	t.Helper()
	if r.status != status || r.errCode() != code {
		t.Fatalf("got %d %s, want %d %s", r.status, r.body, status, code)
	}
}

func retryAfter(t *testing.T, r reply) int {
	t.Helper()
	n, err := strconv.Atoi(r.header.Get("Retry-After"))
	if err != nil {
		t.Fatalf("Retry-After %q: %v", r.header.Get("Retry-After"), err)
	}
	return n
}

// TestQuota: a token's positions per hour, shared by reviews, single positions and the
// websocket; another token has its own.
func TestQuota(t *testing.T) {
	t.Parallel()
	e := startEnv(t, envOptions{api: api.Config{PositionsPerHour: 10}})
	alice, bob := e.token(t, "alice"), e.token(t, "bob")

	first := e.submit(t, alice, game3, nil) // 4 positions
	e.follow(t, alice, first)
	if again := e.submit(t, alice, game3, nil); again != first {
		t.Fatalf("an identical submission made job %s, not %s", again, first)
	}
	e.submit(t, alice, game3, map[string]string{"maxVisits": "10"}) // 8
	if r := e.do(t, "POST", "/api/v1/positions", alice, position(nil)); r.status != 200 {
		t.Fatalf("position within the quota: %d %s", r.status, r.body) // 9
	}
	r := e.upload(t, alice, game3, map[string]string{"maxVisits": "11"})
	wantError(t, r, http.StatusTooManyRequests, "quota_exceeded")
	if n := retryAfter(t, r); n < 1 || n > 3600 {
		t.Errorf("Retry-After %d, want 1..3600", n)
	}
	if r := e.do(t, "POST", "/api/v1/positions", alice, position(nil)); r.status != 200 {
		t.Fatalf("the last position of the quota: %d %s", r.status, r.body) // 10
	}
	wantError(t, e.do(t, "POST", "/api/v1/positions", alice, position(nil)), http.StatusTooManyRequests, "quota_exceeded")
	// The quota spent, a repeated submission still gets the review it made: it costs nothing.
	if again := e.submit(t, alice, game3, nil); again != first {
		t.Fatalf("an identical submission with the quota spent: job %s, want %s", again, first)
	}
	e.submit(t, bob, game3, nil)
	wantError(t, e.upload(t, bob, game20, nil), http.StatusBadRequest, "exceeds_quota")

	k, _, err := dialKaTrain(t, e.url, alice)
	if err != nil {
		t.Fatal(err)
	}
	id := k.send(katrainQuery(opening[:1], 10, nil))
	l := k.read()
	if l.id != id || l.kind != "error" || !strings.Contains(l.m["error"].(string), "quota") {
		t.Fatalf("websocket query over the quota: %s", l.raw)
	}
}

// TestKaTrainQuotaWholeQuery: a websocket query with more turns than the quota has left
// answers one error line and runs none of its turns, on both paths; the positions left
// still serve a query that fits.
func TestKaTrainQuotaWholeQuery(t *testing.T) {
	t.Parallel()
	onBothPathsWith(t, api.Config{PositionsPerHour: 3}, func(t *testing.T, k *katrain, _ func(n, visits int)) {
		id := k.send(katrainQuery(opening, 20, map[string]any{"analyzeTurns": []int{0, 1, 2, 3, 4}}))
		// A turn of the query in progress would answer the terminate.
		k.send(map[string]any{"action": "terminate", "terminateId": id})
		marker := k.send(map[string]any{"action": "query_version"})
		var kinds []string
		for _, l := range k.readUntil(func(l kline) bool { return l.id == marker }) {
			if l.id == id {
				kinds = append(kinds, l.kind)
			}
		}
		if !slices.Equal(kinds, []string{"error"}) {
			t.Errorf("a query of 5 turns with 3 positions left: lines %v, want one error", kinds)
		}
		k.finals(k.send(katrainQuery(opening, 20, map[string]any{"analyzeTurns": []int{0, 1, 2}})), 3)
	})
}

// TestKaTrainQuotaTerminatedTurns: websocket turns terminated before their search began
// (noResults) analyzed nothing and keep no position of the quota, on both paths.
func TestKaTrainQuotaTerminatedTurns(t *testing.T) {
	t.Parallel()
	onBothPathsWith(t, api.Config{PositionsPerHour: 3}, func(t *testing.T, k *katrain, settled func(n, visits int)) {
		blocker := k.ponder(opening) // 1 position
		waiting := []string{k.send(katrainQuery(opening[:1], 30, nil)), k.send(katrainQuery(opening[:2], 30, nil))}
		settled(2, 30)
		for _, id := range waiting {
			term := k.send(map[string]any{"action": "terminate", "terminateId": id})
			for _, l := range k.readUntil(func(l kline) bool { return l.id == term }) {
				if l.id == id && l.kind != "noResults" {
					t.Fatalf("terminated while waiting, %s answered %s", id, l.raw)
				}
			}
		}
		k.send(map[string]any{"action": "terminate", "terminateId": blocker})
		k.readUntil(func(l kline) bool { return l.id == blocker && l.kind == "final" })
		// 1 position analyzed of 3.
		k.finals(k.send(katrainQuery(opening, 20, map[string]any{"analyzeTurns": []int{0, 1}})), 2)
	})
}

// TestKaTrainQuotaFailedTurn: a websocket turn that failed on the server (KataGo crashing
// on every try) analyzed nothing and keeps no position of the quota.
func TestKaTrainQuotaFailedTurn(t *testing.T) {
	t.Parallel()
	e := startEnv(t, envOptions{api: api.Config{PositionsPerHour: 1}, noTokens: true,
		fakeEnv: []string{enginetest.EnvCrashAfter + "=0"}})
	k, _, err := dialKaTrain(t, e.url, "")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		id := k.send(katrainQuery(opening, 20, nil))
		l := k.read()
		if l.id != id || l.kind != "error" || !strings.Contains(l.m["error"].(string), "try again") {
			t.Fatalf("query %d on a KataGo that crashes: %s; want the server's failure", i+1, l.raw)
		}
	}
}

// TestJobsAtOnce: a token may have JobsPerToken analyses queued or running; a slot frees
// when one ends. A websocket query on a server with engines is no job: it goes straight
// to KataGo while the token's slots are all taken (through the queue it waits for a
// slot: TestKaTrainJobSlotsThroughQueue).
func TestJobsAtOnce(t *testing.T) {
	t.Parallel()
	// KataGo threads enough for every turn of the slow jobs and the websocket's query, so
	// that the query is not searched after them.
	e := startEnv(t, envOptions{
		api:     api.Config{JobsPerToken: 2},
		fakeEnv: []string{enginetest.EnvVisitsPerSec + "=1000"},
		threads: 32,
	})
	alice, bob := e.token(t, "alice"), e.token(t, "bob")
	// A minute a turn and more: no slow job ends before the test cancels it.
	slow := func(n int) map[string]string { return map[string]string{"maxVisits": strconv.Itoa(100000 - n)} }
	a := e.submit(t, alice, game3, slow(0))
	e.submit(t, alice, game3, slow(1))
	r := e.upload(t, alice, game3, slow(2))
	wantError(t, r, http.StatusTooManyRequests, "too_many_jobs")
	if n := retryAfter(t, r); n < 1 {
		t.Errorf("Retry-After %d", n)
	}
	// Every slot taken, a repeated submission gets its review, which takes none.
	if again := e.submit(t, alice, game3, slow(0)); again != a {
		t.Fatalf("an identical submission with every slot taken: job %s, want %s", again, a)
	}
	wantError(t, e.do(t, "POST", "/api/v1/positions", alice, position(nil)), http.StatusTooManyRequests, "too_many_jobs")
	e.submit(t, bob, game3, slow(0))

	k, _, err := dialKaTrain(t, e.url, alice)
	if err != nil {
		t.Fatal(err)
	}
	id := k.send(katrainQuery(opening[:1], 10, nil))
	if l := k.read(); l.id != id || l.kind != "final" {
		t.Fatalf("the websocket query while the token's slots are all taken: %s", l.raw)
	}
	wantError(t, e.do(t, "POST", "/api/v1/positions", alice, position(nil)), http.StatusTooManyRequests, "too_many_jobs")

	if r := e.do(t, "DELETE", "/api/v1/analyses/"+a, alice, nil); r.status != 200 {
		t.Fatalf("cancel: %d %s", r.status, r.body)
	}
	e.submit(t, alice, game3, slow(3))
}

// TestRequestLimits: the limits of one request, each with its status and code.
func TestRequestLimits(t *testing.T) {
	t.Parallel()
	e := startEnv(t, envOptions{noTokens: true, api: api.Config{MaxUploadBytes: 2048, MaxMoves: 10, MaxVisits: 1000}})
	big := strings.Replace(game3, ";B[ee]", ";B[ee]C["+strings.Repeat("x", 3000)+"]", 1)
	manyMoves := make([][]string, 11)
	for i := range manyMoves {
		manyMoves[i] = []string{[]string{"B", "W"}[i%2], fmt.Sprintf("%c%d", 'A'+i%8, 1+i/8)}
	}
	tests := []struct {
		name   string
		send   func() reply
		status int
		code   string
	}{
		{"multipart upload too large", func() reply { return e.upload(t, "", big, nil) }, 413, "too_large"},
		{"JSON upload too large", func() reply { return e.do(t, "POST", "/api/v1/analyses", "", map[string]any{"sgf": big}) }, 413, "too_large"},
		{"raw upload too large", func() reply { return e.do(t, "POST", "/api/v1/analyses", "", big) }, 413, "too_large"},
		{"position too large", func() reply {
			return e.do(t, "POST", "/api/v1/positions", "", position(map[string]any{"sgf": big}))
		}, 413, "too_large"},
		{"too many moves", func() reply { return e.upload(t, "", game20, nil) }, 400, "too_many_moves"},
		{"position with too many moves", func() reply {
			return e.do(t, "POST", "/api/v1/positions", "", position(map[string]any{"moves": manyMoves}))
		}, 400, "too_many_moves"},
		{"board too large", func() reply { return e.upload(t, "", strings.Replace(game3, "SZ[9]", "SZ[25]", 1), nil) }, 400, "unsupported"},
		{"position board too large", func() reply {
			return e.do(t, "POST", "/api/v1/positions", "", position(map[string]any{"boardXSize": 25, "boardYSize": 25}))
		}, 400, "unsupported"},
		{"visits over the limit", func() reply { return e.upload(t, "", game3, map[string]string{"maxVisits": "1001"}) }, 400, "invalid_visits"},
		{"position visits over the limit", func() reply {
			return e.do(t, "POST", "/api/v1/positions", "", position(map[string]any{"maxVisits": 1001}))
		}, 400, "invalid_visits"},
		{"within every limit", func() reply { return e.upload(t, "", game3, map[string]string{"maxVisits": "1000"}) }, 202, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := tt.send()
			if r.status != tt.status || r.errCode() != tt.code {
				t.Fatalf("got %d %s, want %d %s", r.status, r.body, tt.status, tt.code)
			}
		})
	}

	t.Run("websocket query with too many moves", func(t *testing.T) {
		t.Parallel()
		k, _, err := dialKaTrain(t, e.url, "")
		if err != nil {
			t.Fatal(err)
		}
		moves := make([][2]string, len(manyMoves))
		for i, m := range manyMoves {
			moves[i] = [2]string{m[0], m[1]}
		}
		id := k.send(katrainQuery(moves, 10, nil))
		if l := k.read(); l.id != id || l.kind != "error" || l.m["field"] != "moves" {
			t.Fatalf("got %s", l.raw)
		}
	})
}

// TestJSONUploadCountsTheRecord: the upload limit applies to the record, not to its JSON
// form: a record within it, sent as JSON with every character past ASCII escaped (as
// Python's json.dumps writes it), is taken though its body is longer than the limit.
func TestJSONUploadCountsTheRecord(t *testing.T) {
	t.Parallel()
	e := startEnv(t, envOptions{noTokens: true, api: api.Config{MaxUploadBytes: 200_000}})
	// 60,000 characters of 3 bytes in UTF-8, 6 bytes as \u escapes.
	comment := strings.Repeat("李", 60_000)
	record := strings.Replace(game3, ";B[ee]", ";B[ee]C["+comment+"]", 1)
	body, err := json.Marshal(map[string]any{"sgf": record})
	if err != nil {
		t.Fatal(err)
	}
	body = bytes.ReplaceAll(body, []byte("李"), []byte(`\u674e`))
	if len(record) > 200_000 || len(body) < 6*60_000 {
		t.Fatalf("record of %d bytes, body of %d", len(record), len(body))
	}
	if r := e.do(t, "POST", "/api/v1/analyses", "", json.RawMessage(body)); r.status != http.StatusAccepted {
		t.Fatalf("a record of %d bytes as JSON of %d: %d %s", len(record), len(body), r.status, r.body)
	}
}

// TestQuotaRefundsAPositionThatAnalyzedNothing: a position KataGo refuses gives its
// position back to the quota, as a websocket turn that analyzed nothing does.
func TestQuotaRefundsAPositionThatAnalyzedNothing(t *testing.T) {
	t.Parallel()
	e := startEnv(t, envOptions{api: api.Config{PositionsPerHour: 1}})
	tok := e.token(t, "p")
	r := e.do(t, "POST", "/api/v1/positions", tok, position(map[string]any{"overrideSettings": map[string]any{"wideRootNoise": "abc"}}))
	wantError(t, r, http.StatusUnprocessableEntity, "analysis_failed")
	if r := e.do(t, "POST", "/api/v1/positions", tok, position(nil)); r.status != http.StatusOK {
		t.Fatalf("a position after a refused one, with a quota of 1: %d %s", r.status, r.body)
	}
	wantError(t, e.do(t, "POST", "/api/v1/positions", tok, position(nil)), http.StatusTooManyRequests, "quota_exceeded")
}
