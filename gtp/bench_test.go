package gtp

import (
	"strings"
	"testing"
	"time"
)

// BenchmarkFirstInfo measures, on loopback with a warm engine, the time from sending
// "kata-analyze 10" to reading the first info line. KataGo's own GTP engine answers after
// the interval (0.1s); the target is the interval plus at most 50ms. Reported as
// first-info-ms (the whole wait) and overhead-ms (the wait minus the interval).
func BenchmarkFirstInfo(b *testing.B) {
	srv := startServer(b, "127.0.0.1:0")
	g := startBridge(b, Config{Server: "http://" + srv.Addr()})
	for _, c := range []string{"boardsize 19", "komi 7.5", "play B Q16", "play W D4", "play B Q3"} {
		if got := g.do(c); got != "= " {
			b.Fatalf("%s: %q", c, got)
		}
	}
	round := func() time.Duration {
		start := time.Now()
		g.send("kata-analyze 10")
		if h := g.next(10 * time.Second).text; h != "=" {
			b.Fatalf("kata-analyze answered %q", h)
		}
		first := g.next(10 * time.Second)
		if !strings.HasPrefix(first.text, "info move ") {
			b.Fatalf("kata-analyze streamed %q", first.text)
		}
		// An empty line ends the analysis, as Lizzie's next command would.
		g.send("")
		for g.next(10*time.Second).text != "" {
		}
		return first.at.Sub(start)
	}
	round() // warm the engine, the queue and the connection
	var total time.Duration
	n := 0
	for b.Loop() {
		total += round()
		n++
	}
	ms := float64(total) / float64(n) / float64(time.Millisecond)
	b.ReportMetric(ms, "first-info-ms")
	b.ReportMetric(ms-100, "overhead-ms")
}
