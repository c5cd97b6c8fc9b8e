package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"runtime/metrics"
	"slices"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/tesuji/tesuji/api"
	"github.com/tesuji/tesuji/engine/enginetest"
)

// Load test parameters. The duration can be shortened with TESUJI_LOAD_DURATION (a Go
// duration) for a quick run; make test uses the default.
const (
	loadSSEClients = 1000
	loadSubmitRate = 200 // submissions per second
	loadDuration   = 30 * time.Second
	loadSubmitters = 64 // concurrent submitting clients
)

// TestLoad runs the server in this process over loopback with the fake KataGo: 1,000
// Server-Sent Events clients follow one job (a long position search, reporting twice a
// second) while 200 small games per second are submitted. Every request must succeed,
// every stream must see all of the job's reports in order and its end, and no goroutine
// may be left once the server has stopped. Nothing is asserted about speed: on a busy
// machine the followed job may even finish before the submissions do, and then every
// stream must end with done instead of cancelled. The peak memory of the process
// (server and clients) and the submission latencies are logged; BenchmarkSubmit measures
// them.
//
// Not parallel: it measures the goroutines and memory of the whole process.
func TestLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("load test: runs without -short")
	}
	duration := loadDuration
	if v := os.Getenv("TESUJI_LOAD_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("TESUJI_LOAD_DURATION=%q: %v", v, err)
		}
		duration = d
	}
	// Registered first, so it runs last: after the server and the clients are gone.
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() {
		if err := goleak.Find(ignore); err != nil {
			t.Errorf("goroutines left after the load test: %v", err)
		}
	})
	mem := watchMemory(t)

	const visitsPerSec = 2000
	e := startEnv(t, envOptions{
		fakeEnv:   []string{enginetest.EnvVisitsPerSec + "=" + strconv.Itoa(visitsPerSec)},
		api:       api.Config{MaxVisits: 10_000_000, KeepAlive: 5 * time.Second, StreamsPerToken: 2 * loadSSEClients},
		threads:   4,
		jobsPerEn: 8,
	})
	token := e.token(t, "load")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// The followed job: a streamed position searched with the most visits allowed, far
	// longer than the test on any machine, cancelled at the end.
	const visits = 10_000_000
	body, _ := json.Marshal(position(map[string]any{"stream": true, "maxVisits": visits, "reportEvery": 0.5}))
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.url+"/api/v1/positions", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	creator, err := e.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer creator.Body.Close()
	jobID := creator.Header.Get("X-Analysis-Id")
	if creator.StatusCode != http.StatusOK || jobID == "" {
		t.Fatalf("position: %d", creator.StatusCode)
	}
	// The creator's own stream is the reference every follower is compared with.
	type followResult struct {
		partials int
		last     string
		err      error
	}
	creatorEnd := make(chan followResult, 1)
	go func() {
		var r followResult
		r.partials, r.last, r.err = countEvents(creator.Body)
		creatorEnd <- r
	}()

	// The followers, each on its own connection.
	sseTransport := &http.Transport{MaxIdleConnsPerHost: loadSSEClients, DisableCompression: true}
	defer sseTransport.CloseIdleConnections()
	sseHTTP := &http.Client{Transport: sseTransport}
	results := make([]followResult, loadSSEClients)
	var followers sync.WaitGroup
	for i := range loadSSEClients {
		followers.Add(1)
		go func() {
			defer followers.Done()
			r := &results[i]
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.url+"/api/v1/analyses/"+jobID+"/events", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := sseHTTP.Do(req)
			if err != nil {
				r.err = err
				return
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				r.err = fmt.Errorf("status %d", resp.StatusCode)
				return
			}
			r.partials, r.last, r.err = countEvents(resp.Body)
		}()
	}
	waitFor(t, "every follower's stream to open", func() bool {
		return e.scrape(t)["tesuji_sse_clients"] >= loadSSEClients+1
	})

	// The submissions: tiny distinct games (no two collapse into one job), at a steady
	// rate, sent by a pool of clients.
	submitTransport := &http.Transport{MaxIdleConnsPerHost: loadSubmitters}
	defer submitTransport.CloseIdleConnections()
	submitHTTP := &http.Client{Transport: submitTransport}
	planned := int(duration.Seconds() * loadSubmitRate)
	work := make(chan int, planned)
	var submitErrs atomic.Int64
	var firstErr atomic.Value
	latencies := make([]time.Duration, planned)
	var submitters sync.WaitGroup
	for range loadSubmitters {
		submitters.Add(1)
		go func() {
			defer submitters.Done()
			for n := range work {
				sgf := fmt.Sprintf("(;GM[1]FF[4]SZ[9]KM[%d.5]RU[Chinese];B[%c%c];W[ee])", n/81-100, 'a'+n%9, 'a'+n/9%9)
				if n%81 == 40 { // the first move would be on W's point
					sgf = fmt.Sprintf("(;GM[1]FF[4]SZ[9]KM[%d.5]RU[Chinese];B[aa])", n/81-100)
				}
				b, _ := json.Marshal(map[string]any{"sgf": sgf, "maxVisits": 1})
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.url+"/api/v1/analyses", bytes.NewReader(b))
				req.Header.Set("Authorization", "Bearer "+token)
				req.Header.Set("Content-Type", "application/json")
				start := time.Now()
				resp, err := submitHTTP.Do(req)
				if err == nil {
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusAccepted {
						err = fmt.Errorf("submission %d: %d %s", n, resp.StatusCode, body)
					}
				}
				latencies[n] = time.Since(start)
				if err != nil {
					submitErrs.Add(1)
					firstErr.CompareAndSwap(nil, err)
				}
			}
		}()
	}
	// Each tick releases the submissions due by then, so a late tick does not lower the rate.
	start := time.Now()
	interval := time.Second / loadSubmitRate
	tick := time.NewTicker(interval)
	for n := 0; n < planned; {
		due := min(planned, int(time.Since(start)/interval)+1)
		for ; n < due; n++ {
			work <- n
		}
		if n < planned {
			<-tick.C
		}
	}
	tick.Stop()
	close(work)
	submitters.Wait()
	elapsed := time.Since(start)
	mid := e.scrape(t)

	// A job that already ended answers the cancel with 409; its streams end with its
	// final state either way.
	wantLast := "cancelled"
	switch r := e.do(t, http.MethodDelete, "/api/v1/analyses/"+jobID, token, nil); r.status {
	case http.StatusOK:
	case http.StatusConflict:
		var j struct{ State string }
		if err := json.Unmarshal(e.do(t, http.MethodGet, "/api/v1/analyses/"+jobID, token, nil).body, &j); err != nil {
			t.Fatalf("read the followed job: %v", err)
		}
		wantLast = j.State
		t.Logf("the followed job ended (%s) before it was cancelled", j.State)
	default:
		t.Errorf("cancel the followed job: %d %s", r.status, r.body)
	}
	followers.Wait()
	ref := <-creatorEnd
	if ref.err != nil || ref.last != wantLast {
		t.Errorf("the creator's stream: last event %q, err %v; want %s", ref.last, ref.err, wantLast)
	}

	if n := submitErrs.Load(); n > 0 {
		t.Errorf("%d of %d submissions failed; the first: %v", n, planned, firstErr.Load())
	}
	bad := 0
	var partials []int
	for i, r := range results {
		partials = append(partials, r.partials)
		if r.err != nil || r.last != wantLast || r.partials != ref.partials {
			if bad++; bad <= 5 {
				t.Errorf("follower %d: %d partial reports, last event %q, err %v; want %d and %s",
					i, r.partials, r.last, r.err, ref.partials, wantLast)
			}
		}
	}
	if bad > 5 {
		t.Errorf("... %d followers failed in all", bad)
	}
	slices.Sort(partials)
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	t.Logf("submissions: %d in %v (%.0f/s), latency p50 %v p99 %v max %v; jobs queued %v, running %v when they ended",
		planned, elapsed.Round(time.Millisecond), float64(planned)/elapsed.Seconds(),
		latencies[planned/2].Round(time.Microsecond), latencies[planned*99/100].Round(time.Microsecond),
		latencies[planned-1].Round(time.Microsecond), mid[`tesuji_jobs{state="queued"}`], mid[`tesuji_jobs{state="running"}`])
	t.Logf("followers: %d streams, partial reports per stream min %d median %d; positions analyzed %v",
		loadSSEClients, partials[0], partials[len(partials)/2], mid["tesuji_positions_analyzed_total"])
	peak := mem.stop()
	t.Logf("peak memory of the test process (server, fake-engine driver and all clients): heap in use %.1f MiB, Go total %.1f MiB, goroutines %d",
		float64(peak.heap)/(1<<20), float64(peak.total)/(1<<20), peak.goroutines)
}

