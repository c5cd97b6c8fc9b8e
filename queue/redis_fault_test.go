package queue_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/tesuji/tesuji/queue"
	"github.com/tesuji/tesuji/queue/redistest"
)

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// eventually retries f until it succeeds or the deadline passes: the client's first
// commands after a Redis restart may meet connections that died with the old server.
func eventually(t *testing.T, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		<-tick.C
	}
}

func mustEnqueue(t *testing.T, q queue.Queue, j *queue.Job) *queue.Job {
	t.Helper()
	got, _, err := q.Enqueue(testCtx(t), j)
	if err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	return got
}

func mustClaim(t *testing.T, q queue.Queue, worker string, ttl time.Duration) (*queue.Job, *queue.Lease) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	j, l, err := q.Claim(ctx, worker, ttl)
	if err != nil {
		t.Fatalf("Claim by %s: %v", worker, err)
	}
	return j, l
}

func mustStore(t *testing.T, q queue.Queue, l *queue.Lease, turn int, result string) {
	t.Helper()
	if _, err := q.StoreResult(testCtx(t), l, turn, []byte(result)); err != nil {
		t.Fatalf("StoreResult(%d): %v", turn, err)
	}
}

func resultStrings(t *testing.T, q queue.Queue, id string) map[int]string {
	t.Helper()
	rs, err := q.Results(testCtx(t), id)
	if err != nil {
		t.Fatalf("Results: %v", err)
	}
	out := map[int]string{}
	for k, v := range rs {
		out[k] = string(v)
	}
	return out
}

// turnEvents counts the turn events of a job by the data they carry.
func turnEvents(t *testing.T, q queue.Queue, id string) map[string]int {
	t.Helper()
	evs, err := q.Events(testCtx(t), id, "", 0, 0)
	if err != nil {
		t.Fatalf("Events: %v", err)
	}
	out := map[string]int{}
	for _, e := range evs {
		if e.Type == queue.EventTurn {
			out[string(e.Data)]++
		}
	}
	return out
}

