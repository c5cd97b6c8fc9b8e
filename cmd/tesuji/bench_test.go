package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tesuji/tesuji/engine/enginetest"
	"github.com/tesuji/tesuji/game"
	"github.com/tesuji/tesuji/queue/redistest"
)

// game250 is a legal 250-move game on 19x19 (passes fill the end, so no captures matter).
func game250() string {
	return stonesGame("SZ[19]KM[7.5]RU[Chinese]", 120, 250)
}

// stonesGame is a legal game of total moves on 19x19 whose first stones moves place
// stones and whose rest pass; header holds the root's properties after GM and FF. Black
// fills rows from the top, White from the bottom: no stone ever touches the other colour,
// so nothing is captured (stones <= 340).
func stonesGame(header string, stones, total int) string {
	var b strings.Builder
	b.WriteString("(;GM[1]FF[4]" + header)
	for n := range total {
		k := n / 2
		x, y := k%19, k/19
		c := "B"
		if n%2 == 1 {
			c, y = "W", 18-y
		}
		if n < stones {
			fmt.Fprintf(&b, ";%s[%c%c]", c, 'a'+x, 'a'+y)
		} else {
			fmt.Fprintf(&b, ";%s[]", c)
		}
	}
	b.WriteString(")")
	return b.String()
}

// review submits a game with a unique comment (so submissions never collapse) and reads
// its events until done; it returns the number of turns seen.
func review(b testing.TB, base string, i int) int {
	sgf := strings.Replace(game250(), "(;", fmt.Sprintf("(;C[run %d %d]", i, time.Now().UnixNano()), 1)
	id := submit(b, base, sgf)
	turns := 0
	for _, e := range readSSE(b, base+"/api/v1/analyses/"+id+"/events", "") {
		if e.typ == "turn" {
			turns++
		}
	}
	return turns
}

// throughput runs b.N reviews, 8 at a time, and reports positions per second.
func throughput(b *testing.B, base string) {
	var mu sync.Mutex
	total := 0
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			n := review(b, base, i)
			mu.Lock()
			total += n
			mu.Unlock()
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(total)/time.Since(start).Seconds(), "positions/s")
}

// BenchmarkServeThroughput: the embedded default with the fake engine at unlimited speed,
// submit to SSE done, 250-move reviews.
func BenchmarkServeThroughput(b *testing.B) {
	p := startServe(b, nil, "--log-level", "warn")
	throughput(b, p.url)
}

// BenchmarkServeOverhead: with the fake engine at a fixed speed, the end-to-end time of a
// 250-move review (submit to the done event) against the engine's own time for the same
// query sent to it directly, measured alternately so both see the same machine load.
func BenchmarkServeOverhead(b *testing.B) {
	env := "TESUJI_FAKE_SPEED=500"
	p := startServe(b, []string{env}, "--log-level", "warn")
	eng := enginetest.Start(b, enginetest.Config(b, env))
	rec, err := game.ParseSGF([]byte(game250()), game.ParseOptions{})
	if err != nil {
		b.Fatal(err)
	}
	q := rec.Game.Query(nil)
	visits := 10 // what review asks for
	q.MaxVisits = &visits
	var direct, served time.Duration
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		if err := eng.Analyze(context.Background(), &q, nil); err != nil {
			b.Fatal(err)
		}
		direct += time.Since(start)
		start = time.Now()
		if n := review(b, p.url, i); n != 251 {
			b.Fatalf("%d turns", n)
		}
		served += time.Since(start)
	}
	b.StopTimer()
	b.ReportMetric(direct.Seconds()/float64(b.N), "engine-s/review")
	b.ReportMetric(served.Seconds()/float64(b.N), "served-s/review")
	b.ReportMetric((served.Seconds()/direct.Seconds()-1)*100, "%overhead")
}

// BenchmarkScaleOut: one serve, two workers and Redis on this machine, fake engine at
// unlimited speed; positions per second end to end, and queue wait and job latency
// percentiles from the job records.
func BenchmarkScaleOut(b *testing.B) {
	rs := redistest.Start(b, redistest.Options{})
	p := startServe(b, nil, "--redis", rs.URL(), "--log-level", "warn")
	startWorkerProc(b, "w1", rs.URL(), nil)
	startWorkerProc(b, "w2", rs.URL(), nil)
	var mu sync.Mutex
	var waits, lats []time.Duration
	total := 0
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			sgf := strings.Replace(game250(), "(;", fmt.Sprintf("(;C[scale %d %d]", i, time.Now().UnixNano()), 1)
			id := submit(b, p.url, sgf)
			n := 0
			for _, e := range readSSE(b, p.url+"/api/v1/analyses/"+id+"/events", "") {
				if e.typ == "turn" {
					n++
				}
			}
			r, err := http.Get(p.url + "/api/v1/analyses/" + id)
			if err != nil {
				b.Error(err)
				return
			}
			var j struct{ CreatedAt, StartedAt, FinishedAt time.Time }
			json.NewDecoder(r.Body).Decode(&j)
			r.Body.Close()
			mu.Lock()
			total += n
			waits = append(waits, j.StartedAt.Sub(j.CreatedAt))
			lats = append(lats, j.FinishedAt.Sub(j.CreatedAt))
			mu.Unlock()
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(total)/time.Since(start).Seconds(), "positions/s")
	report := func(name string, ds []time.Duration) {
		slices.Sort(ds)
		pct := func(p float64) float64 { return ds[min(len(ds)-1, int(p*float64(len(ds))))].Seconds() * 1000 }
		b.ReportMetric(pct(0.5), name+"-p50-ms")
		b.ReportMetric(pct(0.99), name+"-p99-ms")
	}
	report("wait", waits)
	report("latency", lats)
}
