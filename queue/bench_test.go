package queue_test

import (
	"bytes"
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/tesuji/tesuji/queue"
	"github.com/tesuji/tesuji/queue/redistest"
	"github.com/tesuji/tesuji/queue/sqlitetest"
)

// BenchmarkQueueSQLite and BenchmarkQueueRedis measure one job's whole trip through the
// queue (Enqueue, Claim, StoreResult for every turn, Complete) with many workers at once,
// and report jobs and positions (stored turns) per second.
func BenchmarkQueueSQLite(b *testing.B) {
	benchQueue(b, func(b *testing.B) queue.Queue {
		return sqlitetest.Open(b, queue.SQLiteConfig{MaxOwnerJobs: -1, MaxOwnerBytes: -1})
	})
}

func BenchmarkQueueRedis(b *testing.B) {
	client := redistest.Start(b, redistest.Options{}).Client(b)
	benchQueue(b, func(b *testing.B) queue.Queue {
		return newRedisQueue(b, client, queue.RedisConfig{MaxOwnerJobs: -1, MaxOwnerBytes: -1})
	})
}

func benchQueue(b *testing.B, newQueue func(b *testing.B) queue.Queue) {
	result := bytes.Repeat([]byte("x"), 1024) // about one turn's result with a few moves
	for _, turns := range []int{1, 50} {
		b.Run(fmt.Sprintf("turns=%d", turns), func(b *testing.B) {
			q := newQueue(b)
			list := make([]int, turns)
			for i := range list {
				list[i] = i
			}
			var workers atomic.Int64
			b.SetParallelism(8)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				ctx := context.Background()
				worker := fmt.Sprint("w", workers.Add(1))
				for pb.Next() {
					if _, _, err := q.Enqueue(ctx, &queue.Job{Payload: result, Turns: list}); err != nil {
						b.Error(err)
						return
					}
					_, l, err := q.Claim(ctx, worker, 0)
					if err != nil {
						b.Error(err)
						return
					}
					for _, turn := range list {
						if _, err := q.StoreResult(ctx, l, turn, result); err != nil {
							b.Error(err)
							return
						}
					}
					if err := q.Complete(ctx, l); err != nil {
						b.Error(err)
						return
					}
				}
			})
			sec := b.Elapsed().Seconds()
			b.ReportMetric(float64(b.N)/sec, "jobs/s")
			b.ReportMetric(float64(b.N*turns)/sec, "positions/s")
		})
	}
}
