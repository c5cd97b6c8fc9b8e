package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/tesuji/tesuji/engine/enginetest"
	"github.com/tesuji/tesuji/game"
)

// stop ends a serve with SIGTERM and waits for it.
func (p *proc) stop(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	err := <-p.exited
	p.exited <- err // for startServe's cleanup
}

// TestServeSurvivesCrash: reviews made by one serve are there for the next; a serve
// killed with SIGKILL in the middle of a 200-move review leaves it to the next serve on the
// same --data, which runs only the turns without a result, and a client that follows the
// events with Last-Event-ID across the crash gets every turn exactly once.
func TestServeSurvivesCrash(t *testing.T) {
	t.Parallel()
	data := t.TempDir()

	// 50 reviews, finished, then a clean stop.
	first := startServe(t, nil, "--data", data)
	var earlier []string
	for i := range 50 {
		// A komi of its own keeps each submission from collapsing into another.
		sgf := strings.Replace(e2eGame, "KM[6.5]", fmt.Sprintf("KM[%d.5]", i), 1)
		earlier = append(earlier, submit(t, first.url, sgf))
	}
	for _, id := range earlier {
		if evs := readSSE(t, first.url+"/api/v1/analyses/"+id+"/events", ""); evs[len(evs)-1].typ != "done" {
			t.Fatalf("review %s ended %s", id, evs[len(evs)-1].typ)
		}
	}
	first.stop(t, syscall.SIGTERM)

	// A serve whose engine goes silent after 30 results, killed once turns are stored.
	second := startServe(t, []string{enginetest.EnvHangAfter + "=30"}, "--data", data)
	id := submit(t, second.url, stonesGame("CA[UTF-8]SZ[19]KM[6.5]RU[Japanese]PB[Crash Black]PW[Crash White]DT[2026-11-21]", 200, 200))
	seen := map[int]int{}
	lastID := ""
	for _, e := range readSSEUntil(t, second.url+"/api/v1/analyses/"+id+"/events", 10) {
		lastID = e.id
		countTurn(t, e, seen)
	}
	second.stop(t, syscall.SIGKILL)

	third := startServe(t, nil, "--data", data)
	rest := readSSE(t, third.url+"/api/v1/analyses/"+id+"/events", lastID)
	for _, e := range rest {
		countTurn(t, e, seen)
	}
	if last := rest[len(rest)-1]; last.typ != "done" {
		t.Fatalf("the review ended %s, want done", last.typ)
	}
	for turn := 0; turn <= 200; turn++ {
		if seen[turn] != 1 {
			t.Errorf("turn %d arrived %d times across the crash, want exactly once", turn, seen[turn])
		}
	}
	for _, id := range earlier {
		for _, path := range []string{"", "/sgf"} {
			resp, body := get(t, third.url+"/api/v1/analyses/"+id+path)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("review %s%s after two restarts: %s: %s", id, path, resp.Status, body)
			}
		}
	}
}

func countTurn(t *testing.T, e sseEvent, seen map[int]int) {
	t.Helper()
	if e.typ != "turn" {
		return
	}
	var turn game.Turn
	if err := json.Unmarshal([]byte(e.data), &turn); err != nil {
		t.Fatalf("turn event %q: %v", e.data, err)
	}
	seen[turn.Turn]++
}

// TestServeRefusesDataInUse: a second serve on the data of a running one stops at once
// with one line that names the file and what to do.
func TestServeRefusesDataInUse(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	startServe(t, nil, "--data", data)
	out, err := exec.Command(tesujiBinary(t), "serve", "--addr", "127.0.0.1:0", "--data", data).CombinedOutput()
	if err == nil {
		t.Fatalf("the second serve ran:\n%s", out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	last := lines[len(lines)-1]
	if !strings.Contains(last, filepath.Join(data, "tesuji.db")) || !strings.Contains(last, "in use by another tesuji serve") {
		t.Errorf("the second serve said:\n%s\nwant a line naming the file and that it is in use", out)
	}
}
