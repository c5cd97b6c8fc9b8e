package queue_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime"
	"testing"

	"github.com/tesuji/tesuji/queue"
	"github.com/tesuji/tesuji/queue/sqlitetest"
)

// BenchmarkSQLiteHeap measures what the store keeps in the Go heap as finished reviews
// accumulate: 10,000 reviews of 250 turns (a 1 KiB result each) go through Enqueue,
// Claim, StoreResult and Complete, and the live heap after a GC is reported at 1,000 and
// at 10,000 reviews. The two must be about equal: the reviews live in the file, and
// SQLite's page cache is outside the Go heap. One iteration is the whole measurement.
func BenchmarkSQLiteHeap(b *testing.B) {
	const reviews, turns = 10000, 250
	result := bytes.Repeat([]byte("x"), 1024)
	list := make([]int, turns)
	for i := range list {
		list[i] = i
	}
	heap := func() float64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return float64(m.HeapAlloc) / (1 << 20)
	}
	for b.Loop() {
		q := sqlitetest.Open(b, queue.SQLiteConfig{MaxOwnerJobs: -1, MaxOwnerBytes: -1})
		ctx := context.Background()
		for i := range reviews {
			if _, _, err := q.Enqueue(ctx, &queue.Job{Owner: "alice", Black: fmt.Sprint("B", i), Payload: result, Turns: list}); err != nil {
				b.Fatal(err)
			}
			_, l, err := q.Claim(ctx, "w", 0)
			if err != nil {
				b.Fatal(err)
			}
			for _, turn := range list {
				if _, err := q.StoreResult(ctx, l, turn, result); err != nil {
					b.Fatal(err)
				}
			}
			if err := q.Complete(ctx, l); err != nil {
				b.Fatal(err)
			}
			if (i+1)%(reviews/10) == 0 {
				h := heap()
				fmt.Fprintf(os.Stderr, "%d reviews: heap %.1f MiB\n", i+1, h) // progress of a long run
				if i+1 == reviews/10 {
					b.ReportMetric(h, "heap-MiB-at-1000")
				}
			}
		}
		b.ReportMetric(heap(), "heap-MiB-at-10000")
		q.Close()
	}
}
