package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tesuji/tesuji/engine/enginetest"
	"github.com/tesuji/tesuji/game"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// tesujiBinary builds the real tesuji binary once per test process: with the race
// detector for tests, without it for benchmarks, whose figures must be the product's.
func tesujiBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "tesuji-e2e-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "tesuji")
		args := []string{"build", "-o", binPath}
		if _, bench := t.(*testing.B); !bench {
			args = append(args, "-race")
		}
		out, err := exec.Command("go", append(args, ".")...).CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// proc is a running tesuji process.
type proc struct {
	cmd    *exec.Cmd
	url    string
	mu     sync.Mutex
	stderr bytes.Buffer
	exited chan error
}

func (p *proc) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// startProc starts cmd, keeping its stderr for p.log() and handing each line to onLine
// (nil: none); p.exited gets what cmd.Wait returns.
func startProc(t testing.TB, cmd *exec.Cmd, onLine func(string)) *proc {
	t.Helper()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, exited: make(chan error, 1)}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.stderr.WriteString(line + "\n")
			p.mu.Unlock()
			if onLine != nil {
				onLine(line)
			}
		}
	}()
	go func() { p.exited <- cmd.Wait() }()
	return p
}

var servingRE = regexp.MustCompile(`serving on (http://\S+)`)

// fakeModel writes a network file for the fake KataGo, which only checks that it exists,
// and returns its path.
func fakeModel(t testing.TB) string {
	t.Helper()
	model := filepath.Join(t.TempDir(), "model.bin.gz")
	if err := os.WriteFile(model, []byte("fake network"), 0o644); err != nil {
		t.Fatal(err)
	}
	return model
}

// startServe starts `tesuji serve` with the fake engine on a free port and waits until it
// listens.
func startServe(t testing.TB, extraEnv []string, args ...string) *proc {
	t.Helper()
	bin := tesujiBinary(t)
	all := append([]string{"serve", "--addr", "127.0.0.1:0", "--katago", enginetest.Path(t), "--model", fakeModel(t), "--log-format", "json"}, args...)
	if !slices.Contains(args, "--data") {
		all = append(all, "--data", t.TempDir()) // never the user's data directory
	}
	cmd := exec.Command(bin, all...)
	cmd.Env = append(os.Environ(), extraEnv...)
	urlc := make(chan string, 1)
	p := startProc(t, cmd, func(line string) {
		if m := servingRE.FindStringSubmatch(line); m != nil {
			urlc <- m[1]
		}
	})
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("tesuji serve did not stop within 20s after SIGTERM\n%s", p.log())
		}
		if t.Failed() {
			t.Logf("tesuji serve log:\n%s", p.log())
		}
	})
	select {
	case p.url = <-urlc:
	case err := <-p.exited:
		t.Fatalf("tesuji serve exited: %v\n%s", err, p.log())
	case <-time.After(60 * time.Second):
		t.Fatalf("tesuji serve did not start\n%s", p.log())
	}
	return p
}

const e2eGame = `(;GM[1]FF[4]CA[UTF-8]SZ[19]KM[6.5]RU[Japanese]PB[Black]PW[White]
;B[pd]C[opening];W[dp];B[pq];W[dd];B[fq];W[cn];B[jp];W[qo];B[qm];W[pm]
;B[pl];W[om];B[ql];W[mq];B[op];W[oq];B[nq];W[np];B[pp];W[mp])`

func uploadSGF(t testing.TB, base, sgf string, fields map[string]string) (*http.Response, []byte) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("sgf", "game.sgf")
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(fw, sgf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	mw.Close()
	resp, err := http.Post(base+"/api/v1/analyses", mw.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp, data
}

type sseEvent struct {
	id, typ, data string
}

// readSSE reads events until a terminal one, or fails after the deadline.
func readSSE(t testing.TB, url string, lastID string) []sseEvent {
	t.Helper()
	return readSSEWhile(t, url, lastID, func([]sseEvent) bool { return true })
}

// readSSEUntil reads events until n turn events have come (or a terminal one).
func readSSEUntil(t testing.TB, url string, n int) []sseEvent {
	t.Helper()
	return readSSEWhile(t, url, "", func(evs []sseEvent) bool {
		turns := 0
		for _, e := range evs {
			if e.typ == "turn" {
				turns++
			}
		}
		return turns < n
	})
}

// readSSEWhile reads events while more(the events so far) holds and none is terminal.
func readSSEWhile(t testing.TB, url string, lastID string, more func([]sseEvent) bool) []sseEvent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("events: %s: %s", resp.Status, b)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("events content type %q", ct)
	}
	var events []sseEvent
	var cur sseEvent
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if cur.typ != "" {
				events = append(events, cur)
				switch cur.typ {
				case "done", "failed", "cancelled":
					return events
				}
				if !more(events) {
					return events
				}
			}
			cur = sseEvent{}
		case strings.HasPrefix(line, "id: "):
			cur.id = line[4:]
		case strings.HasPrefix(line, "event: "):
			cur.typ = line[7:]
		case strings.HasPrefix(line, "data: "):
			cur.data += line[6:]
		}
	}
	t.Fatalf("event stream ended without done: %v (%d events)", sc.Err(), len(events))
	return nil
}