// TestRedisRestartMidJob kills Redis (SIGKILL) in the middle of a job with the append-only
// file on: what Redis acknowledged and wrote survives, the scripts come back by themselves,
// and the worker carries on under the lease it held.
func TestRedisRestartMidJob(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opt  redistest.Options
	}{
		{"tcp", redistest.Options{AOF: true}},
		{"unix socket", redistest.Options{AOF: true, Unix: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := redistest.Start(t, tt.opt)
			q := newRedisQueue(t, srv.Client(t), queue.RedisConfig{})
			running := mustEnqueue(t, q, &queue.Job{Payload: []byte(`{"g":1}`), Turns: []int{0, 1, 2}})
			_, lease := mustClaim(t, q, "w1", time.Minute)
			mustStore(t, q, lease, 0, `"before"`)
			waiting := mustEnqueue(t, q, &queue.Job{Payload: []byte(`{"g":2}`), Turns: []int{0}})
			srv.WaitAOFWritten(t)

			srv.Restart(t)

			eventually(t, "heartbeat after the restart", func() error {
				return q.Heartbeat(testCtx(t), lease, time.Minute)
			})
			if diff := cmp.Diff(map[int]string{0: `"before"`}, resultStrings(t, q, running.ID)); diff != "" {
				t.Errorf("results after the restart (-want +got):\n%s", diff)
			}
			mustStore(t, q, lease, 1, `"after"`)
			mustStore(t, q, lease, 2, `"after"`)
			if err := q.Complete(testCtx(t), lease); err != nil {
				t.Fatalf("Complete after the restart: %v", err)
			}
			j, l := mustClaim(t, q, "w2", time.Minute)
			if j.ID != waiting.ID {
				t.Fatalf("claimed %s after the restart, want the waiting job %s", j.ID, waiting.ID)
			}
			mustStore(t, q, l, 0, `"r"`)
			if err := q.Complete(testCtx(t), l); err != nil {
				t.Fatal(err)
			}
			for _, id := range []string{running.ID, waiting.ID} {
				if g, err := q.Get(testCtx(t), id); err != nil || g.State != queue.StateDone {
					t.Errorf("job %s after the restart: %+v, %v; want done", id, g, err)
				}
			}
			if diff := cmp.Diff(map[string]int{`"before"`: 1, `"after"`: 2}, turnEvents(t, q, running.ID)); diff != "" {
				t.Errorf("turn events (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRedisOutageIsUnavailable: a Redis that cannot serve (out of memory, down) answers
// with errors that match ErrUnavailable, which workers and the API take for an outage of
// the store; the queue's own answers do not match it.
func TestRedisOutageIsUnavailable(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, redistest.Options{})
	admin := srv.Client(t)
	// The reaper warns while Redis is down, as it should.
	q := newRedisQueue(t, srv.Client(t), queue.RedisConfig{Logger: slog.New(slog.DiscardHandler)})
	j := mustEnqueue(t, q, &queue.Job{Payload: []byte(`{"g":1}`), Turns: []int{0}})
	if _, err := q.Get(testCtx(t), "no-such-job"); !errors.Is(err, queue.ErrNotFound) || errors.Is(err, queue.ErrUnavailable) {
		t.Fatalf("Get of a missing job: %v, want ErrNotFound alone", err)
	}

	// No memory for writes: maxmemory below what Redis holds, with no eviction.
	if err := admin.ConfigSet(testCtx(t), "maxmemory-policy", "noeviction").Err(); err != nil {
		t.Fatal(err)
	}
	if err := admin.ConfigSet(testCtx(t), "maxmemory", "1").Err(); err != nil {
		t.Fatal(err)
	}
	_, _, err := q.Enqueue(testCtx(t), &queue.Job{Payload: []byte(`{"g":2}`), Turns: []int{0}})
	if !errors.Is(err, queue.ErrUnavailable) {
		t.Errorf("Enqueue with Redis out of memory: %v, want ErrUnavailable", err)
	}
	if err := admin.ConfigSet(testCtx(t), "maxmemory", "0").Err(); err != nil {
		t.Fatal(err)
	}
	mustEnqueue(t, q, &queue.Job{Payload: []byte(`{"g":3}`), Turns: []int{0}})

	srv.Kill(t)
	if _, err := q.Get(testCtx(t), j.ID); !errors.Is(err, queue.ErrUnavailable) {
		t.Errorf("Get with Redis down: %v, want ErrUnavailable", err)
	}
}

// TestRedisPausePastLease holds every client (CLIENT PAUSE) past a worker's lease: the
// writes it sent meanwhile run after the pause, find the lease expired and are refused; the
// job goes to the next worker with its turns stored exactly once.
func TestRedisPausePastLease(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, redistest.Options{})
	q := newRedisQueue(t, srv.Client(t), queue.RedisConfig{})
	j := mustEnqueue(t, q, &queue.Job{Turns: []int{0, 1}})
	_, stale := mustClaim(t, q, "w1", 300*time.Millisecond)

	srv.Pause(t, time.Second)
	_, err := q.StoreResult(testCtx(t), stale, 0, []byte(`"late"`))
	if !errors.Is(err, queue.ErrLeaseLost) {
		t.Fatalf("StoreResult sent during the pause: %v, want ErrLeaseLost", err)
	}
	if err := q.Heartbeat(testCtx(t), stale, time.Minute); !errors.Is(err, queue.ErrLeaseLost) {
		t.Errorf("Heartbeat after the pause: %v, want ErrLeaseLost", err)
	}

	got, lease := mustClaim(t, q, "w2", time.Minute)
	if got.ID != j.ID || got.Attempts != 1 {
		t.Fatalf("claimed %s with %d attempts, want %s with 1", got.ID, got.Attempts, j.ID)
	}
	mustStore(t, q, lease, 0, `"w2"`)
	mustStore(t, q, lease, 1, `"w2"`)
	if err := q.Complete(testCtx(t), lease); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[int]string{0: `"w2"`, 1: `"w2"`}, resultStrings(t, q, j.ID)); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{`"w2"`: 2}, turnEvents(t, q, j.ID)); diff != "" {
		t.Errorf("turn events (-want +got):\n%s", diff)
	}
}

// TestRedisPartitionedWorker cuts one worker off from Redis (a proxy that stalls its
// connection) while another takes its job over and finishes it; when the first worker's
// writes finally arrive they are refused.
func TestRedisPartitionedWorker(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, redistest.Options{})
	proxy := srv.Proxy(t)
	cutClient := redis.NewClient(&redis.Options{Addr: proxy.Addr()})
	t.Cleanup(func() { cutClient.Close() })
	cfg := queue.RedisConfig{Prefix: "partition"}
	cut := newRedisQueue(t, cutClient, cfg)
	healthy := newRedisQueue(t, srv.Client(t), cfg)

	j := mustEnqueue(t, healthy, &queue.Job{Turns: []int{0, 1}})
	_, stale := mustClaim(t, cut, "cut-off", 200*time.Millisecond)
	proxy.Stall()
	late := make(chan error, 1)
	go func() {
		_, err := cut.StoreResult(context.Background(), stale, 0, []byte(`"cut-off"`))
		late <- err
	}()

	got, lease := mustClaim(t, healthy, "healthy", time.Minute)
	if got.ID != j.ID {
		t.Fatalf("the healthy worker claimed %s, want %s", got.ID, j.ID)
	}
	mustStore(t, healthy, lease, 0, `"healthy"`)
	mustStore(t, healthy, lease, 1, `"healthy"`)
	if err := healthy.Complete(testCtx(t), lease); err != nil {
		t.Fatal(err)
	}
	proxy.Resume()
	if err := <-late; !errors.Is(err, queue.ErrLeaseLost) {
		t.Errorf("the cut-off worker's late StoreResult: %v, want ErrLeaseLost", err)
	}
	if diff := cmp.Diff(map[int]string{0: `"healthy"`, 1: `"healthy"`}, resultStrings(t, healthy, j.ID)); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{`"healthy"`: 2}, turnEvents(t, healthy, j.ID)); diff != "" {
		t.Errorf("turn events (-want +got):\n%s", diff)
	}
}

