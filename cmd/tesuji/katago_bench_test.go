package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tesuji/tesuji/engine"
	"github.com/tesuji/tesuji/engine/enginetest"
	"github.com/tesuji/tesuji/game"
	"github.com/tesuji/tesuji/katago"
	"github.com/tesuji/tesuji/setup"
)

// The benchmarks in this file drive the real KataGo: they run when TESUJI_KATAGO names a
// katago binary and TESUJI_MODEL a network, and skip otherwise. Each one interleaves its
// variants within every iteration, so a machine whose load varies loads them alike; run
// them with a fixed count of iterations, such as -benchtime 3x. On a machine shared with
// other work the wall times follow the share of the cores each process gets, so the
// benchmarks also report the CPU time the processes spent (Linux only).

// realKataGo returns the KataGo binary and network to benchmark, or skips.
func realKataGo(b *testing.B) (katagoBin, model string) {
	b.Helper()
	katagoBin, model = os.Getenv("TESUJI_KATAGO"), os.Getenv("TESUJI_MODEL")
	if katagoBin == "" || model == "" {
		b.Skip("TESUJI_KATAGO and TESUJI_MODEL name no KataGo binary and network")
	}
	return katagoBin, model
}

// benchVisits is the visits per position of the benchmarked reviews: small, so that a run
// takes minutes on a CPU.
const benchVisits = 20

// selfPlay returns the 100-move KataGo self-play record of testdata with komi komi: each
// iteration changes it, so no KataGo process finds the positions in its evaluation cache
// from an earlier iteration.
func selfPlay(b *testing.B, komi float64) string {
	b.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "selfplay100.sgf"))
	if err != nil {
		b.Fatal(err)
	}
	return regexp.MustCompile(`KM\[[^]]*\]`).ReplaceAllString(string(data), "KM["+strconv.FormatFloat(komi, 'f', 1, 64)+"]")
}

// benchKomi is the komi of iteration i.
func benchKomi(i int) float64 { return 7.5 - float64(i%12) }

// reviewQuery is the query tesuji's worker sends for a whole review of sgf.
func reviewQuery(b *testing.B, sgf string, visits int) (katago.Query, int) {
	b.Helper()
	rec, err := game.ParseSGF([]byte(sgf), game.ParseOptions{})
	if err != nil {
		b.Fatal(err)
	}
	q := rec.Game.Query(nil)
	q.MaxVisits = &visits
	return q, len(rec.Game.Moves) + 1
}

// directKataGo is `katago analysis` driven straight through its stdin and stdout.
type directKataGo struct {
	cmd   *exec.Cmd
	in    io.WriteCloser
	lines *bufio.Scanner
	n     int
}