func TestServeEndToEnd(t *testing.T) {
	t.Parallel()
	p := startServe(t, nil)

	resp, body := uploadSGF(t, p.url, e2eGame, map[string]string{"maxVisits": "20"})
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("upload: %s: %s", resp.Status, body)
	}
	var created struct {
		ID     string `json:"id"`
		Status string `json:"status"`
		Turns  int    `json:"turns"`
	}
	if err := json.Unmarshal(body, &created); err != nil {
		t.Fatal(err)
	}
	if len(created.ID) < 16 || created.Turns != 21 {
		t.Fatalf("created = %+v, want an unguessable id and 21 turns", created)
	}

	events := readSSE(t, p.url+"/api/v1/analyses/"+created.ID+"/events", "")
	seen := map[int]int{}
	for _, e := range events {
		if e.typ != "turn" {
			continue
		}
		var turn game.Turn
		if err := json.Unmarshal([]byte(e.data), &turn); err != nil {
			t.Fatalf("turn event %q: %v", e.data, err)
		}
		if turn.Winrate < 0 || turn.Winrate > 1 || turn.Visits <= 0 || len(turn.Candidates) == 0 {
			t.Errorf("turn %d looks wrong: %+v", turn.Turn, turn)
		}
		seen[turn.Turn]++
	}
	for i := 0; i <= 20; i++ {
		if seen[i] != 1 {
			t.Errorf("turn %d arrived %d times, want exactly once", i, seen[i])
		}
	}
	if len(seen) != 21 {
		t.Errorf("got turns %v, want 0..20", seen)
	}
	if last := events[len(events)-1]; last.typ != "done" {
		t.Fatalf("last event %q, want done", last.typ)
	}

	// Resuming after the 5th event replays exactly the rest.
	rest := readSSE(t, p.url+"/api/v1/analyses/"+created.ID+"/events", events[4].id)
	if diff := cmp.Diff(events[5:], rest, cmp.AllowUnexported(sseEvent{})); diff != "" {
		t.Errorf("resumed stream differs (-want +got):\n%s", diff)
	}

	// The whole result.
	r, err := http.Get(p.url + "/api/v1/analyses/" + created.ID)
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Status   string `json:"status"`
		Progress struct{ Done, Total int }
		Turns    []game.Turn `json:"turns"`
	}
	json.NewDecoder(r.Body).Decode(&res)
	r.Body.Close()
	if res.Status != "done" || res.Progress.Done != 21 || len(res.Turns) != 21 {
		t.Fatalf("result status %q progress %+v turns %d", res.Status, res.Progress, len(res.Turns))
	}
	for _, turn := range res.Turns[1:] {
		if turn.PointLoss == nil {
			t.Errorf("turn %d has no point loss", turn.Turn)
		}
	}

	// The annotated SGF parses back to the same game.
	r, err = http.Get(p.url + "/api/v1/analyses/" + created.ID + "/sgf")
	if err != nil {
		t.Fatal(err)
	}
	annotated, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != 200 {
		t.Fatalf("sgf: %s: %s", r.Status, annotated)
	}
	back, err := game.ParseSGF(annotated, game.ParseOptions{})
	if err != nil {
		t.Fatalf("annotated SGF does not parse: %v\n%s", err, annotated)
	}
	orig, err := game.ParseSGF([]byte(e2eGame), game.ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(orig.Game.Moves, back.Game.Moves); diff != "" {
		t.Errorf("annotated SGF main line differs (-orig +annotated):\n%s", diff)
	}
}