// TestRedisKeysShareSlot runs a job through its life on a cluster and checks with CLUSTER
// KEYSLOT that each job's keys share one slot and the cross-job keys share another.
func TestRedisKeysShareSlot(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, redistest.Options{Cluster: true})
	client := srv.Client(t)
	q := newRedisQueue(t, client, queue.RedisConfig{Prefix: "slots"})
	ctx := testCtx(t)
	var ids []string
	for i := range 3 {
		j := mustEnqueue(t, q, &queue.Job{Owner: "o", DedupeKey: fmt.Sprint("k", i), Turns: []int{0}})
		ids = append(ids, j.ID)
		_, l := mustClaim(t, q, "w", time.Minute)
		if err := q.Publish(ctx, l, queue.EventProgress, []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
		mustStore(t, q, l, 0, `"r"`)
		if err := q.Complete(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	mustEnqueue(t, q, &queue.Job{Turns: []int{0}}) // one waiting, so ready and wake exist
	if err := q.RegisterWorker(ctx, queue.WorkerInfo{ID: "w", Host: "h"}); err != nil {
		t.Fatal(err)
	}

	var keys []string
	iter := client.Scan(ctx, 0, "*slots*", 100).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	slots := map[string]map[int64][]string{} // group -> slot -> keys
	for _, k := range keys {
		group := "global"
		if _, rest, ok := strings.Cut(k, ":job:{"); ok {
			group, _, _ = strings.Cut(rest, "}")
		} else if !strings.HasPrefix(k, "{slots}:") {
			t.Errorf("key %q is neither a job's nor the queue's", k)
		}
		slot, err := client.ClusterKeySlot(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		if slots[group] == nil {
			slots[group] = map[int64][]string{}
		}
		slots[group][slot] = append(slots[group][slot], k)
	}
	for group, bySlot := range slots {
		if len(bySlot) != 1 {
			t.Errorf("the keys of %s spread over %d slots: %v", group, len(bySlot), bySlot)
		}
	}
	for _, id := range ids {
		var got []string
		for _, ks := range slots[id] {
			for _, k := range ks {
				// The replies kept for resent calls share the slot and come and go.
				if !strings.Contains(k, "}:reply:") {
					got = append(got, k)
				}
			}
		}
		if len(got) != 3 {
			t.Errorf("job %s has keys %v, want its record, results and events", id, got)
		}
	}
	if len(slots["global"]) == 0 {
		t.Error("no cross-job keys found")
	}
}

// TestRedisExpiry checks the TTLs behind retention: none on a job that is not final, the
// retention period on every key of a final one.
func TestRedisExpiry(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, redistest.Options{})
	client := srv.Client(t)
	q := newRedisQueue(t, client, queue.RedisConfig{Prefix: "ttl", Retention: time.Hour})
	ctx := testCtx(t)
	j := mustEnqueue(t, q, &queue.Job{Turns: []int{0}})
	record := "ttl:job:{" + j.ID + "}"
	if ttl := client.PTTL(ctx, record).Val(); ttl != -1 {
		t.Errorf("TTL of a queued job's record: %v, want none", ttl)
	}
	_, l := mustClaim(t, q, "w", time.Minute)
	mustStore(t, q, l, 0, `"r"`)
	for _, k := range []string{record, record + ":results", record + ":events"} {
		if ttl := client.PTTL(ctx, k).Val(); ttl != -1 {
			t.Errorf("TTL of running job key %s: %v, want none", k, ttl)
		}
	}
	if err := q.Complete(ctx, l); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{record, record + ":results", record + ":events"} {
		if ttl := client.PTTL(ctx, k).Val(); ttl <= 59*time.Minute || ttl > time.Hour {
			t.Errorf("TTL of done job key %s: %v, want about an hour", k, ttl)
		}
	}
}

// TestRedisRetentionOfTheSubmitter: a job keeps the retention of the queue that enqueued
// it (an API server's --retention) when a queue with another retention (a worker's, a
// fleet's reaper) finishes it.
func TestRedisRetentionOfTheSubmitter(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, redistest.Options{})
	client := srv.Client(t)
	api := newRedisQueue(t, client, queue.RedisConfig{Prefix: "ret", Retention: time.Hour})
	worker := newRedisQueue(t, client, queue.RedisConfig{Prefix: "ret"}) // 30 days
	ctx := testCtx(t)
	done := mustEnqueue(t, api, &queue.Job{Turns: []int{0}})
	failed := mustEnqueue(t, api, &queue.Job{Turns: []int{0}})
	for range 2 {
		j, l := mustClaim(t, worker, "w", time.Minute)
		var err error
		if j.ID == done.ID {
			mustStore(t, worker, l, 0, `"r"`)
			err = worker.Complete(ctx, l)
		} else {
			err = worker.Fail(ctx, l, "broken", false)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{done.ID, failed.ID} {
		record := "ret:job:{" + id + "}"
		keys := []string{record, record + ":events"}
		if id == done.ID {
			keys = append(keys, record+":results") // the failed job stored none
		}
		for _, k := range keys {
			if ttl := client.PTTL(ctx, k).Val(); ttl <= 59*time.Minute || ttl > time.Hour {
				t.Errorf("TTL of finished job key %s: %v, want about an hour", k, ttl)
			}
		}
	}
}

func TestOpenRedis(t *testing.T) {
	t.Parallel()
	tcp := redistest.Start(t, redistest.Options{})
	unix := redistest.Start(t, redistest.Options{Unix: true})
	cluster := redistest.Start(t, redistest.Options{Cluster: true})
	sentinel := tcp.StartSentinel(t, "primary")
	tests := []struct {
		name string
		url  string
	}{
		{"redis", tcp.URL()},
		{"redis with db and options", tcp.URL() + "/2?dial_timeout=2s&pool_size=4"},
		{"unix", unix.URL()},
		{"cluster", cluster.URL()},
		{"cluster with two seeds", cluster.URL() + "," + cluster.Addr() + "?read_timeout=4s"},
		{"sentinel", "redis+sentinel://" + sentinel + "/primary"},
		{"sentinel with db", "redis+sentinel://" + sentinel + "," + sentinel + "/primary/1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := queue.OpenRedis(tt.url)
			if err != nil {
				t.Fatalf("OpenRedis(%q): %v", tt.url, err)
			}
			t.Cleanup(func() { c.Close() })
			q := newRedisQueue(t, c, queue.RedisConfig{})
			j := mustEnqueue(t, q, &queue.Job{Turns: []int{0}})
			if got, _ := mustClaim(t, q, "w", time.Minute); got.ID != j.ID {
				t.Errorf("claimed %s, want %s", got.ID, j.ID)
			}
		})
	}
}

// OpenRedis refuses a malformed URL with an error that names the fault and no password.
func TestOpenRedisRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, url, wantInErr string
	}{
		{"no scheme", "localhost:6379", "no scheme"},
		{"unknown scheme", "http://localhost:6379", "unknown scheme"},
		{"sentinel without master", "redis+sentinel://127.0.0.1:26379", "master-name"},
		{"cluster without host", "redis+cluster://", "no host"},
		{"bad option", "redis://127.0.0.1:6379?no_such_option=1", "no_such_option"},
		{"password kept out of errors", "redis://user:s3cret@127.0.0.1:6379?no_such_option=1", "user:xxxxx@"},
		{"sentinel password kept out of errors", "redis+sentinel://127.0.0.1:26379?password=s3cret&sentinel_password=s3cret", "master-name"},
		// url.Parse's errors repeat the URL they were given, password and all.
		{"password kept out of a bad port's error", "redis://user:s3cret@127.0.0.1:63x9", "invalid port"},
		{"password kept out of a bad escape's error", "redis://user:s3cret%zz@127.0.0.1:6379", "invalid URL escape"},
		{"sentinel password kept out of a bad port's error", "redis+sentinel://user:s3cret@127.0.0.1:26x79,127.0.0.1:26380/primary", "invalid port"},
		{"sentinel password kept out of a bad escape's error", "redis+sentinel://user:s3cret%zz@127.0.0.1:26379/primary", "invalid URL escape"},
		{"cluster password kept out of a bad port's error", "redis+cluster://user:s3cret@127.0.0.1:70x1,127.0.0.1:7002", "invalid port"},
		{"cluster password kept out of a bad escape's error", "redis+cluster://user:s3cret%zz@127.0.0.1:7001", "invalid URL escape"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := queue.OpenRedis(tt.url)
			if err == nil {
				c.Close()
				t.Fatalf("OpenRedis(%q) took it", tt.url)
			}
			if !strings.Contains(err.Error(), tt.wantInErr) || strings.Contains(err.Error(), "s3cret") {
				t.Errorf("OpenRedis(%q): %v, want an error that mentions %q and no password", tt.url, err, tt.wantInErr)
			}
		})
	}
}
