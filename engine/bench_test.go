package engine

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/tesuji/tesuji/katago/transcript"
)

// BenchmarkRouteResults feeds KataGo's recorded final results (01: eleven 19x19 turns
// with moveInfos) through the line reader and the router to waiting queries, as the
// stdout reader does. One op is one line; finals/s is the routing capacity of one core.
func BenchmarkRouteResults(b *testing.B) {
	var lines []string
	for _, l := range transcript.Select(transcript.Load(b, "01"), "out") {
		if !strings.Contains(l, `"moveInfos"`) {
			b.Fatal("01 holds a line without moveInfos")
		}
		lines = append(lines, l)
	}
	const queries = 64
	var block bytes.Buffer
	for q := range queries {
		for _, l := range lines {
			block.WriteString(strings.Replace(l, `"id":"g1"`, fmt.Sprintf(`"id":"q%d"`, q), 1))
			block.WriteByte('\n')
		}
	}
	perBlock := queries * len(lines)
	turns := make([]int, len(lines))
	for i := range turns {
		turns[i] = i
	}
	p := testProcess()
	b.SetBytes(int64(block.Len() / perBlock))
	b.ReportAllocs()
	b.ResetTimer()
	routed := 0
	for routed < b.N {
		calls := make([]*call, queries)
		for q := range calls {
			calls[q] = newCall(fmt.Sprintf("q%d", q), turns, false)
			if err := p.register(calls[q]); err != nil {
				b.Fatal(err)
			}
		}
		if err := p.consume(bytes.NewReader(block.Bytes())); err != nil && !errors.Is(err, io.EOF) {
			b.Fatal(err)
		}
		for _, c := range calls {
			items, err, finished := c.take()
			if err != nil || !finished || len(items) != len(lines) {
				b.Fatalf("query %s: %d results, finished %v, %v", c.id, len(items), finished, err)
			}
		}
		routed += perBlock
	}
	b.ReportMetric(float64(routed)/b.Elapsed().Seconds(), "finals/s")
}