func TestServeRejectsBadInput(t *testing.T) {
	t.Parallel()
	// A job to cancel: at a position per 100 seconds it cannot end before the cancel.
	p := startServe(t, []string{"TESUJI_FAKE_SPEED=0.01"})

	// A job to cancel.
	resp, body := uploadSGF(t, p.url, e2eGame, nil)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("upload: %s: %s", resp.Status, body)
	}
	var created struct{ ID string }
	json.Unmarshal(body, &created)
	req, _ := http.NewRequest("DELETE", p.url+"/api/v1/analyses/"+created.ID, nil)
	dr, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	dr.Body.Close()
	if dr.StatusCode != 200 {
		t.Fatalf("cancel: %s", dr.Status)
	}

	huge := "(;SZ[19]C[" + strings.Repeat("x", 10<<20) + "])"
	cases := []struct {
		name   string
		do     func() (*http.Response, []byte)
		status int
		code   string
		text   string
	}{
		{"not an sgf", func() (*http.Response, []byte) { return uploadSGF(t, p.url, "hello, this is not a game record", nil) }, 400, "invalid_sgf", ""},
		{"illegal move", func() (*http.Response, []byte) {
			return uploadSGF(t, p.url, "(;SZ[19];B[pd];W[pd])", nil)
		}, 400, "illegal_move", "move 2"},
		{"10 MiB upload", func() (*http.Response, []byte) { return uploadSGF(t, p.url, huge, nil) }, 413, "too_large", ""},
		{"unknown id", func() (*http.Response, []byte) { return get(t, p.url+"/api/v1/analyses/nosuchjob") }, 404, "not_found", ""},
		{"events of a cancelled job", func() (*http.Response, []byte) {
			return get(t, p.url+"/api/v1/analyses/"+created.ID+"/events")
		}, 410, "cancelled", ""},
		{"bad visits", func() (*http.Response, []byte) {
			return uploadSGF(t, p.url, e2eGame, map[string]string{"maxVisits": "-3"})
		}, 400, "invalid_visits", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := tc.do()
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			var e struct {
				Error struct{ Code, Message string }
			}
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatalf("error body is not JSON: %q", body)
			}
			if e.Error.Code != tc.code || e.Error.Message == "" || !strings.Contains(e.Error.Message, tc.text) {
				t.Errorf("error = %+v, want code %q and a message containing %q", e.Error, tc.code, tc.text)
			}
		})
	}
	// The server still serves after all that.
	if r, _ := get(t, p.url+"/healthz"); r.StatusCode != 200 {
		t.Fatalf("healthz after bad input: %s", r.Status)
	}
}

func get(t testing.TB, url string) (*http.Response, []byte) {
	t.Helper()
	r, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return r, b
}

func TestServeWithoutKataGoSaysHowToFix(t *testing.T) {
	t.Parallel()
	bin := tesujiBinary(t)
	home := t.TempDir()
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0")
	cmd.Env = []string{"PATH=" + home, "HOME=" + home, "XDG_CACHE_HOME=" + filepath.Join(home, "cache")}
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("serve without katago succeeded:\n%s", out)
	}
	for _, want := range []string{"tesuji katago install", "--katago"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output does not name %q:\n%s", want, out)
		}
	}
}

// TestKataGoInstallOfflineSaysHowToFix: an install that cannot download (offline) ends
// with the two ways out, as make run shows it.
func TestKataGoInstallOfflineSaysHowToFix(t *testing.T) {
	t.Parallel()
	bin := tesujiBinary(t)
	home := t.TempDir()
	cmd := exec.Command(bin, "katago", "install", "--backend", "cpu", "--dir", filepath.Join(home, "katago"),
		"--katago-url", "http://127.0.0.1:1/katago.zip", "--model-url", "http://127.0.0.1:1/model.bin.gz")
	cmd.Env = []string{"PATH=" + home, "HOME=" + home, "XDG_CACHE_HOME=" + filepath.Join(home, "cache")}
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("install without a network succeeded:\n%s", out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) < 2 || !strings.HasPrefix(strings.TrimSpace(lines[len(lines)-2]), "make run KATAGO=") ||
		!strings.HasPrefix(strings.TrimSpace(lines[len(lines)-1]), "tesuji katago install --katago-url URL") {
		t.Errorf("the output does not end with the two ways out:\n%s", out)
	}
}