// startDirect starts katago analysis with KataGo's throughput settings: analysis threads
// of one search thread each, a batch as large as the threads.
func startDirect(b *testing.B, katagoBin, model string, analysisThreads int) *directKataGo {
	b.Helper()
	dir := b.TempDir()
	cfg := fmt.Sprintf("logDir = %s\nlogAllRequests = false\nlogAllResponses = false\nlogSearchInfo = false\n"+
		"reportAnalysisWinratesAs = BLACK\nmaxVisits = 500\nnumAnalysisThreads = %d\n"+
		"numSearchThreadsPerAnalysisThread = 1\nnnMaxBatchSize = %d\nnnCacheSizePowerOfTwo = 20\n",
		filepath.Join(dir, "logs"), analysisThreads, analysisThreads)
	path := filepath.Join(dir, "analysis.cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(katagoBin, "analysis", "-config", path, "-model", model)
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	d := &directKataGo{cmd: cmd, in: in, lines: bufio.NewScanner(out)}
	d.lines.Buffer(make([]byte, 1<<20), 64<<20)
	b.Cleanup(func() {
		in.Close()
		_ = cmd.Wait()
	})
	// KataGo answers queries only once it has loaded the network: wait for that.
	d.review(b, katago.Query{Moves: []katago.Move{}, Rules: json.RawMessage(`"chinese"`), Komi: ptr(7.0), BoardXSize: 9, BoardYSize: 9}, 1)
	return d
}

// review sends q and reads until every one of its turns has a final result.
func (d *directKataGo) review(b *testing.B, q katago.Query, turns int) {
	b.Helper()
	d.n++
	q.ID = fmt.Sprintf("bench%d", d.n)
	if q.MaxVisits == nil {
		v := 1
		q.MaxVisits = &v
	}
	line, err := json.Marshal(q)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := d.in.Write(append(line, '\n')); err != nil {
		b.Fatal(err)
	}
	finals := 0
	for finals < turns && d.lines.Scan() {
		var r struct {
			ID             string `json:"id"`
			IsDuringSearch bool   `json:"isDuringSearch"`
			Error          string `json:"error"`
		}
		if err := json.Unmarshal(d.lines.Bytes(), &r); err != nil {
			b.Fatalf("katago answered %q: %v", d.lines.Text(), err)
		}
		if r.Error != "" {
			b.Fatalf("katago: %s", r.Error)
		}
		if r.ID == q.ID && !r.IsDuringSearch {
			finals++
		}
	}
	if finals < turns {
		b.Fatalf("katago ended after %d of %d results: %v", finals, turns, d.lines.Err())
	}
}

// serveReal starts `tesuji serve` on the real KataGo with the given extra flags.
func serveReal(b *testing.B, katagoBin, model string, args ...string) *proc {
	b.Helper()
	return startServe(b, nil, append([]string{"--katago", katagoBin, "--model", model, "--log-level", "warn"}, args...)...)
}

// servedReview submits sgf to base at visits and waits until the review is done, on its
// event stream: polling GET would take serve's CPU from KataGo, which shares the cores.
func servedReview(b *testing.B, base, sgf string, visits int) {
	b.Helper()
	id := submitVisits(b, base, sgf, visits)
	if evs := readSSE(b, base+"/api/v1/analyses/"+id+"/events", ""); len(evs) == 0 || evs[len(evs)-1].typ != "done" {
		b.Fatalf("analysis %s did not end done: %v", id, evs)
	}
}

func submitVisits(b *testing.B, base, sgf string, visits int) string {
	b.Helper()
	resp, body := uploadSGF(b, base, sgf, map[string]string{"maxVisits": strconv.Itoa(visits)})
	if resp.StatusCode != http.StatusAccepted {
		b.Fatalf("upload: %s: %s", resp.Status, body)
	}
	var c struct{ ID string }
	if err := json.Unmarshal(body, &c); err != nil {
		b.Fatal(err)
	}
	return c.ID
}

// waitAnalysis polls the analysis every 20ms until its status is want (or, for
// "running", until it has a finished turn), failing on a final status other than want.
func waitAnalysis(b *testing.B, base, id, want string) {
	b.Helper()
	deadline := time.Now().Add(30 * time.Minute)
	for time.Now().Before(deadline) {
		_, body := get(b, base+"/api/v1/analyses/"+id)
		var a struct {
			Status string            `json:"status"`
			Turns  []json.RawMessage `json:"turns"`
		}
		if err := json.Unmarshal(body, &a); err != nil {
			b.Fatalf("%v: %s", err, body)
		}
		switch {
		case a.Status == want && (want != "running" || len(a.Turns) > 0):
			return
		case a.Status == "done" || a.Status == "failed" || a.Status == "cancelled":
			b.Fatalf("analysis %s is %s, want %s", id, a.Status, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.Fatalf("analysis %s never became %s", id, want)
}

// katagoSettings returns the settings line of the server's worker.
func katagoSettings(b *testing.B, base string) string {
	b.Helper()
	_, body := get(b, base+"/api/v1/workers")
	var ws struct {
		Workers []struct {
			KataGoSettings string `json:"katagoSettings"`
		} `json:"workers"`
	}
	if err := json.Unmarshal(body, &ws); err != nil || len(ws.Workers) == 0 {
		b.Fatalf("workers: %v: %s", err, body)
	}
	return ws.Workers[0].KataGoSettings
}

// cpuSeconds returns the user and system CPU time of process pid and of its children
// that are still running (tesuji's KataGo processes), from /proc; 0 where there is none.
func cpuSeconds(pid int) float64 {
	self, children := cpuSplit(pid)
	return self + children
}

// cpuSplit is cpuSeconds apart: the process's own, and its running children's.
func cpuSplit(pid int) (self, children float64) {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// The fields after the command name, which is in parentheses: state, ppid, ...
		i := bytes.LastIndexByte(data, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(data[i+1:]))
		if len(f) < 13 {
			continue
		}
		if e.Name() != strconv.Itoa(pid) && f[1] != strconv.Itoa(pid) {
			continue
		}
		utime, _ := strconv.ParseFloat(f[11], 64)
		stime, _ := strconv.ParseFloat(f[12], 64)
		secs := (utime + stime) / 100 // clock ticks; USER_HZ is 100 on Linux
		if e.Name() == strconv.Itoa(pid) {
			self += secs
		} else {
			children += secs
		}
	}
	return self, children
}

// BenchmarkKataGoReviewServedVsDirect: the same 100-move review at benchVisits through
// `tesuji serve` with its default, fitted settings, and sent straight to `katago
// analysis` with KataGo's throughput settings of the same thread total (one search thread
// per position: two positions per core on a CPU, the measured total on a GPU), alternately
// in every iteration.
// served/direct is the ratio of the total times.
func BenchmarkKataGoReviewServedVsDirect(b *testing.B) {
	katagoBin, model := realKataGo(b)
	p := serveReal(b, katagoBin, model)
	b.Logf("serve: %s", katagoSettings(b, p.url))
	total := fittedThreads(b, katagoBin, model).Total()
	direct := startDirect(b, katagoBin, model, total)
	b.Logf("direct: %d analysis x 1 search threads", total)
	var served, straight time.Duration
	var servedCPU, straightCPU, servedKataGo float64
	b.ResetTimer()
	for i := range b.N {
		sgf := selfPlay(b, benchKomi(i))
		q, turns := reviewQuery(b, sgf, benchVisits)
		run := func(pid int, cpu *float64, f func()) time.Duration {
			c := cpuSeconds(pid)
			start := time.Now()
			f()
			d := time.Since(start)
			*cpu += cpuSeconds(pid) - c
			return d
		}
		// Alternate which goes first, so neither always meets the other's aftermath.
		for k := range 2 {
			if (i+k)%2 == 0 {
				straight += run(direct.cmd.Process.Pid, &straightCPU, func() { direct.review(b, q, turns) })
			} else {
				_, k := cpuSplit(p.cmd.Process.Pid)
				served += run(p.cmd.Process.Pid, &servedCPU, func() { servedReview(b, p.url, sgf, benchVisits) })
				_, k2 := cpuSplit(p.cmd.Process.Pid)
				servedKataGo += k2 - k
			}
		}
	}
	b.StopTimer()
	b.ReportMetric(straight.Seconds()/float64(b.N), "direct-s/review")
	b.ReportMetric(served.Seconds()/float64(b.N), "served-s/review")
	b.ReportMetric(served.Seconds()/straight.Seconds(), "served/direct")
	b.ReportMetric(straightCPU/float64(b.N), "direct-cpu-s/review")
	b.ReportMetric(servedCPU/float64(b.N), "served-cpu-s/review")
	b.ReportMetric(servedCPU/straightCPU, "served/direct-cpu")
	b.ReportMetric(servedKataGo/straightCPU, "served-katago/direct-cpu")
}

// BenchmarkKataGoThreadSweep: the same review (every fourth turn) on KataGo processes
// with a few thread settings around the fitted total T (measured on a GPU, as serve does),
// the fitted one among them: 1 x 1, 1 x T/2, T/2 x 1, T/2 x 2, T x 1 and 2T x 1 on a CPU,
// where T x 1 is the fit. Each process runs once per iteration, in a rotating order. It
// reports each setting's visits per second and fitted/best, the fitted setting's
// throughput over the best one's.
func BenchmarkKataGoThreadSweep(b *testing.B) {
	katagoBin, model := realKataGo(b)
	fitted := fittedEngine(b, katagoBin, model)
	tuning := fitted.Tuning()
	fit := tuning.Threads
	b.Logf("fitted: %s", tuning)
	half := max(fit.Total()/2, 1)
	settings := []engine.Threads{fit}
	for _, at := range [][2]int{{1, 1}, {1, half}, {half, 1}, {half, 2}, {fit.Total(), 1}, {2 * fit.Total(), 1}} {
		// KataGo's Eigen backend keeps its own batch size, the fitted one; a GPU batches
		// every thread's evaluation.
		t := engine.Threads{AnalysisThreads: at[0], SearchThreadsPerAnalysisThread: at[1], MaxBatchSize: fit.MaxBatchSize}
		if tuning.Hardware.Backend.GPU() {
			t.MaxBatchSize = t.Total()
		}
		if !slices.Contains(settings, t) {
			settings = append(settings, t)
		}
	}
	engines := []*engine.Engine{fitted}
	for _, t := range settings[1:] {
		engines = append(engines, startEngine(b, katagoBin, model, t, ""))
	}
	elapsed := make([]time.Duration, len(settings))
	visits := 0
	b.ResetTimer()
	for i := range b.N {
		// Every fourth turn of the game: a quarter of the time, the same mix of positions.
		q, turns := reviewQuery(b, selfPlay(b, benchKomi(i)), benchVisits)
		q.AnalyzeTurns = nil
		for t := 0; t < turns; t += 4 {
			q.AnalyzeTurns = append(q.AnalyzeTurns, t)
		}
		visits += len(q.AnalyzeTurns) * benchVisits
		for k := range settings {
			k = (k + i) % len(settings)
			q := q
			q.ID = ""
			start := time.Now()
			if err := engines[k].Analyze(context.Background(), &q, nil); err != nil {
				b.Fatal(err)
			}
			elapsed[k] += time.Since(start)
		}
	}
	b.StopTimer()
	best := 0.0
	for k, t := range settings {
		vps := float64(visits) / elapsed[k].Seconds()
		best = max(best, vps)
		b.ReportMetric(vps, fmt.Sprintf("visits/s-%dx%d", t.AnalysisThreads, t.SearchThreadsPerAnalysisThread))
	}
	b.ReportMetric(float64(visits)/elapsed[0].Seconds()/best, "fitted/best")
}

// BenchmarkKataGoPositionLatency: the time of one position request at 100 visits
// (POST /api/v1/positions, answered when the search ends) on an idle server, and while a
// whole review runs on it, both with an interactive engine beside the review engine
// (--interactive-engine on) and with one engine shared by both kinds of work (off, the
// default on a CPU). Each iteration measures the
// four in turn.
func BenchmarkKataGoPositionLatency(b *testing.B) {
	katagoBin, model := realKataGo(b)
	dedicated := serveReal(b, katagoBin, model, "--interactive-engine", "on")
	shared := serveReal(b, katagoBin, model, "--interactive-engine", "off")
	b.Logf("dedicated: %s", katagoSettings(b, dedicated.url))
	b.Logf("shared: %s", katagoSettings(b, shared.url))
	rec, err := game.ParseSGF([]byte(selfPlay(b, 7.5)), game.ParseOptions{})
	if err != nil {
		b.Fatal(err)
	}
	position := func(base string, komi float64) time.Duration {
		q := rec.Game.Query(nil)
		body, _ := json.Marshal(map[string]any{"moves": q.Moves[:60], "boardXSize": 19, "boardYSize": 19,
			"komi": komi, "rules": "chinese", "maxVisits": 100})
		start := time.Now()
		resp, err := http.Post(base+"/api/v1/positions", "application/json", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		d := time.Since(start)
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(data), `"visits"`) {
			b.Fatalf("position: %s: %s", resp.Status, data)
		}
		return d
	}
	// busy measures the position while a review at 50 visits runs, then cancels the
	// review and waits until the server's worker holds no job, so the next measurement
	// meets an idle machine.
	busy := func(base string, reviewKomi, komi float64) time.Duration {
		id := submitVisits(b, base, selfPlay(b, reviewKomi), 50)
		waitAnalysis(b, base, id, "running")
		d := position(base, komi)
		req, _ := http.NewRequest(http.MethodDelete, base+"/api/v1/analyses/"+id, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
			_, body := get(b, base+"/api/v1/workers")
			if !strings.Contains(string(body), `"currentJobs"`) {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("the cancelled review still runs: %s", body)
			}
		}
		return d
	}
	var idleD, busyD, idleS, busyS time.Duration
	b.ResetTimer()
	for i := range b.N {
		// Every search gets a komi of its own, so none meets another's evaluations in
		// KataGo's cache.
		idle, pos, review := 20.5+2*float64(i), 21.5+2*float64(i), benchKomi(i)
		idleD += position(dedicated.url, idle)
		busyD += busy(dedicated.url, review, pos)
		idleS += position(shared.url, idle)
		busyS += busy(shared.url, review, pos)
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(idleD.Seconds()*1000/n, "idle-ms")
	b.ReportMetric(busyD.Seconds()*1000/n, "busy-ms")
	b.ReportMetric(busyD.Seconds()/idleD.Seconds(), "busy/idle")
	b.ReportMetric(idleS.Seconds()*1000/n, "shared-idle-ms")
	b.ReportMetric(busyS.Seconds()*1000/n, "shared-busy-ms")
	b.ReportMetric(busyS.Seconds()/idleS.Seconds(), "shared-busy/idle")
}

// startEngine starts a KataGo process for reviews with threads t, or with the settings
// serve would fit to this machine where t is zero: measured first on a GPU backend, as
// serve's first start does, when cacheDir is set.
func startEngine(b *testing.B, katagoBin, model string, t engine.Threads, cacheDir string) *engine.Engine {
	b.Helper()
	en := engine.New(engine.Config{Path: katagoBin, Model: model, LogDir: b.TempDir(), CacheDir: cacheDir,
		AnalysisThreads: t.AnalysisThreads, SearchThreadsPerAnalysisThread: t.SearchThreadsPerAnalysisThread,
		MaxBatchSize: t.MaxBatchSize})
	if err := en.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = en.Stop(context.Background()) })
	return en
}

// userCache is where serve keeps measured KataGo settings, so that a benchmark's own
// KataGo process runs with the settings serve measured on this machine.
func userCache(b *testing.B) string {
	b.Helper()
	dir, err := setup.Dir()
	if err != nil {
		b.Fatal(err)
	}
	return dir
}

// fittedEngine starts a KataGo process for reviews with the settings serve runs with on
// this machine: on a GPU those it measured (kept in the user cache), on a CPU the fitted
// ones.
func fittedEngine(b *testing.B, katagoBin, model string) *engine.Engine {
	b.Helper()
	return startEngine(b, katagoBin, model, engine.Threads{}, userCache(b))
}

// fittedThreads are fittedEngine's thread settings.
func fittedThreads(b *testing.B, katagoBin, model string) engine.Threads {
	b.Helper()
	en := fittedEngine(b, katagoBin, model)
	defer en.Stop(context.Background())
	return en.Tuning().Threads
}

// reviewVisits is the visits per position of BenchmarkKataGoReviewSettings:
// TESUJI_BENCH_VISITS when set (500 for the GPU figures), else benchVisits.
func reviewVisits(b *testing.B) int {
	b.Helper()
	s := os.Getenv("TESUJI_BENCH_VISITS")
	if s == "" {
		return benchVisits
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 1 {
		b.Fatalf("TESUJI_BENCH_VISITS=%q: want a whole number of visits, 1 or more", s)
	}
	return v
}

// BenchmarkKataGoReviewSettings: the same 100-move review three ways, each on a KataGo
// process of its own, in a rotating order within every iteration:
//   - fitted: the settings serve chooses for this machine (measured on a GPU);
//   - 2x8: the former fixed settings, 2 analysis threads of 8 search threads;
//   - one-at-a-time: as Lizzie or another GTP client reviews a game, one position at a time,
//     each sent when the previous one ends, with all the fitted threads searching it.
//
// It reports each one's visits per second, counting the visits asked for (positions x
// visits: KataGo's many search threads on a position can overshoot them, which a review
// does not want), the fitted settings' speed-up over the other two, and logs how many
// visits KataGo reported. The visits per position are TESUJI_BENCH_VISITS, default
// benchVisits.
func BenchmarkKataGoReviewSettings(b *testing.B) {
	katagoBin, model := realKataGo(b)
	visits := reviewVisits(b)
	fitted := fittedEngine(b, katagoBin, model)
	tuning := fitted.Tuning()
	fit := tuning.Threads
	b.Logf("fitted: %s", tuning)
	lizzie := engine.Threads{AnalysisThreads: 1, SearchThreadsPerAnalysisThread: fit.Total(), MaxBatchSize: fit.Total()}
	variants := []struct {
		name     string
		en       *engine.Engine
		oneByOne bool
	}{
		{"fitted", fitted, false},
		{"2x8", startEngine(b, katagoBin, model, engine.Threads{AnalysisThreads: 2, SearchThreadsPerAnalysisThread: 8, MaxBatchSize: 16}, ""), false},
		{"one-at-a-time", startEngine(b, katagoBin, model, lizzie, ""), true},
	}
	elapsed := make([]time.Duration, len(variants))
	searched := make([]int, len(variants))
	asked := 0
	analyze := func(k int, q katago.Query) {
		q.ID = ""
		err := variants[k].en.Analyze(context.Background(), &q, func(r *katago.Response) error {
			if r.Final() && r.RootInfo != nil {
				searched[k] += r.RootInfo.Visits
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := range b.N {
		q, turns := reviewQuery(b, selfPlay(b, benchKomi(i)), visits)
		asked += turns * visits
		for k := range variants {
			k = (k + i) % len(variants)
			start := time.Now()
			if variants[k].oneByOne {
				for t := range turns {
					q := q
					q.AnalyzeTurns = []int{t}
					analyze(k, q)
				}
			} else {
				analyze(k, q)
			}
			elapsed[k] += time.Since(start)
		}
	}
	b.StopTimer()
	vps := make([]float64, len(variants))
	for k, v := range variants {
		vps[k] = float64(asked) / elapsed[k].Seconds()
		b.ReportMetric(vps[k], "visits/s-"+v.name)
		b.Logf("%s: KataGo searched %.3f of the visits asked for", v.name, float64(searched[k])/float64(asked))
	}
	b.ReportMetric(vps[0]/vps[1], "fitted/2x8")
	b.ReportMetric(vps[0]/vps[2], "fitted/one-at-a-time")
}

func ptr[T any](v T) *T { return &v }

// TestKataGoBenchmarksOnTheFake runs the real-KataGo benchmarks against the fake KataGo,
// so that a change that breaks them shows in `make test` and not first on a machine with
// KataGo. Their figures mean nothing here and are not checked, only that each one runs to
// its end and reports them. The latency benchmark is left out: it needs a review still
// running when its position request goes in, which the fake may finish first.
func TestKataGoBenchmarksOnTheFake(t *testing.T) {
	if testing.Short() {
		t.Skip("starts several KataGo processes and servers")
	}
	// Build both binaries first: the test's tesuji, with the race detector, and before
	// XDG_CACHE_HOME moves Go's build cache too.
	tesujiBinary(t)
	t.Setenv("TESUJI_KATAGO", enginetest.Path(t))
	t.Setenv("TESUJI_MODEL", fakeModel(t))
	t.Setenv("XDG_CACHE_HOME", t.TempDir()) // never the user's measured settings
	t.Setenv("TESUJI_BENCH_VISITS", "")
	for _, bench := range []struct {
		name   string
		f      func(*testing.B)
		metric string
	}{
		{"ServedVsDirect", BenchmarkKataGoReviewServedVsDirect, "served/direct"},
		{"ThreadSweep", BenchmarkKataGoThreadSweep, "fitted/best"},
		{"ReviewSettings", BenchmarkKataGoReviewSettings, "fitted/one-at-a-time"},
	} {
		r := testing.Benchmark(bench.f)
		if r.N == 0 || r.Extra[bench.metric] <= 0 {
			t.Errorf("%s: failed or reported no %s: %d iterations, %v (its log: go test -run '^$' -bench KataGo%s with TESUJI_KATAGO naming the fake)",
				bench.name, bench.metric, r.N, r.Extra, bench.name)
		}
	}
}