// memWatch samples the process's memory until stopped and keeps the peaks.
type memWatch struct {
	stopc chan struct{}
	done  chan memPeak
}

type memPeak struct {
	heap, total uint64
	goroutines  int
}

func watchMemory(t testing.TB) *memWatch {
	w := &memWatch{stopc: make(chan struct{}), done: make(chan memPeak, 1)}
	samples := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/total:bytes"}}
	go func() {
		var p memPeak
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(samples)
			p.heap = max(p.heap, samples[0].Value.Uint64())
			p.total = max(p.total, samples[1].Value.Uint64())
			p.goroutines = max(p.goroutines, runtime.NumGoroutine())
			select {
			case <-w.stopc:
				w.done <- p
				return
			case <-tick.C:
			}
		}
	}()
	t.Cleanup(func() { w.stop() })
	return w
}

func (w *memWatch) stop() memPeak {
	select {
	case <-w.stopc:
	default:
		close(w.stopc)
	}
	p := <-w.done
	w.done <- p
	return p
}

// countEvents reads an event stream to its terminal event, checking that ids increase,
// and counts the partial reports without keeping them (a thousand followers would hold
// every report otherwise).
func countEvents(r io.Reader) (partials int, last string, err error) {
	br := bufio.NewReaderSize(r, 4<<10)
	prev := -1
	for {
		line, rerr := br.ReadSlice('\n')
		if rerr == bufio.ErrBufferFull {
			// A long data line: its remainder follows.
			continue
		}
		if rerr != nil {
			return partials, last, fmt.Errorf("stream ended after %q: %w", last, rerr)
		}
		switch {
		case bytes.HasPrefix(line, []byte("id: ")):
			n, perr := strconv.Atoi(string(bytes.TrimSpace(line[4:])))
			if perr != nil || n <= prev {
				return partials, last, fmt.Errorf("event id %q after %d", line[4:], prev)
			}
			prev = n
		case bytes.HasPrefix(line, []byte("event: ")):
			last = string(bytes.TrimSpace(line[7:]))
			switch last {
			case "partial":
				partials++
			case "done", "failed", "cancelled":
				return partials, last, nil
			}
		}
	}
}
